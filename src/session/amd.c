/* amd: answering-machine detection on a session's call (docs/flows.md §2 and
 * §Answering-machine detection).
 *
 * Whether it runs is decided per session at the answer: the call's CccdAmd variable ("on"
 * or "off": from CreateIVRSession's Variables, or the auto-callout task's, or a callee's
 * own) wins; without it the flow's "amd": {"enabled"} decides. Only outbound sessions are
 * listened to: an inbound caller dialled cccd.
 *
 * The detector (src/amd) runs on the stream's media worker as the answer slot's listener:
 * each 20 ms frame of the callee's audio is fed to it there, and what it finds comes to
 * the control loop as MEDIA_EV_HEARD — the verdict once (what = the verdict, value = its
 * decision time), then the beep once (what = HEARD_BEEP, at_ms = the beep's end, value =
 * its frequency). The worker's frames come only as packets arrive, so a callee that sends
 * no audio never makes the detector decide: the loop's own timer decides UNSURE if nothing
 * came by [amd] total_ms + NO_VERDICT_MARGIN_MS after the answer, and stops the listener. */
#include <errno.h>
#include <string.h>
#include <jansson.h>
#include "session/session_int.h"
#include "base/base.h"
#include "amd/amd.h"
#include "call/call.h"
#include "ivr/ivr.h"
#include "media/media.h"
#include "records/records.h"
#include "wheel/wheel.h"

/* Past the detector's own limit (total_ms of audio): packets late by a jitter buffer's
 * worth, and the start of RTP a moment after the answer, must not make it UNSURE. */
enum { NO_VERDICT_MARGIN_MS = 2000 };

/* HEARD's `what` for the beep (verdicts are enum amd_verdict's values, 1-3). */
enum { HEARD_BEEP = 16 };

/* The listener's state: the media worker's alone once handed to media_listen. */
struct amd_listener {
	struct amd *amd;            /* owned */
	bool told;                  /* the verdict was reported */
	bool done;                  /* nothing more to listen for */
};

/* The session's side. Owner: the session (session_work.amd). */
struct session_amd {
	struct session_work *w;     /* not owned: it owns this */
	struct wheel_tmr tmr;       /* the verdict's deadline */
	uint32_t deadline_ms;       /* after the answer */
	enum ivr_amd verdict;
	uint32_t decision_ms, beep_ms, beep_hz;
};

static void listener_destructor(void *arg)
{
	struct amd_listener *l = arg;

	mem_deref(l->amd);
}

/* On the media worker. One report per frame: a beep found with the verdict's frame is
 * reported with the next one. After HUMAN there is no beep to wait for. */
static bool listen_frame(void *state, const int16_t *pcm, size_t n, struct media_heard *heard)
{
	struct amd_listener *l = state;
	enum amd_verdict v;
	uint32_t end_ms;
	unsigned hz;

	if (l->done)
		return false;
	v = amd_feed(l->amd, pcm, n);
	if (v != AMD_PENDING && !l->told) {
		l->told = true;
		l->done = v == AMD_HUMAN;
		heard->what = (int)v;
		heard->at_ms = amd_decision_ms(l->amd);
		heard->value = amd_decision_ms(l->amd);
		return true;
	}
	if (l->told && amd_beep(l->amd, &end_ms, &hz)) {
		l->done = true;
		heard->what = HEARD_BEEP;
		heard->at_ms = end_ms;
		heard->value = hz;
		return true;
	}
	return false;
}

static enum ivr_amd ivr_verdict(int what)
{
	switch (what) {
	case AMD_HUMAN:   return IVR_AMD_HUMAN;
	case AMD_MACHINE: return IVR_AMD_MACHINE;
	default:          return IVR_AMD_UNSURE;
	}
}

static void verdict(struct session_amd *a, enum ivr_amd v, uint32_t ms)
{
	struct session_work *w = a->w;

	if (a->verdict != IVR_AMD_PENDING)
		return;
	wheel_cancel(&a->tmr);
	a->verdict = v;
	a->decision_ms = ms;
	log_info("session", "%s: answering-machine detection: %s after %u ms", w->row->id,
		 ivr_amd_name(v), ms);
	if (w->run)
		ivr_on_amd(w->run, v);
}

static void no_verdict(void *arg)
{
	struct session_amd *a = arg;
	struct media_stream *ms = a->w->call ? call_media(a->w->call) : NULL;

	if (ms)
		(void)media_listen(ms, MEDIA_LISTEN_ANSWER, NULL, NULL);
	verdict(a, IVR_AMD_UNSURE, a->deadline_ms);
}

static void amd_destructor(void *arg)
{
	struct session_amd *a = arg;

	wheel_cancel(&a->tmr);
}

/* The session's CccdAmd variable: 1 on, 0 off, -1 not given. The API refused any other
 * value (api_check_variables). */
static int variable(const char *vars)
{
	json_t *arr = vars && *vars ? json_loads(vars, 0, NULL) : NULL;
	json_t *v;
	size_t i;
	int on = -1;

	json_array_foreach(arr, i, v) {
		const char *key = json_string_value(json_object_get(v, "Key"));
		const char *val = json_string_value(json_object_get(v, "Value"));

		if (key && val && !strcmp(key, "CccdAmd"))
			on = !strcmp(val, "on");
	}
	json_decref(arr);
	return on;
}

bool session_amd_wanted(const struct session_work *w)
{
	int on;

	if (w->row->direction != 1 || !w->flow)
		return false;
	on = variable(w->row->variables);
	return on < 0 ? ivr_flow_amd(w->flow) : on == 1;
}

int session_amd_start(struct session_work *w)
{
	struct media_stream *ms = w->call ? call_media(w->call) : NULL;
	struct amd_listener *l;
	struct session_amd *a;
	int err;

	if (!ms)
		return ENOTCONN;
	l = mem_zalloc(sizeof(*l), listener_destructor);
	a = mem_zalloc(sizeof(*a), amd_destructor);
	err = l && a ? amd_alloc(&l->amd, &w->mgr->conf.amd) : ENOMEM;
	err = err ? err : media_listen(ms, MEDIA_LISTEN_ANSWER, listen_frame, l);
	mem_deref(l); /* the stream holds it now (or it is not wanted) */
	if (err) {
		mem_deref(a);
		return err;
	}
	a->w = w;
	a->deadline_ms = w->mgr->conf.amd.total_ms + NO_VERDICT_MARGIN_MS;
	wheel_tmr_init(&a->tmr);
	wheel_start(&a->tmr, a->deadline_ms, no_verdict, a);
	mem_deref(w->amd);
	w->amd = a;
	return 0;
}

void session_amd_heard(struct session_work *w, const struct media_heard *h)
{
	struct session_amd *a = w->amd;

	if (!a || h->slot != MEDIA_LISTEN_ANSWER)
		return;
	if (h->what != HEARD_BEEP) {
		verdict(a, ivr_verdict(h->what), h->value);
		return;
	}
	if (a->beep_ms)
		return;
	a->beep_ms = h->at_ms ? h->at_ms : 1;
	a->beep_hz = h->value;
	log_info("session", "%s: answering machine's beep (%u Hz) ended at %u ms", w->row->id,
		 a->beep_hz, a->beep_ms);
	if (w->run)
		ivr_on_beep(w->run);
}

void session_amd_record(const struct session_work *w, struct records_amd *r)
{
	const struct session_amd *a = w->amd;

	r->verdict = ivr_amd_name(a->verdict);
	r->decision_ms = a->decision_ms;
	r->beep_ms = a->beep_ms;
	r->beep_hz = a->beep_hz;
}
