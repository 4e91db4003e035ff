/* push_driver: runs the store, the tenant and the push thread as cccd does, for
 * push.test.mjs — which adds outbox rows through it and watches a real HTTP receiver.
 *
 *   push_driver CONFIG     reads [log], [store] and [push]; prints "ready" once pushing,
 *                          then runs one command per stdin line:
 *     add SDKAPPID SESSION ACTION BODY    queue a push → "added PUSHID" or "skipped"
 *     stats                               → "stats delivered=N failures=N dead=N inflight=N"
 *     quit (or end of input)              stop as cccd does (bounded flush) → "bye"
 *
 * It exits by itself after DRIVER_LIFETIME_S so that a test that forgets it leaves
 * nothing running. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <re_types.h>
#include <re_mem.h>
#include "base/base.h"
#include "conf/conf.h"
#include "push/push.h"
#include "store/store.h"
#include "tenant/tenant.h"

enum { DRIVER_LIFETIME_S = 120 };

static int conf_read_all(const char *path, enum log_level *level, struct store_conf *sc,
			 struct push_conf *pc, struct conf_err *err)
{
	static const char *const levels[] = {"debug", "info", "warn", "error", NULL};
	struct conf *cf = NULL;
	int idx, rc = conf_load(&cf, path, err);

	if (rc)
		return rc;
	rc = conf_choice(conf_section_first(cf, "log"), "level", "info", levels, &idx, err);
	*level = (enum log_level)idx;
	rc = rc ? rc : store_conf_read(cf, sc, err);
	rc = rc ? rc : push_conf_read(cf, pc, err);
	rc = rc ? rc : conf_unused(cf, err);
	mem_deref(cf);
	return rc;
}

static void add(struct store *st, char *args)
{
	char *sdk = strtok(args, " "), *sid = strtok(NULL, " "), *action = strtok(NULL, " ");
	char *body = strtok(NULL, "\n"), id[37];
	int err;

	if (!sdk || !sid || !action || !body) {
		printf("error add needs SDKAPPID SESSION ACTION BODY\n");
		return;
	}
	err = store_outbox_enqueue(st, strtoull(sdk, NULL, 10), sid, action, body, id);
	if (err)
		printf("error %s\n", strerror(err));
	else if (*id)
		printf("added %s\n", id);
	else
		printf("skipped\n");
}

int main(int argc, char **argv)
{
	struct store_conf sc;
	struct push_conf pc;
	struct conf_err cerr = {0};
	enum log_level level;
	struct store *st = NULL;
	struct tenant *t = NULL;
	struct push *p = NULL;
	char line[65536];
	int rc = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: push_driver CONFIG\n");
		return 2;
	}
	alarm(DRIVER_LIFETIME_S);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (conf_read_all(argv[1], &level, &sc, &pc, &cerr)) {
		fprintf(stderr, "%s:%u: %s\n", argv[1], cerr.line, cerr.msg);
		return 1;
	}
	log_set_level(level);
	if (store_open(&st, &sc) || tenant_open(&t, st, sc.master_key_path) ||
	    push_alloc(&p, st, t, &pc)) {
		fprintf(stderr, "push_driver: cannot start\n");
		goto out;
	}
	printf("ready\n");
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "add ", 4)) {
			add(st, line + 4);
		}
		else if (!strcmp(line, "stats")) {
			struct push_stats s;

			push_stats_get(p, &s);
			printf("stats delivered=%" PRIu64 " failures=%" PRIu64 " dead=%" PRIu64
			       " inflight=%" PRIu64 "\n", s.delivered, s.failures, s.dead,
			       s.in_flight);
		}
		else if (!strcmp(line, "quit")) {
			break;
		}
		else {
			printf("error unknown command\n");
		}
	}
	rc = 0;
out:
	mem_deref(p);
	mem_deref(t);
	mem_deref(st);
	printf("bye\n");
	return rc;
}
