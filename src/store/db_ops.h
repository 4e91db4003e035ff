/* db_ops: what a backend of db.h provides. db.c hands each db_* call to the backend of the
 * connection or statement through its ops table, so one binary holds both backends and
 * [store] backend chooses at run time. A backend's connection and statement structs begin
 * with struct db_conn / struct db_stmt (the ops pointer); everything after is its own. */
#ifndef CCCD_STORE_DB_OPS_H
#define CCCD_STORE_DB_OPS_H

#include "store/db.h"

struct db_ops {
	enum db_backend backend;
	struct db_stmt *(*stmt)(struct db_conn *c, const char *sql);
	struct db_stmt *(*prepare)(struct db_conn *c, const char *sql);
	void (*bind_int64)(struct db_stmt *s, int i, int64_t v);
	void (*bind_text)(struct db_stmt *s, int i, const char *v, int len);
	void (*bind_blob)(struct db_stmt *s, int i, const void *v, size_t len);
	void (*bind_null)(struct db_stmt *s, int i);
	int (*step)(struct db_stmt *s);
	void (*reset)(struct db_stmt *s);
	int64_t (*col_int64)(struct db_stmt *s, int col);
	const char *(*col_text)(struct db_stmt *s, int col);
	const void *(*col_blob)(struct db_stmt *s, int col, size_t *len);
	bool (*col_null)(struct db_stmt *s, int col);
	uint64_t (*changes)(struct db_conn *c);
	int (*exec)(struct db_conn *c, const char *sql);
	bool (*in_txn)(struct db_conn *c);
	int (*lock_keys)(struct db_conn *c, const int64_t *keys, size_t n, bool wait);
	int (*send)(struct db_stmt *s);
	uint64_t (*round_trips)(const struct db_conn *c);
	int (*listen)(struct db_conn *c, const char *channel);
	int (*wait_notify)(struct db_conn *c, int timeout_ms);
	const char *(*errmsg)(struct db_conn *c);
};

struct db_conn {
	const struct db_ops *ops;
};

struct db_stmt {
	const struct db_ops *ops;
};

/* Each backend's db_open (sc->backend already chosen). */
int db_sqlite_open(struct db_conn **cp, const struct store_conf *sc, bool readonly);

#endif
