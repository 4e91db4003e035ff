/* ccc push: data push settings per instance, and the outbox for operators (list, resend),
 * working on cccd's database directly like `ccc admin`. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include <re_types.h>
#include <re_mem.h>
#include "base/base.h"
#include "cli/cli.h"
#include "conf/conf.h"
#include "push/push.h"
#include "store/store.h"
#include "tenant/tenant.h"

static int push_usage(void)
{
	fprintf(stderr,
		"usage: ccc push config --config FILE --sdkappid N [--url URL]\n"
		"           [--auth none|basic|oauth2] [--user NAME] [--password P | --password-file F]\n"
		"           [--token-url URL] [--client-id ID]\n"
		"           [--client-secret S | --client-secret-file F]\n"
		"           [--events cdr,record,voicemail,event] [--retry-schedule 10s,60s,300s|default]\n"
		"           [--event-retry-schedule 10s|default] [--timeout-ms N] [--enable|--disable]\n"
		"       ccc push config --config FILE --sdkappid N --show | --delete\n"
		"       ccc push list --config FILE [--sdkappid N] [--state pending|delivered|dead]\n"
		"           [--session ID] [--id PUSHID] [--action A] [--limit N] [--json]\n"
		"       ccc push resend --config FILE (--id PUSHID | --session ID |\n"
		"           --since UNIX_S --until UNIX_S [--action A]) [--sdkappid N]\n"
		"  config creates or changes an instance's push settings (only the options given\n"
		"  change; a new one needs --url and pushes cdr,record,voicemail). Secrets are\n"
		"  sealed in the database; prefer the -file forms (command lines are visible).\n"
		"  resend re-queues rows in any state, keeping their push ids.\n");
	return 2;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	return (!*s || *end || *s == '-' || errno) ? EINVAL : 0;
}

/* A secret from a file: its first line. */
static int secret_file(const char *path, char *out, size_t sz)
{
	FILE *f = fopen(path, "r");
	int err = 0;

	if (!f)
		return errno;
	if (!fgets(out, (int)sz, f))
		err = ferror(f) ? EIO : EINVAL;
	fclose(f);
	if (!err)
		out[strcspn(out, "\r\n")] = '\0';
	return err;
}

static int copy_opt(char *dst, size_t sz, const char *val)
{
	if (strlen(val) >= sz)
		return EINVAL;
	strcpy(dst, val);
	return 0;
}

static void settings_show(const struct push_settings *ps)
{
	static const char *const auths[] = {"none", "basic", "oauth2"};
	char events[64], sched[160];

	push_events_format(ps->events, events, sizeof(events));
	printf("sdkappid=%" PRIu64 "\nenabled=%s\nurl=%s\nauth=%s\n", ps->sdkappid,
	       ps->enabled ? "yes" : "no", ps->url,
	       (unsigned)ps->auth < 3 ? auths[ps->auth] : "?");
	if (ps->auth == STORE_PUSH_AUTH_BASIC)
		printf("user=%s\npassword=%s\n", ps->user, *ps->secret ? "(set)" : "(empty)");
	if (ps->auth == STORE_PUSH_AUTH_OAUTH2)
		printf("token_url=%s\nclient_id=%s\nclient_secret=(set)\n", ps->token_url,
		       ps->user);
	printf("events=%s\n", events);
	push_schedule_format(&ps->retry, sched, sizeof(sched));
	printf("retry_schedule=%s\n", ps->retry_set ? sched : "default");
	push_schedule_format(&ps->event_retry, sched, sizeof(sched));
	printf("event_retry_schedule=%s\n", ps->event_retry_set ? sched : "default");
	if (ps->timeout_ms)
		printf("timeout_ms=%" PRIu32 "\n", ps->timeout_ms);
	else
		printf("timeout_ms=default\n");
}

