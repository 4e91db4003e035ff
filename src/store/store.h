/* store: the database behind one interface — accounts, instances, IVRs, sessions.
 *
 * SQLite in WAL mode is the embedded default. Writes go through ONE writer thread that
 * commits many callers' work in one transaction (group commit: one fsync for the batch);
 * a caller of a durable write blocks until its transaction is on disk, so it must not be
 * the control loop. Reads use a per-thread read-only connection and never wait for the
 * writer. Every function returns 0 or an errno value (ENOENT: no such row). */
#ifndef CCCD_STORE_H
#define CCCD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "store/db.h"

struct conf;
struct conf_err;
struct store;

struct store_conf {
	enum db_backend backend; /* [store] backend = sqlite (default) | postgresql */
	char path[512];          /* sqlite: database file */
	char dsn[1024];          /* postgresql: libpq connection string, without a password */
	char password_file[512]; /* postgresql: a file holding the password (else libpq's own
				    PGPASSWORD / passfile); never logged */
	char master_key_path[512]; /* key that encrypts stored secrets (tenant/) */
	unsigned batch_max;      /* most writes committed in one transaction */
	bool synchronous_full;   /* fsync every commit (acknowledged sessions survive power loss) */
	unsigned busy_timeout_ms; /* how long a write waits for a lock another process holds
				    before it fails (and is retried, or refused); 0 = 10000 */
	char node_id[64];        /* [cluster] node_id (cluster.h): what this node writes into
				    the rows it owns or claims; set by the caller, not read here */
	bool keep_schema;        /* ccc: never migrate a database that has a schema already
				    (a live cccd may be serving it; only cccd upgrades) */
};

int store_conf_read(const struct conf *cf, struct store_conf *sc, struct conf_err *err);

/* Opens (creating the file and schema if needed) and starts the writer thread.
 * mem_deref() stops the writer after its queue is empty and closes the database. */
int store_open(struct store **stp, const struct store_conf *sc);

/* Waits until every write queued before it is durable. Blocking. */
int store_sync(struct store *st);

/* False while queued writes that failed for a reason that passes (disk full, database
 * locked by another process, I/O error) wait for their retry. Meanwhile every durable
 * write (store_write callers: CreateIVRSession, admin changes) fails at once with the
 * error that stopped the queue, and callers should refuse new work (inbound calls,
 * sessions); queued writes keep their order and land once the store works again.
 * Thread-safe, cheap (one atomic load). */
bool store_usable(struct store *st);

/* A read snapshot for the calling thread: until store_snapshot_end, every read this
 * thread makes on st runs in one read transaction on one pooled connection, so the reads
 * of one API request see one state of the database and pay for one transaction (WAL
 * read locks, shared-memory mutexes) instead of one each. Not nested (EALREADY); writes
 * still go to the writer, and after a durable write of this thread the snapshot moves on
 * (the thread reads what it wrote). It must not outlive the request: it pins the WAL. */
int store_snapshot_begin(struct store *st);
void store_snapshot_end(struct store *st);

/* The writer's counters since open: transactions committed (or rolled back) and the
 * writes they carried; jobs / batches is the mean group-commit size. Thread-safe. */
struct store_stats {
	uint64_t batches;
	uint64_t jobs;
	uint64_t round_trips; /* the writer's, to the database server (PostgreSQL; SQLite: 0) */
};

void store_stats(struct store *st, struct store_stats *out);

/* True when the database has no account yet (first start). */
int store_is_empty(struct store *st, bool *emptyp);

/* ---- tenancy ------------------------------------------------------------------- */

struct store_credential {
	char secret_id[64];
	uint64_t account_id;
	uint8_t key_enc[256]; /* the SecretKey, encrypted by tenant/ (never in clear here) */
	size_t key_enc_len;
	bool enabled;
};

/* Instance editions; only advanced includes IVR outbound (CreateIVRSession). */
enum store_edition { STORE_EDITION_STANDARD = 0, STORE_EDITION_ADVANCED = 1 };

struct store_instance {
	uint64_t sdkappid;
	uint64_t account_id;
	char name[64];
	enum store_edition edition;
	int64_t package_expires_at; /* Unix s; 0 = never */
	uint32_t ai_channels;       /* licensed AI concurrency */
	bool record_calls;          /* record every answered call (`ccc admin instance-set
				       --record yes`) */
	int32_t retention_days;     /* sessions and recordings kept this long; -1 = [records]
				       retention_days, 0 = for ever */
};

enum store_ivr_type {
	STORE_IVR_INBOUND = 1,
	STORE_IVR_AUTO_OUTBOUND = 2,
	STORE_IVR_SURVEY = 3,
};

struct store_ivr {
	uint64_t sdkappid;
	uint64_t ivr_id;
	char name[64];
	enum store_ivr_type type;
	uint32_t version; /* current (newest accepted) version */
};

/* Number states as NumberInfo.State: 1 normal, 2 arrears, 4 disabled by admin, 5 violation. */
struct store_number {
	uint64_t sdkappid;
	char number[33];     /* normalised 00-form */
	int state;
	bool outbound;       /* may be used as a caller id */
	uint64_t inbound_ivr; /* IVR answering inbound calls to it; 0 = none */
	int number_class;     /* 0 platform, 1 own (enum policy_class) */
};

int store_account_create(struct store *st, const char *name, uint64_t *idp);
/* Operator accounts manage licences and tenants of every instance (docs/admin-api.md).
 * ENOENT: no such account. */
int store_account_operator_set(struct store *st, uint64_t account_id, bool op);
int store_account_is_operator(struct store *st, uint64_t account_id, bool *opp);

/* A whole tenant in one transaction: account, credential, instance, IVRs, numbers.
 * EEXIST (and nothing written) if the instance or the SecretId exists already. */
