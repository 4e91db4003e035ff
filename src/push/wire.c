/* wire: what a push looks like on the wire and what counts as delivered — URL query,
 * reply rule, retry jitter, OAuth2 token replies, the de-duplication key. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>
#include "push/push.h"

int push_url_join(const char *url, const char *action, char *out, size_t sz)
{
	const char *query, *sep;
	int n;

	if (!url || !action || !out || !sz)
		return EINVAL;
	/* TCCC's documented queries; voicemail has no version on Tencent's page. */
	if (!strcmp(action, "cdr"))
		query = "action=cdr&version=1";
	else if (!strcmp(action, "record"))
		query = "action=record&version=1";
	else if (!strcmp(action, "voicemail"))
		query = "action=voicemail";
	else if (!strcmp(action, "event"))
		query = "action=event&version=1";
	else
		return EINVAL;
	if (!strchr(url, '?'))
		sep = "?";
	else if (url[strlen(url) - 1] == '?' || url[strlen(url) - 1] == '&')
		sep = "";
	else
		sep = "&";
	n = snprintf(out, sz, "%s%s%s", url, sep, query);
	return n < 0 || (size_t)n >= sz ? ENOSPC : 0;
}

/* A receiver's text made safe for one list line: printable ASCII only, bounded. */
static const char *clean(const char *text, char *buf, size_t sz)
{
	size_t i;

	for (i = 0; text && text[i] && i + 1 < sz; i++)
		buf[i] = isprint((unsigned char)text[i]) ? text[i] : '?';
	buf[i] = '\0';
	return buf;
}

/* ErrCode 0: an integer, a real or a string holding an integer. *validp false when it
 * is none of these. */
static bool errcode_zero(const json_t *v, bool *validp)
{
	*validp = true;
	if (json_is_integer(v))
		return json_integer_value(v) == 0;
	if (json_is_real(v))
		return json_real_value(v) == 0.0;
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end;
		long long n;

		errno = 0;
		n = strtoll(s, &end, 10);
		if (end != s && !*end && !errno && !isspace((unsigned char)*s))
			return n == 0;
	}
	*validp = false;
	return false;
}

bool push_reply_ok(long status, const char *body, size_t len, char *why, size_t whysz)
{
	char whybuf[256], msgbuf[128], codebuf[32];
	json_error_t jerr;
	json_t *root = NULL, *code;
	bool ok = false, valid;

	if (!why || !whysz) {
		why = whybuf;
		whysz = sizeof(whybuf);
	}
	why[0] = '\0';
	if (status < 200 || status > 299) {
		snprintf(why, whysz, "HTTP %ld", status);
		return false;
	}
	if (body && len)
		root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(root)) {
		snprintf(why, whysz, "HTTP %ld: the reply is not a JSON object", status);
		goto out;
	}
	code = json_object_get(root, "ErrCode");
	if (!code) {
		snprintf(why, whysz, "HTTP %ld: no ErrCode in the reply", status);
		goto out;
	}
	ok = errcode_zero(code, &valid);
	if (!valid) {
		snprintf(why, whysz, "HTTP %ld: ErrCode is not a number", status);
	}
	else if (!ok) {
		if (json_is_string(code))
			clean(json_string_value(code), codebuf, sizeof(codebuf));
		else if (json_is_integer(code))
			snprintf(codebuf, sizeof(codebuf), "%lld",
				 (long long)json_integer_value(code));
		else
			snprintf(codebuf, sizeof(codebuf), "%g", json_real_value(code));
		snprintf(why, whysz, "ErrCode %s: %s", codebuf,
			 clean(json_string_value(json_object_get(root, "ErrMsg")), msgbuf,
			       sizeof(msgbuf)));
	}
out:
	json_decref(root);
	return ok;
}

