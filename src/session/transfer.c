/* transfer: an IVR transfer of one session — a second SIP leg (an external number, or a
 * skill group's destinations one after the other), the hold prompt on the first leg while
 * it rings, the bridge when it answers, and the legs as the record keeps them.
 *
 * States: DIALLING (a leg rings; the caller hears the hold prompt) → CONNECTED (bridged;
 * the IVR run is over) → the transfer leg ends: the first leg is hung up. A leg that fails
 * makes way for the next destination while the skill group's maxWaitS lasts; when none is
 * left the IVR takes its onFail branch and the caller stays in the IVR. When the first leg
 * ends, any transfer leg is ended with it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include "base/base.h"
#include "call/call.h"
#include "ivr/ivr.h"
#include "media/media.h"
#include "policy/policy.h"
#include "records/records.h"
#include "session/session_int.h"
#include "wheel/wheel.h"

enum { XFER_DEST_MAX = 32, XFER_DEST_LEN = 260 };

/* Owner: its session_work (w->xfer). */
struct session_xfer {
	struct session_work *w;
	enum ivr_transfer_kind kind;
	char caller[CALL_NUMBER_MAX + 1];
	char dests[XFER_DEST_MAX][XFER_DEST_LEN];
	size_t n_dests, next;
	uint64_t skill_group_id;
	unsigned ring_s;
	uint64_t deadline_ms;           /* skill group: maxWaitS from the start (mono), 0 = none */
	struct wheel_tmr wait_tmr;
	struct call *leg;               /* owned: the leg ringing or connected */
	const char *leg_dest;           /* in dests */
	bool connected;
	bool gave_up;                   /* maxWaitS passed: no further destination */
	char why[224];                  /* the last leg's failure, for the IVR path */
	uint64_t survey_ivr_id;         /* run on the caller's leg after the bridge; 0 = none */
	struct policy_rules *rules;     /* owned: the instance's destination allow-list; NULL
					 * when it could not be read (numbers are refused) */
};

static void xfer_destructor(void *arg)
{
	struct session_xfer *x = arg;

	wheel_cancel(&x->wait_tmr);
	mem_deref(x->leg);
	mem_deref(x->rules);
}

static bool is_uri(const char *dest)
{
	return !strncmp(dest, "sip:", 4);
}

/* Appends one leg to the session's ServeParticipants. */
static void leg_record(struct session_xfer *x, const struct call_times *t, const char *status,
		       const struct call_evidence *evidence)
{
	struct session_work *w = x->w;
	struct records_leg l = {
		.phone = x->leg_dest,
		.type = x->kind == IVR_TRANSFER_EXTERNAL ? "outboundSeat" :
			is_uri(x->leg_dest) ? "staffSeat" : "staffPhoneSeat",
		.skill_group_id = x->kind == IVR_TRANSFER_SKILL_GROUP ? x->skill_group_id : 0,
		.start_ts = t->start_ms / 1000,
		.ring_ts = t->ring_ms / 1000,
		.accept_ts = t->answer_ms / 1000,
		.ended_ts = (t->end_ms ? t->end_ms : clock_unix_ms()) / 1000,
		.end_status = status,
		.evidence = evidence,
	};
	json_t *p;

	if (!w->legs && !(w->legs = json_array())) {
		log_error("session", "%s: out of memory recording a transfer leg", w->row->id);
		return;
	}
	l.sequence = (unsigned)json_array_size(w->legs);
	p = records_participant(&l);
	if (!p || json_array_append_new(w->legs, p))
		log_error("session", "%s: out of memory recording a transfer leg", w->row->id);
}

static void hold_stop(struct session_work *w)
{
	struct media_stream *ms = w->call ? call_media(w->call) : NULL;

	if (ms)
		media_stop(ms);
}

static int hold_start(struct session_work *w, const struct ivr_prompt *p)
{
	struct media_stream *ms = w->call ? call_media(w->call) : NULL;
	struct media_prompt *prompt;
	uint32_t id;

	if (!ms || !p)
		return 0;
	if (p->text)
		return p->text[0] ? media_play_text(ms, p->text, p->lang, 0, false, &id) : 0;
	prompt = p->file ? session_prompt_get(w->mgr, p->file) : NULL;
	return prompt ? media_play(ms, prompt, 0, false, &id) : ENOENT;
}

