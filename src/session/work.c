/* work: one session on the control loop — its call, its IVR run, and what they leave in
 * the store. The call's events drive the run; the run's commands drive the call's media. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "base/base.h"
#include "call/call.h"
#include "ivr/ivr.h"
#include "media/media.h"
#include "records/records.h"
#include "dialq/dialq.h"
#include "metrics/metrics.h"
#include "session/session_int.h"

static void work_destructor(void *arg)
{
	struct session_work *w = arg;

	list_unlink(&w->le);
	hash_unlink(&w->mark_he);
	mem_deref(w->amd);
	mem_deref(w->xfer);
	json_decref(w->legs);
	mem_deref(w->run);
	mem_deref(w->call);
	mem_deref(w->flow);
	mem_deref(w->keys);
	mem_deref(w->row);
	json_decref(w->voicemails);
}

/* The session's mark is no longer awaited: the dial queue may let the next one out. */
static void mark_settled(struct session_work *w)
{
	struct session_mgr *m = w->mgr;

	hash_unlink(&w->mark_he);
	m->marks--;
	dialq_kick(m->dialq);
}

/* The customer's number: what EndpointUser names in the recording pushes. */
static const char *endpoint_of(const struct store_session *row)
{
	return row->direction ? row->callee : row->caller;
}

/* A voicemail is complete (or the call ended while it was recorded: the file is closed
 * by the recorder all the same): its file joins the session's list, with its push. */
static void voicemail_keep(struct session_work *w)
{
	char *body;

	if (!w->vm_file[0])
		return;
	body = records_voicemail_push(w->row->sdkappid, w->row->id, clock_unix_s(),
				      endpoint_of(w->row), w->vm_file);
	if (!body)
		log_error("session", "%s: out of memory building the voicemail push", w->row->id);
	if (store_session_voicemail(w->mgr->deps.store, w->row->id, w->row->sdkappid,
				    w->vm_file, body))
		log_error("session", "%s: voicemail %s not recorded", w->row->id, w->vm_file);
	if (!w->voicemails)
		w->voicemails = json_array();
	if (!w->voicemails || json_array_append_new(w->voicemails, json_string(w->vm_file)))
		log_error("session", "%s: voicemail %s not kept for the record", w->row->id,
			  w->vm_file);
	free(body);
	w->vm_file[0] = '\0';
}

/* The final record: the session row as it ends, with its key presses and recordings,
 * queued with its pushes (recording, then CDR) in one write. The record holds recording
 * FILES; links are made when it is read or sent. */
static void finish(struct session_work *w, const struct store_session_end *end)
{
	struct store_session s = *w->row; /* a view: its strings stay owned by w->row */
	struct store_session_end e = *end;
	char *vms = NULL, *body = NULL, *rec_body = NULL;
	json_t *cdr;

	BASE_ASSERT(!w->finished, "a session finishes once (one final record queued)");
	w->finished = true;
	voicemail_keep(w);
	if (w->voicemails) {
		vms = json_dumps(w->voicemails, JSON_COMPACT);
		if (vms)
			s.voicemail_urls = vms;
	}
	s.status = STORE_STATUS_FINISHED;
	if (w->ring_ts)
		s.ring_ts = w->ring_ts;
	if (w->accept_ts)
		s.accept_ts = w->accept_ts;
	if (w->record_file[0]) {
		snprintf(e.record_url, sizeof(e.record_url), "%s", w->record_file);
		snprintf(e.record_id, sizeof(e.record_id), "%s", w->row->id);
	}
	s.ended_ts = e.ended_ts;
	s.end_status = e.end_status;
	snprintf(s.hungup_side, sizeof(s.hungup_side), "%s", e.hungup_side);
	snprintf(s.record_url, sizeof(s.record_url), "%s", e.record_url);
	snprintf(s.record_id, sizeof(s.record_id), "%s", e.record_id);
	if (e.participants)
		s.participants = (char *)e.participants; /* a view, like the rest of s */
	if (e.evidence)
		s.evidence = (char *)e.evidence;
	cdr = records_cdr(&s, w->keys, w->n_keys, true);
	if (cdr)
		body = json_dumps(cdr, JSON_COMPACT);
	json_decref(cdr);
	if (!body)
		log_error("session", "%s: out of memory building the call record push", s.id);
	if (e.record_url[0]) {
		rec_body = records_record_push(s.sdkappid, s.id, e.record_id, e.ended_ts,
					       endpoint_of(&s), e.record_url);
		if (!rec_body)
			log_error("session", "%s: out of memory building the recording push", s.id);
	}
	if (store_session_finish(w->mgr->deps.store, s.id, s.sdkappid, &e, body, rec_body))
		log_error("session", "%s: the final record could not be queued", w->row->id);
	free(body);
	free(rec_body);
	free(vms);
	metrics_call_ended(e.end_status, w->row->direction == 0);
	log_info("session", "%s finished: EndStatus %d (%s), hung up by %s%s%s", w->row->id,
		 e.end_status, records_end_status_string(e.end_status), e.hungup_side,
		 e.end_reason[0] ? ": " : "", e.end_reason);
}

