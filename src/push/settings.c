/* settings: the [push] config section and each instance's push settings (checked,
 * secrets sealed on the way into the database and opened on the way out). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "base/base.h"
#include "conf/conf.h"
#include "push/push.h"
#include "tenant/tenant.h"

enum { SCHEDULE_MAX_MS = 24 * 3600 * 1000 };

static const struct {
	const char *name;
	unsigned bit;
} events[] = {
	{"cdr", STORE_PUSH_CDR},
	{"record", STORE_PUSH_RECORD},
	{"voicemail", STORE_PUSH_VOICEMAIL},
	{"event", STORE_PUSH_EVENT},
};

int push_events_parse(const char *list, unsigned *eventsp)
{
	unsigned bits = 0;
	const char *p = list;

	if (!list || !eventsp)
		return EINVAL;
	while (*p) {
		size_t len = strcspn(p, ",");
		bool known = false;

		for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
			if (len == strlen(events[i].name) && !strncmp(p, events[i].name, len)) {
				bits |= events[i].bit;
				known = true;
			}
		}
		if (!known)
			return EINVAL;
		p += len;
		if (*p == ',' && !*++p)
			return EINVAL; /* a trailing comma */
	}
	*eventsp = bits;
	return 0;
}

void push_events_format(unsigned bits, char *buf, size_t sz)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]) && n < sz; i++) {
		if (bits & events[i].bit)
			n += (size_t)snprintf(buf + n, sz - n, "%s%s", n ? "," : "",
					      events[i].name);
	}
}

int push_schedule_parse(const char *text, struct push_schedule *sched)
{
	const char *p = text;

	if (!text || !sched)
		return EINVAL;
	memset(sched, 0, sizeof(*sched));
	if (!*text || !strcmp(text, "none"))
		return 0;
	for (;;) {
		char *end;
		unsigned long long v, mult = 1000;

		if (*p < '0' || *p > '9' || sched->n == PUSH_MAX_RETRIES)
			return EINVAL;
		errno = 0;
		v = strtoull(p, &end, 10);
		if (errno)
			return EINVAL;
		if (!strncmp(end, "ms", 2)) {
			mult = 1;
			end += 2;
		}
		else if (*end == 's') {
			end++;
		}
		else if (*end == 'm') {
			mult = 60000;
			end++;
		}
		if (v > SCHEDULE_MAX_MS || v * mult > SCHEDULE_MAX_MS)
			return EINVAL;
		sched->ms[sched->n++] = (uint32_t)(v * mult);
		if (!*end)
			return 0;
		if (*end != ',')
			return EINVAL;
		p = end + 1;
	}
}

void push_schedule_format(const struct push_schedule *sched, char *buf, size_t sz)
{
	size_t n = 0;

	snprintf(buf, sz, "none");
	for (unsigned i = 0; i < sched->n && n < sz; i++) {
		uint32_t ms = sched->ms[i];

		if (ms % 1000)
			n += (size_t)snprintf(buf + n, sz - n, "%s%" PRIu32 "ms", i ? "," : "", ms);
		else
			n += (size_t)snprintf(buf + n, sz - n, "%s%" PRIu32 "s", i ? "," : "",
					      ms / 1000);
	}
}

void push_conf_default(struct push_conf *pc)
{
	memset(pc, 0, sizeof(*pc));
	pc->enabled = true;
	pc->concurrency = 64;
	pc->poll_ms = 1000;
	pc->timeout_ms = 10000;
	/* TCCC: at most 3 retries; the intervals are cccd's (records-and-push.md §4.4). */
	/* TCCC's three retries, then a longer tail so that a receiver down for a few hours
	 * still gets every record (about 9 hours in all) before a push is declared dead. */
	pc->retry = (struct push_schedule){{10000, 60000, 300000, 1800000, 7200000, 21600000}, 6};
	pc->event_retry = (struct push_schedule){{10000}, 1};
	pc->jitter_pct = 20;
	pc->retention_days = 7;
	pc->stop_timeout_ms = 2000;
	pc->settings_cache_ms = 5000;
}

static int schedule_key(const struct conf_section *sec, const char *key, const char *def,
			struct push_schedule *sched, struct conf_err *err)
{
	const char *text;
	int rc = conf_str(sec, key, def, &text, err);

	if (rc)
		return rc;
	if (push_schedule_parse(text, sched)) {
		conf_err_set(err, conf_key_line(sec, key), "'%s' must be up to %d delays such as "
			     "10s,60s,300s (units ms, s, m; at most one day each) or none", key,
			     PUSH_MAX_RETRIES);
		return EINVAL;
	}
	return 0;
}