struct store_tenant_ivr {
	uint64_t ivr_id;
	const char *name;
	enum store_ivr_type type;
	const char *document;
};

struct store_tenant_new {
	const char *account_name;
	struct store_credential credential;   /* account_id is filled in */
	struct store_instance instance;       /* account_id is filled in */
	const struct store_tenant_ivr *ivrs;
	size_t n_ivrs;
	const char *const *numbers;           /* caller numbers, 00-form */
	size_t n_numbers;
	const char *rules;                    /* callout rules JSON; NULL or "" = defaults */
	uint64_t account_id;                  /* out */
};

int store_tenant_create(struct store *st, struct store_tenant_new *tn);
int store_credential_add(struct store *st, const struct store_credential *cred);
int store_credential_get(struct store *st, const char *secret_id, struct store_credential *out);
/* Revocation: the credential stops signing requests (it stays, disabled, for the record).
 * account_id 0 disables it whatever its account (an operator); otherwise only the
 * account's own. ENOENT: no such credential of that account. Blocking (durable). */
int store_credential_disable(struct store *st, const char *secret_id, uint64_t account_id);
/* An account's credentials in the order they were made: h(secret_id, enabled,
 * created_at_s, arg); a non-zero return stops the walk and is returned. No secret is
 * read. */
typedef int (store_credential_h)(const char *secret_id, bool enabled, int64_t created_at,
				 void *arg);
int store_credentials_list(struct store *st, uint64_t account_id, store_credential_h *h,
			   void *arg);
int store_instance_put(struct store *st, const struct store_instance *inst);
int store_instance_get(struct store *st, uint64_t sdkappid, struct store_instance *out);
/* What a create reads before its admission, in one statement: the instance, its callout
 * rules' text ("" = the defaults; a mem string owned by the caller) and its IVR ivr_id
 * (*ivr zeroed, ivr_id 0, when the instance has none). ENOENT: no such instance. */
struct store_ivr;
int store_instance_get_rules(struct store *st, uint64_t sdkappid, uint64_t ivr_id,
			     struct store_instance *out, char **rulesp, struct store_ivr *ivr);

/* A change of an instance's licence and recording switch (CccdModifyInstance, `ccc admin
 * instance-set`): only the fields marked set change, in one UPDATE, so concurrent changes
 * of different fields never undo each other. ENOENT if the instance does not exist.
 * Blocking (durable). */
struct store_licence {
	uint64_t sdkappid;
	bool set_edition, set_package_expires_at, set_ai_channels, set_record_calls,
		set_retention_days;
	enum store_edition edition;
	int64_t package_expires_at;
	uint32_t ai_channels;
	bool record_calls;
	int32_t retention_days;
};

int store_instance_licence(struct store *st, const struct store_licence *l);
/* The instance's callout rules (policy JSON; "" = the defaults), owned by the caller. */
int store_instance_rules_get(struct store *st, uint64_t sdkappid, char **rulesp);
int store_instance_rules_put(struct store *st, uint64_t sdkappid, const char *rules);
/* Read-modify-write of the rules inside the writer's transaction, so that concurrent
 * edits (blacklist entries) never lose each other: h gets the current text ("" = the
 * defaults) and returns 0 with *newp (a mem string, or NULL: no change) or an error that
 * aborts the edit and is returned. h runs on the writer thread: JSON work only, no I/O,
 * no store calls. ENOENT if the instance does not exist. Blocking (durable). */
typedef int (store_rules_edit_h)(const char *old, char **newp, void *arg);
int store_instance_rules_edit(struct store *st, uint64_t sdkappid, store_rules_edit_h *h,
			      void *arg);
int store_number_put(struct store *st, const struct store_number *num);
int store_number_get(struct store *st, uint64_t sdkappid, const char *number,
		     struct store_number *out);
/* The instance's usable outbound numbers (state 1), least recently used first. */
typedef int (store_number_h)(const struct store_number *num, void *arg);
int store_numbers_outbound(struct store *st, uint64_t sdkappid, store_number_h *h, void *arg);
/* Every number of the instance (any state), in number order. */
int store_numbers_list(struct store *st, uint64_t sdkappid, store_number_h *h, void *arg);
/* Every enabled number (state 1) bound to an inbound IVR, of every instance. */
int store_numbers_inbound(struct store *st, store_number_h *h, void *arg);

/* Adds a new version of an IVR's flow document and makes it current; *versionp gets it. */
int store_ivr_put(struct store *st, uint64_t sdkappid, uint64_t ivr_id, const char *name,
		  enum store_ivr_type type, const char *document, uint32_t *versionp);
int store_ivr_get(struct store *st, uint64_t sdkappid, uint64_t ivr_id, struct store_ivr *out);
/* The IVRs of an instance by id; h gets each (a non-zero return stops the walk). */
typedef int (store_ivr_h)(const struct store_ivr *ivr, void *arg);
int store_ivrs_list(struct store *st, uint64_t sdkappid, store_ivr_h *h, void *arg);
/* The document of one version, as a NUL-terminated string owned by the caller (mem_deref). */
int store_ivr_document(struct store *st, uint64_t sdkappid, uint64_t ivr_id, uint32_t version,
		       char **docp);

/* ---- sessions ------------------------------------------------------------------ */

/* Session statuses as PSTNSession.SessionStatus. */
enum store_status {
	STORE_STATUS_RINGING = 0,
	STORE_STATUS_SEAT_JOINING,
	STORE_STATUS_IN_PROGRESS,
	STORE_STATUS_FINISHED,
};

const char *store_status_name(enum store_status s);

/* One session row. Allocated by the store (store_session_alloc / _get), released with
 * mem_deref; the strings it points to are owned by it. */
