/* db: the one SQL interface the store's files use, with a backend behind it (SQLite embedded,
 * or PostgreSQL through libpq). Nothing above src/store/ sees it.
 *
 * The SQL the store writes is the subset both engines run the same way: `?` placeholders
 * (the PostgreSQL backend rewrites them to $1..$n when it prepares), INSERT ... ON CONFLICT
 * (...) DO UPDATE / DO NOTHING instead of INSERT OR REPLACE / OR IGNORE, RETURNING instead of
 * last-insert-rowid, integers as 64-bit, booleans as 0/1 integers, blobs as blobs (BYTEA).
 * Where the engines differ for real (schema, migrations' bookkeeping, locking), the store
 * asks db_backend() and keeps both texts side by side.
 *
 * A connection and its statements belong to one thread at a time. Every function that can
 * fail returns 0 or an errno value, mapped from the engine's codes the same way on both:
 *   EBUSY     locked by someone else past the busy timeout; serialization failure (retry)
 *   ENOSPC    disk full
 *   EIO       I/O error, corruption, connection lost (the backend reconnects on next use)
 *   ENOMEM    out of memory
 *   EACCES    read-only database or permission denied
 *   EEXIST    constraint violated (unique, primary key, foreign key, check, not null)
 *   EINVAL    a bad statement or argument (a bug)
 * store_err_transient() says which of these a retry may cure. */
#ifndef CCCD_STORE_DB_H
#define CCCD_STORE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store_conf;

enum db_backend { DB_SQLITE, DB_POSTGRESQL };

struct db_conn; /* a mem object: mem_deref closes it and its statements */
struct db_stmt; /* owned by its connection's statement cache */

/* Opens a connection of the backend sc names (sc->backend); readonly connections are for
 * the reader pool. SQLite: WAL, synchronous per sc, busy timeout, foreign keys.
 * PostgreSQL: sc->dsn, synchronous_commit = on, a statement timeout. */
int db_open(struct db_conn **cp, const struct store_conf *sc, bool readonly);
enum db_backend db_backend(const struct db_conn *c);

/* The cached prepared statement for sql (a string literal: its address is the cache key),
 * reset and with its bindings cleared. NULL when it cannot be prepared (logged). */
struct db_stmt *db_stmt(struct db_conn *c, const char *sql);

/* A statement for SQL built at run time (its shape follows a request's filters), not
 * cached: its text's address means nothing. A mem object: mem_deref frees it, before c
 * is closed. NULL when it cannot be prepared (logged). */
struct db_stmt *db_prepare(struct db_conn *c, const char *sql);

/* Parameters count from 1; a parameter not bound is NULL. Text and blob values are not
 * copied: they must stay valid while the statement runs (until db_step returns DB_DONE or
 * an error, or db_reset). len < 0 means up to the NUL. */
void db_bind_int64(struct db_stmt *s, int i, int64_t v);
void db_bind_text(struct db_stmt *s, int i, const char *v, int len);
void db_bind_blob(struct db_stmt *s, int i, const void *v, size_t len);
void db_bind_null(struct db_stmt *s, int i);

/* Runs the statement (first call) and moves to the next row: DB_ROW when a row is there,
 * DB_DONE when there are no more, or an errno value. */
enum { DB_DONE = 0, DB_ROW = -1 };
int db_step(struct db_stmt *s);

/* Ends a run early, when the rows wanted were read before DB_DONE: frees the engine's
 * result (SQLite: the read lock a running statement holds, which would pin the WAL and
 * the reader's snapshot). A statement that returned DB_DONE or an error is ended already;
 * db_stmt resets a cached statement too, but only when it is next used. */
void db_reset(struct db_stmt *s);

/* The current row's columns, counting from 0. Text and blob pointers are valid until the
 * next db_step or reset of s. A NULL column reads as 0, "" or an empty blob. */
int64_t db_col_int64(struct db_stmt *s, int col);
const char *db_col_text(struct db_stmt *s, int col);
const void *db_col_blob(struct db_stmt *s, int col, size_t *len);
bool db_col_null(struct db_stmt *s, int col);

/* Rows inserted, updated or deleted by the last statement run on c. */
uint64_t db_changes(struct db_conn *c);

/* Runs sql (one statement or several separated by ';', no parameters, no rows wanted). */
int db_exec(struct db_conn *c, const char *sql);

/* Locks keys (64-bit hashes of what a counter counts: a caller number, a callee, an
 * instance, an account; ascending, n at most DB_LOCK_KEYS_MAX) until the end of c's
 * transaction, so that a count and the insert it allows are one step for every
 * connection that locks the same key first: what two nodes do at once on PostgreSQL,
 * whose READ COMMITTED lets both count before either inserts. PostgreSQL: transaction-
 * scoped advisory locks, all in one statement (pg_advisory_xact_lock; a savepoint rolled
 * back releases the locks taken after it). With wait, the call waits for the holders'
 * commits, up to the lock timeout (EBUSY); without, it fails at once with EAGAIN when
 * another connection holds one of the keys (the caller then rolls its savepoint back:
 * the others may be taken). SQLite: nothing to do (0), its one writer at a time already
 * serialises every count and insert. Locking a key again in the same transaction is
 * free. */
enum { DB_LOCK_KEYS_MAX = 32 };
int db_lock_keys(struct db_conn *c, const int64_t *keys, size_t n, bool wait);

/* Sends s, bound, to run without waiting for its result, inside a transaction: on
 * PostgreSQL it waits in the connection's pipeline, and the next statement that must
 * answer (a db_step of any statement, db_exec, db_lock_keys) takes everything sent in one
 * round trip; each sent statement then gets its own rows or error at its db_step, as if
 * it had run alone (a statement behind one that failed gets that error: the transaction
 * is aborted). On SQLite, in-process, it runs at its db_step. So: read the statements
 * sent in the order they must run (on PostgreSQL they run in the order sent), keep their
 * bound values valid until then, and send
 * each cached statement once before reading it (db_stmt gives the same statement again:
 * asking for it again runs what was sent, and its rows are lost). A ROLLBACK drops what
 * was sent and not run. Outside a transaction the statement runs at its db_step. */
int db_send(struct db_stmt *s);

/* Round trips to the database server made on c so far: statements run, pipelines synced
 * and prepares (PostgreSQL); SQLite runs in-process: 0. For the benches and metrics. */
uint64_t db_round_trips(const struct db_conn *c);

/* Notifications between nodes (PostgreSQL's LISTEN / NOTIFY) on a connection of their
 * own: db_listen subscribes c to channel (an identifier); db_wait_notify waits up to
 * timeout_ms for one or more notifications on it: 0 when some came, ETIMEDOUT when none,
 * EIO when the connection is lost (the subscription with it: open another). SQLite has
 * one node and no notifications: ENOTSUP. Never on the control loop: it blocks. */
int db_listen(struct db_conn *c, const char *channel);
int db_wait_notify(struct db_conn *c, int timeout_ms);

/* Whether c is inside a transaction (BEGIN run and not yet committed or rolled back). */
bool db_in_txn(struct db_conn *c);

/* The engine's last error text on c, for logs ("" when none). Never holds a password. */
const char *db_errmsg(struct db_conn *c);

#endif
