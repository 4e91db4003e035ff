/* ccc admin: operator commands that work on cccd's database directly (tenants, IVRs). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "base/base.h"
#include "cli/cli.h"
#include "conf/conf.h"
#include "ivr/ivr.h"
#include "policy/policy.h"
#include "store/store.h"
#include "tenant/tenant.h"

enum { ADMIN_MAX_IVRS = 16, ADMIN_MAX_NUMBERS = 64 };

static const char *const ivr_types[] = {"", "inbound", "autoOutbound", "survey"};

static int read_text(const char *path, char **textp);

static int admin_usage(void)
{
	fprintf(stderr,
		"usage: ccc admin --config FILE tenant-add --sdkappid N [--name NAME]\n"
		"           [--edition advanced|standard] [--package-expires UNIX_S]\n"
		"           [--ai-channels N] [--ivr ID:TYPE[:FILE]]... [--number NUMBER]...\n"
		"           [--rules default|demo|FILE]\n"
		"       ccc admin --config FILE instance-set --sdkappid N [--edition E]\n"
		"           [--package-expires UNIX_S] [--ai-channels N] [--record yes|no]\n"
		"           [--retention-days DAYS]\n"
		"       ccc admin --config FILE number-set --sdkappid N --number NUMBER\n"
		"           [--state 1|2|4|5] [--class platform|own] [--outbound yes|no]\n"
		"           [--inbound-ivr ID]   (0 = no inbound IVR)\n"
		"       ccc admin --config FILE ivr-put --sdkappid N --ivr ID:TYPE:FILE\n"
		"       ccc admin --config FILE rules-set --sdkappid N (default|demo|FILE)\n"
		"       ccc admin --config FILE rules-show --sdkappid N\n"
		"       ccc admin --config FILE operator-add [--name NAME]\n"
		"       ccc admin --config FILE credential-add --account ID\n"
		"       ccc admin --config FILE credential-disable --secret-id AKID...\n"
		"       ccc admin --config FILE backup --out PATH\n"
		"  instance-set changes only the options given (at least one).\n"
		"  TYPE is inbound, autoOutbound or survey; without FILE the IVR is a flow\n"
		"  that hangs up at once. tenant-add prints the new account's credentials.\n"
		"  Rules are the callout rules JSON of docs/callout-rules.md; changes apply to\n"
		"  the next request, without a restart. operator-add prints the credentials\n"
		"  of a new operator account (admin actions on every instance,\n"
		"  docs/admin-api.md). credential-add prints a new credential of an account\n"
		"  (one that lost its keys); credential-disable revokes one (docs/security.md).\n"
		"  backup copies the SQLite database while cccd runs, and checks the copy\n"
		"  (docs/operations.md, Backups). --retention-days: sessions and recordings\n"
		"  kept this long, -1 = [records] retention_days, 0 = for ever.\n");
	return 2;
}

/* "default", "demo" or a file → the rule set's JSON text (checked), owned by *jsonp. */
static int rules_text(const char *arg, char **jsonp)
{
	struct policy_rules *r = NULL;
	char why[256] = "", *text = NULL;
	int err;

	if (!strcmp(arg, "default"))
		err = policy_rules_default(&r);
	else if (!strcmp(arg, "demo"))
		err = policy_rules_demo(&r);
	else {
		err = read_text(arg, &text);
		if (err) {
			fprintf(stderr, "ccc admin: cannot read %s: %s\n", arg, strerror(err));
			return err;
		}
		err = policy_rules_parse(&r, text, strlen(text), why, sizeof(why));
		mem_deref(text);
		if (err) {
			fprintf(stderr, "%s: %s\n", arg, why);
			return EINVAL;
		}
	}
	if (!err)
		err = policy_rules_json(r, jsonp);
	mem_deref(r);
	return err;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	return (!*s || *end || *s == '-' || errno) ? EINVAL : 0;
}