struct store_session {
	char id[33];
	uint64_t sdkappid;
	uint64_t account_id;
	int direction;          /* 0 inbound, 1 outbound */
	char caller[33];        /* normalised */
	char callee[33];        /* normalised */
	uint64_t ivr_id;
	uint32_t ivr_version;
	char *uui;              /* "" when none */
	char *variables;        /* JSON array of {"Key","Value"}; "[]" when none */
	uint32_t max_ring_s;    /* 0 = the configured default */
	char request_id[37];
	enum store_status status;
	int64_t created_ms;     /* Unix ms when the request was accepted */
	int64_t start_ts;       /* Unix s */
	int64_t ring_ts;
	int64_t accept_ts;
	int64_t dialled_ms;     /* Unix ms its first INVITE left the dial queue, 0 = not yet */
	int64_t ended_ts;
	int end_status;         /* EndStatus; meaningful once finished */
	char hungup_side[8];    /* "user", "seat", "system" or "" */
	char end_reason[64];
	char record_url[512];   /* the call recording: a file relative to the recording
				   directory ("1400000000/<id>.wav"), "" = none */
	char record_id[64];
	char *participants;     /* ServeParticipants as a JSON array; "[]" when none */
	char outbound_caller[33]; /* numbers of a transfer to an external line, "" if none */
	char outbound_callee[33];
	char *voicemail_urls;   /* JSON array of voicemail files (relative, as record_url);
				   "[]" when none */
	bool ai;                /* its flow has an AI/speech node: takes an AI channel while live */
	char *evidence;         /* the first leg's CccdEvidence, a JSON object; "{}" when none */
	uint64_t task_id;       /* an auto-callout task's attempt: its task (docs/tasks.md), */
	uint32_t task_seq;      /* and its callee; task_id 0 = not a task's */
};

int store_session_alloc(struct store_session **sp, const char *uui, const char *variables);

/* Inserts a new session and returns once it is durable (group commit). Blocks: never call
 * it from the control loop. EEXIST if the id is taken. */
int store_session_create(struct store *st, const struct store_session *s);

/* Admission with counters, atomically: inside the writer's transaction the store counts
 * what the callout rules need, asks `decide` (a pure function: no I/O, it runs on the
 * writer thread) whether the session may go ahead and with which caller, and inserts it
 * only then — so two concurrent requests for one callee can never both pass a limit.
 * Counts include every session that placed or will place a call (all statuses). */
enum { STORE_ADMIT_MAX_CALLERS = 16 };

struct store_admit_counts {
	uint32_t callee_interval;   /* sessions to the callee since callee_interval_since */
	uint32_t callee_daily;      /* ... since callee_daily_since */
	size_t n_callers;
	struct {
		uint32_t live;          /* unfinished sessions using this caller number */
		uint32_t recent;        /* sessions using it since caller_since */
	} callers[STORE_ADMIT_MAX_CALLERS];
	uint32_t ai_in_use;         /* unfinished AI sessions of the instance (when q->ai) */
	uint32_t channels_live;     /* unfinished outbound sessions of the instance */
	uint32_t seconds_today;     /* answered outbound seconds: ended since day_since, and
				     * live ones up to now */
};

/* Counts nobody will look at (their limit is off in every class) are not made: each one
 * is an index range scan inside the writer's transaction. A skipped count reads 0. */
enum {
	STORE_ADMIT_SKIP_CALLEE_INTERVAL = 1u << 0,
	STORE_ADMIT_SKIP_CALLEE_DAILY = 1u << 1,
	STORE_ADMIT_SKIP_CALLER_LIVE = 1u << 2,
	STORE_ADMIT_SKIP_CALLER_RECENT = 1u << 3,
};

struct store_admit_query {
	int64_t callee_interval_since;  /* Unix s */
	int64_t callee_daily_since;
	int64_t caller_since;
	const char *callers[STORE_ADMIT_MAX_CALLERS]; /* candidates, in preference order */
	size_t n_callers;
	unsigned skip;                  /* STORE_ADMIT_SKIP_* */
	bool ai;                        /* count the instance's live AI sessions too */
	bool channels;                  /* count its unfinished outbound sessions */
	bool minutes;                   /* sum its answered outbound seconds of the day */
	int64_t day_since;              /* Unix s: the day's start, for minutes */
	int64_t now;                    /* Unix s: where a live call's seconds end */
	unsigned rate_limit;            /* CreateIVRSession per account and second, counted
					 * here on PostgreSQL (0: none): s->account_id's
					 * sessions created after rate_since_ms */
	int64_t rate_since_ms;
};

/* Returns 0 and sets *chosen (index into the candidates) to admit, or a non-zero value
 * (the caller's own refusal code, >= STORE_ADMIT_REFUSED so it is never mistaken for an
 * errno value) to refuse; that value is what store_session_admit returns. */
enum { STORE_ADMIT_REFUSED = 1000 };
/* What store_session_admit returns when q->rate_limit sessions of the account were
 * created in the second before (never with SQLite: the API's own limiter is exact with
 * one node). */
enum { STORE_ADMIT_RATE_LIMITED = 999 };
typedef int (store_admit_h)(const struct store_admit_counts *counts, size_t *chosen, void *arg);

/* s->caller is set to the chosen candidate on admission. Blocking (durable, like create). */
int store_session_admit(struct store *st, struct store_session *s,
			const struct store_admit_query *q, store_admit_h *decide, void *arg);

/* Queues the insert of a session (an inbound call: nothing was acknowledged yet, and the
 * control loop must not wait). The writer gets its own copy of s: the caller keeps s, and
 * no reference crosses to the writer thread. Later lifecycle writes of the session are
 * applied after it. */
int store_session_create_async(struct store *st, struct store_session *s);

/* The session `id` of instance `sdkappid`; ENOENT if absent or of another instance. */
int store_session_get(struct store *st, uint64_t sdkappid, const char *id,
		      struct store_session **sp);