/* Appends a key press to the record kept in memory (libre's mem_realloc does not
 * allocate from NULL, hence the first mem_zalloc). */
static int key_collect(const struct store_key_press *kp, void *arg)
{
	struct session_work *w = arg;
	struct store_key_press *keys = w->keys ? mem_realloc(w->keys, (w->n_keys + 1) * sizeof(*kp))
					       : mem_zalloc(sizeof(*kp), NULL);

	if (!keys)
		return ENOMEM;
	w->keys = keys;
	w->keys[w->n_keys++] = *kp;
	return 0;
}

void session_work_close(struct session_mgr *m, const struct store_session *row,
			int end_status, const char *reason)
{
	struct store_session_end end = {.ended_ts = clock_unix_s(), .end_status = end_status,
					.hungup_side = "system"};
	struct session_work w = {.mgr = m, .row = (struct store_session *)row};

	/* Only a call that was answered before a restart has key presses; that happens at
	 * start, where reading them from the store may block. */
	if (row->accept_ts)
		(void)store_session_keys(m->deps.store, row->id, key_collect, &w);
	snprintf(end.end_reason, sizeof(end.end_reason), "%s", reason);
	/* A call recorded when cccd stopped keeps its (partial) recording: the file's header
	 * was kept up to date while it was written, and is set right here if the kill fell
	 * between a write and its header update. The store notes the file when recording
	 * starts, and the recorder thread creates it a moment later: a kill in between leaves
	 * a name with no file, which the record must not link. */
	if (row->record_url[0] && media_record_recover(m->deps.media, row->record_url))
		snprintf(w.record_file, sizeof(w.record_file), "%s", row->record_url);
	else if (row->record_url[0])
		log_warn("session", "%s: recording %s was never written; the record names none",
			 row->id, row->record_url);
	finish(&w, &end);
	mem_deref(w.keys);
}

/* ---- the IVR's commands ------------------------------------------------------------- */

static struct media_stream *stream_of(struct session_work *w)
{
	return w->call ? call_media(w->call) : NULL;
}

static int op_play(void *arg, const struct ivr_prompt *p, unsigned loops, bool barge_in,
		   uint32_t *play_id)
{
	struct session_work *w = arg;
	struct media_stream *ms = stream_of(w);
	struct media_prompt *prompt;

	if (!ms)
		return ENOTCONN;
	if (p->text)
		return media_play_text(ms, p->text, p->lang, loops, barge_in, play_id);
	prompt = session_prompt_get(w->mgr, p->file);
	if (!prompt)
		return ENOENT;
	return media_play(ms, prompt, loops, barge_in, play_id);
}

static void op_stop(void *arg)
{
	struct media_stream *ms = stream_of(arg);

	if (ms)
		media_stop(ms);
}

static int op_transfer(void *arg, const struct ivr_transfer *t)
{
	return session_xfer_start(arg, t);
}

static int op_record(void *arg, const struct ivr_record *r)
{
	struct session_work *w = arg;
	struct media_stream *ms = stream_of(w);
	char file[sizeof(w->vm_file)];
	int err;

	/* The run itself stops the recording at its key or its length. */
	if (!ms)
		return ENOTCONN;
	if (w->vm_file[0])
		return EALREADY;
	if (r->speech) {
		/* A speech node's answer for the recogniser: the same mono recording as a
		 * message, but no voicemail (vm_file stays empty); one file per session,
		 * overwritten by the next speech node. Its bytes come back with RECORD_DONE,
		 * read by the recorder thread. */
		if (snprintf(file, sizeof(file), "%llu/%s-speech.wav",
			     (unsigned long long)w->row->sdkappid, w->row->id) >= (int)sizeof(file))
			return ENAMETOOLONG;
		return media_record_answer(ms, file, r->silence_ms);
	}
	err = records_file_voicemail(file, sizeof(file), w->row->sdkappid, w->row->id,
				     w->n_voicemails + 1);
	err = err ? err : media_record_start(ms, MEDIA_REC_MESSAGE, file);
	if (err)
		return err;
	/* The beep goes to the caller while the message (the caller's audio only) records;
	 * the run does not wait for it, so its play id is none of the run's. */
	if (r->beep && w->mgr->beep) {
		uint32_t id;

		if (media_play(ms, w->mgr->beep, 1, false, &id))
			log_warn("session", "%s: the voicemail beep did not play", w->row->id);
	}
	w->n_voicemails++;
	strcpy(w->vm_file, file);
	return 0;
}