static int read_text(const char *path, char **textp)
{
	FILE *f = fopen(path, "rb");
	struct mbuf *mb;
	char buf[4096];
	size_t n;
	int err = 0;

	if (!f)
		return errno;
	mb = mbuf_alloc(sizeof(buf));
	while (mb && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		err |= mbuf_write_mem(mb, (uint8_t *)buf, n);
	fclose(f);
	if (!mb || err) {
		mem_deref(mb);
		return ENOMEM;
	}
	mbuf_set_pos(mb, 0);
	err = mbuf_strdup(mb, textp, mbuf_get_left(mb));
	mem_deref(mb);
	return err;
}

/* A flow is stored only if it loads, its id and type agree with the command line. */
static int flow_check(const char *file, const char *doc, const struct tenant_ivr_spec *iv)
{
	struct ivr_diag *diag = NULL;
	struct ivr_flow *flow = NULL;
	int err = ivr_flow_load(&flow, doc, strlen(doc), NULL, &diag);

	if (err) {
		if (diag)
			cli_ivr_diag_print(stderr, file, diag);
		mem_deref(diag);
		return EINVAL;
	}
	if ((int)ivr_flow_type(flow) != iv->type) {
		fprintf(stderr, "%s: the flow is of type %s, not %s\n", file,
			ivr_flow_type_name(ivr_flow_type(flow)), ivr_types[iv->type]);
		err = EINVAL;
	}
	mem_deref(flow);
	return err;
}

/* "ID:TYPE[:FILE]" → an IVR spec; the document is read or generated (owned by docs). */
static int ivr_arg(const char *arg, struct tenant_ivr_spec *iv, char **docp)
{
	char buf[600], *type, *file;
	int err;

	snprintf(buf, sizeof(buf), "%s", arg);
	type = strchr(buf, ':');
	if (!type)
		return EINVAL;
	*type++ = '\0';
	file = strchr(type, ':');
	if (file)
		*file++ = '\0';
	if (parse_u64(buf, &iv->ivr_id) || !iv->ivr_id)
		return EINVAL;
	iv->type = 0;
	for (int i = 1; i <= 3; i++) {
		if (!strcmp(type, ivr_types[i]))
			iv->type = i;
	}
	if (!iv->type)
		return EINVAL;
	if (file) {
		err = read_text(file, docp);
		if (err) {
			fprintf(stderr, "ccc admin: cannot read %s: %s\n", file, strerror(err));
			return err;
		}
		return flow_check(file, *docp, iv);
	}
	return re_sdprintf(docp, "{\"ivrId\":%llu,\"name\":\"ivr %llu\",\"type\":\"%s\","
			   "\"start\":\"start\",\"nodes\":[{\"id\":\"start\",\"type\":\"start\","
			   "\"next\":\"end\"},{\"id\":\"end\",\"type\":\"hangup\"}]}",
			   (unsigned long long)iv->ivr_id, (unsigned long long)iv->ivr_id,
			   ivr_types[iv->type]);
}

/* The country national numbers are read in, from a rule set's JSON text ("86" for none
 * or NULL): numbers given here mean what they mean to CreateIVRSession. */
static int rules_cc(const char *text, char cc[4])
{
	struct policy_rules *r = NULL;
	char why[256] = "";
	int err = 0;

	if (text && text[0]) {
		err = policy_rules_parse(&r, text, strlen(text), why, sizeof(why));
		if (err)
			fprintf(stderr, "ccc admin: the instance's calling rules: %s\n", why);
	}
	snprintf(cc, 4, "%s", policy_rules_default_cc(r));
	mem_deref(r);
	return err;
}

/* A number as given → the 00-form in country cc, or an error printed. */
static int number_arg(const char *given, const char *cc, char out[33])
{
	char why[160];
	int err = policy_number_normalise(given, cc, out, why, sizeof(why));

	if (err)
		fprintf(stderr, "ccc admin: --number %s: %s\n", given, why);
	return err;
}

static int tenant_add(struct tenant *t, int argc, char **argv)
{
	struct tenant_ivr_spec ivrs[ADMIN_MAX_IVRS] = {{0}};
	const char *numbers[ADMIN_MAX_NUMBERS];
	char norm[ADMIN_MAX_NUMBERS][33];
	char *docs[ADMIN_MAX_IVRS] = {0};
	struct tenant_spec spec = {.account_name = "", .edition = STORE_EDITION_ADVANCED,
				   .ivrs = ivrs, .numbers = numbers};
	struct tenant_provisioned p;
	char *rules = NULL;
	uint64_t v;
	int err = 0;

	for (int i = 1; i < argc && !err; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!val) {
			fprintf(stderr, "ccc admin: %s needs a value\n", opt);
			err = EINVAL;
			break;
		}
		i++;
		if (!strcmp(opt, "--sdkappid"))
			err = parse_u64(val, &spec.sdkappid);
		else if (!strcmp(opt, "--name"))
			spec.account_name = val;
		else if (!strcmp(opt, "--edition") && !strcmp(val, "advanced"))
			spec.edition = STORE_EDITION_ADVANCED;
		else if (!strcmp(opt, "--edition") && !strcmp(val, "standard"))
			spec.edition = STORE_EDITION_STANDARD;
		else if (!strcmp(opt, "--package-expires") && !(err = parse_u64(val, &v)))
			spec.package_expires_at = (int64_t)v;
		else if (!strcmp(opt, "--ai-channels") && !(err = parse_u64(val, &v)))
			spec.ai_channels = (uint32_t)v;
		else if (!strcmp(opt, "--ivr") && spec.n_ivrs < ADMIN_MAX_IVRS) {
			err = ivr_arg(val, &ivrs[spec.n_ivrs], &docs[spec.n_ivrs]);
			ivrs[spec.n_ivrs].document = docs[spec.n_ivrs];
			spec.n_ivrs++;
		}
		else if (!strcmp(opt, "--number") && spec.n_numbers < ADMIN_MAX_NUMBERS) {
			/* Read once the rules (and their country) are known. */
			numbers[spec.n_numbers++] = val;
		}
		else if (!strcmp(opt, "--rules") && !rules) {
			err = rules_text(val, &rules);
			spec.rules = rules;
		}
		else
			err = EINVAL;
		if (err)
			fprintf(stderr, "ccc admin: bad %s '%s'\n", opt, val);
	}
	if (!err && !spec.sdkappid) {
		fprintf(stderr, "ccc admin: tenant-add needs --sdkappid\n");
		err = EINVAL;
	}
	if (!err) {
		char cc[4];

		err = rules_cc(rules, cc);
		for (size_t i = 0; i < spec.n_numbers && !err; i++) {
			err = number_arg(numbers[i], cc, norm[i]);
			numbers[i] = norm[i];
		}
	}
	if (!err) {
		err = tenant_provision(t, &spec, &p);
		if (err == EEXIST)
			fprintf(stderr, "ccc admin: SdkAppId %llu already belongs to another "
				"account\n", (unsigned long long)spec.sdkappid);
		else if (err)
			fprintf(stderr, "ccc admin: tenant-add failed: %s\n", strerror(err));
	}
	if (!err)
		printf("ACCOUNT_ID=%llu\nTENCENTCLOUD_SECRET_ID=%s\nTENCENTCLOUD_SECRET_KEY=%s\n",
		       (unsigned long long)p.account_id, p.secret_id, p.secret_key);
	for (size_t i = 0; i < ADMIN_MAX_IVRS; i++)
		mem_deref(docs[i]);
	mem_deref(rules);
	return err ? (err == EINVAL ? 2 : 1) : 0;
}