static int cmd_config(struct tenant *t, int argc, char **argv)
{
	struct push_settings ps;
	uint64_t sdkappid = 0, v;
	bool show = false, del = false, exists;
	const char *auth = NULL;
	char why[200];
	int err = 0;

	/* First pass: which instance, and what to do. */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--show"))
			show = true;
		else if (!strcmp(argv[i], "--delete"))
			del = true;
		else if (!strcmp(argv[i], "--sdkappid") && i + 1 < argc &&
			 parse_u64(argv[i + 1], &sdkappid))
			sdkappid = 0;
		else if (!strcmp(argv[i], "--auth") && i + 1 < argc)
			auth = argv[i + 1];
	}
	if (!sdkappid) {
		fprintf(stderr, "ccc push config: needs --sdkappid N\n");
		return 2;
	}
	err = push_settings_get(t, sdkappid, &ps);
	if (err && err != ENOENT) {
		fprintf(stderr, "ccc push config: cannot read the settings of %" PRIu64 ": %s\n",
			sdkappid, strerror(err));
		return 1;
	}
	exists = !err;
	err = 0;
	if (show || del) {
		if (!exists) {
			fprintf(stderr, "ccc push config: instance %" PRIu64 " has no push "
				"settings\n", sdkappid);
			return 1;
		}
		if (show)
			settings_show(&ps);
		else if ((err = store_push_conf_delete(tenant_store(t), sdkappid)))
			fprintf(stderr, "ccc push config: delete failed: %s\n", strerror(err));
		memset(&ps, 0, sizeof(ps));
		return err ? 1 : 0;
	}
	if (!exists) {
		memset(&ps, 0, sizeof(ps));
		ps.sdkappid = sdkappid;
		ps.enabled = true;
		ps.events = STORE_PUSH_CDR | STORE_PUSH_RECORD | STORE_PUSH_VOICEMAIL;
	}
	/* Another method starts from nothing: a basic password is no client secret. */
	if (auth && (strcmp(auth, "none") || ps.auth != STORE_PUSH_AUTH_NONE) &&
	    (strcmp(auth, "basic") || ps.auth != STORE_PUSH_AUTH_BASIC) &&
	    (strcmp(auth, "oauth2") || ps.auth != STORE_PUSH_AUTH_OAUTH2)) {
		memset(ps.user, 0, sizeof(ps.user));
		memset(ps.secret, 0, sizeof(ps.secret));
		memset(ps.token_url, 0, sizeof(ps.token_url));
	}

	for (int i = 1; i < argc && !err; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(opt, "--enable")) {
			ps.enabled = true;
			continue;
		}
		if (!strcmp(opt, "--disable")) {
			ps.enabled = false;
			continue;
		}
		if (!val) {
			fprintf(stderr, "ccc push config: %s needs a value\n", opt);
			err = EINVAL;
			break;
		}
		i++;
		if (!strcmp(opt, "--sdkappid"))
			continue;
		else if (!strcmp(opt, "--url"))
			err = copy_opt(ps.url, sizeof(ps.url), val);
		else if (!strcmp(opt, "--auth")) {
			if (!strcmp(val, "none"))
				ps.auth = STORE_PUSH_AUTH_NONE;
			else if (!strcmp(val, "basic"))
				ps.auth = STORE_PUSH_AUTH_BASIC;
			else if (!strcmp(val, "oauth2"))
				ps.auth = STORE_PUSH_AUTH_OAUTH2;
			else
				err = EINVAL;
		}
		else if (!strcmp(opt, "--user") || !strcmp(opt, "--client-id"))
			err = copy_opt(ps.user, sizeof(ps.user), val);
		else if (!strcmp(opt, "--password") || !strcmp(opt, "--client-secret"))
			err = copy_opt(ps.secret, sizeof(ps.secret), val);
		else if (!strcmp(opt, "--password-file") || !strcmp(opt, "--client-secret-file"))
			err = secret_file(val, ps.secret, sizeof(ps.secret));
		else if (!strcmp(opt, "--token-url"))
			err = copy_opt(ps.token_url, sizeof(ps.token_url), val);
		else if (!strcmp(opt, "--events"))
			err = push_events_parse(val, &ps.events);
		else if (!strcmp(opt, "--retry-schedule")) {
			ps.retry_set = strcmp(val, "default") != 0;
			err = ps.retry_set ? push_schedule_parse(val, &ps.retry) : 0;
		}
		else if (!strcmp(opt, "--event-retry-schedule")) {
			ps.event_retry_set = strcmp(val, "default") != 0;
			err = ps.event_retry_set ? push_schedule_parse(val, &ps.event_retry) : 0;
		}
		else if (!strcmp(opt, "--timeout-ms") && !(err = parse_u64(val, &v)))
			ps.timeout_ms = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
		else if (strcmp(opt, "--timeout-ms"))
			err = EINVAL;
		if (err)
			fprintf(stderr, "ccc push config: bad %s '%s'\n", opt,
				strstr(opt, "secret") || strstr(opt, "password") ? "..." : val);
	}
	if (!err && !*ps.url) {
		fprintf(stderr, "ccc push config: a new push configuration needs --url\n");
		err = EINVAL;
	}
	if (!err && push_settings_check(&ps, why, sizeof(why))) {
		fprintf(stderr, "ccc push config: %s\n", why);
		err = EINVAL;
	}
	if (!err) {
		err = push_settings_put(t, &ps);
		if (err == ENOENT)
			fprintf(stderr, "ccc push config: no instance %" PRIu64 "\n", sdkappid);
		else if (err)
			fprintf(stderr, "ccc push config: cannot store the settings: %s\n",
				strerror(err));
		else
			settings_show(&ps);
	}
	memset(&ps, 0, sizeof(ps));
	return err ? (err == EINVAL ? 2 : 1) : 0;
}

