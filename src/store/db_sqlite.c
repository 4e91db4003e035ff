/* db_sqlite: db.h on SQLite — one database file in WAL mode, opened per connection.
 *
 * Statements are prepared once per connection and kept (SQLITE_PREPARE_PERSISTENT) in a
 * small cache keyed by the address of their SQL text: every statement the store runs
 * often is a string literal, so the address identifies it without hashing the text.
 * Values are bound without a copy (SQLITE_STATIC): db.h asks callers to keep them alive
 * while the statement runs. */
#include <errno.h>
#include <stdio.h>
#include <sqlite3.h>
#include <re.h>
#include "base/base.h"
#include "store/store.h"
#include "store/db_ops.h"

enum {
	STMT_CACHE = 96,
	BUSY_TIMEOUT_MS = 10000, /* store_conf.busy_timeout_ms = 0 */
	WAL_PASSIVE_PAGES = 1000, /* SQLite's own auto-checkpoint point */
	WAL_RESTART_PAGES = 4096, /* past this, a checkpoint that restarts the WAL */
	WAL_RESTART_WAIT_MS = 100, /* how long that checkpoint waits for readers */
	WAL_RESTART_EVERY_MS = 1000, /* and how often it is tried while it fails */
	WAL_FILE_LIMIT = 4 << 20, /* the WAL file is cut back to this when it restarts */
};

struct sqlite_stmt {
	struct db_stmt head;
	struct sqlite_conn *conn;
	sqlite3_stmt *stmt;
};

struct sqlite_conn {
	struct db_conn head;
	sqlite3 *db;
	int busy_ms;               /* the connection's busy timeout */
	uint64_t restart_next_ms;  /* monotonic: the next restarting checkpoint's earliest try */
	struct {
		const char *sql;
		struct sqlite_stmt s;
	} cache[STMT_CACHE];
};

static const struct db_ops sqlite_ops;

/* SQLite result code → errno, as db.h lists them. */
static int sqlite_errno(int rc)
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
		/* SQLite's generic SQLITE_ERROR included: the store always retried it as
		 * one that may pass, and keeps doing so. */
		return EIO;
	}
}

static struct sqlite_stmt *stmt_of(struct db_stmt *s)
{
	return (struct sqlite_stmt *)s;
}

static struct sqlite_conn *conn_of(struct db_conn *c)
{
	return (struct sqlite_conn *)c;
}

static void conn_destructor(void *arg)
{
	struct sqlite_conn *c = arg;

	for (size_t i = 0; i < STMT_CACHE; i++)
		sqlite3_finalize(c->cache[i].s.stmt);
	sqlite3_close_v2(c->db);
}

