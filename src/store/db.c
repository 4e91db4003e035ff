/* db: hands each call to the backend of its connection or statement (db_ops.h). */
#include <errno.h>
#include "base/base.h"
#include "store/store.h"
#include "store/db_ops.h"
#include "store/db_pg.h"

int db_open(struct db_conn **cp, const struct store_conf *sc, bool readonly)
{
	if (!cp || !sc)
		return EINVAL;
	switch (sc->backend) {
	case DB_SQLITE:
		return db_sqlite_open(cp, sc, readonly);
	case DB_POSTGRESQL:
		return db_pg_open(cp, sc, readonly);
	}
	return EINVAL;
}

enum db_backend db_backend(const struct db_conn *c)
{
	return c->ops->backend;
}

struct db_stmt *db_stmt(struct db_conn *c, const char *sql)
{
	return c->ops->stmt(c, sql);
}

struct db_stmt *db_prepare(struct db_conn *c, const char *sql)
{
	return c->ops->prepare(c, sql);
}

void db_bind_int64(struct db_stmt *s, int i, int64_t v)
{
	s->ops->bind_int64(s, i, v);
}

void db_bind_text(struct db_stmt *s, int i, const char *v, int len)
{
	s->ops->bind_text(s, i, v, len);
}

void db_bind_blob(struct db_stmt *s, int i, const void *v, size_t len)
{
	s->ops->bind_blob(s, i, v, len);
}

void db_bind_null(struct db_stmt *s, int i)
{
	s->ops->bind_null(s, i);
}

int db_step(struct db_stmt *s)
{
	return s->ops->step(s);
}

void db_reset(struct db_stmt *s)
{
	s->ops->reset(s);
}

int64_t db_col_int64(struct db_stmt *s, int col)
{
	return s->ops->col_int64(s, col);
}

const char *db_col_text(struct db_stmt *s, int col)
{
	return s->ops->col_text(s, col);
}

const void *db_col_blob(struct db_stmt *s, int col, size_t *len)
{
	return s->ops->col_blob(s, col, len);
}

bool db_col_null(struct db_stmt *s, int col)
{
	return s->ops->col_null(s, col);
}

uint64_t db_changes(struct db_conn *c)
{
	return c->ops->changes(c);
}

int db_exec(struct db_conn *c, const char *sql)
{
	return c->ops->exec(c, sql);
}

int db_send(struct db_stmt *s)
{
	return s->ops->send(s);
}

int db_lock_keys(struct db_conn *c, const int64_t *keys, size_t n, bool wait)
{
	return c->ops->lock_keys(c, keys, n, wait);
}

uint64_t db_round_trips(const struct db_conn *c)
{
	return c->ops->round_trips(c);
}

int db_listen(struct db_conn *c, const char *channel)
{
	return c->ops->listen(c, channel);
}

int db_wait_notify(struct db_conn *c, int timeout_ms)
{
	return c->ops->wait_notify(c, timeout_ms);
}

bool db_in_txn(struct db_conn *c)
{
	return c->ops->in_txn(c);
}

const char *db_errmsg(struct db_conn *c)
{
	return c->ops->errmsg(c);
}