/* What list and resend were given besides the filter. */
struct filter_opts {
	bool list;          /* list's own options allowed */
	bool json;
	bool since, until;  /* given (0 is a valid time) */
};

/* Options shared by list and resend → a filter (strings point into argv). */
static int filter_args(const char *cmd, int argc, char **argv, struct store_outbox_filter *f,
		       struct filter_opts *o)
{
	enum store_outbox_state st;
	uint64_t v;
	int err = 0;

	memset(f, 0, sizeof(*f));
	f->state = -1;
	for (int i = 1; i < argc && !err; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(opt, "--json") && o->list) {
			o->json = true;
			continue;
		}
		if (!val) {
			fprintf(stderr, "ccc push %s: %s needs a value\n", cmd, opt);
			return EINVAL;
		}
		i++;
		if (!strcmp(opt, "--sdkappid"))
			err = parse_u64(val, &f->sdkappid);
		else if (!strcmp(opt, "--id"))
			f->id = val;
		else if (!strcmp(opt, "--session"))
			f->session_id = val;
		else if (!strcmp(opt, "--action")) {
			unsigned bit;

			f->action = val;
			err = push_events_parse(val, &bit) || !bit || strchr(val, ',') ? EINVAL : 0;
		}
		else if (!strcmp(opt, "--state") && o->list) {
			err = store_outbox_state_parse(val, &st);
			if (!err)
				f->state = (int)st;
		}
		else if (!strcmp(opt, "--limit") && o->list) {
			err = parse_u64(val, &v);
			if (!err)
				f->limit = v > 1000000 ? 1000000 : (unsigned)v;
		}
		else if (!strcmp(opt, "--since") || !strcmp(opt, "--until")) {
			err = parse_u64(val, &v);
			if (!err && v > INT64_MAX / 1000)
				err = EINVAL;
			if (!err && !strcmp(opt, "--since")) {
				f->since_ms = (int64_t)v * 1000;
				o->since = true;
			}
			else if (!err) {
				f->until_ms = (int64_t)v * 1000;
				o->until = true;
			}
		}
		else
			err = EINVAL;
		if (err)
			fprintf(stderr, "ccc push %s: bad %s '%s'\n", cmd, opt, val);
	}
	return err;
}