static void op_record_stop(void *arg)
{
	struct media_stream *ms = stream_of(arg);

	if (ms)
		media_record_stop(ms, MEDIA_REC_MESSAGE);
}

static void op_hangup(void *arg, const struct ivr_end *end)
{
	struct session_work *w = arg;

	w->ivr_ended = true;
	w->ivr_end.end_status = end->end_status;
	snprintf(w->ivr_end.hungup_side, sizeof(w->ivr_end.hungup_side), "%s",
		 end->hungup_side ? end->hungup_side : "system");
	snprintf(w->ivr_end.end_reason, sizeof(w->ivr_end.end_reason), "%s",
		 end->reason ? end->reason : "");
	if (w->call)
		call_hangup(w->call);
}

static void op_key(void *arg, const struct ivr_key_press *kp)
{
	struct session_work *w = arg;
	struct store_key_press k = {.ts_ms = kp->ts_ms, .post = kp->post};

	snprintf(k.key, sizeof(k.key), "%s", kp->key ? kp->key : "");
	snprintf(k.label, sizeof(k.label), "%s", kp->label ? kp->label : "");
	snprintf(k.node_label, sizeof(k.node_label), "%s", kp->node_label ? kp->node_label : "");
	snprintf(k.original, sizeof(k.original), "%s", kp->original ? kp->original : "");
	snprintf(k.tts_prompt, sizeof(k.tts_prompt), "%s", kp->tts_prompt ? kp->tts_prompt : "");
	if (store_session_key(w->mgr->deps.store, w->row->id, (unsigned)w->n_keys, &k))
		log_error("session", "%s: key press not recorded", w->row->id);
	if (key_collect(&k, w))
		log_error("session", "%s: key press not kept for the record", w->row->id);
}

static void op_path(void *arg, const char *node_id, const char *label, const char *result,
		    int64_t ts_ms)
{
	struct session_work *w = arg;

	if (store_session_path(w->mgr->deps.store, w->row->id, w->path_seq++, node_id, label,
			       result, ts_ms))
		log_error("session", "%s: path step not recorded", w->row->id);
}

static const struct ivr_ops ivr_ops = {
	.play = op_play,
	.stop = op_stop,
	.transfer = op_transfer,
	.record = op_record,
	.record_stop = op_record_stop,
	.hangup = op_hangup,
	.key = op_key,
	.path = op_path,
};

/* ---- the call's events -------------------------------------------------------------- */

/* A run of `flow` on the session's call (the IVR at answer, a survey after a transfer). */
static int run_flow(struct session_work *w, struct ivr_flow *flow)
{
	const struct call_times *t = call_times(w->call);
	const struct ivr_call_info ci = {
		.caller = w->row->caller,
		.callee = w->row->callee,
		.session_id = w->row->id,
		.sdkappid = w->row->sdkappid,
		.start_ts = w->row->start_ts,
		.uui = w->row->uui,
		.ring_ts = t->ring_ms / 1000,
		.accept_ts = t->answer_ms / 1000,
		.variables = w->row->variables,
		.amd = w->amd && flow == w->flow,
	};
	struct session_mgr *m = w->mgr;
	struct ivr_run_opts ro = {0};
	struct ivr_run *run = NULL;
	int err;

	/* The recogniser's threads start with the first flow that needs them; a flow that
	 * cannot have them leaves its local speech nodes by onFail (ivr.h). */
	if (!m->asr && ivr_flow_local_speech(flow) && (err = asr_alloc(&m->asr, &m->conf.asr)))
		log_error("session", "the local speech recogniser does not start: %s",
			  strerror(err));
	ro.asr = m->asr;
	err = ivr_run_alloc(&run, flow, &ci, &ivr_ops, w, &ro);
	if (err)
		return err;
	mem_deref(w->run);
	w->run = run;
	return ivr_run_start(run);
}