/* The transfer failed as a whole: the IVR goes on by onFail. The transfer object is gone
 * before the run hears of it (onFail may lead to another transfer). */
static void xfer_failed(struct session_xfer *x)
{
	struct session_work *w = x->w;
	char why[224];

	snprintf(why, sizeof(why), "%s", x->why[0] ? x->why : "no destination answered");
	log_info("session", "%s: transfer failed: %s", w->row->id, why);
	hold_stop(w);
	if (x->kind == IVR_TRANSFER_SKILL_GROUP)
		(void)store_session_transfer(w->mgr->deps.store, w->row->id,
					     STORE_STATUS_IN_PROGRESS, NULL, NULL);
	w->xfer = NULL;
	mem_deref(x);
	if (w->run)
		ivr_on_transfer_result(w->run, false, why);
}

static void leg_event(struct call *c, const struct call_event *ev, void *arg);

/* Toll fraud: a number the flow dials — written in it, or built from keys the caller
 * pressed and variables — must pass the instance's destination allow-list. A refused
 * destination is recorded as a leg ended "restrictedCallee" (108) with the reason in the
 * transfer's failure, counted, and the next destination is tried; a SIP URI reaches no
 * trunk, so it is not a toll destination. */
static int dest_allowed(struct session_xfer *x, const char *dest)
{
	struct session_work *w = x->w;
	char why[192] = "the instance's calling rules could not be read";
	int err = x->rules ? policy_dest_check(x->rules, dest, why, sizeof(why)) : EACCES;

	if (!err)
		return 0;
	refusal_note(REFUSAL_DESTINATION, "session %s (instance %llu): transfer to %.40s: %s",
		     w->row->id, (unsigned long long)w->row->sdkappid, dest, why);
	snprintf(x->why, sizeof(x->why), "destination refused: %s", why);
	return EACCES;
}

/* The rule set of the session's instance, for its destination allow-list: one row read
 * from the store's reader connection (as the flow cache reads flows), parsed without the
 * work-time zone so nothing waits on disk beyond that row. */
static struct policy_rules *dest_rules(const struct session_work *w)
{
	struct policy_rules *r = NULL;
	char *text = NULL, why[192] = "";
	int err = store_instance_rules_get(w->mgr->deps.store, w->row->sdkappid, &text);

	if (!err)
		err = policy_rules_parse_dest(&r, text[0] ? text : "{}",
					      text[0] ? strlen(text) : 2, why, sizeof(why));
	mem_deref(text);
	if (err)
		log_error("session", "%s: the calling rules of instance %llu do not load (%s): "
			  "transfers to numbers are refused", w->row->id,
			  (unsigned long long)w->row->sdkappid, why[0] ? why : strerror(err));
	return r;
}

/* Dials the next destination; 0 when one rings, else the last error (all failed). */
static int dial_next(struct session_xfer *x)
{
	struct session_work *w = x->w;
	int err = ENOENT;

	while (x->next < x->n_dests && !x->gave_up) {
		const char *dest = x->dests[x->next++];
		char sid[64];
		struct call_params p = {
			.session_id = sid,
			.caller = x->caller,
			.max_ring_s = x->ring_s,
			.near = call_media(w->call),
		};

		if (x->deadline_ms) {
			uint64_t now = clock_mono_ms();
			unsigned left = now < x->deadline_ms ?
				(unsigned)((x->deadline_ms - now + 999) / 1000) : 0;

			if (!left)
				break;
			if (left < p.max_ring_s)
				p.max_ring_s = left;
		}
		snprintf(sid, sizeof(sid), "%s/xfer%zu", w->row->id, x->next - 1);
		if (is_uri(dest))
			p.uri = dest;
		else
			p.callee = dest;
		x->leg_dest = dest;
		if (!is_uri(dest) && dest_allowed(x, dest)) {
			const struct call_times t = {.start_ms = clock_unix_ms()};

			err = EACCES;
			leg_record(x, &t, records_end_status_string(108), NULL);
			continue;
		}
		err = call_originate(&x->leg, w->mgr->deps.ua, &p, leg_event, x);
		if (!err) {
			log_info("session", "%s: transfer to %s", w->row->id, dest);
			return 0;
		}
		{
			const struct call_times t = {.start_ms = clock_unix_ms()};

			snprintf(x->why, sizeof(x->why), "%s: %s", dest,
				 err == ENOENT ? "no trunk can carry it" : strerror(err));
			log_warn("session", "%s: transfer to %s not placed: %s", w->row->id, dest,
				 x->why);
			leg_record(x, &t, records_end_status_string(err == ENOENT ? 208 : 0), NULL);
		}
	}
	return err;
}

