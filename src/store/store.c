/* store: connections, the group-commit writer thread and the read-connection pool.
 *
 * Why one writer: SQLite allows one writer at a time anyway, and funnelling every write
 * through one thread lets it commit a whole queue of callers' work in one transaction —
 * one fsync for many acknowledged sessions (group commit). Each job runs under its own
 * savepoint, so a job refused for good (a constraint, its own refusal) rolls back alone
 * and the rest of the batch commits. Callers block on a condition variable until their
 * batch is durable; the API threads may block, the control loop never calls these
 * functions.
 *
 * Why failed writes are retried: the control loop's writes (a session's lifecycle, its
 * keys, its final record and push) are queued, not waited for, so nobody could retry them
 * but the writer. A batch that fails for a reason that passes (disk full, the database
 * locked by another process past the busy timeout, an I/O error, a savepoint or commit
 * that fails) is rolled back whole; its queued jobs go back to the head of the queue, in
 * order, and are run again after a pause that doubles up to RETRY_MAX_MS, until they
 * land. Rolling back the whole batch, rather than keeping the jobs that passed, keeps the
 * queue's order: a later write of a session never commits before an earlier one. Waiting
 * callers (durable writes) get the error at once, never a retry: they answer their client
 * (InternalError.DBError) within the busy timeout. While queued jobs wait, the store is
 * unusable (store_usable): durable writes fail without queueing, and cccd refuses new work
 * until the queue lands. One log line when that starts, one when it ends. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "base/base.h"
#include "metrics/metrics.h"
#include "conf/conf.h"
#include "store/store_int.h"

enum {
	RETRY_FIRST_MS = 100,    /* pause before the first retry of a failed batch */
	RETRY_MAX_MS = 2000,     /* the pause doubles up to this: a store back is used soon */
	BUSY_TIMEOUT_MS = 10000, /* default [store] busy_timeout_ms */
};

struct store_job {
	struct le le;
	store_write_fn *fn;
	void *arg;
	int result;
	bool done;
	bool async;  /* heap job: the writer frees it and its arg (a mem object) */
	bool notify; /* tell the completion handler (store_write_async_done) */
	char id[33]; /* what the completion names */
};

bool store_err_transient(int err)
{
	switch (err) {
	case EBUSY:
	case ENOSPC:
	case EIO:
	case ENOMEM:
	case EACCES:
		return true;
	default:
		return false;
	}
}

/* Whether a libpq connection string carries a password: a `password` keyword (key=value
 * form, or a URI's query parameter) or a URI's user:password@. */
static bool dsn_has_password(const char *dsn)
{
	const char *p, *at, *start;

	for (p = dsn; (p = strcasestr(p, "password")); p += 8) {
		const char *q = p + 8;

		while (*q == ' ' || *q == '\t')
			q++;
		if (*q == '=')
			return true;
	}
	if (strncmp(dsn, "postgresql://", 13) && strncmp(dsn, "postgres://", 11))
		return false;
	start = strstr(dsn, "://") + 3;
	at = strpbrk(start, "@/?");
	if (!at || *at != '@')
		return false;
	p = memchr(start, ':', (size_t)(at - start));
	return p != NULL;
}

/* [store] backend, dsn and password_file. The password is never in the configuration
 * (which is logged, copied and shown): libpq reads it from password_file (db_open), or
 * from PGPASSWORD or its passfile. */
static int backend_read(const struct conf_section *sec, struct store_conf *sc,
			struct conf_err *err)
{
	static const char *const backends[] = {"sqlite", "postgresql", NULL};
	const char *dsn, *pwfile;
	int backend, rc;