/* ---- session lifecycle ---------------------------------------------------------
 * Asynchronous, for the control loop: each call queues a write and returns at once; the
 * writer applies them in the order queued, retrying while the store is unusable
 * (store_usable) until they land; only a write refused for good (a bug) is logged and
 * dropped. */

/* The durable "INVITE sent" mark: the session left the dial queue and its first INVITE
 * leaves once this write has committed — the caller waits for the completion
 * (store_done_handler: the session id, 0 once committed; an errno value when it was
 * refused for good or dropped at stop; ESRCH: the session is not this node's any more,
 * another took it over) and dials only then. While the store is unusable
 * the mark is retried like any queued write, and the session waits. A session marked is
 * never dialled again, whoever resumes it (docs/architecture.md §Nodes). */
int store_session_dialled(struct store *st, const char *id, int64_t dialled_ms);

/* Completions of the writes that say so (store_session_dialled): h gets the write's id
 * and its result on the store's writer thread, holding the store's lock — it must only
 * hand them over (a queue to its loop), never call the store. NULL unregisters; once
 * this returns, the previous h is not running and will not run. One handler at a time. */
typedef void (store_done_h)(const char *id, int err, void *arg);
void store_done_handler(struct store *st, store_done_h *h, void *arg);
int store_session_ringing(struct store *st, const char *id, int64_t ring_ts);
int store_session_answered(struct store *st, const char *id, int64_t accept_ts);
/* A transfer starts or connects: the live status (seatJoining while a skill group's
 * destinations ring, inProgress otherwise) and, for an external line, its numbers (NULL
 * leaves them as they are). */
int store_session_transfer(struct store *st, const char *id, enum store_status status,
			   const char *outbound_caller, const char *outbound_callee);

/* One accepted IVR input, as IVRKeyPressedElement. */
struct store_key_press {
	char key[64];
	char label[64];
	int64_t ts_ms;
	char node_label[64];
	char original[64];
	char tts_prompt[512];
	bool post;              /* an input of a post-call survey (PostIVRKeyPressed) */
};

int store_session_key(struct store *st, const char *id, unsigned seq,
		      const struct store_key_press *kp);
int store_session_path(struct store *st, const char *id, unsigned seq, const char *node,
		       const char *label, const char *result, int64_t ts_ms);

/* The call is being recorded into record_url (relative file) with id record_id: kept at
 * once, so a session closed after a crash still names its (partial) recording. */
int store_session_record(struct store *st, const char *id, const char *record_url,
			 const char *record_id);

/* A voicemail was left: its file (relative) is appended to the session's voicemail list
 * and, in the same transaction, its push (action "voicemail", push_body; NULL = none) is
 * queued if the instance pushes voicemails. */
int store_session_voicemail(struct store *st, const char *id, uint64_t sdkappid,
			    const char *file, const char *push_body);

/* How a session ended. */
struct store_session_end {
	int64_t ended_ts;
	int end_status;           /* EndStatus */
	char hungup_side[8];      /* "user", "seat", "system" */
	char end_reason[64];      /* cccd's own words, for operators */
	char record_url[512];
	char record_id[64];
	const char *participants; /* ServeParticipants JSON array (copied), NULL = none */
	const char *evidence;     /* the first leg's CccdEvidence JSON object (copied), NULL =
				     none */
};

/* Marks the session finished (status, end time, EndStatus, HungUpSide, recording) and, in
 * the same transaction, queues its recording push (record_body, action "record"; NULL =
 * none) and then its call record push (cdr_body, a TelCdrInfo JSON object; NULL = none),
 * each if the instance pushes that data. A session already finished is left as it was and
 * nothing is pushed twice. */
int store_session_finish(struct store *st, const char *id, uint64_t sdkappid,
			 const struct store_session_end *end, const char *cdr_body,
			 const char *record_body);

/* Queues the insert of a session that ended as it began — an inbound call refused before
 * it was answered — as one write: the row, finished with `end`, and its call record push
 * (cdr_body, a TelCdrInfo JSON object; NULL = none) if the instance pushes CDRs, so the
 * record and its push appear together like those of any finished session. For the control
 * loop: returns at once. Takes over s (the caller must not use it afterwards, whatever the
 * result); s->status is ignored. */
int store_session_create_finished(struct store *st, struct store_session *s,
				  const struct store_session_end *end, const char *cdr_body);

/* The key presses of a session in order (for records): h is called per press. */
typedef int (store_key_press_h)(const struct store_key_press *kp, void *arg);
int store_session_keys(struct store *st, const char *id, store_key_press_h *h, void *arg);
/* The key presses of n sessions (a page of records) in one read, each handed with its
 * session's id, grouped by session (ids in text order), each session's in its order. */
typedef int (store_page_key_h)(const char *session_id, const struct store_key_press *kp,
			       void *arg);
int store_sessions_keys(struct store *st, const char *const *ids, size_t n,
			store_page_key_h *h, void *arg);

/* A row handed to a walker; the walker may keep it with mem_ref. */
typedef int (store_session_h)(struct store_session *s, void *arg);

/* Finished sessions of an instance whose EndedTimestamp is in [since, until], newest
 * first, optionally only those of some session ids, with a caller or callee among
 * `phones` (00-form), or whose EndStatus is among `end_statuses`. *totalp gets the count of all matches; h gets the rows of the page
 * [offset, offset + limit). */
struct store_cdr_query {
	uint64_t sdkappid;
	int64_t since, until;
	const char *const *session_ids;
	size_t n_session_ids;
	const char *const *phones;
	size_t n_phones;
	const int *end_statuses;
	size_t n_end_statuses;
	uint64_t offset, limit;
};

int store_cdr_list(struct store *st, const struct store_cdr_query *q, store_session_h *h,
		   void *arg, uint64_t *totalp);

/* Unfinished sessions of an instance, oldest first, paged like store_cdr_list. */
int store_sessions_active(struct store *st, uint64_t sdkappid, uint64_t offset,
			  uint64_t limit, store_session_h *h, void *arg, uint64_t *totalp);