/* Checkpoint starvation. SQLite's auto-checkpoint (PASSIVE, after a commit that leaves
 * 1000 pages in the WAL) copies pages back into the database but never waits for readers,
 * and the WAL starts again from its beginning only when no reader still reads from it.
 * cccd's API threads read all the time (one snapshot per request), so under steady load
 * there is nearly always a reader somewhere in the WAL: it never restarts, and grows —
 * the soak bench saw 22 MiB after 28 minutes under ASan, in steps, never back. So the
 * writer's connection checkpoints itself: PASSIVE as SQLite would, and once the WAL holds
 * WAL_RESTART_PAGES, a RESTART checkpoint that waits up to WAL_RESTART_WAIT_MS for the
 * readers in the WAL to end (requests are short; readers that begin meanwhile read the
 * checkpointed database, not the WAL, and do not hold it), tried at most once a
 * WAL_RESTART_EVERY_MS while it fails. The writer thread pays that wait, never a caller
 * of the loop. journal_size_limit then cuts the file back when the WAL restarts. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct sqlite_conn *c = arg;
	uint64_t now = clock_mono_us() / 1000;
	int rc;

	if (pages < WAL_PASSIVE_PAGES)
		return SQLITE_OK;
	if (pages < WAL_RESTART_PAGES || now < c->restart_next_ms) {
		(void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		return SQLITE_OK;
	}
	sqlite3_busy_timeout(db, WAL_RESTART_WAIT_MS);
	rc = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_RESTART, NULL, NULL);
	sqlite3_busy_timeout(db, c->busy_ms);
	c->restart_next_ms = rc == SQLITE_OK ? 0 : now + WAL_RESTART_EVERY_MS;
	return SQLITE_OK;
}

int db_sqlite_open(struct db_conn **cp, const struct store_conf *sc, bool readonly)
{
	struct sqlite_conn *c = mem_zalloc(sizeof(*c), conn_destructor);
	int flags = SQLITE_OPEN_NOMUTEX |
		    (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	char pragmas[256];
	int rc;

	if (!c)
		return ENOMEM;
	c->head.ops = &sqlite_ops;
	rc = sqlite3_open_v2(sc->path, &c->db, flags, NULL);
	if (rc != SQLITE_OK) {
		log_error("store", "cannot open %s: %s", sc->path,
			  c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		mem_deref(c);
		return sqlite_errno(rc) ? sqlite_errno(rc) : EIO;
	}
	c->busy_ms = sc->busy_timeout_ms ? (int)sc->busy_timeout_ms : BUSY_TIMEOUT_MS;
	sqlite3_busy_timeout(c->db, c->busy_ms);
	if (readonly)
		snprintf(pragmas, sizeof(pragmas), "PRAGMA foreign_keys=ON;");
	else
		snprintf(pragmas, sizeof(pragmas),
			 "PRAGMA foreign_keys=ON;PRAGMA journal_mode=WAL;PRAGMA synchronous=%s;"
			 "PRAGMA journal_size_limit=%d;",
			 sc->synchronous_full ? "FULL" : "NORMAL", WAL_FILE_LIMIT);
	rc = sqlite3_exec(c->db, pragmas, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		log_error("store", "cannot configure %s: %s", sc->path, sqlite3_errmsg(c->db));
		mem_deref(c);
		return sqlite_errno(rc) ? sqlite_errno(rc) : EIO;
	}
	if (!readonly)
		sqlite3_wal_hook(c->db, wal_hook, c);
	*cp = &c->head;
	return 0;
}

static struct db_stmt *sqlite_stmt(struct db_conn *dc, const char *sql)
{
	struct sqlite_conn *c = conn_of(dc);
	size_t slot = ((uintptr_t)sql >> 4) % STMT_CACHE;
	sqlite3_stmt *s;

	/* Open addressing over the small table; a full table is a bug (a statement built
	 * at run time belongs to db_prepare). */
	for (size_t i = 0; i < STMT_CACHE; i++) {
		size_t k = (slot + i) % STMT_CACHE;

		if (c->cache[k].sql == sql) {
			s = c->cache[k].s.stmt;
			sqlite3_reset(s);
			sqlite3_clear_bindings(s);
			return &c->cache[k].s.head;
		}
		if (!c->cache[k].sql) {
			if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s,
					       NULL) != SQLITE_OK) {
				log_error("store", "prepare failed: %s", sqlite3_errmsg(c->db));
				return NULL;
			}
			c->cache[k].sql = sql;
			c->cache[k].s.head.ops = &sqlite_ops;
			c->cache[k].s.conn = c;
			c->cache[k].s.stmt = s;
			return &c->cache[k].s.head;
		}
	}
	log_error("store", "statement cache full");
	return NULL;
}

static void adhoc_destructor(void *arg)
{
	struct sqlite_stmt *s = arg;

	sqlite3_finalize(s->stmt);
}

static struct db_stmt *sqlite_prepare(struct db_conn *dc, const char *sql)
{
	struct sqlite_conn *c = conn_of(dc);
	struct sqlite_stmt *s = mem_zalloc(sizeof(*s), adhoc_destructor);

	if (!s)
		return NULL;
	s->head.ops = &sqlite_ops;
	s->conn = c;
	if (sqlite3_prepare_v2(c->db, sql, -1, &s->stmt, NULL) != SQLITE_OK) {
		log_error("store", "prepare failed: %s", sqlite3_errmsg(c->db));
		return mem_deref(s);
	}
	return &s->head;
}

static void sqlite_bind_int64(struct db_stmt *s, int i, int64_t v)
{
	sqlite3_bind_int64(stmt_of(s)->stmt, i, v);
}

static void sqlite_bind_text(struct db_stmt *s, int i, const char *v, int len)
{
	sqlite3_bind_text(stmt_of(s)->stmt, i, v, len, SQLITE_STATIC);
}