static void run_start(struct session_work *w)
{
	int err;

	if (!w->flow) {
		w->ivr_ended = true;
		w->ivr_end.end_status = 0;
		strcpy(w->ivr_end.hungup_side, "system");
		snprintf(w->ivr_end.end_reason, sizeof(w->ivr_end.end_reason),
			 "IVR %llu version %u could not be loaded",
			 (unsigned long long)w->row->ivr_id, w->row->ivr_version);
		call_hangup(w->call);
		return;
	}
	err = run_flow(w, w->flow);
	if (err) {
		log_error("session", "%s: the IVR did not start: %s", w->row->id, strerror(err));
		w->ivr_ended = true;
		strcpy(w->ivr_end.hungup_side, "system");
		snprintf(w->ivr_end.end_reason, sizeof(w->ivr_end.end_reason),
			 "the IVR did not start");
		call_hangup(w->call);
	}
}

int session_work_survey(struct session_work *w, struct ivr_flow *survey)
{
	int err;

	if (!w->call || !survey)
		return EINVAL;
	w->ivr_ended = false; /* the survey's own end (or the caller's hang-up) decides */
	err = run_flow(w, survey);
	if (err)
		log_warn("session", "%s: the post-call survey did not start: %s", w->row->id,
			 strerror(err));
	else
		log_info("session", "%s: post-call survey IVR %llu", w->row->id,
			 (unsigned long long)ivr_flow_id(survey));
	return err;
}

/* The call recording: from the answer to the hang-up, when the instance or the flow asks.
 * Its file is stored at once, so a session closed after a crash still names it. */
static void call_record_start(struct session_work *w)
{
	struct media_stream *ms = stream_of(w);
	char file[sizeof(w->record_file)];
	int err;

	if ((!w->record_call && !ivr_flow_records(w->flow)) || w->record_file[0])
		return; /* not asked, or running since the early media */
	err = ms ? records_file_call(file, sizeof(file), w->row->sdkappid, w->row->id) : ENOTCONN;
	err = err ? err : media_record_start(ms, MEDIA_REC_CALL, file);
	if (err) {
		log_warn("session", "%s: the call cannot be recorded: %s", w->row->id,
			 strerror(err));
		return;
	}
	strcpy(w->record_file, file);
	if (store_session_record(w->mgr->deps.store, w->row->id, file, w->row->id))
		log_error("session", "%s: recording %s not noted", w->row->id, file);
}

/* A recording could not be written: the call's is dropped from the record, a voicemail's
 * is not kept. */
static void record_failed(struct session_work *w, enum media_rec_kind kind, const char *why)
{
	log_warn("session", "%s: %s", w->row->id, why ? why : "recording failed");
	if (kind == MEDIA_REC_CALL)
		w->record_file[0] = '\0';
	else
		w->vm_file[0] = '\0';
}

static void media_event(struct session_work *w, const struct media_event *me)
{
	if (me->type == MEDIA_EV_ERROR && !me->play_id) {
		/* A recording that cannot be written: RECORD_DONE follows with the reason. */
		log_warn("session", "%s: %s", w->row->id, me->why ? me->why : "recording error");
		return;
	}
	if (me->type == MEDIA_EV_SILENCE) {
		/* A speech node's answer is over: RECORD_DONE hands it to the run. */
		op_record_stop(w);
		return;
	}
	if (me->type == MEDIA_EV_RECORD_DONE) {
		if (me->why)
			record_failed(w, me->rec, me->why);
		if (me->rec == MEDIA_REC_MESSAGE) {
			voicemail_keep(w);
			if (w->run)
				ivr_on_record_done(w->run, me->why ? EIO : 0, me->answer,
						   me->answer_len);
		}
		return;
	}
	if (me->type == MEDIA_EV_HEARD) {
		session_amd_heard(w, &me->heard);
		return;
	}
	if (!w->run)
		return;
	switch (me->type) {
	case MEDIA_EV_PLAY_DONE:
		ivr_on_play_done(w->run, me->play_id, me->stopped);
		break;
	case MEDIA_EV_ERROR:
		/* A prompt that could not be synthesised is skipped, not waited for. */
		log_warn("session", "%s: prompt %u: %s", w->row->id, me->play_id,
			 me->why ? me->why : "media error");
		ivr_on_play_done(w->run, me->play_id, true);
		break;
	default:
		break;
	}
}