/* ---- uploaded prompts (audio.c) ---------------------------------------------------
 * UploadIvrAudio's files: converted once to the prompt format, stored under the prompt
 * folder at `path`, listed by DescribeIvrAudioList and named in flows by id or alias. */
struct store_audio {
	uint64_t sdkappid;
	uint64_t file_id;          /* given by the store on insert */
	char custom_name[256];     /* the customer's alias; may repeat */
	char file_name[256];       /* the file name of its URL */
	int status;                /* AudioFileInfo.Status */
	char path[192];            /* relative to the prompt folder */
	char sha256[65];           /* of the converted audio: one instance holds it once */
	int64_t created_at;        /* Unix s */
};

/* Inserts a (file_id comes back in it); EEXIST when the instance holds the same content. */
int store_audio_add(struct store *st, struct store_audio *a);
/* How many files the instance uploaded since `since` (Unix s). */
int store_audio_count_since(struct store *st, uint64_t sdkappid, int64_t since, uint64_t *np);
/* Every file of the instance, by file_id. */
typedef int (store_audio_h)(const struct store_audio *a, void *arg);
int store_audio_list(struct store *st, uint64_t sdkappid, store_audio_h *h, void *arg);
/* ENOENT: no such file in that instance. */
int store_audio_get(struct store *st, uint64_t sdkappid, uint64_t file_id,
		    struct store_audio *a);
int store_audio_delete(struct store *st, uint64_t sdkappid, uint64_t file_id);
/* A flow's reference: by id when file_id ≠ 0, else the newest file called custom_name.
 * ENOENT: none. */
int store_audio_find(struct store *st, uint64_t sdkappid, uint64_t file_id,
		     const char *custom_name, struct store_audio *a);

/* The IVR path of an instance's session (the nodes it entered, in order), with the IVR
 * and flow version it ran: CccdDescribeSessionPath, the console's highlighted path.
 * ENOENT: no such session in that instance. */
struct store_path_step {
	unsigned seq;
	char node[64];
	char label[128];
	char result[64];
	int64_t ts_ms;
};
typedef int (store_path_h)(const struct store_path_step *p, void *arg);
int store_session_path_list(struct store *st, uint64_t sdkappid, const char *session_id,
			    uint64_t *ivr_idp, uint32_t *versionp, store_path_h *h, void *arg);

/* ---- the web console (console.c) ----------------------------------------------------
 * Console users per instance, their sessions, one-time login links and the audit log
 * (docs/console.md). Tokens are stored as their SHA-256 (hex), never as sent. Times are
 * Unix seconds except the audit's (ms). */
struct store_console_user {
	uint64_t sdkappid;
	char name[65];
	char role[16];             /* "administrator", "supervisor", "viewer" */
	char pw_hash[128];         /* Argon2id PHC text; "" = signs in by links only */
	int64_t created_at;
};

/* EEXIST: the instance has a user of that name. */
int store_console_user_add(struct store *st, const struct store_console_user *u);
/* ENOENT: no such user. */
int store_console_user_get(struct store *st, uint64_t sdkappid, const char *name,
			   struct store_console_user *u);
typedef int (store_console_user_h)(const struct store_console_user *u, void *arg);
int store_console_users_list(struct store *st, uint64_t sdkappid, store_console_user_h *h,
			     void *arg);
/* Changes a user's role (NULL: kept) and its password hash (NULL: kept; "": links
 * only); a new password also ends the user's sessions. ENOENT: no such user. */
int store_console_user_modify(struct store *st, uint64_t sdkappid, const char *name,
			      const char *role, const char *pw_hash);
/* Removes the user with its sessions and unused links; ENOENT: no such user. */
int store_console_user_delete(struct store *st, uint64_t sdkappid, const char *name);

/* A session as read for a request: joined with its user, so that a deleted user's
 * session is gone and a changed role applies at once. */
struct store_console_session {
	char token_hash[65];
	uint64_t sdkappid;
	char name[65];
	char role[16];
	char csrf[65];             /* the CSRF token, as sent in the X-CSRF-Token header */
	int64_t created_at, expires_at, last_used_at;
};

int store_console_session_add(struct store *st, const struct store_console_session *s);
/* ENOENT: no such session (or its user is gone). Expiry is the caller's to judge. */
int store_console_session_get(struct store *st, const char *token_hash,
			      struct store_console_session *s);
/* Moves last_used_at (the idle clock) to now. */
int store_console_session_touch(struct store *st, const char *token_hash, int64_t now);
int store_console_session_delete(struct store *st, const char *token_hash);

int store_console_link_add(struct store *st, const char *token_hash, uint64_t sdkappid,
			   const char *name, int64_t expires_at);
/* Redeems a link in one write: marks it used and inserts the session s (its token_hash,
 * csrf and times set by the caller; sdkappid and name come from the link, role from the
 * user). ENOENT when the link does not exist, was used, expired at `now`, or its user is
 * gone: a link signs in once. */
int store_console_link_redeem(struct store *st, const char *link_hash, int64_t now,
			      struct store_console_session *s);

struct store_console_audit {
	uint64_t id;
	uint64_t sdkappid;
	int64_t at_ms;
	char name[65];             /* the console user */
	char action[64];
	char result[64];           /* "ok" or the error code answered */
	char summary[1024];        /* the request's parameters, passwords left out */
};

int store_console_audit_add(struct store *st, const struct store_console_audit *a);
/* Newest first, `limit` entries from `offset`; *totalp gets the instance's count. */
typedef int (store_console_audit_h)(const struct store_console_audit *a, void *arg);
int store_console_audit_list(struct store *st, uint64_t sdkappid, uint64_t offset,
			     uint64_t limit, store_console_audit_h *h, void *arg,
			     uint64_t *totalp);

