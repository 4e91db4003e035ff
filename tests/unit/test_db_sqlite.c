/* Unit tests of db_sqlite beyond what test_store covers: the WAL stays bounded while
 * readers never stop (checkpoint starvation; db_sqlite.c's wal_hook). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <pthread.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <re.h>
#include "base/base.h"
#include "store/store.h"
#include "store/db.h"

struct readers {
	const char *path;
	atomic_bool stop;
};

/* Two connections taking turns so that one always holds a read transaction, each only
 * about a millisecond: like API requests under steady load. */
static void *readers_main(void *arg)
{
	struct readers *r = arg;
	sqlite3 *db[2];
	int k = 0;

	for (int i = 0; i < 2; i++) {
		assert_int_equal(sqlite3_open_v2(r->path, &db[i], SQLITE_OPEN_READONLY, NULL),
				 SQLITE_OK);
		sqlite3_busy_timeout(db[i], 1000);
	}
	assert_int_equal(sqlite3_exec(db[0], "BEGIN; SELECT count(*) FROM t;", NULL, NULL, NULL),
			 SQLITE_OK);
	while (!atomic_load(&r->stop)) {
		int o = 1 - k;

		(void)sqlite3_exec(db[o], "BEGIN; SELECT count(*) FROM t;", NULL, NULL, NULL);
		usleep(500);
		(void)sqlite3_exec(db[k], "COMMIT;", NULL, NULL, NULL);
		usleep(500);
		k = o;
	}
	(void)sqlite3_exec(db[k], "COMMIT;", NULL, NULL, NULL);
	sqlite3_close(db[0]);
	sqlite3_close(db[1]);
	return NULL;
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : st.st_size;
}

static void test_wal_bounded_under_steady_readers(void **state)
{
	char dir[] = "/tmp/cccd-test-wal-XXXXXX";
	char path[64], wal[80];
	struct store_conf sc = {0};
	struct db_conn *c = NULL;
	struct readers r = {0};
	struct db_stmt *ins;
	static char blob[256 * 1024];
	pthread_t th;
	off_t wal_max = 0, wal_last = 0;
	int shrunk = 0;
	uint64_t t0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.db", dir);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	sc.backend = DB_SQLITE;
	snprintf(sc.path, sizeof(sc.path), "%s", path);
	assert_int_equal(db_open(&c, &sc, false), 0);
	assert_int_equal(db_exec(c, "CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)"), 0);
	memset(blob, 0x5a, sizeof(blob));

	r.path = path;
	assert_int_equal(pthread_create(&th, NULL, readers_main, &r), 0);
	/* At least 256 commits of 256 KiB: 64 MiB through the WAL, 16 times the point where
	 * the writer restarts it. Without the restart the WAL holds most of it. A restart
	 * that the readers made fail is tried again a second later, so on a fast machine the
	 * 256 may all land before a second try: then it goes on until the WAL was cut back,
	 * at most 2048 commits or 20 s. */
	t0 = clock_mono_ms();
	for (int i = 0; i < 2048 && (i < 256 || (!shrunk && clock_mono_ms() - t0 < 20000));
	     i++) {
		ins = db_stmt(c, "INSERT INTO t (b) VALUES (?)");
		assert_non_null(ins);
		db_bind_blob(ins, 1, blob, sizeof(blob));
		assert_int_equal(db_step(ins), DB_DONE);
		assert_int_equal(db_exec(c, "DELETE FROM t WHERE id < (SELECT max(id) FROM t) - 4"), 0);
		if (file_size(wal) < wal_last)
			shrunk++;
		wal_last = file_size(wal);
		if (wal_last > wal_max)
			wal_max = wal_last;
	}
	atomic_store(&r.stop, true);
	pthread_join(th, NULL);
	mem_deref(c);
	/* The writer restarts the WAL at 4096 pages (16 MiB at 4 KiB pages) and the file is
	 * cut back to 4 MiB then: it shrinks. Without the restart it only grows (to 131 MiB
	 * in this test). How often it restarts depends on the readers being scheduled (a
	 * reader descheduled inside its transaction delays a restart by a second), so the
	 * test asks for one restart and prints the high-water mark. */
	printf("# WAL high-water mark: %.1f MiB, cut back %d times\n",
	       (double)wal_max / (1 << 20), shrunk);
	assert_true(shrunk > 0);
	unlink(wal);
	snprintf(wal, sizeof(wal), "%s-shm", path);
	unlink(wal);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wal_bounded_under_steady_readers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
