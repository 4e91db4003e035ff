/* demo: provisions the demo tenant on first start and writes its credentials file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <re.h>
#include "base/base.h"
#include "conf/conf.h"
#include "console/console.h"
#include "demo/demo.h"
#include "ivr/ivr.h"
#include "policy/policy.h"
#include "push/push.h"
#include "store/store.h"
#include "tenant/tenant.h"

static int copy_str(char *dst, size_t sz, const char *src, const struct conf_section *sec,
		    const char *key, struct conf_err *err)
{
	if (strlen(src) >= sz) {
		conf_err_set(err, conf_key_line(sec, key), "'%s' is longer than %zu characters",
			     key, sz - 1);
		return EINVAL;
	}
	strcpy(dst, src);
	return 0;
}

/* The push URL is checked when the file is read, so --check-config names its line. */
static int url_check(const struct demo_conf *dc, const struct conf_section *sec,
		     struct conf_err *err)
{
	struct push_settings ps = {.sdkappid = dc->sdkappid, .enabled = true,
				   .auth = STORE_PUSH_AUTH_NONE, .events = STORE_PUSH_CDR};
	char why[200];
	int rc;

	snprintf(ps.url, sizeof(ps.url), "%s", dc->push_url);
	rc = push_settings_check(&ps, why, sizeof(why));
	if (rc)
		conf_err_set(err, conf_key_line(sec, "push_url"), "'push_url': %s "
			     "(\"\" for no push)", why);
	return rc;
}

int demo_conf_read(const struct conf *cf, struct demo_conf *dc, struct conf_err *err)
{
	const struct conf_section *sec = conf_section_first(cf, "demo");
	const struct conf_section *api = conf_section_first(cf, "api");
	const char *ivr_file, *caller, *creds, *listen, *push_url;
	int rc;

	memset(dc, 0, sizeof(*dc));
	rc = conf_bool(sec, "provision", false, &dc->provision, err);
	rc = rc ? rc : conf_uint(sec, "sdkappid", 1400000000, 1, INT64_MAX, &dc->sdkappid, err);
	rc = rc ? rc : conf_uint(sec, "ivr_id", 4500, 1, INT64_MAX, &dc->ivr_id, err);
	rc = rc ? rc : conf_str(sec, "ivr_file", "demo/flows/4500.json", &ivr_file, err);
	rc = rc ? rc : conf_str(sec, "caller", "008675512345678", &caller, err);
	rc = rc ? rc : conf_str(sec, "credentials_file", "var/demo-credentials.env", &creds, err);
	rc = rc ? rc : conf_str(sec, "push_url", "http://127.0.0.1:9090/push", &push_url, err);
	rc = rc ? rc : copy_str(dc->push_url, sizeof(dc->push_url), push_url, sec, "push_url", err);
	rc = rc ? rc : copy_str(dc->ivr_file, sizeof(dc->ivr_file), ivr_file, sec, "ivr_file", err);
	rc = rc ? rc : copy_str(dc->caller, sizeof(dc->caller), caller, sec, "caller", err);
	rc = rc ? rc : copy_str(dc->credentials_file, sizeof(dc->credentials_file), creds, sec,
				"credentials_file", err);
	if (rc)
		return rc;
	if (dc->push_url[0])
		rc = url_check(dc, sec, err);
	if (rc)
		return rc;
	if (strspn(dc->caller, "0123456789") != strlen(dc->caller) || strncmp(dc->caller, "00", 2) ||
	    strlen(dc->caller) < 6) {
		conf_err_set(err, conf_key_line(sec, "caller"), "'caller' must be a number in "
			     "00-form (00, country code, number), not '%s'", dc->caller);
		return EINVAL;
	}
	/* The endpoint clients use is where the API listens; the [api] section owns that key,
	 * so only peek at it here (the api module validates it). */
	listen = NULL;
	if (api)
		(void)conf_str(api, "listen", "127.0.0.1:8080", &listen, NULL);
	snprintf(dc->endpoint, sizeof(dc->endpoint), "%s", listen ? listen : "127.0.0.1:8080");
	return 0;
}

static int read_file(const char *path, char **textp)
{
	FILE *f = fopen(path, "rb");
	char *text;
	long n;

	if (!f)
		return errno;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || n > (1 << 20) || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return EFBIG;
	}
	text = mem_zalloc((size_t)n + 1, NULL);
	if (!text || fread(text, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		mem_deref(text);
		return text ? EIO : ENOMEM;
	}
	fclose(f);
	*textp = text;
	return 0;
}

/* The demo's web console administrator, "admin", with a random password. Argon2id here
 * runs on the main thread at first start, before the control loop exists. */
static int console_admin(struct tenant *t, const struct demo_conf *dc, char *pw, size_t sz)
{
	struct store_console_user u = {.sdkappid = dc->sdkappid, .name = "admin",
				       .role = "administrator", .created_at = clock_unix_ms() / 1000};
	int err = ids_token(pw, sz);

	if (!err)
		err = console_password_hash(pw, u.pw_hash, sizeof(u.pw_hash));
	if (!err)
		err = store_console_user_add(tenant_store(t), &u);
	return err;
}