	rc = conf_choice(sec, "backend", "sqlite", backends, &backend, err);
	rc = rc ? rc : conf_str(sec, "dsn", "", &dsn, err);
	rc = rc ? rc : conf_str(sec, "password_file", "", &pwfile, err);
	if (rc)
		return rc;
	sc->backend = backend == 1 ? DB_POSTGRESQL : DB_SQLITE;
	if (sc->backend == DB_SQLITE) {
		if (*dsn || *pwfile) {
			conf_err_set(err, conf_key_line(sec, *dsn ? "dsn" : "password_file"),
				     "'%s' is for backend = postgresql (backend is sqlite)",
				     *dsn ? "dsn" : "password_file");
			return EINVAL;
		}
		return 0;
	}
	if (!*dsn) {
		conf_err_set(err, conf_key_line(sec, "backend"), "backend = postgresql needs "
			     "'dsn', a libpq connection string (host=... dbname=... user=...)");
		return EINVAL;
	}
	if (strlen(dsn) >= sizeof(sc->dsn)) {
		conf_err_set(err, conf_key_line(sec, "dsn"), "'dsn' is longer than %zu "
			     "characters", sizeof(sc->dsn) - 1);
		return EINVAL;
	}
	if (dsn_has_password(dsn)) {
		conf_err_set(err, conf_key_line(sec, "dsn"), "'dsn' holds a password: put it "
			     "in a file named by 'password_file' (or in PGPASSWORD), never in the "
			     "configuration");
		return EINVAL;
	}
	if (strlen(pwfile) >= sizeof(sc->password_file)) {
		conf_err_set(err, conf_key_line(sec, "password_file"), "'password_file' is "
			     "longer than %zu characters", sizeof(sc->password_file) - 1);
		return EINVAL;
	}
	strcpy(sc->dsn, dsn);
	strcpy(sc->password_file, pwfile);
	return 0;
}

int store_conf_read(const struct conf *cf, struct store_conf *sc, struct conf_err *err)
{
	static const char *const syncs[] = {"normal", "full", NULL};
	const struct conf_section *sec = conf_section_first(cf, "store");
	const char *path, *key;
	uint64_t batch, busy;
	int sync, rc;

	memset(sc, 0, sizeof(*sc));
	rc = conf_str(sec, "path", "var/cccd.db", &path, err);
	rc = rc ? rc : conf_str(sec, "master_key_file", "", &key, err);
	rc = rc ? rc : conf_uint(sec, "batch_max", 512, 1, 100000, &batch, err);
	rc = rc ? rc : conf_choice(sec, "synchronous", "full", syncs, &sync, err);
	rc = rc ? rc : conf_uint(sec, "busy_timeout_ms", BUSY_TIMEOUT_MS, 10, 600000, &busy, err);
	rc = rc ? rc : backend_read(sec, sc, err);
	if (rc)
		return rc;
	if (!*path || strlen(path) >= sizeof(sc->path)) {
		conf_err_set(err, conf_key_line(sec, "path"), "'path' must be a file path "
			     "shorter than %zu characters", sizeof(sc->path));
		return EINVAL;
	}
	strcpy(sc->path, path);
	if (*key) {
		if (strlen(key) >= sizeof(sc->master_key_path)) {
			conf_err_set(err, conf_key_line(sec, "master_key_file"),
				     "'master_key_file' is too long");
			return EINVAL;
		}
		strcpy(sc->master_key_path, key);
	}
	else if (snprintf(sc->master_key_path, sizeof(sc->master_key_path), "%s.key",
			  sc->path) >= (int)sizeof(sc->master_key_path)) {
		conf_err_set(err, conf_key_line(sec, "path"), "'path' is too long");
		return EINVAL;
	}
	sc->batch_max = (unsigned)batch;
	sc->synchronous_full = sync == 1;
	sc->busy_timeout_ms = (unsigned)busy;
	return 0;
}

static void conn_destructor(void *arg)
{
	struct store_conn *c = arg;

	mem_deref(c->db);
}

int store_conn_open(struct store_conn **cp, const struct store_conf *sc, bool readonly)
{
	struct store_conn *c = mem_zalloc(sizeof(*c), conn_destructor);
	int err;

	if (!c)
		return ENOMEM;
	snprintf(c->node_id, sizeof(c->node_id), "%s", sc->node_id);
	err = db_open(&c->db, sc, readonly);
	if (err) {
		mem_deref(c);
		return err;
	}
	*cp = c;
	return 0;
}

struct db_stmt *store_stmt(struct store_conn *c, const char *sql)
{
	return db_stmt(c->db, sql);
}

void store_col_text(struct db_stmt *s, int col, char *buf, size_t sz)
{
	snprintf(buf, sz, "%s", db_col_text(s, col));
}

