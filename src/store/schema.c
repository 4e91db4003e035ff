/* schema: brings the database layout to this build's version at open, the same way on
 * each backend (its own migrations and bookkeeping: struct store_schema).
 *
 * A migration is appended, never edited once released: existing databases upgrade by
 * running the ones they lack, each in its own transaction. That transaction holds the
 * backend's migration lock and reads the version again inside it, so two processes
 * starting at once migrate once: the second finds the work done. */
#include <errno.h>
#include "base/base.h"
#include "store/store_int.h"

/* The oldest schema version a program must know to use the database (migration 15's
 * schema_compat); a database without it (older than 15) never reaches here newer. */
static int compat_oldest(struct db_conn *db, int *oldestp)
{
	struct db_stmt *s = db_prepare(db, "SELECT oldest FROM schema_compat");
	int rc;

	if (!s)
		return EPROTO;
	rc = db_step(s);
	if (rc == DB_ROW)
		*oldestp = (int)db_col_int64(s, 0);
	mem_deref(s);
	return rc == DB_ROW ? 0 : EPROTO;
}

int store_schema_migrate(struct store_conn *c, bool keep_schema)
{
	const struct store_schema *sch = db_backend(c->db) == DB_SQLITE ? &store_schema_sqlite
									 : &store_schema_pg;
	const int n = sch->n;
	int version = 0, again = 0, err;
	bool ours = false; /* this process migrated: a new database it sets up */

	err = sch->version(c->db, &version);
	if (err) {
		log_error("store", "cannot read the schema version: %s", db_errmsg(c->db));
		return err;
	}
	for (;;) {
		int oldest = 0;

		/* A newer schema whose changes since ours only add (a newer node upgraded the
		 * database; this one is the previous release, mid rolling upgrade or rolled
		 * back): what this program uses is all there. */
		if (version > n && !compat_oldest(c->db, &oldest) && oldest <= n) {
			log_warn("store", "database schema version %d is newer than this cccd (%d); "
				 "its changes only add, so this cccd runs on it", version, n);
			break;
		}
		if (version > n) {
			log_error("store", "database schema version %d is newer than this cccd "
				  "(%d)%s", version, n, oldest > n ? " and drops or changes what "
				  "this cccd uses" : "");
			err = EPROTO;
		}
		/* The command-line tools open the live database beside cccd: migrating it
		 * under a running older cccd would change tables that cccd is writing. The
		 * new cccd migrates when it starts; the tools wait for that. */
		else if (keep_schema && version > 0 && version < n && !ours) {
			log_error("store", "database schema version %d is older than this "
				  "program's (%d): start the new cccd first (it upgrades the "
				  "database)", version, n);
			err = EPROTO;
		}
		if (err || version == n)
			break;
		err = db_exec(c->db, sch->begin);
		if (!err)
			err = sch->version(c->db, &again);
		if (!err && again != version) {
			/* Another process migrated meanwhile: look again. */
			db_exec(c->db, "ROLLBACK");
			version = again;
			continue;
		}
		if (!err)
			err = db_exec(c->db, sch->migrations[version]);
		if (!err)
			err = sch->version_set(c->db, version + 1);
		if (!err)
			err = db_exec(c->db, "COMMIT");
		if (err) {
			log_error("store", "migration %d failed: %s", version + 1,
				  db_errmsg(c->db));
			if (db_in_txn(c->db))
				db_exec(c->db, "ROLLBACK");
			break;
		}
		log_info("store", "schema migrated to version %d", ++version);
		ours = true;
	}
	return err;
}