static void time_format(int64_t ms, char *buf, size_t sz)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	if (!ms) {
		snprintf(buf, sz, "-");
		return;
	}
	gmtime_r(&s, &tm);
	strftime(buf, sz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int list_row(struct store_outbox_row *r, void *arg)
{
	bool json = *(bool *)arg;
	char created[32], when[32];

	if (json) {
		json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:s, s:i, s:i, s:I, s:I, s:I, s:s, s:s}",
				      "id", r->id, "sdkappid", (json_int_t)r->sdkappid,
				      "sessionId", r->session_id, "action", r->action,
				      "state", store_outbox_state_name(r->state),
				      "attempts", (int)r->attempts, "replays", (int)r->replays,
				      "createdMs", (json_int_t)r->created_ms,
				      "nextMs", (json_int_t)r->next_ms,
				      "doneMs", (json_int_t)r->done_ms,
				      "lastError", r->last_error, "body", r->body);
		char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

		json_decref(o);
		if (!text)
			return ENOMEM;
		printf("%s\n", text);
		free(text);
		return 0;
	}
	time_format(r->created_ms, created, sizeof(created));
	time_format(r->state == STORE_OUTBOX_PENDING ? r->next_ms : r->done_ms, when, sizeof(when));
	printf("%-36s %-10" PRIu64 " %-32s %-9s %-9s %3u %-20s %-20s %s\n", r->id, r->sdkappid,
	       r->session_id, r->action, store_outbox_state_name(r->state), r->attempts, created,
	       when, r->last_error);
	return 0;
}

static int cmd_list(struct store *st, int argc, char **argv)
{
	struct store_outbox_filter f;
	struct filter_opts o = {.list = true};
	int err = filter_args("list", argc, argv, &f, &o);

	if (err)
		return 2;
	if (!o.json)
		printf("%-36s %-10s %-32s %-9s %-9s %3s %-20s %-20s %s\n", "PUSH ID", "SDKAPPID",
		       "SESSION", "ACTION", "STATE", "TRY", "CREATED", "NEXT/DONE", "LAST ERROR");
	err = store_outbox_list(st, &f, list_row, &o.json);
	if (err)
		fprintf(stderr, "ccc push list: %s\n", strerror(err));
	return err ? 1 : 0;
}

static int cmd_resend(struct store *st, int argc, char **argv)
{
	struct store_outbox_filter f;
	unsigned n = 0;
	struct filter_opts o = {.list = false};
	int err = filter_args("resend", argc, argv, &f, &o);

	if (err)
		return 2;
	if (!f.id && !f.session_id && !(o.since && o.until)) {
		fprintf(stderr, "ccc push resend: choose rows with --id, --session, or --since "
			"and --until\n");
		return 2;
	}
	if (o.since && o.until && f.since_ms >= f.until_ms) {
		fprintf(stderr, "ccc push resend: --since must be before --until\n");
		return 2;
	}
	err = store_outbox_resend(st, &f, &n);
	if (err) {
		fprintf(stderr, "ccc push resend: %s\n", strerror(err));
		return 1;
	}
	printf("re-queued %u push%s\n", n, n == 1 ? "" : "es");
	return 0;
}

int cli_push(int argc, char **argv)
{
	struct store_conf sc;
	struct conf_err cerr = {0};
	struct conf *cf = NULL;
	struct store *st = NULL;
	struct tenant *t = NULL;
	const char *sub;
	int rc;

	if (argc < 4 || strcmp(argv[2], "--config"))
		return push_usage();
	sub = argv[1];
	if (strcmp(sub, "config") && strcmp(sub, "list") && strcmp(sub, "resend"))
		return push_usage();
	if (conf_load(&cf, argv[3], &cerr) || store_conf_read(cf, &sc, &cerr)) {
		fprintf(stderr, "%s:%u: %s\n", argv[3], cerr.line, cerr.msg);
		mem_deref(cf);
		return 1;
	}
	mem_deref(cf);
	log_set_level(LOG_WARN);
	sc.keep_schema = true; /* a live cccd may serve this database: cccd migrates it */
	if (store_open(&st, &sc) || tenant_open(&t, st, sc.master_key_path)) {
		fprintf(stderr, "ccc push: cannot open the database %s\n", sc.path);
		mem_deref(st);
		return 1;
	}
	/* argv from here: the subcommand's options, argv[0] the subcommand. */
	argv[3] = argv[1];
	if (!strcmp(sub, "config"))
		rc = cmd_config(t, argc - 3, argv + 3);
	else if (!strcmp(sub, "list"))
		rc = cmd_list(st, argc - 3, argv + 3);
	else
		rc = cmd_resend(st, argc - 3, argv + 3);
	mem_deref(t);
	mem_deref(st);
	return rc;
}