/* ---- usage (usage.c) ----------------------------------------------------------------- */

/* Talk minutes of the instance's calls that ended in the UTC days first_day to last_day,
 * both included (a day is Unix s / 86400), each call rounded up to whole minutes;
 * unanswered calls count none. Whole days only: read from the per-day tally. */
struct store_usage {
	int64_t in_minutes, out_minutes;
};
int store_usage_minutes(struct store *st, uint64_t sdkappid, int64_t first_day,
			int64_t last_day, struct store_usage *u);

/* The instance's unfinished inbound sessions, grouped by the number called and by
 * whether they were put through to an external line; every node's sessions (the store is
 * shared), in number order. */
struct store_inbound_live {
	char number[33];
	bool transferred;
	uint32_t count;
};
typedef int (store_inbound_h)(const struct store_inbound_live *l, void *arg);
int store_inbound_live(struct store *st, uint64_t sdkappid, store_inbound_h *h, void *arg);

/* Every session not finished yet that this node owns (conf.node_id; after a restart:
 * those to resume or close), oldest first. h gets a new reference to each row. */
typedef int (store_session_h)(struct store_session *s, void *arg);
int store_sessions_live(struct store *st, store_session_h *h, void *arg);

/* ---- nodes (docs/architecture.md §Nodes) -------------------------------------------
 * Each node has a row: its heartbeat and the lease it renews (Unix ms), its state, and
 * who took its sessions over once its lease ran out. All times are the nodes' clocks
 * (kept in step by NTP). Blocking: never from the control loop. */

enum store_node_state {
	STORE_NODE_RUNNING = 0,
	STORE_NODE_DRAINING,
	STORE_NODE_STOPPED,
	STORE_NODE_DEAD,
};

struct store_node {
	char node_id[64];
	int64_t started_ms, heartbeat_ms, lease_until_ms;
	enum store_node_state state;
	char taken_by[64];   /* the node that took its sessions over, "" = none */
};

/* At start: the node's row says running with a new lease (a row another node took over
 * keeps none of its sessions: they are that node's now), and sessions without an owner
 * (written before nodes existed) become this node's. */
int store_node_start(struct store *st, const char *node_id, int64_t now_ms, unsigned lease_ms);
/* One write renews the node's lease (running or draining). ESRCH when the row is no
 * longer this node's to renew: another node took it over (the lease had run out). */
int store_node_heartbeat(struct store *st, const char *node_id, bool draining,
			 int64_t now_ms, unsigned lease_ms);
/* At the end of a graceful stop: stopped, its lease ending now, so that a survivor takes
 * over at once whatever this node still owns. */
int store_node_stopped(struct store *st, const char *node_id, int64_t now_ms);
/* Takes over one node whose lease ran out before now_ms (running, draining or stopped,
 * and not taken yet), atomically: one claimer wins. The winner's *takenp names the node
 * it took (ENOENT: none to take), and h gets the node's unfinished sessions, now owned
 * by node_id, oldest first, after the takeover committed. A read finds whether there is
 * one first: a heartbeat that finds none writes nothing. */
int store_node_takeover(struct store *st, const char *node_id, int64_t now_ms,
			char *takenp, size_t taken_size, store_session_h *h, void *arg);
/* One node's row; ENOENT if none. */
int store_node_get(struct store *st, const char *node_id, struct store_node *out);
/* How many nodes hold a live lease at now_ms (running or draining, this one included). */
int store_nodes_live(struct store *st, int64_t now_ms, uint64_t *np);
/* The instance's live AI sessions that other nodes own (an inbound AI call counts them
 * beside its own node's: the instance's AI licences are for the whole cluster). */
int store_ai_live_elsewhere(struct store *st, uint64_t sdkappid, uint64_t *np);

/* ---- outbox: durable data pushes (push/) -------------------------------------------
 * Every push is a row written in the same transaction as the state change it reports
 * (store_outbox_add in store_int.h, inside the caller's write job) or on its own
 * (store_outbox_enqueue). The push module claims due rows, POSTs them and records each
 * result; rows are delivered per session in creation order. */

/* Per-instance push configuration. Secrets are sealed by push/ (tenant_secret_seal)
 * before they reach the store: the store never sees them in clear. */
enum store_push_auth {
	STORE_PUSH_AUTH_NONE = 0,
	STORE_PUSH_AUTH_BASIC = 1,   /* user + password */
	STORE_PUSH_AUTH_OAUTH2 = 2,  /* token URL + client id + client secret */
};

/* Which data an instance pushes (bits). */
enum {
	STORE_PUSH_CDR = 1u << 0,
	STORE_PUSH_RECORD = 1u << 1,
	STORE_PUSH_VOICEMAIL = 1u << 2,
	STORE_PUSH_EVENT = 1u << 3,   /* cccd extension: real-time session events */
};

enum { STORE_PUSH_MAX_RETRIES = 10 };

struct store_push_conf {
	uint64_t sdkappid;
	bool enabled;                /* the instance's Data Push switch */
	char url[1024];
	enum store_push_auth auth;
	char user[256];              /* basic: user name; oauth2: client id */
	char token_url[1024];        /* oauth2 */
	uint8_t secret_enc[320];     /* basic: password; oauth2: client secret (sealed) */
	size_t secret_enc_len;
	unsigned events;             /* STORE_PUSH_* */
	/* Delays before each retry in ms; n_retry 0 = the daemon's default schedule. */
	uint32_t retry_ms[STORE_PUSH_MAX_RETRIES];
	unsigned n_retry;
	uint32_t event_retry_ms[STORE_PUSH_MAX_RETRIES]; /* for action "event" */
	unsigned n_event_retry;
	bool retry_set, event_retry_set;  /* false: use the daemon's default */
	uint32_t timeout_ms;         /* per request; 0 = the daemon's default */
};