static void sqlite_bind_blob(struct db_stmt *s, int i, const void *v, size_t len)
{
	sqlite3_bind_blob64(stmt_of(s)->stmt, i, v, len, SQLITE_STATIC);
}

static void sqlite_bind_null(struct db_stmt *s, int i)
{
	sqlite3_bind_null(stmt_of(s)->stmt, i);
}

/* A run that ends (its last row, or an error) is reset at once: a finished statement
 * holds no lock, and the next db_step runs it again, as db.h says. */
static int sqlite_step(struct db_stmt *ds)
{
	sqlite3_stmt *s = stmt_of(ds)->stmt;
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		return DB_ROW;
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return DB_DONE;
	return sqlite_errno(rc) ? sqlite_errno(rc) : EIO;
}

static void sqlite_reset(struct db_stmt *s)
{
	sqlite3_reset(stmt_of(s)->stmt);
}

static int64_t sqlite_col_int64(struct db_stmt *s, int col)
{
	return sqlite3_column_int64(stmt_of(s)->stmt, col);
}

static const char *sqlite_col_text(struct db_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(stmt_of(s)->stmt, col);

	return t ? (const char *)t : "";
}

static const void *sqlite_col_blob(struct db_stmt *s, int col, size_t *len)
{
	sqlite3_stmt *q = stmt_of(s)->stmt;
	const void *p = sqlite3_column_blob(q, col); /* before _bytes, as SQLite asks */
	int n = sqlite3_column_bytes(q, col);

	*len = p && n > 0 ? (size_t)n : 0;
	return p ? p : "";
}

static bool sqlite_col_null(struct db_stmt *s, int col)
{
	return sqlite3_column_type(stmt_of(s)->stmt, col) == SQLITE_NULL;
}

static uint64_t sqlite_changes(struct db_conn *c)
{
	return (uint64_t)sqlite3_changes64(conn_of(c)->db);
}

static int sqlite_exec(struct db_conn *c, const char *sql)
{
	int rc = sqlite3_exec(conn_of(c)->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : (sqlite_errno(rc) ? sqlite_errno(rc) : EIO);
}

static bool sqlite_in_txn(struct db_conn *c)
{
	return !sqlite3_get_autocommit(conn_of(c)->db);
}

/* One writer at a time: the transaction that counts holds the database's write lock. */
static int sqlite_lock_keys(struct db_conn *c, const int64_t *keys, size_t n, bool wait)
{
	(void)c;
	(void)keys;
	(void)wait;
	return n > DB_LOCK_KEYS_MAX ? EINVAL : 0;
}

/* In-process: a statement costs no round trip, so a sent one simply runs at its db_step
 * (the caller reads them in the order sent, which is then the order they run). */
static int sqlite_send(struct db_stmt *s)
{
	(void)s;
	return 0;
}

static uint64_t sqlite_round_trips(const struct db_conn *c)
{
	(void)c;
	return 0;
}

/* One node: nobody to hear from. */
static int sqlite_listen(struct db_conn *c, const char *channel)
{
	(void)c;
	(void)channel;
	return ENOTSUP;
}

static int sqlite_wait_notify(struct db_conn *c, int timeout_ms)
{
	(void)c;
	(void)timeout_ms;
	return ENOTSUP;
}

static const char *sqlite_errmsg(struct db_conn *c)
{
	return sqlite3_errmsg(conn_of(c)->db);
}

static const struct db_ops sqlite_ops = {
	.backend = DB_SQLITE,
	.stmt = sqlite_stmt,
	.prepare = sqlite_prepare,
	.bind_int64 = sqlite_bind_int64,
	.bind_text = sqlite_bind_text,
	.bind_blob = sqlite_bind_blob,
	.bind_null = sqlite_bind_null,
	.step = sqlite_step,
	.reset = sqlite_reset,
	.col_int64 = sqlite_col_int64,
	.col_text = sqlite_col_text,
	.col_blob = sqlite_col_blob,
	.col_null = sqlite_col_null,
	.changes = sqlite_changes,
	.exec = sqlite_exec,
	.in_txn = sqlite_in_txn,
	.lock_keys = sqlite_lock_keys,
	.send = sqlite_send,
	.round_trips = sqlite_round_trips,
	.listen = sqlite_listen,
	.wait_notify = sqlite_wait_notify,
	.errmsg = sqlite_errmsg,
};