char *store_col_dup(struct db_stmt *s, int col)
{
	char *d = NULL;

	if (str_dup(&d, db_col_text(s, col)))
		return NULL;
	return d;
}

int store_step_row(struct db_stmt *s)
{
	int rc = db_step(s);

	if (rc == DB_ROW)
		return 0;
	return rc == DB_DONE ? ENOENT : rc;
}

/* The calling thread's snapshot (store_snapshot_begin), if any. Its read transaction
 * begins at its first read (snap_pending until then), so that a request that reads
 * nothing after its own write — CreateIVRSession — pays no BEGIN and no ROLLBACK for a
 * snapshot it would not use: two round trips on PostgreSQL. */
static __thread struct store *snap_st;
static __thread struct store_conn *snap_conn;
static __thread bool snap_pending;

static int read_begin(struct store_conn *c);
static void read_end(struct store_conn *c);

int store_reader_get(struct store *st, struct store_conn **cp)
{
	struct store_conn *c = NULL;

	if (snap_st == st && snap_pending && read_begin(snap_conn)) {
		/* Reads go back to the pool: still correct, one transaction each. */
		c = snap_conn;
		snap_st = NULL;
		snap_conn = NULL;
		snap_pending = false;
		store_reader_put(st, c);
		c = NULL;
	}
	if (snap_st == st) {
		snap_pending = false;
		*cp = snap_conn;
		return 0;
	}
	pthread_mutex_lock(&st->pool_lock);
	if (st->readers.head) {
		c = st->readers.head->data;
		list_unlink(&c->le);
	}
	pthread_mutex_unlock(&st->pool_lock);
	if (c) {
		*cp = c;
		return 0;
	}
	return store_conn_open(cp, &st->conf, true);
}

/* Ends c's read transaction: one left open would pin the WAL (SQLite) or hold a snapshot
 * and a backend's transaction slot (PostgreSQL). */
static void read_end(struct store_conn *c)
{
	struct db_stmt *s;

	if (!db_in_txn(c->db))
		return;
	s = store_stmt(c, "ROLLBACK");
	if (!s || db_step(s) != DB_DONE)
		db_exec(c->db, "ROLLBACK");
}

void store_reader_put(struct store *st, struct store_conn *c)
{
	uint64_t rt;

	if (snap_st == st && c == snap_conn)
		return; /* the snapshot keeps it until store_snapshot_end */
	read_end(c);
	rt = db_round_trips(c->db);
	if (rt != c->round_trips)
		metrics_store_read_round_trips(rt - c->round_trips);
	c->round_trips = rt;
	pthread_mutex_lock(&st->pool_lock);
	list_append(&st->readers, &c->le, c);
	pthread_mutex_unlock(&st->pool_lock);
}

/* Starts a read transaction on c that sees one state of the database; 0 or an errno
 * value. SQLite: a deferred BEGIN, whose first read fixes the WAL snapshot. PostgreSQL's
 * default isolation (read committed) takes a new snapshot per statement: repeatable read
 * keeps one for the whole transaction. */
