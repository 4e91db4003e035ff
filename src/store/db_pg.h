/* db_pg: the PostgreSQL backend of db.h (libpq); db.c opens its connections here, and
 * everything else goes through their ops table (db_ops.h). */
#ifndef CCCD_STORE_DB_PG_H
#define CCCD_STORE_DB_PG_H

#include "store/db.h"

int db_pg_open(struct db_conn **cp, const struct store_conf *sc, bool readonly);

/* The SQLSTATE of an error → the errno values db.h lists. */
int db_pg_errno(const char *sqlstate);

#endif