/* ENOENT if the instance does not exist. Blocking (durable). */
int store_push_conf_put(struct store *st, const struct store_push_conf *pc);
/* ENOENT when the instance has no push configuration. */
int store_push_conf_get(struct store *st, uint64_t sdkappid, struct store_push_conf *out);
int store_push_conf_delete(struct store *st, uint64_t sdkappid);

enum store_outbox_state {
	STORE_OUTBOX_PENDING = 0,
	STORE_OUTBOX_DELIVERED = 1,
	STORE_OUTBOX_DEAD = 2,
};

const char *store_outbox_state_name(enum store_outbox_state s);
/* "pending", "delivered", "dead" → the state; EINVAL otherwise. */
int store_outbox_state_parse(const char *name, enum store_outbox_state *sp);

/* One outbox row as claim and list hand it out: a mem object owned by the store (a
 * handler that keeps it takes mem_ref); it owns body. */
struct store_outbox_row {
	uint64_t seq;              /* creation order */
	char id[37];               /* the push id (X-TCCC-PUSH-UUID), stable for ever */
	uint64_t sdkappid;
	char session_id[65];
	char action[16];
	char *body;
	enum store_outbox_state state;
	unsigned attempts;         /* failed or successful attempts so far */
	unsigned replays;          /* times an operator re-queued it */
	int64_t next_ms;           /* Unix ms of the next attempt (pending rows) */
	int64_t created_ms;
	int64_t done_ms;           /* when it was delivered or declared dead */
	char last_error[256];
};

/* The standalone form of store_outbox_add (recording and voicemail pushes): one durable
 * write, blocking. idp (37 bytes, may be NULL) gets the push id, or "" when the instance
 * does not push that action (0 returned, nothing written). */
int store_outbox_enqueue(struct store *st, uint64_t sdkappid, const char *session_id,
			 const char *action, const char *body, char *idp);

typedef int (store_outbox_h)(struct store_outbox_row *row, void *arg);

/* The instances that have pending rows due by now_ms, in sdkappid order (their rows may
 * still wait behind a row in flight of their session). A read; cheap (an index). */
typedef int (store_outbox_inst_h)(uint64_t sdkappid, void *arg);
int store_outbox_due_instances(struct store *st, int64_t now_ms, store_outbox_inst_h *h,
			       void *arg);

/* How many rows one instance may take in a claim. */
struct store_outbox_room {
	uint64_t sdkappid;
	unsigned room;
};

/* Claims due rows of the instances in rooms — for each session only its oldest pending
 * row, and only once it is due — at most max in all and rooms[i].room of instance i,
 * shared evenly when they want more than max (the instances listed first get the odd
 * ones), and leases them for lease_ms so they are not claimed again while in flight,
 * in the name of conf.node_id. h gets each claimed row once the leases are durable.
 * Blocking. Several nodes may claim at once: on PostgreSQL the rows one is claiming are
 * skipped by the others (FOR UPDATE SKIP LOCKED), and a row whose lease ran out (its
 * node died) is claimable again, with the same id (the receiver's dedupe key). */
int store_outbox_claim(struct store *st, int64_t now_ms, int64_t lease_ms, unsigned max,
		       const struct store_outbox_room *rooms, size_t n_rooms,
		       store_outbox_h *h, void *arg);

/* Drops this node's leases (conf.node_id's, and those taken before claims named a
 * node), so rows its previous process claimed are due again at once. At start. Other
 * nodes' leases stay. Blocking. */
int store_outbox_unlease(struct store *st);

/* Drops the leases of one claim of this node: the rows leased until lease_until_ms
 * (the claim's now_ms + lease_ms). For a claim whose write failed without saying whether
 * it committed (the connection died with the COMMIT on its way: a server crash, a
 * failover): if it did, its rows would wait out the whole lease, handed to nobody.
 * Blocking. */
int store_outbox_unclaim(struct store *st, int64_t lease_until_ms);

/* ---- commands for the node that holds a call (command.c) ------------------------------
 * With several nodes, an action for a call another node may hold (HangUpCall) is written
 * as a command row; every node reads the open ones others wrote, and the one holding the
 * call runs it and marks it done. */
struct store_command {
	int64_t id;
	uint64_t sdkappid;
	char session_id[65];
	char kind[16];              /* "hangup" */
};
typedef int (store_command_h)(const struct store_command *cmd, void *arg);

/* Writes a command (durable) and notifies the listeners at commit: PostgreSQL. On SQLite
 * (one node, the caller's) nothing is written: 0. */
int store_command_add(struct store *st, uint64_t sdkappid, const char *session_id,
		      const char *kind);
/* Open commands of the last 10 s that other nodes wrote, with ids above after_id, oldest
 * first. A read. */
int store_commands_open(struct store *st, int64_t after_id, store_command_h *h, void *arg);
/* Marks a command run by this node (queued, not waited for). */
int store_command_done(struct store *st, int64_t id);

/* A connection of its own that hears of new commands (PostgreSQL's LISTEN); ENOTSUP on
 * SQLite (one node). store_listener_wait blocks up to timeout_ms: 0 when told of new
 * commands, ETIMEDOUT otherwise (a lost connection too: it is made again). For a thread
 * of its own, never the control loop. mem_deref closes it. */
struct store_listener;
int store_listener_open(struct store *st, struct store_listener **lp);
int store_listener_wait(struct store_listener *l, int timeout_ms);
/* Rows still pending (not delivered, not dead) and the created_ms (Unix ms) of the oldest,
 * 0 when none: for /metrics. A read; blocks (the push thread calls it). */
int store_outbox_pending(struct store *st, uint64_t *np, int64_t *oldest_ms);

/* The outcome of one attempt. */
struct store_outbox_result {
	uint64_t seq;
	enum store_outbox_state state;  /* delivered, dead, or pending (retry at next_ms) */
	bool attempted;                 /* false: not sent at all (shutdown), attempts kept */
	int64_t next_ms;
	int64_t now_ms;
	char error[256];                /* "" on success */
};