static void call_event(struct call *c, const struct call_event *ev, void *arg)
{
	struct session_work *w = arg;
	struct store_session_end end = {0};
	struct records_amd amd = {0};
	char *legs, *evidence;
	int err;

	BASE_ASSERT(!w->finished, "a finished session hears no more of its call");
	switch (ev->type) {
	case CALL_EV_RINGING:
		w->ring_ts = ev->times.ring_ms / 1000;
		store_session_ringing(w->mgr->deps.store, w->row->id, w->ring_ts);
		break;
	case CALL_EV_EARLY_MEDIA:
		call_record_start(w); /* what the carrier plays before the answer is evidence */
		break;
	case CALL_EV_ANSWERED:
		w->accept_ts = ev->times.answer_ms / 1000;
		if (!w->ring_ts && ev->times.ring_ms)
			w->ring_ts = ev->times.ring_ms / 1000;
		store_session_answered(w->mgr->deps.store, w->row->id, w->accept_ts);
		call_record_start(w);
		if (session_amd_wanted(w) && (err = session_amd_start(w)))
			log_warn("session", "%s: answering-machine detection did not start: %s",
				 w->row->id, strerror(err));
		run_start(w);
		break;
	case CALL_EV_DTMF:
		if (w->run)
			ivr_on_digit(w->run, ev->key, ev->ts_ms);
		break;
	case CALL_EV_MEDIA:
		if (ev->media)
			media_event(w, ev->media);
		break;
	case CALL_EV_ENDED:
		call_trace_bind(c, w->row->id, w->row->sdkappid);
		session_xfer_stop(w);
		if (w->run && !ivr_run_finished(w->run))
			ivr_on_hangup(w->run);
		end.ended_ts = (ev->times.end_ms ? ev->times.end_ms : clock_unix_ms()) / 1000;
		if (w->ivr_ended && ev->times.answer_ms) {
			end.end_status = w->ivr_end.end_status;
			strcpy(end.hungup_side, w->ivr_end.hungup_side);
			strcpy(end.end_reason, w->ivr_end.end_reason);
		}
		else if (w->row->direction == 0 && ev->times.answer_ms && !w->transferred &&
			 ev->end.side == CALL_SIDE_USER) {
			/* The caller left the inbound IVR before it ended (ivrGiveUp). */
			end.end_status = 102;
			strcpy(end.hungup_side, "user");
			snprintf(end.end_reason, sizeof(end.end_reason), "caller hung up in the IVR");
		}
		else {
			/* A machine that hangs up after its message was left (the flow took
			 * its machine branch) is still a voicemail reached. */
			bool machine = ev->times.answer_ms && ivr_run_machine(w->run);

			end.end_status = machine ? 222 : ev->end.status;
			snprintf(end.hungup_side, sizeof(end.hungup_side), "%s",
				 call_side_name(ev->end.side));
			snprintf(end.end_reason, sizeof(end.end_reason), "%s%s%s",
				 w->hangup_requested ? "HangUpCall; " : "",
				 machine ? "answering machine; " : "",
				 ev->reason ? ev->reason : "");
		}
		legs = session_xfer_legs(w);
		end.participants = legs;
		if (w->amd)
			session_amd_record(w, &amd);
		evidence = records_evidence_text_amd(ev->evidence, w->amd ? &amd : NULL);
		if (!evidence)
			log_error("session", "%s: out of memory keeping the call's evidence",
				  w->row->id);
		end.evidence = evidence;
		finish(w, &end);
		free(legs);
		free(evidence);
		mem_deref(w);
		break;
	}
}

void session_work_hangup(struct session_work *w)
{
	w->hangup_requested = true;
	if (w->call) {
		call_hangup(w->call);
		return;
	}
	/* Its mark is being written: it ends before its INVITE leaves. */
	mark_settled(w);
	session_work_close(w->mgr, w->row, 221, "hung up (HangUpCall) before it was placed");
	mem_deref(w);
}

