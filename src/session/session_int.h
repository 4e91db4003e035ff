/* session internals: the manager and one worked session. */
#ifndef CCCD_SESSION_INT_H
#define CCCD_SESSION_INT_H

#include <pthread.h>
#include <re_types.h>
#include <re_fmt.h>
#include <re_mem.h>
#include <re_list.h>
#include <re_hash.h>
#include <re_mqueue.h>
#include "session/session.h"
#include "store/store.h"

struct ivr_flow;
struct ivr_run;
struct wheel_tmr;
struct ivr_transfer;
struct call;
struct session_xfer;
struct json_t;
struct media_heard;
struct records_amd;
struct session_amd;

/* Owner: main (mem_deref at shutdown, before the call user agent and media). */
struct session_mgr {
	struct session_conf conf;
	struct session_deps deps;      /* not owned */
	struct mqueue *mq;             /* API threads → control loop (hang-ups, inbound) */
	/* New sessions: API threads append to `pending` and write `wake_fd` only when the
	 * list was empty, so a burst of creates costs the loop one wake-up. */
	pthread_mutex_t handover_lock; /* guards pending, wake_pending and flows */
	struct list pending;           /* struct session_msg, owned */
	bool wake_pending;
	int wake_fd;                   /* eventfd, read by the control loop */
	struct hash *flows;            /* (IVR, version) → struct flow_entry, owned */
	struct wheel_tmr *flow_sweep;        /* owned: drops flows nobody used for a while */
	struct list active;            /* struct session_work, owned */
	struct hash *marking;          /* session id → struct session_work of `active` whose
					* dialled mark is being written (not owned) */
	unsigned marks;                /* how many: the dial queue waits while one is */
	struct dialq *dialq;           /* owned: sessions waiting for a trunk's room */
	struct hash *waiting;          /* session id → struct session_wait, owned */
	bool dial_held;                /* stopping: nothing leaves the dial queue */
	struct media_prompt *beep;     /* owned: played before a voicemail; NULL without media */
	pthread_mutex_t lock;          /* guards stopping (the refresher thread waits on it) */
	struct session_prompts *prompts; /* owned; NULL without media */
	struct inbound_table *inbound; /* owned; the control loop's, replaced whole */
	pthread_t refresher;           /* re-reads the inbound numbers every few seconds */
	bool refresher_running;
	struct store_listener *listener; /* owned (PostgreSQL): hears of other nodes' commands */
	pthread_t remote;              /* reads them (remote.c) */
	bool remote_running;
	bool stopping;
	pthread_cond_t stop;
	struct asr *asr;               /* owned: the local recogniser's threads, started by the
					* first run of a flow with a local speech node */
};

/* The numbers answered into inbound IVRs: built by the refresher thread and handed to the
 * control loop whole (its flows are then touched by the loop only). */
struct inbound_table {
	struct hash *numbers;          /* number → struct inbound_entry, owned */
	char (*ccs)[4];                /* the instances' distinct default_cc, ascending (mem) */
	size_t n_ccs;
};

/* A number answered into an inbound IVR. Owner: its inbound_table. */
struct inbound_entry {
	struct le he;
	char number[33];
	uint64_t sdkappid, account_id, ivr_id;
	uint32_t ivr_version;
	bool record;                   /* the instance records its calls */
	uint32_t ai_channels;          /* the instance's AI licences (for AI flows) */
	uint32_t ai_elsewhere;         /* its live AI sessions other nodes own, when read */
	char default_cc[4];            /* the instance's country (calling rules' default_cc):
					* national numbers of its calls are read there */
	struct ivr_flow *flow;         /* owned reference; NULL if it does not load */
};

/* One session being worked. Owner: the manager's active list. */
struct session_work {
	struct le le;
	struct le mark_he;             /* in the manager's marking hash until its mark lands */
	struct session_mgr *mgr;
	struct store_session *row;     /* owned reference */
	struct ivr_flow *flow;         /* owned reference; NULL if the flow could not load */
	struct call *call;             /* owned */
	struct ivr_run *run;           /* owned, from answer on */
	struct store_key_press *keys;  /* accepted inputs, for the record (mem array) */
	size_t n_keys;
	unsigned path_seq;
	int64_t ring_ts, accept_ts;    /* Unix s, as the call reported them (0 = not yet) */
	bool ivr_ended;                /* the flow ended the call: its end status wins */
	struct store_session_end ivr_end;
	bool hangup_requested;         /* HangUpCall */
	struct session_xfer *xfer;     /* owned: a transfer under way or connected */
	struct json_t *legs;           /* owned: transfer legs so far (ServeParticipants) */
	bool transferred;              /* a transfer leg answered: the IVR handed the call on */
	bool finished;                 /* its final record was queued (finish ran) */
	/* recordings (work.c) */
	bool record_call;              /* the instance asks for the call to be recorded */
	char record_file[512];         /* the call recording, relative; "" = none (or failed) */
	unsigned n_voicemails;         /* voicemails started so far (names the next file) */
	char vm_file[128];             /* the voicemail being recorded, "" = none */
	struct json_t *voicemails;     /* files of the voicemails kept (JSON array), owned */
	struct session_amd *amd;       /* owned: answering-machine detection (amd.c), NULL
					* when it does not run on the call */
};

/* A session in the dial queue. Owner: the manager's waiting hash (the queue only points
 * at it). */
struct session_wait {
	struct le he;
	struct store_session *row;     /* owned reference */
	struct ivr_flow *flow;         /* owned reference, or NULL (closed when dialled) */
	bool record;
};