/* Records n results in one transaction and releases their leases. Blocking. */
int store_outbox_results(struct store *st, const struct store_outbox_result *r, size_t n);

/* A selection of rows for the operator: every set field must match. */
struct store_outbox_filter {
	uint64_t sdkappid;          /* 0: any */
	const char *id;             /* NULL: any */
	const char *session_id;
	const char *action;
	int state;                  /* enum store_outbox_state, or -1: any */
	int64_t since_ms, until_ms; /* created_ms in [since, until); 0: open */
	unsigned limit;             /* list only; 0: no limit */
};

/* Matching rows, oldest first. */
int store_outbox_list(struct store *st, const struct store_outbox_filter *f,
		      store_outbox_h *h, void *arg);
/* Re-queues matching rows (any state) to be sent again at once, keeping their push ids:
 * state pending, attempts 0, replays + 1. *countp gets how many. Blocking. */
int store_outbox_resend(struct store *st, const struct store_outbox_filter *f,
			unsigned *countp);
/* Deletes delivered and dead rows finished before before_ms. Blocking. */
int store_outbox_purge(struct store *st, int64_t before_ms, unsigned *countp);

/* h runs on the store's writer thread, holding the store's lock, after each batch that
 * added outbox rows: it must only signal (never call the store). NULL unregisters; once
 * this returns, the previous h is not running and will not run. One watcher at a time. */
typedef void (store_outbox_watch_h)(void *arg);
void store_outbox_watch(struct store *st, store_outbox_watch_h *h, void *arg);

/* ---- SIP traces (sip_trace.c) ----------------------------------------------------- */

/* One SIP message of a session's call. text: a mem string when the store hands it out. */
struct store_sip_msg {
	bool tx;                /* sent by cccd */
	int64_t ts_us;          /* Unix microseconds */
	char src[64], dst[64];  /* "ip:port" */
	char *text;
};

/* Queues the messages of one dialog (call_id) of a session: one write, never waiting (the
 * control loop). The texts are copied. */
int store_sip_trace_add(struct store *st, const char *session_id, uint64_t sdkappid,
			const char *call_id, const struct store_sip_msg *msgs, size_t n);
/* The session's messages, in time order, when it is the instance's; none (0 calls of h)
 * for another instance's. m->text is valid during the call only. Blocking (a read). */
typedef int (store_sip_msg_h)(const char *call_id, const struct store_sip_msg *m, void *arg);
int store_sip_trace_get(struct store *st, uint64_t sdkappid, const char *session_id,
			store_sip_msg_h *h, void *arg);
/* Deletes the messages written before before_ms; blocking (a write), for the retention
 * thread. */
int store_sip_trace_purge(struct store *st, int64_t before_ms, unsigned *countp);

/* ---- data over time: retention, erasure, backups (erase.c, backup.c) ---------------- */

/* What a retention or erasure batch deleted: sessions (with their variables, evidence and
 * transfer legs, columns of the session row), key presses, IVR path steps, SIP messages,
 * pushes (outbox rows: delivered, dead, and for an erasure pending ones too). */
struct store_erased {
	uint64_t sessions, key_presses, path_steps, sip_messages, pushes;
};

/* A deleted session's recording files, as stored (relative to recording_dir): the call's
 * ("" = none) and the voicemails' (a JSON array of file names). */
struct store_erased_session {
	char id[33];
	char record_file[256];
	char *voicemail_files;
};
typedef void (store_erased_h)(uint64_t sdkappid, const struct store_erased_session *s,
			      void *arg);

/* Each instance with its own retention in days (-1 = the [records] retention_days default,
 * 0 = kept for ever), in sdkappid order. */
typedef int (store_retention_h)(uint64_t sdkappid, int32_t retention_days, void *arg);
int store_instances_retention(struct store *st, store_retention_h *h, void *arg);

/* One batch of retention: deletes at most max (1..1000) finished sessions of the instance
 * that ended before ended_before_s (Unix s) and have no push still pending, with all their
 * rows, in one write; *out gets the counts (out->sessions < max: nothing more is due), and
 * after the commit h (may be NULL) gets each deleted session's files. Unfinished sessions
 * are never touched. Blocking (a durable write). */
int store_sessions_expire(struct store *st, uint64_t sdkappid, int64_t ended_before_s,
			  unsigned max, struct store_erased *out, store_erased_h *h, void *arg);

/* One batch of erasure: the same for at most max finished sessions of the instance where
 * `number` (normalised, as stored) is caller or callee, pending pushes included.
 * EINPROGRESS, and nothing deleted, while a session of that number is unfinished or ended
 * less than 30 s ago (its SIP messages are still to be written). Called until
 * out->sessions < max. Blocking (a durable write). */
int store_number_erase(struct store *st, uint64_t sdkappid, const char *number, unsigned max,
		       struct store_erased *out, store_erased_h *h, void *arg);

/* An online copy of the SQLite database of sc into the new file `out` (EEXIST if it
 * exists), through SQLite's backup API on a read transaction of its own: the copy is the
 * database as it was when the backup began, and a cccd writing meanwhile is never blocked
 * (WAL: readers and the writer do not wait for each other). Copies `pages_per_step` pages
 * at a time (0 = 256), pausing between steps. ENOTSUP for PostgreSQL (pg_dump: see
 * docs/operations.md). Blocking; for the command-line tool. */
int store_backup(const struct store_conf *sc, const char *out, unsigned pages_per_step);

/* PRAGMA integrity_check of the SQLite database at path: 0 when it answers "ok", EBADMSG
 * (the first finding in why) when it does not, or an errno value. */
int store_integrity_check(const char *path, char *why, size_t whysz);

#endif