/* --sdkappid N followed by the command's own options, as name/value pairs. */
static int opt_u64(int argc, char **argv, const char *name, uint64_t *v, bool *given)
{
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], name)) {
			if (given)
				*given = true;
			return parse_u64(argv[i + 1], v);
		}
	}
	return given ? 0 : ENOENT;
}

static const char *opt_str(int argc, char **argv, const char *name)
{
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], name))
			return argv[i + 1];
	}
	return NULL;
}

enum {
	ADMIN_MAX_AI_CHANNELS = 100000,   /* as CccdModifyInstance's AIChannels */
	ADMIN_MAX_RETENTION_DAYS = 36500, /* and RetentionDays */
};

/* One instance-set option and its value → the licence change; a bad one is named. */
static int instance_opt(struct store_licence *l, const char *opt, const char *val)
{
	const char *want = NULL;
	bool twice;
	uint64_t v = 0;

	if (!strcmp(opt, "--sdkappid"))
		twice = l->sdkappid != 0;
	else if (!strcmp(opt, "--edition"))
		twice = l->set_edition;
	else if (!strcmp(opt, "--package-expires"))
		twice = l->set_package_expires_at;
	else if (!strcmp(opt, "--ai-channels"))
		twice = l->set_ai_channels;
	else if (!strcmp(opt, "--record"))
		twice = l->set_record_calls;
	else if (!strcmp(opt, "--retention-days"))
		twice = l->set_retention_days;
	else {
		fprintf(stderr, "ccc admin: instance-set has no option %s\n", opt);
		return EINVAL;
	}
	if (twice) {
		fprintf(stderr, "ccc admin: %s is given twice\n", opt);
		return EINVAL;
	}
	if (!strcmp(opt, "--sdkappid")) {
		if (parse_u64(val, &l->sdkappid) || !l->sdkappid)
			want = "a positive integer";
	}
	else if (!strcmp(opt, "--edition")) {
		l->set_edition = true;
		if (!strcmp(val, "advanced"))
			l->edition = STORE_EDITION_ADVANCED;
		else if (!strcmp(val, "standard"))
			l->edition = STORE_EDITION_STANDARD;
		else
			want = "advanced or standard";
	}
	else if (!strcmp(opt, "--package-expires")) {
		l->set_package_expires_at = true;
		if (parse_u64(val, &v) || v > INT64_MAX)
			want = "Unix seconds, 0 = never";
		l->package_expires_at = (int64_t)v;
	}
	else if (!strcmp(opt, "--ai-channels")) {
		l->set_ai_channels = true;
		if (parse_u64(val, &v) || v > ADMIN_MAX_AI_CHANNELS)
			want = "0 to 100000";
		l->ai_channels = (uint32_t)v;
	}
	else if (!strcmp(opt, "--retention-days")) {
		l->set_retention_days = true;
		if (!strcmp(val, "-1"))
			l->retention_days = -1;
		else if (parse_u64(val, &v) || v > ADMIN_MAX_RETENTION_DAYS)
			want = "-1 to 36500";
		else
			l->retention_days = (int32_t)v;
	}
	else {
		l->set_record_calls = true;
		if (strcmp(val, "yes") && strcmp(val, "no"))
			want = "yes or no";
		l->record_calls = !strcmp(val, "yes");
	}
	if (want) {
		fprintf(stderr, "ccc admin: bad %s '%s' (%s)\n", opt, val, want);
		return EINVAL;
	}
	return 0;
}

