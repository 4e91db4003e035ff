/* store internals shared by the store's files: connections, the writer queue, statements. */
#ifndef CCCD_STORE_INT_H
#define CCCD_STORE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <re.h>
#include "store/store.h"

/* A connection of the store: the writer's, or one of the read pool's. */
struct store_conn {
	struct le le;
	struct db_conn *db;
	bool outbox_added;   /* writer: a job of this batch added outbox rows (outbox.c) */
	bool keys_locked;    /* writer: a job of this batch took counter key locks (session.c) */
	uint64_t round_trips; /* reader: db_round_trips when it was last counted (metrics) */
	char node_id[64];    /* the node's id ([cluster] node_id): the owner of the sessions
				it inserts */
};

/* One unit of work for the writer thread, run inside the batch transaction under its own
 * savepoint: fn returns 0 to keep its changes or an errno to roll them back. */
typedef int (store_write_fn)(struct store_conn *c, void *arg);

struct store {
	struct store_conf conf;
	struct store_conn *writer;      /* used by the writer thread only */
	pthread_t thread;
	bool thread_running;
	pthread_mutex_t lock;           /* guards everything below */
	pthread_cond_t work;            /* writer: jobs queued or stopping */
	pthread_cond_t done;            /* waiters: some batch finished */
	struct list queue;              /* pending struct store_job, in order */
	bool stopping;
	/* Queued writes failed for a reason that passes (disk full, locked, I/O error) and
	 * wait at the head of the queue for their retry: durable writes are refused until
	 * they land. Written under lock, read anywhere (store_usable). */
	atomic_bool unusable;
	int fail_err;                   /* why (an errno value), while unusable */
	uint64_t fail_since_ms;         /* monotonic ms when it became unusable */
	unsigned retry_ms;              /* the pause before the next retry */
	/* Readers have their own lock: every API request takes and returns a connection, and
	 * sharing the writer's lock made them queue behind commits. */
	pthread_mutex_t pool_lock;      /* guards readers */
	struct list readers;            /* idle read connections */
	uint64_t batches, jobs;         /* counters for bench and logs */
	uint64_t round_trips;           /* the writer's, to the server (db_round_trips) */
	store_outbox_watch_h *outbox_watch; /* told after a batch that added outbox rows */
	void *outbox_watch_arg;
	store_done_h *done_h;           /* told when a job queued with a completion ends */
	void *done_arg;
};

int store_conn_open(struct store_conn **cp, const struct store_conf *sc, bool readonly);
/* A cached prepared statement, reset and with its bindings cleared; NULL on error. */
struct db_stmt *store_stmt(struct store_conn *c, const char *sql);

int store_reader_get(struct store *st, struct store_conn **cp);
void store_reader_put(struct store *st, struct store_conn *c);

/* A read on a pooled connection: the cached statement `sql`, bound by bind(s, barg) when
 * bind is not NULL, each row handed to row(s, rarg) until it returns non-zero (that value is
 * returned). With `one`, only the first row is read and no row at all is ENOENT. */
typedef void (store_bind_h)(struct db_stmt *s, const void *arg);
typedef int (store_row_h)(struct db_stmt *s, void *arg);
int store_read(struct store *st, const char *sql, store_bind_h *bind, const void *barg,
	       store_row_h *row, void *rarg, bool one);

/* Runs fn in the writer's next batch and waits until the batch is durable. */
int store_write(struct store *st, store_write_fn *fn, void *arg);

/* Brings the schema to this build's version; with keep_schema only a new, empty database
 * is set up, and an older schema is EPROTO. */
int store_schema_migrate(struct store_conn *c, bool keep_schema);

/* One backend's schema (schema_sqlite.c, schema_pg.c): its migrations, in order — a
 * migration is appended, never edited once released, and every change of the store's
 * layout is one migration in each list — and how that backend keeps their count.
 * schema.c drives them. */
struct store_schema {
	const char *const *migrations;
	int n;
	/* The number of migrations applied, 0 for a new, empty database. Called outside a
	 * transaction (the fast path of every start) and again inside `begin`'s. */
	int (*version)(struct db_conn *c, int *versionp);
	/* Starts one migration's transaction holding the lock that lets one process
	 * migrate at a time (db_exec text). */
	const char *begin;
	/* Records, inside that transaction, that `version` migrations are applied. */
	int (*version_set)(struct db_conn *c, int version);
};

extern const struct store_schema store_schema_sqlite, store_schema_pg;

/* Adds a push to the outbox inside the caller's own write job, so that it commits (or
 * rolls back) with the state change it reports. action is "cdr", "record", "voicemail" or
 * "event"; body is the JSON object sent. An instance without push configuration, with
 * push disabled or with that event off gets no row: 0 and nothing written. EINVAL for a
 * bad argument. Writer thread only (c is the writer's connection). */
