/* store: the store alone under CreateIVRSession's write pattern, for bench/api/run.sh —
 * THREADS threads each admit sessions durably (store_session_admit with the counts of the
 * default calling rules: callee per interval and per day, the caller's live calls) and
 * then queue the session's final record (store_session_finish, as the control loop does
 * when the call ends), for SECONDS. Prints
 *
 *   creates=N seconds=S rps=R transactions=T mean_group=G round_trips_per_create=P
 *
 * where transactions are the writer's commits, mean_group the writes per commit and
 * round trips those of the writer to the server (PostgreSQL), per session admitted and
 * finished.
 *
 *   store DB_PATH THREADS SECONDS full|normal
 *
 * With BENCH_PG_DSN set the store is that PostgreSQL database (the password in the file
 * BENCH_PG_PASSWORD_FILE; DB_PATH then only names the key file, DB_PATH.key). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <re_types.h>
#include <re_mem.h>
#include "base/base.h"
#include "store/store.h"

enum { MAX_THREADS = 256, CALLERS = 16 };

struct worker {
	struct store *st;
	unsigned idx;
	uint64_t end_ms;
	unsigned long done, failed;
	pthread_t thread;
};

static int admit_first(const struct store_admit_counts *c, size_t *chosen, void *arg)
{
	(void)c;
	(void)arg;
	*chosen = 0;
	return 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char caller[CALLERS][33];
	struct store_admit_query q = {.n_callers = 1};
	const struct store_session_end end = {.end_status = 208, .hungup_side = "system",
					      .end_reason = "bench"};

	for (unsigned i = 0; i < CALLERS; i++)
		snprintf(caller[i], sizeof(caller[i]), "0086755%08u", i);
	for (unsigned long n = 0; clock_mono_ms() < w->end_ms; n++) {
		struct store_session *s = NULL;
		struct store_session_end e = end;
		int64_t now = clock_unix_s();

		if (store_session_alloc(&s, "bench", NULL) || ids_session(s->id)) {
			mem_deref(s);
			w->failed++;
			continue;
		}
		s->sdkappid = 1400000000;
		s->account_id = 1;
		s->direction = 1;
		snprintf(s->callee, sizeof(s->callee), "00861%03u%07lu", w->idx, n % 10000000);
		s->ivr_id = 4600;
		s->ivr_version = 1;
		s->created_ms = clock_unix_ms();
		s->start_ts = now;
		q.callee_interval_since = now - 300 + 1;
		q.callee_daily_since = now - 86400 + 1;
		q.caller_since = now;
		q.callers[0] = caller[(w->idx + n) % CALLERS];
		q.skip = STORE_ADMIT_SKIP_CALLER_RECENT;
		if (store_session_admit(w->st, s, &q, admit_first, NULL)) {
			w->failed++;
		}
		else {
			w->done++;
			e.ended_ts = now;
			if (store_session_finish(w->st, s->id, s->sdkappid, &e, NULL, NULL))
				w->failed++;
		}
		mem_deref(s);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct store_conf sc = {.batch_max = 512};
	static struct worker w[MAX_THREADS];
	struct store_stats before, after;
	struct store *st = NULL;
	unsigned threads;
	unsigned long done = 0, failed = 0;
	uint64_t t0, t1;
	double secs;

	if (argc != 5 || atoi(argv[2]) < 1 || atoi(argv[2]) > MAX_THREADS ||
	    atof(argv[3]) <= 0 || atof(argv[3]) > 300) {
		fprintf(stderr, "usage: store DB_PATH THREADS SECONDS full|normal\n");
		return 2;
	}
	log_set_level(LOG_WARN);
	threads = (unsigned)atoi(argv[2]);
	snprintf(sc.path, sizeof(sc.path), "%s", argv[1]);
	snprintf(sc.master_key_path, sizeof(sc.master_key_path), "%s.key", argv[1]);
	sc.synchronous_full = !strcmp(argv[4], "full");
	if (getenv("BENCH_PG_DSN")) {
		sc.backend = DB_POSTGRESQL;
		snprintf(sc.dsn, sizeof(sc.dsn), "%s", getenv("BENCH_PG_DSN"));
		snprintf(sc.password_file, sizeof(sc.password_file), "%s",
			 getenv("BENCH_PG_PASSWORD_FILE") ? getenv("BENCH_PG_PASSWORD_FILE") : "");
	}
	if (store_open(&st, &sc)) {
		fprintf(stderr, "cannot open %s\n", argv[1]);
		return 1;
	}
	store_stats(st, &before);
	t0 = clock_mono_ms();
	for (unsigned i = 0; i < threads; i++) {
		w[i] = (struct worker){.st = st, .idx = i,
				       .end_ms = t0 + (uint64_t)(atof(argv[3]) * 1000)};
		pthread_create(&w[i].thread, NULL, worker_main, &w[i]);
	}
	for (unsigned i = 0; i < threads; i++) {
		pthread_join(w[i].thread, NULL);
		done += w[i].done;
		failed += w[i].failed;
	}
	store_sync(st);
	t1 = clock_mono_ms();
	store_stats(st, &after);
	secs = (double)(t1 - t0) / 1000;
	printf("creates=%lu errors=%lu seconds=%.2f rps=%.0f transactions=%llu mean_group=%.1f "
	       "round_trips_per_create=%.2f\n", done, failed, secs, (double)done / secs,
	       (unsigned long long)(after.batches - before.batches),
	       after.batches > before.batches ?
	       (double)(after.jobs - before.jobs) / (double)(after.batches - before.batches) : 0.0,
	       done ? (double)(after.round_trips - before.round_trips) / (double)done : 0.0);
	mem_deref(st);
	return failed ? 1 : 0;
}