/* Only the options given change, in one UPDATE inside the store's writer (the path of
 * CccdModifyInstance): an operator editing over the API at the same time keeps the
 * fields it set. A read-modify-write of the whole row here would undo them. */
static int instance_set(struct store *st, int argc, char **argv)
{
	struct store_licence l = {0};
	struct store_instance in;
	int err = 0;

	for (int i = 1; i < argc && !err; i += 2) {
		if (i + 1 >= argc) {
			fprintf(stderr, "ccc admin: %s needs a value\n", argv[i]);
			return 2;
		}
		err = instance_opt(&l, argv[i], argv[i + 1]);
	}
	if (err)
		return 2;
	if (!l.sdkappid) {
		fprintf(stderr, "ccc admin: instance-set needs --sdkappid\n");
		return 2;
	}
	if (!l.set_edition && !l.set_package_expires_at && !l.set_ai_channels &&
	    !l.set_record_calls && !l.set_retention_days) {
		fprintf(stderr, "ccc admin: instance-set needs at least one of --edition, "
			"--package-expires, --ai-channels, --record, --retention-days\n");
		return 2;
	}
	err = store_instance_licence(st, &l);
	if (!err)
		err = store_instance_get(st, l.sdkappid, &in);
	if (err) {
		fprintf(stderr, "ccc admin: instance %llu: %s\n", (unsigned long long)l.sdkappid,
			err == ENOENT ? "no such instance" : strerror(err));
		return 1;
	}
	printf("instance %llu: edition %s, package expires %lld, AI channels %u, record %s, "
	       "retention days %d\n", (unsigned long long)in.sdkappid,
	       in.edition == STORE_EDITION_ADVANCED ? "advanced" : "standard",
	       (long long)in.package_expires_at, in.ai_channels, in.record_calls ? "yes" : "no",
	       (int)in.retention_days);
	return 0;
}

