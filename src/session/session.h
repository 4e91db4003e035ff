/* session: the control loop's side of sessions — takes each durable session from the API
 * threads (a locked list and one eventfd wake-up per burst), places its call, runs its IVR flow when the callee
 * answers, and writes what happened to the store (lifecycle, key presses, path, the final
 * record). Unless said otherwise, functions run on the control loop. */
#ifndef CCCD_SESSION_H
#define CCCD_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "amd/amd.h"
#include "asr/asr.h"
#include "call/call.h"
#include "dialq/dialq.h"

struct call_ua;
struct conf;
struct conf_err;
struct media;
struct store;
struct store_session;
struct session_mgr;

struct session_conf {
	unsigned stop_wait_s;       /* SIGTERM: calls in progress get this long to end
				     * ([session] stop_wait), then they are hung up */
	char prompt_dir[512];       /* where relative prompt files of flows resolve */
	bool allow_plain_http;      /* IVR http nodes may use http:// to any host */
	struct dialq_conf dial;     /* the dial queue ([dial]) */
	struct amd_conf amd;        /* answering-machine detection ([amd], src/amd) */
	struct asr_conf asr;        /* the local speech recogniser ([speech]) */
};

int session_conf_read(const struct conf *cf, struct session_conf *sc, struct conf_err *err);

/* The parts a session needs; not owned. ua and media may be NULL (no calls are placed:
 * sessions wait, as with a trunk that is down). */
struct session_deps {
	struct store *store;
	struct call_ua *ua;
	struct media *media;
};

/* On the control loop, before re_main: also takes up the sessions a previous run left
 * unfinished (queues those never dialled and young enough, oldest first; closes the
 * others as a system hang-up, EndStatus 0). Blocking (store reads, flow loads) at start
 * only. New sessions wait in the dial queue (src/dialq) until a trunk has room. */
int session_mgr_alloc(struct session_mgr **mp, const struct session_conf *sc,
		      const struct session_deps *deps);

/* Thread-safe, may block (it loads and validates the session's flow version unless the
 * control loop has that version cached): hands a durable session to the control loop,
 * taking over the caller's reference to s (on success only). record: the instance
 * records its calls (the caller read the instance; the manager does not read it again).
 * Sessions handed over together cost the loop one wake-up and are started in hand-over
 * order. */
int session_mgr_enqueue(struct session_mgr *m, struct store_session *s, bool record);

/* Thread-safe, may block (store reads): a session taken over from a dead node (now this
 * node's) is resumed by the restart rule — queued to be dialled if it was never marked,
 * else finished as a system hang-up, EndStatus 0 (docs/architecture.md §Nodes). s is
 * borrowed. */
int session_mgr_resume(struct session_mgr *m, struct store_session *s);

/* Thread-safe: asks the control loop to hang up a live session of `sdkappid`. ENOENT is
 * not reported here (the API checks the session's status in the store). */
int session_mgr_hangup(struct session_mgr *m, uint64_t sdkappid, const char *session_id);

/* The call module's incoming handler (call_incoming_h, arg = the manager): an INVITE to a
 * number bound to an inbound IVR becomes a new session and is answered; ENOENT (404) for
 * any other number. */
int session_mgr_incoming(struct call *c, const struct call_incoming *in, call_event_h **ehp,
			 void **argp, void *arg);

/* Graceful stop: the dial queue places no more calls; the sessions waiting in it stay in
 * the store, and the next start queues them again. */
void session_mgr_hold_dialling(struct session_mgr *m);

/* Hangs up every live call (graceful stop after its wait): their records follow. */
void session_mgr_hangup_all(struct session_mgr *m);

/* The call module's trace handler (call_ua_trace) with the store as arg: a session's SIP
 * messages of one dialog become one queued write (sip_trace.c). */
void session_sip_trace(const char *session_id, uint64_t sdkappid, const char *call_id,
		       const struct call_trace_msg *msgs, size_t n, unsigned dropped, void *arg);

/* Sessions being worked now, and those handed over but not queued yet (sessions waiting
 * in the dial queue are not counted: a stopping cccd leaves them in the store, and the
 * next start dials them). */
size_t session_mgr_active(struct session_mgr *m);
/* Control loop, about once a second: sessions by state and the dial queue to /metrics. */
void session_mgr_metrics_publish(struct session_mgr *m);


#endif