static int read_begin(struct store_conn *c)
{
	struct db_stmt *s = store_stmt(c, db_backend(c->db) == DB_SQLITE ? "BEGIN" :
				       "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
	int rc = s ? db_step(s) : EIO;

	return rc == DB_DONE ? 0 : (rc > 0 ? rc : EIO);
}

/* After this thread's own durable write: the snapshot moves past it, so that the thread
 * reads what it wrote — from its next read on, which begins a new one. */
static void snapshot_refresh(struct store *st)
{
	if (snap_st != st || !db_in_txn(snap_conn->db))
		return;
	read_end(snap_conn);
	snap_pending = true;
}

int store_snapshot_begin(struct store *st)
{
	struct store_conn *c;
	int err;

	if (!st)
		return EINVAL;
	if (snap_st)
		return EALREADY;
	err = store_reader_get(st, &c);
	if (err)
		return err;
	snap_st = st;
	snap_conn = c;
	snap_pending = true;
	return 0;
}

void store_snapshot_end(struct store *st)
{
	struct store_conn *c = snap_conn;

	if (!st || snap_st != st)
		return;
	snap_st = NULL;
	snap_conn = NULL;
	snap_pending = false;
	store_reader_put(st, c); /* ends the read transaction */
}

int store_read(struct store *st, const char *sql, store_bind_h *bind, const void *barg,
	       store_row_h *row, void *rarg, bool one)
{
	struct store_conn *c;
	struct db_stmt *s;
	int err = store_reader_get(st, &c), rc;

	if (err)
		return err;
	s = store_stmt(c, sql);
	if (!s) {
		err = EIO;
		goto out;
	}
	if (bind)
		bind(s, barg);
	while ((rc = db_step(s)) == DB_ROW) {
		err = row(s, rarg);
		if (err || one)
			break;
	}
	if (!err && one && rc == DB_DONE)
		err = ENOENT;
	else if (!err && rc != DB_ROW && rc != DB_DONE)
		err = rc;
	db_reset(s);
out:
	store_reader_put(st, c);
	return err;
}

/* Runs the batch in one transaction, each job under its own savepoint. Returns 0 when the
 * transaction committed — jobs refused for good (job->result) rolled back alone — or the
 * error that failed the batch as a whole, with nothing of it committed: BEGIN, a
 * savepoint's SAVEPOINT / ROLLBACK TO / RELEASE, COMMIT, or a job's error that may pass
 * (store_err_transient: it would fail the same way in every job after it, and keeping the
 * jobs before it would let later writes overtake it). */
static int batch_run(struct store *st, struct list *batch)
{
	struct db_conn *db = st->writer->db;
	/* SQLite: IMMEDIATE takes the write lock now, so that a lock another process holds
	 * fails the BEGIN (busy timeout) rather than a job's statement. PostgreSQL locks
	 * rows as they are written. */
	int err = db_exec(db, db_backend(db) == DB_SQLITE ? "BEGIN IMMEDIATE" : "BEGIN");

	st->writer->keys_locked = false;
	for (struct le *le = batch->head; le && !err; le = le->next) {
		struct store_job *job = le->data;

		err = db_exec(db, "SAVEPOINT job");
		if (err)
			break;
		job->result = job->fn(st->writer, job->arg);
		if (job->result && store_err_transient(job->result))
			err = job->result;
		else if (!db_in_txn(db))
			err = EIO; /* the engine ended the transaction itself (an I/O error, a
				      full disk inside a statement that reported something else) */
		else if (job->result)
			err = db_exec(db, "ROLLBACK TO job");
		if (!err)
			err = db_exec(db, "RELEASE job");
	}
	if (!err)
		err = db_exec(db, "COMMIT");
	if (err && db_in_txn(db))
		db_exec(db, "ROLLBACK");
	return err;
}

/* A job queued with a completion ended (committed, refused for good, or dropped at stop):
 * its handler hears it. Under st->lock, so that store_done_handler(st, NULL, NULL)
 * returning means no completion runs any more. */
static void job_notify(struct store *st, const struct store_job *job, int err)
{
	if (job->notify && st->done_h)
		st->done_h(job->id, err, st->done_arg);
}

/* Hands a finished batch back: waiting callers are woken with their result, committed or
 * dropped queued jobs are freed. Under st->lock. */
static void batch_done(struct store *st, struct list *batch)
{
	while (batch->head) {
		struct store_job *job = batch->head->data;

		list_unlink(&job->le);
		if (job->async) {
			if (job->result && !job->notify) /* else its handler tells */
				log_error("store", "a queued write was refused for good and is "
					  "dropped (%s): a duplicate or a bug",
					  strerror(job->result));
			job_notify(st, job, job->result);
			mem_deref(job->arg);
			mem_deref(job);
			continue;
		}
		job->done = true;
	}
}

/* The batch failed as a whole (err): waiting callers get err, queued jobs go back to the
 * head of the queue in their order, and the store is unusable until they land. At stop,
 * they are dropped instead (loudly): cccd is going, and a restart takes up unfinished
 * sessions. Under st->lock. */
static void batch_failed(struct store *st, struct list *batch, int err)
{
	struct list retry = LIST_INIT;
	unsigned n = 0;

	while (batch->head) {
		struct store_job *job = batch->head->data;

		list_unlink(&job->le);
		if (!job->async) {
			job->result = err;
			job->done = true;
			continue;
		}
		job->result = 0;
		list_append(&retry, &job->le, job);
		n++;
	}
	if (!n)
		return;
	if (st->stopping) {
		log_error("store", "stopping with %u queued writes failing (%s): they are lost; "
			  "unfinished sessions are closed at the next start", n, strerror(err));
		while (retry.head) {
			struct store_job *job = retry.head->data;

			list_unlink(&job->le);
			job_notify(st, job, ESHUTDOWN);
			mem_deref(job->arg);
			mem_deref(job);
		}
		return;
	}
	/* The retried jobs go first, ahead of everything queued since. */
	while (retry.tail) {
		struct store_job *job = retry.tail->data;

		list_unlink(&job->le);
		list_prepend(&st->queue, &job->le, job);
	}
	st->fail_err = err;
	if (!atomic_load(&st->unusable)) {
		atomic_store(&st->unusable, true);
		st->fail_since_ms = clock_mono_ms();
		st->retry_ms = RETRY_FIRST_MS;
		log_error("store", "writes fail (%s): queued writes are kept and retried until "
			  "they land; new sessions and changes are refused meanwhile",
			  strerror(err));
		/* Waiting callers queued before this are refused now, not after the pause. */
		for (struct le *le = st->queue.head; le;) {
			struct store_job *job = le->data;

			le = le->next;
			if (job->async)
				continue;
			list_unlink(&job->le);
			job->result = err;
			job->done = true;
		}
	}
	else if (st->retry_ms < RETRY_MAX_MS) {
		st->retry_ms = st->retry_ms * 2 < RETRY_MAX_MS ? st->retry_ms * 2 : RETRY_MAX_MS;
	}
}

/* Waits out the pause before a retry, or until stop. Under st->lock. */
static void retry_pause(struct store *st)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += st->retry_ms / 1000;
	until.tv_nsec += (long)(st->retry_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	while (!st->stopping &&
	       pthread_cond_timedwait(&st->work, &st->lock, &until) != ETIMEDOUT)
		;
}

static void *writer_main(void *arg)
{
	struct store *st = arg;

	pthread_mutex_lock(&st->lock);
	for (;;) {
		struct list batch = LIST_INIT;
		unsigned n = 0;
		uint64_t t0, rt;
		int err;

		while (!st->queue.head && !st->stopping)
			pthread_cond_wait(&st->work, &st->lock);
		if (!st->queue.head)
			break;
		if (atomic_load(&st->unusable))
			retry_pause(st);
		while (st->queue.head && n < st->conf.batch_max) {
			struct le *le = st->queue.head;

			list_unlink(le);
			list_append(&batch, le, le->data);
			n++;
		}
		pthread_mutex_unlock(&st->lock);

		t0 = clock_mono_us();
		rt = db_round_trips(st->writer->db);
		err = batch_run(st, &batch);
		rt = db_round_trips(st->writer->db) - rt;
		if (!err)
			metrics_store_commit(clock_mono_us() - t0, n, rt);

		pthread_mutex_lock(&st->lock);
		st->batches++;
		st->round_trips += rt;
		/* Wake the push thread; a batch whose outbox rows rolled back only costs it
		 * one look at an unchanged outbox. */
		if (st->writer->outbox_added) {
			st->writer->outbox_added = false;
			if (st->outbox_watch && !err)
				st->outbox_watch(st->outbox_watch_arg);
		}
		if (err) {
			batch_failed(st, &batch, err);
		}
		else {
			st->jobs += n;
			if (atomic_load(&st->unusable)) {
				atomic_store(&st->unusable, false);
				log_info("store", "writes land again after %llu ms: the queued "
					 "writes are applied; new work is accepted",
					 (unsigned long long)(clock_mono_ms() - st->fail_since_ms));
			}
			batch_done(st, &batch);
		}
		pthread_cond_broadcast(&st->done);
	}
	pthread_mutex_unlock(&st->lock);
	return NULL;
}

int store_write(struct store *st, store_write_fn *fn, void *arg)
{
	struct store_job job = {.fn = fn, .arg = arg};

	pthread_mutex_lock(&st->lock);
	if (st->stopping) {
		pthread_mutex_unlock(&st->lock);
		return ESHUTDOWN;
	}
	if (atomic_load(&st->unusable)) {
		job.result = st->fail_err;
		pthread_mutex_unlock(&st->lock);
		return job.result;
	}
	list_append(&st->queue, &job.le, &job);
	pthread_cond_signal(&st->work);
	while (!job.done)
		pthread_cond_wait(&st->done, &st->lock);
	pthread_mutex_unlock(&st->lock);
	snapshot_refresh(st);
	return job.result;
}

bool store_usable(struct store *st)
{
	return st && !atomic_load(&st->unusable);
}

void store_stats(struct store *st, struct store_stats *out)
{
	pthread_mutex_lock(&st->lock);
	out->batches = st->batches;
	out->jobs = st->jobs;
	out->round_trips = st->round_trips;
	pthread_mutex_unlock(&st->lock);
}

static int nothing(struct store_conn *c, void *arg)
{
	(void)c;
	(void)arg;
	return 0;
}

int store_sync(struct store *st)
{
	return st ? store_write(st, nothing, NULL) : EINVAL;
}

void store_done_handler(struct store *st, store_done_h *h, void *arg)
{
	if (!st)
		return;
	pthread_mutex_lock(&st->lock);
	st->done_h = h;
	st->done_arg = arg;
	pthread_mutex_unlock(&st->lock);
}

static int write_async(struct store *st, store_write_fn *fn, void *arg, const char *id)
{
	struct store_job *job = mem_zalloc(sizeof(*job), NULL);

	if (!job) {
		mem_deref(arg);
		return ENOMEM;
	}
	job->fn = fn;
	job->arg = arg;
	job->async = true;
	if (id) {
		job->notify = true;
		snprintf(job->id, sizeof(job->id), "%s", id);
	}
	pthread_mutex_lock(&st->lock);
	if (st->stopping) {
		pthread_mutex_unlock(&st->lock);
		mem_deref(job);
		mem_deref(arg);
		return ESHUTDOWN;
	}
	list_append(&st->queue, &job->le, job);
	pthread_cond_signal(&st->work);
	pthread_mutex_unlock(&st->lock);
	return 0;
}

int store_write_async(struct store *st, store_write_fn *fn, void *arg)
{
	return write_async(st, fn, arg, NULL);
}

int store_write_async_done(struct store *st, store_write_fn *fn, void *arg, const char *id)
{
	return write_async(st, fn, arg, id);
}

static void store_destructor(void *arg)
{
	struct store *st = arg;

	if (st->thread_running) {
		pthread_mutex_lock(&st->lock);
		st->stopping = true;
		pthread_cond_signal(&st->work);
		pthread_mutex_unlock(&st->lock);
		pthread_join(st->thread, NULL);
	}
	list_flush(&st->readers);
	mem_deref(st->writer);
	pthread_cond_destroy(&st->work);
	pthread_cond_destroy(&st->done);
	pthread_mutex_destroy(&st->lock);
	pthread_mutex_destroy(&st->pool_lock);
}

int store_open(struct store **stp, const struct store_conf *sc)
{
	struct store *st;
	pthread_condattr_t ca;
	int err;

	if (!stp || !sc)
		return EINVAL;
	st = mem_zalloc(sizeof(*st), store_destructor);
	if (!st)
		return ENOMEM;
	st->conf = *sc;
	if (!st->conf.batch_max)
		st->conf.batch_max = 512;
	pthread_mutex_init(&st->lock, NULL);
	pthread_mutex_init(&st->pool_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* retry pauses ignore clock steps */
	pthread_cond_init(&st->work, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&st->done, NULL);

	err = store_conn_open(&st->writer, &st->conf, false);
	if (err)
		goto out;
	err = store_schema_migrate(st->writer, sc->keep_schema);
	if (err)
		goto out;
	err = pthread_create(&st->thread, NULL, writer_main, st);
	if (err)
		goto out;
	st->thread_running = true;

out:
	if (err)
		mem_deref(st);
	else
		*stp = st;
	return err;
}