static int number_set(struct store *st, int argc, char **argv)
{
	const char *number = opt_str(argc, argv, "--number"), *cls = opt_str(argc, argv, "--class");
	const char *outbound = opt_str(argc, argv, "--outbound");
	struct store_number n = {.state = 1, .outbound = true};
	uint64_t state = 0, ivr = 0;
	bool g_state = false, g_ivr = false;
	int err;

	if (!number || opt_u64(argc, argv, "--sdkappid", &n.sdkappid, NULL) ||
	    opt_u64(argc, argv, "--state", &state, &g_state) ||
	    opt_u64(argc, argv, "--inbound-ivr", &ivr, &g_ivr) ||
	    (g_state && state != 1 && state != 2 && state != 4 && state != 5) ||
	    (cls && strcmp(cls, "platform") && strcmp(cls, "own")) ||
	    (outbound && strcmp(outbound, "yes") && strcmp(outbound, "no")))
		return admin_usage();
	{
		char *text = NULL, cc[4];

		err = store_instance_rules_get(st, n.sdkappid, &text);
		if (!err)
			err = rules_cc(text, cc);
		mem_deref(text);
		if (!err && number_arg(number, cc, n.number))
			return 2;
		if (err) {
			fprintf(stderr, "ccc admin: the calling rules of instance %llu cannot be "
				"read (is there such an instance?)\n", (unsigned long long)n.sdkappid);
			return 1;
		}
	}
	{
		struct store_number cur;

		/* Options not given keep the number's current settings. */
		if (!store_number_get(st, n.sdkappid, n.number, &cur))
			n = cur;
	}
	if (g_state)
		n.state = (int)state;
	if (cls)
		n.number_class = !strcmp(cls, "own") ? 1 : 0;
	if (outbound)
		n.outbound = !strcmp(outbound, "yes");
	if (g_ivr)
		n.inbound_ivr = ivr;
	err = store_number_put(st, &n);
	if (err)
		fprintf(stderr, "ccc admin: number-set failed: %s\n", strerror(err));
	return err ? 1 : 0;
}

/* A new version of an IVR's flow (checked whole; the running version stays if it fails);
 * calls in progress keep the version they started with. */
static int ivr_put(struct store *st, int argc, char **argv)
{
	struct tenant_ivr_spec iv = {0};
	const char *spec = opt_str(argc, argv, "--ivr");
	uint64_t sdkappid;
	uint32_t version;
	char *doc = NULL;
	int err;

	if (!spec || !strchr(strchr(spec, ':') ? strchr(spec, ':') + 1 : "", ':') ||
	    opt_u64(argc, argv, "--sdkappid", &sdkappid, NULL))
		return admin_usage();
	err = ivr_arg(spec, &iv, &doc);
	if (!err)
		err = store_ivr_put(st, sdkappid, iv.ivr_id, "", (enum store_ivr_type)iv.type, doc,
				    &version);
	if (!err)
		printf("IVR %llu of instance %llu: version %u\n", (unsigned long long)iv.ivr_id,
		       (unsigned long long)sdkappid, version);
	else if (err != EINVAL)
		fprintf(stderr, "ccc admin: ivr-put failed: %s\n", strerror(err));
	mem_deref(doc);
	return err ? 1 : 0;
}

/* An operator account: its credential may call the operator admin actions (licences) on
 * every instance. Prints the credential once, like tenant-add. */
static int operator_add(struct tenant *t, struct store *st, int argc, char **argv)
{
	const char *name = opt_str(argc, argv, "--name");
	char secret_id[64], secret_key[128];
	uint64_t id;
	int err;

	err = store_account_create(st, name ? name : "operator", &id);
	if (!err)
		err = store_account_operator_set(st, id, true);
	if (!err)
		err = tenant_credential_create(t, id, secret_id, secret_key);
	if (err) {
		fprintf(stderr, "ccc admin: operator-add failed: %s\n", strerror(err));
		return 1;
	}
	printf("ACCOUNT_ID=%llu\nTENCENTCLOUD_SECRET_ID=%s\nTENCENTCLOUD_SECRET_KEY=%s\n",
	       (unsigned long long)id, secret_id, secret_key);
	return 0;
}

/* A new credential for an existing account (a tenant that lost every key cannot make one
 * through the API). Printed once, like tenant-add. */
static int credential_add(struct tenant *t, struct store *st, int argc, char **argv)
{
	char secret_id[64], secret_key[128];
	uint64_t id;
	bool op;
	int err;

	if (opt_u64(argc, argv, "--account", &id, NULL))
		return admin_usage();
	err = store_account_is_operator(st, id, &op);
	if (!err)
		err = tenant_credential_create(t, id, secret_id, secret_key);
	if (err) {
		fprintf(stderr, "ccc admin: credential-add failed: %s\n",
			err == ENOENT ? "no such account" : strerror(err));
		return 1;
	}
	printf("ACCOUNT_ID=%llu\nTENCENTCLOUD_SECRET_ID=%s\nTENCENTCLOUD_SECRET_KEY=%s\n",
	       (unsigned long long)id, secret_id, secret_key);
	return 0;
}

