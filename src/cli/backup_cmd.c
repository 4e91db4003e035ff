/* ccc admin backup: an online copy of cccd's SQLite database while cccd runs
 * (store_backup: one read snapshot, copied a few hundred pages at a time, never blocking
 * cccd's writer), then PRAGMA integrity_check of the copy. docs/operations.md §Backups
 * has the drill: backup, restore, verify. PostgreSQL is backed up with pg_dump. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "base/base.h"
#include "cli/cli.h"
#include "store/store.h"

int cli_admin_backup(const struct store_conf *sc, int argc, char **argv)
{
	const char *out = NULL;
	char why[256];
	int err;

	for (int i = 1; i < argc; i += 2) {
		if (!strcmp(argv[i], "--out") && i + 1 < argc && !out)
			out = argv[i + 1];
		else {
			fprintf(stderr, "ccc admin: backup takes --out PATH (once)\n");
			return 2;
		}
	}
	if (!out) {
		fprintf(stderr, "ccc admin: backup needs --out PATH\n");
		return 2;
	}
	if (sc->backend != DB_SQLITE) {
		fprintf(stderr, "ccc admin: [store] backend is postgresql: back it up with "
			"pg_dump (docs/operations.md, Backups)\n");
		return 1;
	}
	err = store_backup(sc, out, 0);
	if (err) {
		fprintf(stderr, "ccc admin: backup of %s to %s failed: %s\n", sc->path, out,
			err == EEXIST ? "the file exists already" : strerror(err));
		return 1;
	}
	err = store_integrity_check(out, why, sizeof(why));
	if (err) {
		fprintf(stderr, "ccc admin: the copy %s fails its integrity check: %s\n", out,
			err == EBADMSG ? why : strerror(err));
		return 1;
	}
	printf("backup of %s written to %s (integrity check ok); the master key %s is not "
	       "in it: keep a copy of that file apart from the backup\n", sc->path, out,
	       sc->master_key_path);
	return 0;
}
