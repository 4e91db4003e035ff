/* backup: an online copy of the SQLite database (`ccc admin backup`), and the integrity
 * check of a copy. With db_sqlite.c, the one file that speaks to SQLite directly: the
 * backup API has no counterpart on db.h (PostgreSQL has pg_dump, docs/operations.md).
 *
 * The copy runs inside one read transaction that this connection opens before the first
 * step and keeps to the last. sqlite3_backup_step then reads every page from that one
 * snapshot — the database as it was when the backup began — instead of restarting
 * whenever cccd commits (which it does on every other connection's write when each step
 * takes a new read transaction: under load the copy would never finish). In WAL mode a
 * reader never blocks the writer; what the long read transaction holds back is only the
 * checkpoint past its snapshot, so the WAL grows while the backup runs and shrinks at the
 * next checkpoint after it. The steps are small with a pause between them, so the disk is
 * shared with cccd rather than taken. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include "base/base.h"
#include "store/store.h"

enum { PAGES_DEFAULT = 256, PAUSE_MS = 5, BUSY_MS = 10000 };

static int sqlite_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
		return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return EBUSY;
	case SQLITE_FULL:
		return ENOSPC;
	case SQLITE_NOMEM:
		return ENOMEM;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_CANTOPEN:
		return EACCES;
	default:
		return EIO;
	}
}

static void pause_ms(unsigned ms)
{
	struct timespec ts = {0, (long)ms * 1000000L};

	nanosleep(&ts, NULL);
}

/* Opens an existing database for reading only (no create; query_only). */
static int open_existing(sqlite3 **dbp, const char *path)
{
	int rc = sqlite3_open_v2(path, dbp, SQLITE_OPEN_READWRITE, NULL);

	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(*dbp, BUSY_MS);
		rc = sqlite3_exec(*dbp, "PRAGMA query_only = 1", NULL, NULL, NULL);
	}
	if (rc != SQLITE_OK)
		log_error("store", "cannot open %s: %s", path, *dbp ? sqlite3_errmsg(*dbp) :
			  sqlite3_errstr(rc));
	return sqlite_errno(rc);
}

static int copy(sqlite3 *src, sqlite3 *dst, unsigned pages)
{
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	int rc;

	if (!b) {
		log_error("store", "backup: %s", sqlite3_errmsg(dst));
		return sqlite_errno(sqlite3_errcode(dst));
	}
	do {
		rc = sqlite3_backup_step(b, (int)pages);
		if (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
			pause_ms(PAUSE_MS);
	} while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		log_error("store", "backup: %s", sqlite3_errstr(rc));
		return sqlite_errno(rc);
	}
	return 0;
}

int store_backup(const struct store_conf *sc, const char *out, unsigned pages_per_step)
{
	sqlite3 *src = NULL, *dst = NULL;
	char part[600];
	struct stat stt;
	int err, rc;

	if (!sc || !out || !out[0])
		return EINVAL;
	if (sc->backend != DB_SQLITE)
		return ENOTSUP;
	if (stat(sc->path, &stt))
		return errno;
	if (!stat(out, &stt))
		return EEXIST;
	if (snprintf(part, sizeof(part), "%s.part", out) >= (int)sizeof(part))
		return ENAMETOOLONG;
	/* The copy is written beside its name and renamed when whole: a backup that stopped
	 * half-way never looks like one. */
	unlink(part);
	err = open_existing(&src, sc->path);
	/* The read transaction the whole copy reads from (see the top of this file). */
	if (!err) {
		rc = sqlite3_exec(src, "BEGIN; SELECT count(*) FROM sqlite_master", NULL, NULL,
				  NULL);
		if (rc != SQLITE_OK)
			log_error("store", "backup: %s", sqlite3_errmsg(src));
		err = sqlite_errno(rc);
	}
	if (!err) {
		rc = sqlite3_open_v2(part, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
		if (rc != SQLITE_OK)
			log_error("store", "cannot create %s: %s", part, dst ? sqlite3_errmsg(dst)
				  : sqlite3_errstr(rc));
		err = sqlite_errno(rc);
	}
	if (!err)
		err = copy(src, dst, pages_per_step ? pages_per_step : PAGES_DEFAULT);
	if (src)
		sqlite3_exec(src, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(src);
	/* Closing the copy checkpoints it into the one file (it keeps WAL mode, like the
	 * original). */
	if (dst && sqlite3_close(dst) != SQLITE_OK && !err)
		err = EIO;
	if (!err) {
		chmod(part, 0600);
		if (rename(part, out))
			err = errno;
	}
	if (err)
		unlink(part);
	return err;
}

static int integrity_row(void *arg, int n, char **vals, char **cols)
{
	char **first = arg;

	(void)cols;
	if (n > 0 && vals[0] && !*first)
		*first = sqlite3_mprintf("%s", vals[0]);
	return 0;
}

int store_integrity_check(const char *path, char *why, size_t whysz)
{
	sqlite3 *db = NULL;
	char *first = NULL;
	int err, rc;

	if (!path || !why || !whysz)
		return EINVAL;
	why[0] = '\0';
	err = open_existing(&db, path);
	if (!err) {
		rc = sqlite3_exec(db, "PRAGMA integrity_check", integrity_row, &first, NULL);
		err = sqlite_errno(rc);
		if (!err && (!first || strcmp(first, "ok"))) {
			snprintf(why, whysz, "%s", first ? first : "no answer");
			err = EBADMSG;
		}
	}
	sqlite3_free(first);
	sqlite3_close(db);
	return err;
}