static int write_credentials(const struct demo_conf *dc, const struct tenant_provisioned *p,
			     const char *console_pw)
{
	char tmp[600];
	FILE *f;
	int fd, err = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", dc->credentials_file);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return errno;
	}
	fprintf(f, "TENCENTCLOUD_SECRET_ID=%s\nTENCENTCLOUD_SECRET_KEY=%s\nCCC_ENDPOINT=%s\n"
		"CCCD_CONSOLE_URL=http://%s/console/\nCCCD_CONSOLE_USER=admin\n"
		"CCCD_CONSOLE_PASSWORD=%s\n", p->secret_id, p->secret_key, dc->endpoint,
		dc->endpoint, console_pw);
	if (fflush(f) || fsync(fd))
		err = errno ? errno : EIO;
	if (fclose(f) && !err)
		err = errno ? errno : EIO;
	if (!err && rename(tmp, dc->credentials_file))
		err = errno;
	return err;
}

int demo_provision(struct tenant *t, const struct demo_conf *dc)
{
	const char *numbers[] = {dc->caller};
	struct tenant_ivr_spec ivr = {.ivr_id = dc->ivr_id, .type = STORE_IVR_AUTO_OUTBOUND,
				      .name = "demo"};
	struct tenant_spec spec = {
		.account_name = "demo",
		.sdkappid = dc->sdkappid,
		.edition = STORE_EDITION_ADVANCED,
		.ivrs = &ivr,
		.n_ivrs = 1,
		.numbers = numbers,
		.n_numbers = 1,
	};
	struct tenant_provisioned p;
	char console_pw[21];
	char *doc = NULL;
	bool empty;
	int err;

	if (!dc->provision)
		return 0;
	err = store_is_empty(tenant_store(t), &empty);
	if (err || !empty)
		return err;

	err = read_file(dc->ivr_file, &doc);
	if (err) {
		log_error("demo", "cannot read the demo IVR %s: %s", dc->ivr_file, strerror(err));
		return err;
	}
	{
		struct ivr_diag *diag = NULL;
		struct ivr_flow *flow = NULL;

		err = ivr_flow_load(&flow, doc, strlen(doc), NULL, &diag);
		if (err) {
			log_error("demo", "the demo IVR %s does not load: %s%s%s", dc->ivr_file,
				  diag && diag->n ? diag->v[0].node : "",
				  diag && diag->n ? ": " : "",
				  diag && diag->n ? diag->v[0].msg : strerror(err));
			mem_deref(diag);
			mem_deref(doc);
			return err;
		}
		mem_deref(flow);
	}
	ivr.document = doc;
	/* The demo calls one number again and again, many at once, at any hour. */
	{
		struct policy_rules *rules = NULL;
		char *rules_json = NULL;

		err = policy_rules_demo(&rules);
		if (!err)
			err = policy_rules_json(rules, &rules_json);
		mem_deref(rules);
		spec.rules = rules_json;
		if (!err)
			err = tenant_provision(t, &spec, &p);
		mem_deref(rules_json);
	}
	mem_deref(doc);
	if (err) {
		log_error("demo", "provisioning the demo tenant failed: %s", strerror(err));
		return err;
	}
	if (dc->push_url[0]) {
		struct push_settings ps = {.sdkappid = dc->sdkappid, .enabled = true,
					   .auth = STORE_PUSH_AUTH_NONE, .events = STORE_PUSH_CDR |
					   STORE_PUSH_RECORD | STORE_PUSH_VOICEMAIL};
		char why[200];

		snprintf(ps.url, sizeof(ps.url), "%s", dc->push_url);
		err = push_settings_check(&ps, why, sizeof(why));
		if (err)
			log_error("demo", "push_url: %s", why);
		else
			err = push_settings_put(t, &ps);
		if (err)
			return err;
	}
	err = console_admin(t, dc, console_pw, sizeof(console_pw));
	if (err) {
		log_error("demo", "cannot create the console administrator: %s", strerror(err));
		return err;
	}
	err = write_credentials(dc, &p, console_pw);
	if (err) {
		log_error("demo", "cannot write %s: %s", dc->credentials_file, strerror(err));
		return err;
	}
	printf("cccd demo tenant: SdkAppId %llu, IVR %llu, caller %s\n"
	       "  TENCENTCLOUD_SECRET_ID=%s\n  TENCENTCLOUD_SECRET_KEY=%s\n  CCC_ENDPOINT=%s\n"
	       "  (written to %s)\n"
	       "cccd web console: http://%s/console/\n"
	       "  sign in with SdkAppId %llu, user admin, password %s\n",
	       (unsigned long long)dc->sdkappid, (unsigned long long)dc->ivr_id, dc->caller,
	       p.secret_id, p.secret_key, dc->endpoint, dc->credentials_file, dc->endpoint,
	       (unsigned long long)dc->sdkappid, console_pw);
	fflush(stdout);
	memset(&p, 0, sizeof(p));
	memset(console_pw, 0, sizeof(console_pw));
	return 0;
}
