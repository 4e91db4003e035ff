/* session rows: creation (durable before the API replies) and lookup. */
#include <errno.h>
#include <string.h>
#include "base/base.h"
#include "store/store_int.h"

static const char *const status_names[] = {"ringing", "seatJoining", "inProgress", "finished"};

const char *store_status_name(enum store_status s)
{
	return (unsigned)s < sizeof(status_names) / sizeof(status_names[0]) ? status_names[s] : "";
}

static void session_destructor(void *arg)
{
	struct store_session *s = arg;

	mem_deref(s->uui);
	mem_deref(s->variables);
}

int store_session_alloc(struct store_session **sp, const char *uui, const char *variables)
{
	struct store_session *s = mem_zalloc(sizeof(*s), session_destructor);
	int err;

	if (!s)
		return ENOMEM;
	err = str_dup(&s->uui, uui ? uui : "");
	err |= str_dup(&s->variables, variables ? variables : "[]");
	if (err) {
		mem_deref(s);
		return ENOMEM;
	}
	*sp = s;
	return 0;
}

static int session_insert(struct store_conn *c, void *arg)
{
	const struct store_session *x = arg;
	sqlite3_stmt *s = store_stmt(c,
		"INSERT INTO sessions (id, sdkappid, account_id, direction, caller, callee, "
		"ivr_id, ivr_version, uui, variables, max_ring_s, request_id, status, created_ms, "
		"start_ts) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
	int rc;

	if (!s)
		return EIO;
	sqlite3_bind_text(s, 1, x->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)x->sdkappid);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)x->account_id);
	sqlite3_bind_int(s, 4, x->direction);
	sqlite3_bind_text(s, 5, x->caller, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, x->callee, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, (sqlite3_int64)x->ivr_id);
	sqlite3_bind_int64(s, 8, x->ivr_version);
	sqlite3_bind_text(s, 9, x->uui ? x->uui : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 10, x->variables ? x->variables : "[]", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 11, x->max_ring_s);
	sqlite3_bind_text(s, 12, x->request_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 13, (int)x->status);
	sqlite3_bind_int64(s, 14, x->created_ms);
	sqlite3_bind_int64(s, 15, x->start_ts);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : (store_errno(rc) ? store_errno(rc) : EIO);
}

int store_session_create(struct store *st, const struct store_session *s)
{
	if (!st || !s || strlen(s->id) != 32)
		return EINVAL;
	return store_write(st, session_insert, (void *)s);
}

#define SESSION_COLUMNS "id, sdkappid, account_id, direction, caller, callee, ivr_id, " \
	"ivr_version, uui, variables, max_ring_s, request_id, status, created_ms, start_ts, " \
	"ring_ts, accept_ts, ended_ts, end_status, hungup_side"

static int session_row(sqlite3_stmt *q, struct store_session **sp)
{
	struct store_session *s;
	int err = store_session_alloc(&s, NULL, NULL);

	if (err)
		return err;
	mem_deref(s->uui);
	mem_deref(s->variables);
	s->uui = store_col_dup(q, 8);
	s->variables = store_col_dup(q, 9);
	if (!s->uui || !s->variables) {
		mem_deref(s);
		return ENOMEM;
	}
	store_col_text(q, 0, s->id, sizeof(s->id));
	s->sdkappid = (uint64_t)sqlite3_column_int64(q, 1);
	s->account_id = (uint64_t)sqlite3_column_int64(q, 2);
	s->direction = sqlite3_column_int(q, 3);
	store_col_text(q, 4, s->caller, sizeof(s->caller));
	store_col_text(q, 5, s->callee, sizeof(s->callee));
	s->ivr_id = (uint64_t)sqlite3_column_int64(q, 6);
	s->ivr_version = (uint32_t)sqlite3_column_int64(q, 7);
	s->max_ring_s = (uint32_t)sqlite3_column_int64(q, 10);
	store_col_text(q, 11, s->request_id, sizeof(s->request_id));
	s->status = (enum store_status)sqlite3_column_int(q, 12);
	s->created_ms = sqlite3_column_int64(q, 13);
	s->start_ts = sqlite3_column_int64(q, 14);
	s->ring_ts = sqlite3_column_int64(q, 15);
	s->accept_ts = sqlite3_column_int64(q, 16);
	s->ended_ts = sqlite3_column_int64(q, 17);
	s->end_status = sqlite3_column_int(q, 18);
	store_col_text(q, 19, s->hungup_side, sizeof(s->hungup_side));
	*sp = s;
	return 0;
}

int store_session_get(struct store *st, uint64_t sdkappid, const char *id,
		      struct store_session **sp)
{
	struct store_conn *c;
	sqlite3_stmt *q;
	int err, rc;

	if (!st || !id || !sp)
		return EINVAL;
	err = store_reader_get(st, &c);
	if (err)
		return err;
	q = store_stmt(c, "SELECT " SESSION_COLUMNS " FROM sessions WHERE id = ? AND sdkappid = ?");
	if (!q) {
		err = EIO;
		goto out;
	}
	sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, (sqlite3_int64)sdkappid);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		err = session_row(q, sp);
	else
		err = rc == SQLITE_DONE ? ENOENT : (store_errno(rc) ? store_errno(rc) : EIO);
	sqlite3_reset(q);
out:
	store_reader_put(st, c);
	return err;
}

int store_sessions_live(struct store *st, store_session_h *h, void *arg)
{
	struct store_conn *c;
	sqlite3_stmt *q;
	int err, rc;

	if (!st || !h)
		return EINVAL;
	err = store_reader_get(st, &c);
	if (err)
		return err;
	q = store_stmt(c, "SELECT " SESSION_COLUMNS " FROM sessions WHERE status <> 3 "
		       "ORDER BY created_ms");
	if (!q) {
		err = EIO;
		goto out;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_session *s;

		err = session_row(q, &s);
		if (!err)
			err = h(s, arg);
		mem_deref(s);
		if (err)
			break;
	}
	if (!err && rc != SQLITE_DONE)
		err = store_errno(rc) ? store_errno(rc) : EIO;
	sqlite3_reset(q);
out:
	store_reader_put(st, c);
	return err;
}
