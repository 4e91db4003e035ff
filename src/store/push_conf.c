/* push_conf rows: each instance's data push settings (URL, auth, events, retries). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/base.h"
#include "store/store_int.h"

/* Delays as stored: "10000,60000,300000"; "" is a valid schedule with no retry. */
static void schedule_format(char *buf, size_t sz, const uint32_t *ms, unsigned n)
{
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < n && len < sz; i++)
		len += (size_t)snprintf(buf + len, sz - len, "%s%u", i ? "," : "", ms[i]);
}

static void schedule_parse(const char *text, uint32_t *ms, unsigned *np)
{
	unsigned n = 0;

	/* Written by schedule_format only; anything unexpected ends the list. */
	while (*text && n < STORE_PUSH_MAX_RETRIES) {
		char *end;
		unsigned long v = strtoul(text, &end, 10);

		if (end == text)
			break;
		ms[n++] = (uint32_t)v;
		text = *end == ',' ? end + 1 : end;
	}
	*np = n;
}

static int push_conf_write(struct store_conn *c, void *arg)
{
	const struct store_push_conf *pc = arg;
	char retry[256], event_retry[256];
	struct db_stmt *s;
	int rc;

	s = store_stmt(c, "SELECT 1 FROM instances WHERE sdkappid = ?");
	if (!s)
		return EIO;
	db_bind_int64(s, 1, (int64_t)pc->sdkappid);
	rc = db_step(s);
	db_reset(s);
	if (rc != DB_ROW)
		return rc == DB_DONE ? ENOENT : rc;

	/* Every column is set: the same row as a replacement. */
	s = store_stmt(c, "INSERT INTO push_conf (sdkappid, enabled, url, auth, username, "
		       "token_url, secret_enc, events, retry_ms, event_retry_ms, timeout_ms, "
		       "updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (sdkappid) DO "
		       "UPDATE SET enabled = excluded.enabled, url = excluded.url, "
		       "auth = excluded.auth, username = excluded.username, "
		       "token_url = excluded.token_url, secret_enc = excluded.secret_enc, "
		       "events = excluded.events, retry_ms = excluded.retry_ms, "
		       "event_retry_ms = excluded.event_retry_ms, "
		       "timeout_ms = excluded.timeout_ms, updated_at = excluded.updated_at");
	if (!s)
		return EIO;
	db_bind_int64(s, 1, (int64_t)pc->sdkappid);
	db_bind_int64(s, 2, pc->enabled);
	db_bind_text(s, 3, pc->url, -1);
	db_bind_int64(s, 4, (int)pc->auth);
	db_bind_text(s, 5, pc->user, -1);
	db_bind_text(s, 6, pc->token_url, -1);
	if (pc->secret_enc_len)
		db_bind_blob(s, 7, pc->secret_enc, pc->secret_enc_len);
	db_bind_int64(s, 8, pc->events);
	if (pc->retry_set) {
		schedule_format(retry, sizeof(retry), pc->retry_ms, pc->n_retry);
		db_bind_text(s, 9, retry, -1);
	}
	if (pc->event_retry_set) {
		schedule_format(event_retry, sizeof(event_retry), pc->event_retry_ms,
				pc->n_event_retry);
		db_bind_text(s, 10, event_retry, -1);
	}
	db_bind_int64(s, 11, pc->timeout_ms);
	db_bind_int64(s, 12, clock_unix_s());
	rc = db_step(s);
	return rc == DB_DONE ? 0 : (rc > 0 ? rc : EIO);
}

int store_push_conf_put(struct store *st, const struct store_push_conf *pc)
{
	if (!st || !pc || !pc->sdkappid || pc->n_retry > STORE_PUSH_MAX_RETRIES ||
	    pc->n_event_retry > STORE_PUSH_MAX_RETRIES ||
	    pc->secret_enc_len > sizeof(pc->secret_enc) ||
	    !memchr(pc->url, '\0', sizeof(pc->url)) || !memchr(pc->user, '\0', sizeof(pc->user)) ||
	    !memchr(pc->token_url, '\0', sizeof(pc->token_url)))
		return EINVAL;
	return store_write(st, push_conf_write, (void *)pc);
}

static void bind_sdkappid(struct db_stmt *q, const void *sdkappid)
{
	db_bind_int64(q, 1, (int64_t)*(const uint64_t *)sdkappid);
}

static int push_conf_row(struct db_stmt *q, void *arg)
{
	struct store_push_conf *out = arg;
	uint64_t sdkappid = out->sdkappid;
	const void *secret;
	int err = 0;

	memset(out, 0, sizeof(*out));
	out->sdkappid = sdkappid;
	out->enabled = db_col_int64(q, 0) != 0;
	store_col_text(q, 1, out->url, sizeof(out->url));
	out->auth = (enum store_push_auth)db_col_int64(q, 2);
	store_col_text(q, 3, out->user, sizeof(out->user));
	store_col_text(q, 4, out->token_url, sizeof(out->token_url));
	secret = db_col_blob(q, 5, &out->secret_enc_len);
	if (out->secret_enc_len > sizeof(out->secret_enc)) {
		log_error("store", "push secret of instance %llu is too long",
			  (unsigned long long)sdkappid);
		out->secret_enc_len = 0;
		err = EIO;
	}
	else if (out->secret_enc_len)
		memcpy(out->secret_enc, secret, out->secret_enc_len);
	out->events = (unsigned)db_col_int64(q, 6);
	if (!db_col_null(q, 7)) {
		out->retry_set = true;
		schedule_parse(db_col_text(q, 7), out->retry_ms,
			       &out->n_retry);
	}
	if (!db_col_null(q, 8)) {
		out->event_retry_set = true;
		schedule_parse(db_col_text(q, 8), out->event_retry_ms,
			       &out->n_event_retry);
	}
	out->timeout_ms = (uint32_t)db_col_int64(q, 9);
	return err;
}

int store_push_conf_get(struct store *st, uint64_t sdkappid, struct store_push_conf *out)
{
	if (!st || !out)
		return EINVAL;
	out->sdkappid = sdkappid;
	return store_read(st, "SELECT enabled, url, auth, username, token_url, secret_enc, "
			  "events, retry_ms, event_retry_ms, timeout_ms FROM push_conf WHERE "
			  "sdkappid = ?", bind_sdkappid, &sdkappid, push_conf_row, out, true);
}

static int push_conf_remove(struct store_conn *c, void *arg)
{
	const uint64_t *sdkappid = arg;
	struct db_stmt *s = store_stmt(c, "DELETE FROM push_conf WHERE sdkappid = ?");
	int rc;

	if (!s)
		return EIO;
	db_bind_int64(s, 1, (int64_t)*sdkappid);
	rc = db_step(s);
	if (rc != DB_DONE)
		return rc > 0 ? rc : EIO;
	return db_changes(c->db) ? 0 : ENOENT;
}

int store_push_conf_delete(struct store *st, uint64_t sdkappid)
{
	if (!st)
		return EINVAL;
	return store_write(st, push_conf_remove, &sdkappid);
}
