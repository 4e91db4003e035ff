/* db_pg: the PostgreSQL backend of db.h (libpq), as db.c dispatches to it. The functions
 * mean what their db_ namesakes in db.h say; a connection or statement of this backend
 * begins with its enum db_backend, the tag db.c reads. */
#ifndef CCCD_STORE_DB_PG_H
#define CCCD_STORE_DB_PG_H

#include "store/db.h"

int db_pg_open(struct db_conn **cp, const struct store_conf *sc, bool readonly);
struct db_stmt *db_pg_stmt(struct db_conn *c, const char *sql);
void db_pg_bind_int64(struct db_stmt *s, int i, int64_t v);
void db_pg_bind_text(struct db_stmt *s, int i, const char *v, int len);
void db_pg_bind_blob(struct db_stmt *s, int i, const void *v, size_t len);
void db_pg_bind_null(struct db_stmt *s, int i);
int db_pg_step(struct db_stmt *s);
int64_t db_pg_col_int64(struct db_stmt *s, int col);
const char *db_pg_col_text(struct db_stmt *s, int col);
const void *db_pg_col_blob(struct db_stmt *s, int col, size_t *len);
bool db_pg_col_null(struct db_stmt *s, int col);
uint64_t db_pg_changes(struct db_conn *c);
int db_pg_exec(struct db_conn *c, const char *sql);
bool db_pg_in_txn(struct db_conn *c);
const char *db_pg_errmsg(struct db_conn *c);

/* The SQLSTATE of an error → the errno values db.h lists. */
int db_pg_errno(const char *sqlstate);

#endif
