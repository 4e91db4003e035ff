/* store: connections, the group-commit writer thread and the read-connection pool.
 *
 * Why one writer: SQLite allows one writer at a time anyway, and funnelling every write
 * through one thread lets it commit a whole queue of callers' work in one transaction —
 * one fsync for many acknowledged sessions (group commit). Each job runs under its own
 * savepoint, so one failing job rolls back alone and the rest of the batch commits.
 * Callers block on a condition variable until their batch is durable; the API threads
 * may block, the control loop never calls these functions. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "base/base.h"
#include "conf/conf.h"
#include "store/store_int.h"

struct store_job {
	struct le le;
	store_write_fn *fn;
	void *arg;
	int result;
	bool done;
	bool async;  /* heap job: the writer frees it and its arg (a mem object) */
};

int store_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_CONSTRAINT:
		return EEXIST;
	case SQLITE_NOMEM:
		return ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return EBUSY;
	case SQLITE_FULL:
		return ENOSPC;
	case SQLITE_READONLY:
	case SQLITE_PERM:
		return EACCES;
	default:
		return EIO;
	}
}

int store_conf_read(const struct conf *cf, struct store_conf *sc, struct conf_err *err)
{
	static const char *const syncs[] = {"normal", "full", NULL};
	const struct conf_section *sec = conf_section_first(cf, "store");
	const char *path, *key;
	uint64_t batch;
	int sync, rc;

	memset(sc, 0, sizeof(*sc));
	rc = conf_str(sec, "path", "var/cccd.db", &path, err);
	rc = rc ? rc : conf_str(sec, "master_key_file", "", &key, err);
	rc = rc ? rc : conf_uint(sec, "batch_max", 512, 1, 100000, &batch, err);
	rc = rc ? rc : conf_choice(sec, "synchronous", "full", syncs, &sync, err);
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
	return 0;
}

static void conn_destructor(void *arg)
{
	struct store_conn *c = arg;

	for (size_t i = 0; i < STORE_STMT_CACHE; i++)
		sqlite3_finalize(c->cache[i].stmt);
	sqlite3_close_v2(c->db);
}

int store_conn_open(struct store_conn **cp, const char *path, bool readonly, bool sync_full)
{
	struct store_conn *c = mem_zalloc(sizeof(*c), conn_destructor);
	int flags = SQLITE_OPEN_NOMUTEX |
		    (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	char pragmas[256];
	int rc;

	if (!c)
		return ENOMEM;
	rc = sqlite3_open_v2(path, &c->db, flags, NULL);
	if (rc != SQLITE_OK) {
		log_error("store", "cannot open %s: %s", path,
			  c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		mem_deref(c);
		return store_errno(rc) ? store_errno(rc) : EIO;
	}
	sqlite3_busy_timeout(c->db, 10000);
	snprintf(pragmas, sizeof(pragmas),
		 "PRAGMA foreign_keys=ON;%s",
		 readonly ? "" : (sync_full ? "PRAGMA journal_mode=WAL;PRAGMA synchronous=FULL;"
					    : "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;"));
	rc = sqlite3_exec(c->db, pragmas, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		log_error("store", "cannot configure %s: %s", path, sqlite3_errmsg(c->db));
		mem_deref(c);
		return store_errno(rc) ? store_errno(rc) : EIO;
	}
	*cp = c;
	return 0;
}

sqlite3_stmt *store_stmt(struct store_conn *c, const char *sql)
{
	size_t slot = ((uintptr_t)sql >> 4) % STORE_STMT_CACHE;
	sqlite3_stmt *s;

	/* Open addressing over the small table; a full table just prepares uncached. */
	for (size_t i = 0; i < STORE_STMT_CACHE; i++) {
		size_t k = (slot + i) % STORE_STMT_CACHE;

		if (c->cache[k].sql == sql) {
			s = c->cache[k].stmt;
			sqlite3_reset(s);
			sqlite3_clear_bindings(s);
			return s;
		}
		if (!c->cache[k].sql) {
			if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s,
					       NULL) != SQLITE_OK) {
				log_error("store", "prepare failed: %s", sqlite3_errmsg(c->db));
				return NULL;
			}
			c->cache[k].sql = sql;
			c->cache[k].stmt = s;
			return s;
		}
	}
	log_error("store", "statement cache full");
	return NULL;
}

void store_col_text(sqlite3_stmt *s, int col, char *buf, size_t sz)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	snprintf(buf, sz, "%s", t ? (const char *)t : "");
}

char *store_col_dup(sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	char *d = NULL;

	if (str_dup(&d, t ? (const char *)t : ""))
		return NULL;
	return d;
}

/* The calling thread's snapshot (store_snapshot_begin), if any. */
static __thread struct store *snap_st;
static __thread struct store_conn *snap_conn;