/* A new session on its way to the control loop. Owner: the manager's pending list. */
struct session_msg {
	struct le le;
	struct store_session *row;     /* owned reference */
	struct ivr_flow *flow;         /* owned reference, loaded by the API thread, or NULL */
	bool cached;                   /* the loop's flow cache has the version (pinned) */
	bool record;                   /* the instance records its calls */
};

/* The flow of a session's IVR version as a new object for the calling thread (blocking).*/
int session_flow_get(struct session_mgr *m, const struct store_session *row,
		     struct ivr_flow **flowp);
/* A prompt file's decoded audio from the table filled at flow load (no disk), or NULL. */
struct media_prompt *session_prompt_get(struct session_mgr *m, const char *path);

/* The table of decoded prompt files (prompts.c): filled by threads loading flows, read by
 * the control loop, which never waits on a decoding (files decode with no lock held). */
struct session_prompts;
/* Decodes the file at path into a new prompt (blocking). */
typedef int (session_prompt_decode_h)(const char *path, struct media_prompt **pp, void *arg);
int session_prompts_alloc(struct session_prompts **tp, session_prompt_decode_h *decode,
			  void *arg);
/* Thread-safe, blocking: decodes path into the table unless it is there already. */
int session_prompts_load(struct session_prompts *t, const char *path);
/* Thread-safe, never waits on a decoding: the file's prompt, or NULL. Valid while the
 * table lives. */
struct media_prompt *session_prompts_get(struct session_prompts *t, const char *path);

/* The inbound number table: loaded before the loop runs, then refreshed on its own
 * thread (store reads, flow loads), so the control loop only looks it up. */
int session_inbound_start(struct session_mgr *m);
void session_inbound_stop(struct session_mgr *m);
/* The queue message that carries a new inbound table to the control loop. */
enum { MSG_INBOUND_TABLE = 3, MSG_REMOTE_HANGUP = 4 };

/* Other nodes' commands (remote.c): a thread that reads them, with PostgreSQL only. */
int session_remote_start(struct session_mgr *m);
void session_remote_stop(struct session_mgr *m);
/* On the control loop: a command message from that thread (taken over). */
void session_remote_hangup(struct session_mgr *m, void *data);
/* On the control loop: hangs up the session if this node holds it (waiting to be
 * dialled, or live); whether it did. */
bool session_mgr_hangup_held(struct session_mgr *m, uint64_t sdkappid, const char *id);
/* On the control loop: a table from the refresher replaces the current one (taken over). */
void session_inbound_install(struct session_mgr *m, struct inbound_table *t);
/* The entry for a dialled number, with a new reference to its flow; ENOENT if none. The
 * number is read in each instance's country in turn (ascending country code): a national
 * form matches a number of an instance whose default_cc reads it so; an international
 * form ("+39…", "0039…") matches whatever the country. */
int session_inbound_find(struct session_mgr *m, const char *number, struct inbound_entry *out);

/* The session row of an inbound call to e's number (a new id, ringing, started now); the
 * caller's number normalised in the instance's country (e->default_cc), kept as given
 * when it is no number (anonymous, a SIP name). */
int session_inbound_row(const struct inbound_entry *e, const struct call_incoming *in,
			struct store_session **rowp);

/* Takes an inbound call into a new session (answers it; the IVR runs on ANSWERED). */
int session_work_inbound(struct session_mgr *m, struct call *c, const struct inbound_entry *e,
			 const struct call_incoming *in, call_event_h **ehp, void **argp);

/* transfer.c: an IVR transfer (ops->transfer) — dials the leg(s) and bridges the one that
 * answers; the run hears the outcome through ivr_on_transfer_result. An error return
 * means nothing was dialled. */
int session_xfer_start(struct session_work *w, const struct ivr_transfer *t);
/* The first leg has ended: any transfer leg ends now and is recorded. */
void session_xfer_stop(struct session_work *w);
/* The legs so far as a JSON array text (free()), NULL if there were none. */
char *session_xfer_legs(const struct session_work *w);

/* amd.c: answering-machine detection. Wanted: an outbound session whose CccdAmd
 * variable says "on", or that has none and whose flow enables it. Start: at the answer,
 * before the run (ENOTCONN without media). Heard: a MEDIA_EV_HEARD finding. Record: the
 * outcome for CccdEvidence.Amd (w->amd not NULL). */
bool session_amd_wanted(const struct session_work *w);
int  session_amd_start(struct session_work *w);
void session_amd_heard(struct session_work *w, const struct media_heard *h);
void session_amd_record(const struct session_work *w, struct records_amd *r);

/* Starts working a session: dials it (or closes it at once if it cannot be dialled).
 * record: the instance records its calls. */
void session_work_start(struct session_mgr *m, struct store_session *row,
			struct ivr_flow *flow, bool record);
/* On the control loop: the session's dialled mark committed (result 0: its INVITE
 * leaves now) or failed for good (the session is closed, never dialled). */
void session_work_marked(struct session_mgr *m, const char *id, int result);
/* A session whose INVITE may not leave yet goes back to the dial queue. */
void session_requeue(struct session_mgr *m, struct store_session *row, struct ivr_flow *flow,
		     bool record);
/* Closes a session without a call (EndStatus, HungUpSide system, reason). */
void session_work_close(struct session_mgr *m, const struct store_session *row,
			int end_status, const char *reason);
void session_work_hangup(struct session_work *w);
/* After a transfer leg: runs the survey flow on the caller's leg, which stays up. */
int session_work_survey(struct session_work *w, struct ivr_flow *survey);

#endif