int store_outbox_add(struct store_conn *c, uint64_t sdkappid, const char *session_id,
		     const char *action, const char *body);

/* store_usage_minutes' read, bound (instance, first day, last day): here for
 * tests/unit/test_store_plan.c, which holds it to the tally's primary key. */
#define STORE_USAGE_SQL "SELECT direction, CAST(SUM(minutes) AS BIGINT) FROM call_days " \
	"WHERE sdkappid = ? AND day BETWEEN ? AND ? GROUP BY direction"

/* Adds the session just finished (status 3, its row updated in this job) to its day's
 * tally of calls and minutes (call_days, usage.c), in the caller's write job so that the
 * tally commits with the end it counts. Writer thread only. */
int store_usage_tally(struct store_conn *c, const char *session_id);

/* Queues fn for the writer's next batch and returns at once; `arg` must be a mem object,
 * owned by the job from here (the caller keeps no reference: the writer thread releases
 * it, and libre's reference counts are not atomic) and released once the job has
 * committed. A job that fails for a reason that passes (store_err_transient) is run again,
 * in queue order, until it lands; one that fails for good is logged and dropped. So fn
 * must be repeatable: it may run several times, each time in a new transaction. For the
 * control loop, which must never wait for the disk. Jobs run in the order queued. */
int store_write_async(struct store *st, store_write_fn *fn, void *arg);

/* As store_write_async, and once the job has committed (err 0) or was refused for good
 * (or dropped at stop), the store's completion handler (store_done_handler) gets `id`
 * and the result, on the writer thread. */
int store_write_async_done(struct store *st, store_write_fn *fn, void *arg, const char *id);

/* Whether a write that failed with err may succeed later unchanged: EBUSY (locked by
 * another process past the busy timeout), ENOSPC (disk full), EIO (I/O error, corruption
 * an operator repairs), ENOMEM, EACCES (read-only file or directory). Anything else — a
 * constraint (EEXIST: a duplicate or a bug), a job's own refusal, a bad argument — fails
 * the same way every time. */
bool store_err_transient(int err);

/* The session row's columns, in the order session rows are read. */
#define SESSION_COLUMNS "id, sdkappid, account_id, direction, caller, callee, ivr_id, " \
	"ivr_version, uui, variables, max_ring_s, request_id, status, created_ms, start_ts, " \
	"ring_ts, accept_ts, ended_ts, end_status, hungup_side, end_reason, record_url, " \
	"record_id, participants, outbound_caller, outbound_callee, voicemail_urls, ai, " \
	"evidence, dialled_ms"

/* Hands every row of a statement selecting SESSION_COLUMNS to h, in order (h borrows
 * each: mem_ref to keep it); stops at h's first non-zero return, which is returned. */
int store_session_rows(struct db_stmt *q, store_session_h *h, void *arg);

/* DescribeTelCdr's listing (store_cdr_list) as its two statements — the count of the
 * matches and the page — and their parameters, for the tests of their plans
 * (tests/unit/test_store_plan.c). *countp and *pagep are the caller's to mem_deref. */
int store_cdr_sql(const struct store_cdr_query *q, char **countp, char **pagep);
void store_list_bind(struct db_stmt *stmt, const struct store_cdr_query *q, bool page);

/* The auto-callout scheduler's statements that read task_callees per tick or per attempt
 * (task.c), the i-th of them for backend, NULL past the last: for the tests of their
 * plans (tests/unit/test_store_plan.c), which bind every parameter as an integer. */
const char *store_task_sched_sql(enum db_backend backend, size_t i);

/* Auto-callout tasks (task.c), inside the session writes of session.c: a task's attempt
 * was inserted (its SessionId joins its callee's Sessions), and a session finished (if it
 * was a task's attempt, its callee becomes answered, not answered, or waiting to retry by
 * the task's Tries, RetryInterval and retryable EndStatus codes; a trunk's 401/403/407
 * pauses the task and gives the try back). */
struct store_session;
int store_task_session_added(struct store_conn *c, const struct store_session *s);
int store_task_session_finished(struct store_conn *c, const char *session_id, int end_status,
				const char *reason, int64_t ended_ts);

/* Copies a text column into a fixed buffer (always NUL-terminated, "" for NULL). */
void store_col_text(struct db_stmt *s, int col, char *buf, size_t sz);
/* A text column as a new mem string ("" for NULL); NULL only on ENOMEM. */
char *store_col_dup(struct db_stmt *s, int col);

/* One row of a statement whose bindings are made: 0 with the row there to read (the
 * caller then calls db_reset), ENOENT for none, or an errno value. */
int store_step_row(struct db_stmt *s);

#endif