int store_reader_get(struct store *st, struct store_conn **cp)
{
	struct store_conn *c = NULL;

	if (snap_st == st) {
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
	return store_conn_open(cp, st->conf.path, true, false);
}

void store_reader_put(struct store *st, struct store_conn *c)
{
	sqlite3_stmt *s;

	if (snap_st == st && c == snap_conn)
		return; /* the snapshot keeps it until store_snapshot_end */
	/* A read transaction left open would pin the WAL; end it before pooling. */
	if (!sqlite3_get_autocommit(c->db)) {
		s = store_stmt(c, "ROLLBACK");
		if (!s || sqlite3_step(s) != SQLITE_DONE)
			sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
		if (s)
			sqlite3_reset(s);
	}
	pthread_mutex_lock(&st->pool_lock);
	list_append(&st->readers, &c->le, c);
	pthread_mutex_unlock(&st->pool_lock);
}

/* BEGIN on c; 0 or an errno value. */
static int read_begin(struct store_conn *c)
{
	sqlite3_stmt *s = store_stmt(c, "BEGIN");
	int rc = s ? sqlite3_step(s) : SQLITE_ERROR;

	if (s)
		sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : (store_errno(rc) ? store_errno(rc) : EIO);
}

/* After this thread's own durable write: the snapshot moves past it, so that the thread
 * reads what it wrote. */
static void snapshot_refresh(struct store *st)
{
	sqlite3_stmt *s;

	if (snap_st != st || sqlite3_get_autocommit(snap_conn->db))
		return;
	s = store_stmt(snap_conn, "ROLLBACK");
	if (!s || sqlite3_step(s) != SQLITE_DONE)
		sqlite3_exec(snap_conn->db, "ROLLBACK", NULL, NULL, NULL);
	if (s)
		sqlite3_reset(s);
	if (read_begin(snap_conn)) {
		/* Reads go back to the pool: still correct, one transaction each. */
		struct store_conn *c = snap_conn;

		snap_st = NULL;
		snap_conn = NULL;
		store_reader_put(st, c);
	}
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
	err = read_begin(c);
	if (err) {
		store_reader_put(st, c);
		return err;
	}
	snap_st = st;
	snap_conn = c;
	return 0;
}

void store_snapshot_end(struct store *st)
{
	struct store_conn *c = snap_conn;

	if (!st || snap_st != st)
		return;
	snap_st = NULL;
	snap_conn = NULL;
	store_reader_put(st, c); /* ends the read transaction */
}

int store_read(struct store *st, const char *sql, store_bind_h *bind, const void *barg,
	       store_row_h *row, void *rarg, bool one)
{
	struct store_conn *c;
	sqlite3_stmt *s;
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
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		err = row(s, rarg);
		if (err || one)
			break;
	}
	if (!err && one && rc == SQLITE_DONE)
		err = ENOENT;
	else if (!err && rc != SQLITE_ROW && rc != SQLITE_DONE)
		err = store_errno(rc) ? store_errno(rc) : EIO;
	sqlite3_reset(s);
out:
	store_reader_put(st, c);
	return err;
}

static void batch_run(struct store *st, struct list *batch)
{
	sqlite3 *db = st->writer->db;
	int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);

	if (rc != SQLITE_OK) {
		log_error("store", "begin failed: %s", sqlite3_errmsg(db));
		for (struct le *le = batch->head; le; le = le->next)
			((struct store_job *)le->data)->result = store_errno(rc);
		return;
	}
	for (struct le *le = batch->head; le; le = le->next) {
		struct store_job *job = le->data;

		sqlite3_exec(db, "SAVEPOINT job", NULL, NULL, NULL);
		job->result = job->fn(st->writer, job->arg);
		if (job->result)
			sqlite3_exec(db, "ROLLBACK TO job", NULL, NULL, NULL);
		sqlite3_exec(db, "RELEASE job", NULL, NULL, NULL);
	}
	rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		log_error("store", "commit failed: %s", sqlite3_errmsg(db));
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		for (struct le *le = batch->head; le; le = le->next) {
			struct store_job *job = le->data;

			if (!job->result)
				job->result = store_errno(rc) ? store_errno(rc) : EIO;
		}
	}
}

static void *writer_main(void *arg)
{
	struct store *st = arg;

	pthread_mutex_lock(&st->lock);
	for (;;) {
		struct list batch = LIST_INIT;
		unsigned n = 0;

		while (!st->queue.head && !st->stopping)
			pthread_cond_wait(&st->work, &st->lock);
		if (!st->queue.head)
			break;
		while (st->queue.head && n < st->conf.batch_max) {
			struct le *le = st->queue.head;

			list_unlink(le);
			list_append(&batch, le, le->data);
			n++;
		}
		pthread_mutex_unlock(&st->lock);

		batch_run(st, &batch);

		pthread_mutex_lock(&st->lock);
		st->batches++;
		st->jobs += n;
		/* Wake the push thread; a batch whose outbox rows rolled back only costs it
		 * one look at an unchanged outbox. */
		if (st->writer->outbox_added) {
			st->writer->outbox_added = false;
			if (st->outbox_watch)
				st->outbox_watch(st->outbox_watch_arg);
		}
		while (batch.head) {
			struct store_job *job = batch.head->data;

			list_unlink(&job->le);
			if (job->async) {
				if (job->result)
					log_error("store", "queued write failed: %s",
						  strerror(job->result));
				mem_deref(job->arg);
				mem_deref(job);
				continue;
			}
			job->done = true;
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
	list_append(&st->queue, &job.le, &job);
	pthread_cond_signal(&st->work);
	while (!job.done)
		pthread_cond_wait(&st->done, &st->lock);
	pthread_mutex_unlock(&st->lock);
	snapshot_refresh(st);
	return job.result;
}

void store_stats(struct store *st, struct store_stats *out)
{
	pthread_mutex_lock(&st->lock);
	out->batches = st->batches;
	out->jobs = st->jobs;
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

int store_write_async(struct store *st, store_write_fn *fn, void *arg)
{
	struct store_job *job = mem_zalloc(sizeof(*job), NULL);

	if (!job) {
		mem_deref(arg);
		return ENOMEM;
	}
	job->fn = fn;
	job->arg = arg;
	job->async = true;
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
	pthread_cond_init(&st->work, NULL);
	pthread_cond_init(&st->done, NULL);

	err = store_conn_open(&st->writer, sc->path, false, sc->synchronous_full);
	if (err)
		goto out;
	err = store_schema_migrate(st->writer);
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
