/* schema_pg: the PostgreSQL layout — its migrations, the same changes as schema_sqlite.c's
 * in PostgreSQL's types, one for one, and how PostgreSQL keeps their count. Written with
 * the PostgreSQL backend (db_pg.c); until then the list is empty and db_open refuses
 * backend = postgresql, so nothing here runs. */
#include <errno.h>
#include "base/base.h"
#include "store/store_int.h"

static int version_get(struct db_conn *c, int *versionp)
{
	(void)c;
	*versionp = 0;
	return ENOTSUP;
}

static int version_set(struct db_conn *c, int version)
{
	(void)c;
	(void)version;
	return ENOTSUP;
}

const struct store_schema store_schema_pg = {
	.migrations = NULL,
	.n = 0,
	.version = version_get,
	.begin = "BEGIN",
	.version_set = version_set,
};