uint32_t push_retry_delay_ms(uint32_t base_ms, unsigned jitter_pct, uint32_t rnd)
{
	/* delay = base * (1 + j * u), u uniform in [-1, 1]; done in 64-bit integers so that
	 * the bounds are exact: base*(100-j)/100 <= delay <= base*(100+j)/100. */
	int64_t span, offset;

	if (jitter_pct > 100)
		jitter_pct = 100;
	span = (int64_t)base_ms * jitter_pct / 100;       /* the ± amplitude */
	offset = ((int64_t)rnd * (2 * span + 1)) >> 32;   /* 0 .. 2*span */
	return (uint32_t)((int64_t)base_ms - span + offset);
}

uint32_t push_backoff_ms(unsigned round, unsigned jitter_pct, uint32_t rnd)
{
	uint32_t base = PUSH_BACKOFF_FIRST_MS;

	for (unsigned i = 1; i < round && base < PUSH_BACKOFF_MAX_MS; i++)
		base *= 2;
	if (base > PUSH_BACKOFF_MAX_MS)
		base = PUSH_BACKOFF_MAX_MS;
	return push_retry_delay_ms(base, jitter_pct, rnd);
}

bool push_receiver_failing(bool answered, long status)
{
	return !answered || status == 429 || status >= 500;
}

int push_token_parse(const char *body, size_t len, char *token, size_t tokensz,
		     int64_t *expires_sp, char *why, size_t whysz)
{
	json_error_t jerr;
	json_t *root = body && len ? json_loadb(body, len, 0, &jerr) : NULL;
	json_t *tok, *type, *exp;
	int err = EPROTO;

	*expires_sp = 0;
	if (!json_is_object(root)) {
		snprintf(why, whysz, "token reply is not a JSON object");
		goto out;
	}
	tok = json_object_get(root, "access_token");
	type = json_object_get(root, "token_type");
	exp = json_object_get(root, "expires_in");
	if (!json_is_string(tok) || !*json_string_value(tok)) {
		snprintf(why, whysz, "token reply has no access_token");
		goto out;
	}
	if (strlen(json_string_value(tok)) >= tokensz) {
		snprintf(why, whysz, "access_token is longer than %zu bytes", tokensz - 1);
		goto out;
	}
	for (const char *p = json_string_value(tok); *p; p++) {
		if (!isgraph((unsigned char)*p)) {
			snprintf(why, whysz, "access_token has characters not allowed in a header");
			goto out;
		}
	}
	if (type && (!json_is_string(type) || strcasecmp(json_string_value(type), "bearer"))) {
		snprintf(why, whysz, "token_type is not Bearer");
		goto out;
	}
	if (json_is_integer(exp))
		*expires_sp = json_integer_value(exp);
	else if (json_is_string(exp))
		*expires_sp = strtoll(json_string_value(exp), NULL, 10);
	else if (json_is_real(exp))
		*expires_sp = (int64_t)json_real_value(exp);
	if (*expires_sp < 0)
		*expires_sp = 0;
	strcpy(token, json_string_value(tok));
	err = 0;
out:
	json_decref(root);
	return err;
}

void push_dedupe_key(const char *session_id, const char *action, const char *body,
		     char *out, size_t sz)
{
	json_t *root = body ? json_loads(body, 0, NULL) : NULL;
	const char *rec = json_string_value(json_object_get(root, "RecordId"));
	const char *ev = json_string_value(json_object_get(root, "Event"));
	json_t *ts = json_object_get(root, "Timestamp");
	size_t n;

	n = (size_t)snprintf(out, sz, "%s:%s", session_id, action);
	if (rec && *rec && n < sz)
		n += (size_t)snprintf(out + n, sz - n, ":%s", rec);
	if (!strcmp(action, "event") && ev && n < sz)
		snprintf(out + n, sz - n, ":%s:%lld", ev,
			 json_is_integer(ts) ? (long long)json_integer_value(ts) : 0LL);
	/* Header-safe: the key is built from the receiver-visible body, which may hold
	 * anything. */
	for (char *p = out; *p; p++) {
		if (!isgraph((unsigned char)*p))
			*p = '_';
	}
	json_decref(root);
}