int push_conf_read(const struct conf *cf, struct push_conf *pc, struct conf_err *err)
{
	const struct conf_section *sec = conf_section_first(cf, "push");
	uint64_t conc, poll, timeout, jitter, keep, stop, cache;
	int rc;

	push_conf_default(pc);
	rc = conf_bool(sec, "enabled", true, &pc->enabled, err);
	rc = rc ? rc : conf_uint(sec, "concurrency", 64, 1, 1024, &conc, err);
	rc = rc ? rc : conf_uint(sec, "poll_ms", 1000, 10, 60000, &poll, err);
	rc = rc ? rc : conf_uint(sec, "timeout_ms", 10000, 100, 300000, &timeout, err);
	rc = rc ? rc : schedule_key(sec, "retry_schedule", "10s,60s,300s,30m,120m,360m",
				    &pc->retry, err);
	rc = rc ? rc : schedule_key(sec, "event_retry_schedule", "10s", &pc->event_retry, err);
	rc = rc ? rc : conf_uint(sec, "jitter_percent", 20, 0, 100, &jitter, err);
	rc = rc ? rc : conf_uint(sec, "retention_days", 7, 1, 3650, &keep, err);
	rc = rc ? rc : conf_uint(sec, "stop_timeout_ms", 2000, 0, 60000, &stop, err);
	rc = rc ? rc : conf_uint(sec, "settings_cache_ms", 5000, 0, 600000, &cache, err);
	if (rc)
		return rc;
	pc->concurrency = (unsigned)conc;
	pc->poll_ms = (uint32_t)poll;
	pc->timeout_ms = (uint32_t)timeout;
	pc->jitter_pct = (unsigned)jitter;
	pc->retention_days = (uint32_t)keep;
	pc->stop_timeout_ms = (uint32_t)stop;
	pc->settings_cache_ms = (uint32_t)cache;
	return 0;
}

/* An http(s) URL curl accepts, without credentials in it (they would sit in the database
 * in clear: --auth basic seals them instead). */
static int url_check(const char *url, const char *what, char *why, size_t whysz)
{
	CURLU *u;
	char *scheme = NULL, *user = NULL, *host = NULL;
	int err = 0;

	for (const char *p = url; *p; p++) {
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f) {
			snprintf(why, whysz, "%s must not contain spaces or control characters",
				 what);
			return EINVAL;
		}
	}
	u = curl_url();
	if (!u)
		return ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		snprintf(why, whysz, "%s is not a valid URL", what);
		err = EINVAL;
	}
	else if (strcmp(scheme, "http") && strcmp(scheme, "https")) {
		snprintf(why, whysz, "%s must be http:// or https://", what);
		err = EINVAL;
	}
	else if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
		snprintf(why, whysz, "%s must not carry user:password@ (use basic auth)", what);
		err = EINVAL;
	}
	else if (strchr(url, '#')) {
		snprintf(why, whysz, "%s must not have a #fragment", what);
		err = EINVAL;
	}
	curl_free(scheme);
	curl_free(user);
	curl_free(host);
	curl_url_cleanup(u);
	return err;
}

int push_settings_check(const struct push_settings *ps, char *why, size_t whysz)
{
	if (!ps || !why || !whysz)
		return EINVAL;
	why[0] = '\0';
	if (!ps->sdkappid) {
		snprintf(why, whysz, "the SdkAppId must be set");
		return EINVAL;
	}
	if (!memchr(ps->url, '\0', sizeof(ps->url)) || !memchr(ps->user, '\0', sizeof(ps->user)) ||
	    !memchr(ps->secret, '\0', sizeof(ps->secret)) ||
	    !memchr(ps->token_url, '\0', sizeof(ps->token_url))) {
		snprintf(why, whysz, "a field is too long");
		return EINVAL;
	}
	if (url_check(ps->url, "the push URL", why, whysz))
		return EINVAL;
	if (ps->events & ~(unsigned)(STORE_PUSH_CDR | STORE_PUSH_RECORD | STORE_PUSH_VOICEMAIL |
				     STORE_PUSH_EVENT)) {
		snprintf(why, whysz, "unknown event bits");
		return EINVAL;
	}
	if (ps->retry.n > PUSH_MAX_RETRIES || ps->event_retry.n > PUSH_MAX_RETRIES) {
		snprintf(why, whysz, "at most %d retries", PUSH_MAX_RETRIES);
		return EINVAL;
	}
	if (ps->timeout_ms && (ps->timeout_ms < 100 || ps->timeout_ms > 300000)) {
		snprintf(why, whysz, "the timeout must be 100 ms to 300 s");
		return EINVAL;
	}
	switch (ps->auth) {
	case STORE_PUSH_AUTH_NONE:
		if (*ps->user || *ps->secret || *ps->token_url) {
			snprintf(why, whysz, "auth none takes no user, secret or token URL");
			return EINVAL;
		}
		return 0;
	case STORE_PUSH_AUTH_BASIC:
		if (!*ps->user || strchr(ps->user, ':') || *ps->token_url) {
			snprintf(why, whysz, "basic auth needs a user name without ':' (and "
				 "takes no token URL)");
			return EINVAL;
		}
		return 0;
	case STORE_PUSH_AUTH_OAUTH2:
		if (!*ps->user || !*ps->secret || !*ps->token_url) {
			snprintf(why, whysz, "oauth2 needs a token URL, a client id and a client "
				 "secret");
			return EINVAL;
		}
		return url_check(ps->token_url, "the token URL", why, whysz);
	default:
		snprintf(why, whysz, "unknown auth method");
		return EINVAL;
	}
}