/* Revokes a credential of any account; a running cccd refuses it within 5 s. */
static int credential_disable(struct tenant *t, int argc, char **argv)
{
	const char *id = opt_str(argc, argv, "--secret-id");
	int err;

	if (!id)
		return admin_usage();
	err = tenant_credential_disable(t, id, 0);
	if (err) {
		fprintf(stderr, "ccc admin: credential-disable failed: %s\n",
			err == ENOENT ? "no such credential" : strerror(err));
		return 1;
	}
	return 0;
}

static int rules_set(struct store *st, int argc, char **argv)
{
	uint64_t sdkappid;
	char *rules = NULL;
	int err;

	if (argc != 4 || opt_u64(argc - 1, argv, "--sdkappid", &sdkappid, NULL))
		return admin_usage();
	err = rules_text(argv[3], &rules);
	if (!err)
		err = store_instance_rules_put(st, sdkappid, rules);
	if (err == ENOENT)
		fprintf(stderr, "ccc admin: no instance %llu\n", (unsigned long long)sdkappid);
	mem_deref(rules);
	return err ? 1 : 0;
}

static int rules_show(struct store *st, int argc, char **argv)
{
	struct policy_rules *r = NULL;
	uint64_t sdkappid;
	char *text = NULL, *json = NULL, why[256] = "";
	int err;

	if (opt_u64(argc, argv, "--sdkappid", &sdkappid, NULL))
		return admin_usage();
	err = store_instance_rules_get(st, sdkappid, &text);
	if (!err)
		err = text[0] ? policy_rules_parse(&r, text, strlen(text), why, sizeof(why))
			      : policy_rules_default(&r);
	if (!err)
		err = policy_rules_json(r, &json);
	if (!err)
		printf("%s\n", json);
	else
		fprintf(stderr, "ccc admin: rules of %llu: %s\n", (unsigned long long)sdkappid,
			why[0] ? why : strerror(err));
	mem_deref(text);
	mem_deref(json);
	mem_deref(r);
	return err ? 1 : 0;
}

int cli_admin(int argc, char **argv)
{
	struct store_conf sc;
	struct conf_err cerr = {0};
	struct conf *cf = NULL;
	struct store *st = NULL;
	struct tenant *t = NULL;
	int rc;

	if (argc < 4 || strcmp(argv[1], "--config"))
		return admin_usage();
	if (conf_load(&cf, argv[2], &cerr) || store_conf_read(cf, &sc, &cerr)) {
		fprintf(stderr, "%s:%u: %s\n", argv[2], cerr.line, cerr.msg);
		mem_deref(cf);
		return 1;
	}
	mem_deref(cf);
	log_set_level(LOG_WARN);
	/* A backup reads the file as it is, whatever its schema, without the store's
	 * writer: it needs no store of its own. */
	if (!strcmp(argv[3], "backup"))
		return cli_admin_backup(&sc, argc - 3, argv + 3);
	sc.keep_schema = true; /* a live cccd may serve this database: cccd migrates it */
	if (store_open(&st, &sc) || tenant_open(&t, st, sc.master_key_path)) {
		fprintf(stderr, "ccc admin: cannot open the database %s\n", sc.path);
		mem_deref(st);
		return 1;
	}
	if (!strcmp(argv[3], "tenant-add"))
		rc = tenant_add(t, argc - 3, argv + 3);
	else if (!strcmp(argv[3], "instance-set"))
		rc = instance_set(st, argc - 3, argv + 3);
	else if (!strcmp(argv[3], "number-set"))
		rc = number_set(st, argc - 3, argv + 3);
	else if (!strcmp(argv[3], "ivr-put"))
		rc = ivr_put(st, argc - 3, argv + 3);
	else if (!strcmp(argv[3], "rules-set"))
		rc = rules_set(st, argc - 3, argv + 3);
	else if (!strcmp(argv[3], "rules-show"))
		rc = rules_show(st, argc - 3, argv + 3);
	else if (!strcmp(argv[3], "operator-add"))
		rc = operator_add(t, st, argc - 3, argv + 3);
	else if (!strcmp(argv[3], "credential-add"))
		rc = credential_add(t, st, argc - 3, argv + 3);
	else if (!strcmp(argv[3], "credential-disable"))
		rc = credential_disable(t, argc - 3, argv + 3);
	else
		rc = admin_usage();
	mem_deref(t);
	mem_deref(st);
	return rc;
}
