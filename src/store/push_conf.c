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
	sqlite3_stmt *s;
	int rc;

	s = store_stmt(c, "SELECT 1 FROM instances WHERE sdkappid = ?");
	if (!s)
		return EIO;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)pc->sdkappid);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? ENOENT : (store_errno(rc) ? store_errno(rc) : EIO);

	s = store_stmt(c, "INSERT OR REPLACE INTO push_conf (sdkappid, enabled, url, auth, "
		       "username, token_url, secret_enc, events, retry_ms, event_retry_ms, "
		       "timeout_ms, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)");
	if (!s)
		return EIO;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)pc->sdkappid);
	sqlite3_bind_int(s, 2, pc->enabled);
	sqlite3_bind_text(s, 3, pc->url, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 4, (int)pc->auth);
	sqlite3_bind_text(s, 5, pc->user, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, pc->token_url, -1, SQLITE_STATIC);
	if (pc->secret_enc_len)
		sqlite3_bind_blob(s, 7, pc->secret_enc, (int)pc->secret_enc_len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 8, pc->events);
	if (pc->retry_set) {
		schedule_format(retry, sizeof(retry), pc->retry_ms, pc->n_retry);
		sqlite3_bind_text(s, 9, retry, -1, SQLITE_STATIC);
	}
	if (pc->event_retry_set) {
		schedule_format(event_retry, sizeof(event_retry), pc->event_retry_ms,
				pc->n_event_retry);
		sqlite3_bind_text(s, 10, event_retry, -1, SQLITE_STATIC);
	}
	sqlite3_bind_int64(s, 11, pc->timeout_ms);
	sqlite3_bind_int64(s, 12, clock_unix_s());
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : (store_errno(rc) ? store_errno(rc) : EIO);
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

static void bind_sdkappid(sqlite3_stmt *q, const void *sdkappid)
{
	sqlite3_bind_int64(q, 1, (sqlite3_int64)*(const uint64_t *)sdkappid);
}

static int push_conf_row(sqlite3_stmt *q, void *arg)
{
	struct store_push_conf *out = arg;
	uint64_t sdkappid = out->sdkappid;
	int err = 0;

	memset(out, 0, sizeof(*out));
	out->sdkappid = sdkappid;
	out->enabled = sqlite3_column_int(q, 0) != 0;
	store_col_text(q, 1, out->url, sizeof(out->url));
	out->auth = (enum store_push_auth)sqlite3_column_int(q, 2);
	store_col_text(q, 3, out->user, sizeof(out->user));
	store_col_text(q, 4, out->token_url, sizeof(out->token_url));
	out->secret_enc_len = (size_t)sqlite3_column_bytes(q, 5);
	if (out->secret_enc_len > sizeof(out->secret_enc)) {
		log_error("store", "push secret of instance %llu is too long",
			  (unsigned long long)sdkappid);
		out->secret_enc_len = 0;
		err = EIO;
	}
	else if (out->secret_enc_len)
		memcpy(out->secret_enc, sqlite3_column_blob(q, 5), out->secret_enc_len);
	out->events = (unsigned)sqlite3_column_int64(q, 6);
	if (sqlite3_column_type(q, 7) != SQLITE_NULL) {
		out->retry_set = true;
		schedule_parse((const char *)sqlite3_column_text(q, 7), out->retry_ms,
			       &out->n_retry);
	}
	if (sqlite3_column_type(q, 8) != SQLITE_NULL) {
		out->event_retry_set = true;
		schedule_parse((const char *)sqlite3_column_text(q, 8), out->event_retry_ms,
			       &out->n_event_retry);
	}
	out->timeout_ms = (uint32_t)sqlite3_column_int64(q, 9);
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
	sqlite3_stmt *s = store_stmt(c, "DELETE FROM push_conf WHERE sdkappid = ?");
	int rc;

	if (!s)
		return EIO;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)*sdkappid);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return store_errno(rc) ? store_errno(rc) : EIO;
	return sqlite3_changes(c->db) ? 0 : ENOENT;
}

int store_push_conf_delete(struct store *st, uint64_t sdkappid)
{
	if (!st)
		return EINVAL;
	return store_write(st, push_conf_remove, &sdkappid);
}