/* The transfer leg is over after the bridge: the caller's leg follows it, unless the
 * transfer names a post-call survey and the other party hung up (the caller is still
 * there): then the survey runs on the caller's leg. */
static void bridge_over(struct session_xfer *x, const struct call_event *ev)
{
	struct session_work *w = x->w;
	bool by_peer = ev->end.side == CALL_SIDE_USER;
	struct ivr_flow *survey = by_peer ? ivr_flow_survey(w->flow, x->survey_ivr_id) : NULL;

	log_info("session", "%s: the transfer leg ended (%s)", w->row->id,
		 by_peer ? "it hung up" : ev->reason ? ev->reason : "ended");
	w->ivr_ended = true;
	w->ivr_end.end_status = 1;
	snprintf(w->ivr_end.hungup_side, sizeof(w->ivr_end.hungup_side), "%s",
		 by_peer ? "seat" : "system");
	snprintf(w->ivr_end.end_reason, sizeof(w->ivr_end.end_reason), "transfer leg: %s",
		 ev->reason ? ev->reason : "ended");
	w->xfer = NULL;
	mem_deref(x);
	if (survey && w->call && !session_work_survey(w, survey))
		return;
	if (w->call)
		call_hangup(w->call);
}

static void leg_event(struct call *c, const struct call_event *ev, void *arg)
{
	struct session_xfer *x = arg;
	struct session_work *w = x->w;
	int err;

	switch (ev->type) {
	case CALL_EV_ANSWERED:
		wheel_cancel(&x->wait_tmr);
		hold_stop(w);
		err = media_bridge(call_media(w->call), call_media(x->leg));
		if (err) {
			log_error("session", "%s: cannot bridge the transfer leg: %s", w->row->id,
				  strerror(err));
			snprintf(x->why, sizeof(x->why), "bridge: %s", strerror(err));
			x->gave_up = true;
			call_hangup(x->leg);
			return;
		}
		x->connected = true;
		w->transferred = true;
		log_info("session", "%s: transfer to %s connected", w->row->id, x->leg_dest);
		(void)store_session_transfer(w->mgr->deps.store, w->row->id,
					     STORE_STATUS_IN_PROGRESS,
					     x->kind == IVR_TRANSFER_EXTERNAL ? x->caller : NULL,
					     x->kind == IVR_TRANSFER_EXTERNAL ? x->leg_dest : NULL);
		if (w->run)
			ivr_on_transfer_result(w->run, true, NULL);
		break;
	case CALL_EV_ENDED:
		call_trace_bind(c, w->row->id, w->row->sdkappid);
		leg_record(x, &ev->times, ev->times.answer_ms ? "ok" : ev->end.status_str,
			   ev->evidence);
		x->leg = mem_deref(x->leg); /* the call module holds it until we return */
		if (x->connected) {
			bridge_over(x, ev);
			return;
		}
		snprintf(x->why, sizeof(x->why), "%s %s", ev->end.status_str,
			 ev->reason ? ev->reason : "");
		if (dial_next(x))
			xfer_failed(x);
		break;
	default:
		break;
	}
}

/* maxWaitS of a skill group: the ringing destination is cancelled, no other is tried. */
static void wait_timeout(void *arg)
{
	struct session_xfer *x = arg;

	log_info("session", "%s: the skill group's maxWaitS is over", x->w->row->id);
	x->gave_up = true;
	snprintf(x->why, sizeof(x->why), "maxWaitS reached");
	if (x->leg)
		call_hangup(x->leg); /* ENDED follows: the transfer fails there */
}