int session_work_inbound(struct session_mgr *m, struct call *c, const struct inbound_entry *e,
			 const struct call_incoming *in, call_event_h **ehp, void **argp)
{
	struct store_session *row;
	struct session_work *w;
	int err;

	err = session_inbound_row(e, in, &row);
	if (err)
		return err;
	w = mem_zalloc(sizeof(*w), work_destructor);
	if (!w) {
		mem_deref(row);
		return ENOMEM;
	}
	w->mgr = m;
	w->row = row;
	w->flow = mem_ref(e->flow);
	w->record_call = e->record;
	w->call = c;      /* the reference the call module hands to the taker */
	w->ring_ts = row->start_ts;
	err = store_session_create_async(m->deps.store, row);
	err = err ? err : store_session_ringing(m->deps.store, row->id, w->ring_ts);
	if (err) {
		w->call = NULL;
		mem_deref(w);
		return err;
	}
	list_append(&m->active, &w->le, w);
	*ehp = call_event;
	*argp = w;
	log_info("session", "%s: inbound call from %s to %s (IVR %llu)", row->id, row->caller,
		 row->callee, (unsigned long long)row->ivr_id);
	err = call_answer(c);
	if (err)
		log_warn("session", "%s: cannot answer: %s", row->id, strerror(err));
	return 0;
}

/* Sends the session's INVITE (its dialled mark is durable). */
static void work_dial(struct session_work *w)
{
	struct session_mgr *m = w->mgr;
	const struct store_session *row = w->row;
	struct call_params p = {
		.session_id = row->id,
		.callee = row->callee,
		.caller = row->caller,
		.uui = row->uui[0] ? row->uui : NULL,
		.max_ring_s = row->max_ring_s,
	};
	int err = call_originate(&w->call, m->deps.ua, &p, call_event, w);

	if (err) {
		session_work_close(m, row, err == ENOENT ? 208 : 0,
				   err == ENOENT ? "no trunk can carry this number"
						 : "the call could not be started");
		mem_deref(w);
		return;
	}
	log_info("session", "%s: calling %s from %s", row->id, row->callee, row->caller);
}

/* At-most-once dialling: the INVITE leaves only once the session's dialled mark is
 * durable (session_work_marked), so that whoever resumes the session after a crash —
 * this node restarted, or another that took it over — knows whether it may have been
 * dialled. A session marked already (it went back to the queue while its mark was
 * written: no room on its trunks by then) is dialled at once. */
void session_work_start(struct session_mgr *m, struct store_session *row,
			struct ivr_flow *flow, bool record)
{
	struct session_work *w;
	int err;

	if (!m->deps.ua) {
		session_work_close(m, row, 208, "no SIP user agent configured");
		return;
	}
	w = mem_zalloc(sizeof(*w), work_destructor);
	if (!w) {
		session_work_close(m, row, 0, "out of memory");
		return;
	}
	w->mgr = m;
	w->row = mem_ref(row);
	w->flow = mem_ref(flow);
	w->record_call = record;
	list_append(&m->active, &w->le, w);
	if (row->dialled_ms) {
		work_dial(w);
		return;
	}
	row->dialled_ms = clock_unix_ms();
	err = store_session_dialled(m->deps.store, row->id, row->dialled_ms);
	if (err) {
		session_work_close(m, row, 0, "the dialled mark could not be queued");
		mem_deref(w);
		return;
	}
	hash_append(m->marking, hash_joaat_str(row->id), &w->mark_he, w);
	m->marks++;
}


static bool mark_match(struct le *le, void *arg)
{
	return !strcmp(((struct session_work *)le->data)->row->id, arg);
}

void session_work_marked(struct session_mgr *m, const char *id, int result)
{
	struct session_work *w = list_ledata(hash_lookup(m->marking, hash_joaat_str(id),
							 mark_match, (void *)id));
	uint64_t wait_ms;

	if (!w)
		return; /* hung up (and finished) while its mark was written */
	mark_settled(w);
	if (result == ESRCH) {
		/* Another node took the session over (this one's lease ran out): it is that
		 * node's to dial and to finish. */
		log_warn("session", "%s: taken over by another node before its INVITE: not "
			 "dialled here", id);
		mem_deref(w);
		return;
	}
	if (result) {
		log_error("session", "%s: the dialled mark was not written (%s): not dialled",
			  id, strerror(result));
		session_work_close(m, w->row, 0, "the dialled mark could not be written");
		mem_deref(w);
		return;
	}
	/* A transfer leg may have taken the room this one was let out for meanwhile: it waits
	 * in the queue again (marked: a crash from here finishes it rather than dialling it
	 * twice). */
	if (call_route_ready(m->deps.ua, w->row->callee, &wait_ms) == EAGAIN) {
		session_requeue(m, w->row, w->flow, w->record_call);
		mem_deref(w);
		return;
	}
	work_dial(w);
}