static void secret_context(uint64_t sdkappid, char ctx[40])
{
	snprintf(ctx, 40, "push:%" PRIu64, sdkappid);
}

int push_settings_put(struct tenant *t, const struct push_settings *ps)
{
	struct store_push_conf pc;
	char why[160], ctx[40];
	int err;

	if (!t || !ps)
		return EINVAL;
	if (push_settings_check(ps, why, sizeof(why)))
		return EINVAL;
	memset(&pc, 0, sizeof(pc));
	pc.sdkappid = ps->sdkappid;
	pc.enabled = ps->enabled;
	strcpy(pc.url, ps->url);
	pc.auth = ps->auth;
	strcpy(pc.user, ps->user);
	strcpy(pc.token_url, ps->token_url);
	if (*ps->secret) {
		secret_context(ps->sdkappid, ctx);
		err = tenant_secret_seal(t, ctx, ps->secret, pc.secret_enc, sizeof(pc.secret_enc),
					 &pc.secret_enc_len);
		if (err)
			return err;
	}
	pc.events = ps->events;
	pc.retry_set = ps->retry_set;
	pc.n_retry = ps->retry.n;
	memcpy(pc.retry_ms, ps->retry.ms, sizeof(pc.retry_ms));
	pc.event_retry_set = ps->event_retry_set;
	pc.n_event_retry = ps->event_retry.n;
	memcpy(pc.event_retry_ms, ps->event_retry.ms, sizeof(pc.event_retry_ms));
	pc.timeout_ms = ps->timeout_ms;
	err = store_push_conf_put(tenant_store(t), &pc);
	memset(&pc, 0, sizeof(pc));
	return err;
}

int push_settings_get(struct tenant *t, uint64_t sdkappid, struct push_settings *out)
{
	struct store_push_conf pc;
	char ctx[40];
	int err;

	if (!t || !out)
		return EINVAL;
	err = store_push_conf_get(tenant_store(t), sdkappid, &pc);
	if (err)
		return err;
	memset(out, 0, sizeof(*out));
	out->sdkappid = sdkappid;
	out->enabled = pc.enabled;
	snprintf(out->url, sizeof(out->url), "%s", pc.url);
	out->auth = pc.auth;
	snprintf(out->user, sizeof(out->user), "%s", pc.user);
	snprintf(out->token_url, sizeof(out->token_url), "%s", pc.token_url);
	out->events = pc.events;
	out->retry_set = pc.retry_set;
	out->retry.n = pc.n_retry;
	memcpy(out->retry.ms, pc.retry_ms, sizeof(out->retry.ms));
	out->event_retry_set = pc.event_retry_set;
	out->event_retry.n = pc.n_event_retry;
	memcpy(out->event_retry.ms, pc.event_retry_ms, sizeof(out->event_retry.ms));
	out->timeout_ms = pc.timeout_ms;
	if (pc.secret_enc_len) {
		secret_context(sdkappid, ctx);
		err = tenant_secret_open(t, ctx, pc.secret_enc, pc.secret_enc_len, out->secret,
					 sizeof(out->secret));
		if (err) {
			log_error("push", "the push secret of instance %" PRIu64 " does not open "
				  "with this master key", sdkappid);
			err = EIO;
		}
	}
	memset(&pc, 0, sizeof(pc));
	return err;
}