int session_xfer_start(struct session_work *w, const struct ivr_transfer *t)
{
	struct session_xfer *x;
	const char *caller;
	int err;

	if (!t)
		return EINVAL;
	if (t->kind == IVR_TRANSFER_AGENT) {
		log_warn("session", "%s: transfer to an agent: cccd has no agent directory; the "
			 "flow takes its failure branch", w->row->id);
		return ENOTSUP;
	}
	if (!w->mgr->deps.ua || !w->call || !call_media(w->call))
		return ENOTCONN;
	if (w->xfer)
		return EALREADY;
	caller = t->caller && t->caller[0] ? t->caller : w->row->caller;
	if (!call_number_ok(caller)) {
		log_warn("session", "%s: transfer caller number '%.40s' is not a number",
			 w->row->id, caller);
		return EINVAL;
	}
	x = mem_zalloc(sizeof(*x), xfer_destructor);
	if (!x)
		return ENOMEM;
	x->w = w;
	x->kind = t->kind;
	wheel_tmr_init(&x->wait_tmr);
	snprintf(x->caller, sizeof(x->caller), "%s", caller);
	x->ring_s = t->ring_timeout_s ? t->ring_timeout_s : 30;
	x->survey_ivr_id = t->survey_ivr_id;
	x->rules = dest_rules(w);
	if (x->survey_ivr_id && !ivr_flow_survey(w->flow, x->survey_ivr_id))
		log_warn("session", "%s: survey IVR %llu did not load: the call ends with the "
			 "transfer leg", w->row->id, (unsigned long long)x->survey_ivr_id);
	if (t->kind == IVR_TRANSFER_SKILL_GROUP) {
		x->skill_group_id = t->skill_group_id;
		for (size_t i = 0; i < t->n_destinations && i < XFER_DEST_MAX; i++)
			snprintf(x->dests[x->n_dests++], XFER_DEST_LEN, "%s", t->destinations[i]);
		if (t->max_wait_s) {
			x->deadline_ms = clock_mono_ms() + t->max_wait_s * 1000ull;
			wheel_start(&x->wait_tmr, t->max_wait_s * 1000ull, wait_timeout, x);
		}
	}
	else if (t->number && t->number[0]) {
		snprintf(x->dests[x->n_dests++], XFER_DEST_LEN, "%s", t->number);
	}
	w->xfer = x;
	err = dial_next(x);
	if (err) {
		/* Nothing rings: the run hears of it from our return value. */
		w->xfer = NULL;
		mem_deref(x);
		return err;
	}
	if (t->kind == IVR_TRANSFER_SKILL_GROUP)
		(void)store_session_transfer(w->mgr->deps.store, w->row->id,
					     STORE_STATUS_SEAT_JOINING, NULL, NULL);
	err = hold_start(w, t->hold);
	if (err)
		log_warn("session", "%s: hold prompt: %s", w->row->id, strerror(err));
	return 0;
}

void session_xfer_stop(struct session_work *w)
{
	struct session_xfer *x = w->xfer;

	if (!x)
		return;
	if (x->leg) {
		const struct call_times *t = call_times(x->leg);
		struct call_times end = *t;
		struct call_evidence ev;

		/* The caller left (or cccd ended the call): the leg goes with them; its evidence
		 * is that of the moment, its media's figures included. */
		end.end_ms = clock_unix_ms();
		call_evidence(x->leg, &ev);
		call_trace_bind(x->leg, w->row->id, w->row->sdkappid);
		leg_record(x, &end, x->connected ? "ok" :
			   records_end_status_string(t->ring_ms ? 220 : 221), &ev);
		call_hangup(x->leg);
	}
	w->xfer = NULL;
	mem_deref(x); /* the leg's ENDED is not waited for: its record is written above */
}

char *session_xfer_legs(const struct session_work *w)
{
	return w->legs ? json_dumps(w->legs, JSON_COMPACT) : NULL;
}
