/* console rows: the web console's users, sessions, one-time links and audit log. */
#include <errno.h>
#include <string.h>
#include "base/base.h"
#include "store/store_int.h"

static int step_done(struct store_conn *c, struct db_stmt *s, bool need_change)
{
	int rc = db_step(s);

	db_reset(s);
	if (rc != DB_DONE)
		return rc > 0 ? rc : EIO;
	return need_change && !db_changes(c->db) ? ENOENT : 0;
}

static int user_insert(struct store_conn *c, void *arg)
{
	const struct store_console_user *u = arg;
	struct db_stmt *s = store_stmt(c, "INSERT INTO console_users (sdkappid, name, role, "
				       "pw_hash, created_at) VALUES (?,?,?,?,?)");

	if (!s)
		return EIO;
	db_bind_int64(s, 1, (int64_t)u->sdkappid);
	db_bind_text(s, 2, u->name, -1);
	db_bind_text(s, 3, u->role, -1);
	db_bind_text(s, 4, u->pw_hash, -1);
	db_bind_int64(s, 5, u->created_at);
	return step_done(c, s, false);
}

int store_console_user_add(struct store *st, const struct store_console_user *u)
{
	if (!st || !u)
		return EINVAL;
	return store_write(st, user_insert, (void *)u);
}

struct user_key {
	uint64_t sdkappid;
	const char *name;
};

static void bind_user_key(struct db_stmt *s, const void *arg)
{
	const struct user_key *k = arg;

	db_bind_int64(s, 1, (int64_t)k->sdkappid);
	db_bind_text(s, 2, k->name, -1);
}

static void user_row(struct db_stmt *s, struct store_console_user *u)
{
	memset(u, 0, sizeof(*u));
	u->sdkappid = (uint64_t)db_col_int64(s, 0);
	store_col_text(s, 1, u->name, sizeof(u->name));
	store_col_text(s, 2, u->role, sizeof(u->role));
	store_col_text(s, 3, u->pw_hash, sizeof(u->pw_hash));
	u->created_at = db_col_int64(s, 4);
}

static int user_one(struct db_stmt *s, void *arg)
{
	user_row(s, arg);
	return 0;
}

#define USER_COLUMNS "sdkappid, name, role, pw_hash, created_at"

int store_console_user_get(struct store *st, uint64_t sdkappid, const char *name,
			   struct store_console_user *u)
{
	struct user_key k = {sdkappid, name};

	if (!st || !name || !u)
		return EINVAL;
	return store_read(st, "SELECT " USER_COLUMNS " FROM console_users WHERE sdkappid = ? "
			  "AND name = ?", bind_user_key, &k, user_one, u, true);
}

struct user_walk {
	store_console_user_h *h;
	void *arg;
};

static int user_walk_row(struct db_stmt *s, void *arg)
{
	struct user_walk *w = arg;
	struct store_console_user u;

	user_row(s, &u);
	return w->h(&u, w->arg);
}

static void bind_sdkappid(struct db_stmt *s, const void *arg)
{
	db_bind_int64(s, 1, (int64_t)*(const uint64_t *)arg);
}

int store_console_users_list(struct store *st, uint64_t sdkappid, store_console_user_h *h,
			     void *arg)
{
	struct user_walk w = {h, arg};
	int err;

	if (!st || !h)
		return EINVAL;
	err = store_read(st, "SELECT " USER_COLUMNS " FROM console_users WHERE sdkappid = ? "
			 "ORDER BY name", bind_sdkappid, &sdkappid, user_walk_row, &w, false);
	return err == ENOENT ? 0 : err;
}

static int user_remove(struct store_conn *c, void *arg)
{
	const struct user_key *k = arg;
	static const char *const sql[] = {
		"DELETE FROM console_sessions WHERE sdkappid = ? AND name = ?",
		"DELETE FROM console_links WHERE sdkappid = ? AND name = ?",
		"DELETE FROM console_users WHERE sdkappid = ? AND name = ?",
	};
	int err = 0;

	for (size_t i = 0; i < 3 && !err; i++) {
		struct db_stmt *s = store_stmt(c, sql[i]);

		if (!s)
			return EIO;
		bind_user_key(s, k);
		err = step_done(c, s, i == 2);
	}
	return err;
}

int store_console_user_delete(struct store *st, uint64_t sdkappid, const char *name)
{
	struct user_key k = {sdkappid, name};

	if (!st || !name)
		return EINVAL;
	return store_write(st, user_remove, &k);
}

struct user_change {
	struct user_key k;
	const char *role;
	const char *pw_hash;
};

static int user_update(struct store_conn *c, void *arg)
{
	const struct user_change *u = arg;
	struct db_stmt *s = store_stmt(c, "UPDATE console_users SET role = CASE WHEN ? = '' "
				       "THEN role ELSE ? END, pw_hash = CASE WHEN ? = 1 THEN ? "
				       "ELSE pw_hash END WHERE sdkappid = ? AND name = ?");
	int err;

	if (!s)
		return EIO;
	db_bind_text(s, 1, u->role ? u->role : "", -1);
	db_bind_text(s, 2, u->role ? u->role : "", -1);
	db_bind_int64(s, 3, u->pw_hash ? 1 : 0);
	db_bind_text(s, 4, u->pw_hash ? u->pw_hash : "", -1);
	db_bind_int64(s, 5, (int64_t)u->k.sdkappid);
	db_bind_text(s, 6, u->k.name, -1);
	err = step_done(c, s, true);
	if (err || !u->pw_hash)
		return err;
	s = store_stmt(c, "DELETE FROM console_sessions WHERE sdkappid = ? AND name = ?");
	if (!s)
		return EIO;
	bind_user_key(s, &u->k);
	return step_done(c, s, false);
}

int store_console_user_modify(struct store *st, uint64_t sdkappid, const char *name,
			      const char *role, const char *pw_hash)
{
	struct user_change u = {{sdkappid, name}, role, pw_hash};

	if (!st || !name)
		return EINVAL;
	return store_write(st, user_update, &u);
}

static int session_insert(struct store_conn *c, const struct store_console_session *cs)
{
	struct db_stmt *s = store_stmt(c, "INSERT INTO console_sessions (token_hash, sdkappid, "
				       "name, csrf, created_at, expires_at, last_used_at) VALUES "
				       "(?,?,?,?,?,?,?)");

	if (!s)
		return EIO;
	db_bind_text(s, 1, cs->token_hash, -1);
	db_bind_int64(s, 2, (int64_t)cs->sdkappid);
	db_bind_text(s, 3, cs->name, -1);
	db_bind_text(s, 4, cs->csrf, -1);
	db_bind_int64(s, 5, cs->created_at);
	db_bind_int64(s, 6, cs->expires_at);
	db_bind_int64(s, 7, cs->last_used_at);
	return step_done(c, s, false);
}

static int session_insert_job(struct store_conn *c, void *arg)
{
	return session_insert(c, arg);
}

int store_console_session_add(struct store *st, const struct store_console_session *s)
{
	if (!st || !s)
		return EINVAL;
	return store_write(st, session_insert_job, (void *)s);
}

static int session_one(struct db_stmt *q, void *arg)
{
	struct store_console_session *s = arg;

	memset(s, 0, sizeof(*s));
	store_col_text(q, 0, s->token_hash, sizeof(s->token_hash));
	s->sdkappid = (uint64_t)db_col_int64(q, 1);
	store_col_text(q, 2, s->name, sizeof(s->name));
	store_col_text(q, 3, s->role, sizeof(s->role));
	store_col_text(q, 4, s->csrf, sizeof(s->csrf));
	s->created_at = db_col_int64(q, 5);
	s->expires_at = db_col_int64(q, 6);
	s->last_used_at = db_col_int64(q, 7);
	return 0;
}

static void bind_text1(struct db_stmt *s, const void *arg)
{
	db_bind_text(s, 1, arg, -1);
}

int store_console_session_get(struct store *st, const char *token_hash,
			      struct store_console_session *s)
{
	if (!st || !token_hash || !s)
		return EINVAL;
	return store_read(st, "SELECT s.token_hash, s.sdkappid, s.name, u.role, s.csrf, "
			  "s.created_at, s.expires_at, s.last_used_at FROM console_sessions s "
			  "JOIN console_users u ON u.sdkappid = s.sdkappid AND u.name = s.name "
			  "WHERE s.token_hash = ?", bind_text1, token_hash, session_one, s, true);
}

struct touch {
	const char *token_hash;
	int64_t now;
};

static int session_touch(struct store_conn *c, void *arg)
{
	const struct touch *t = arg;
	struct db_stmt *s = store_stmt(c, "UPDATE console_sessions SET last_used_at = ? WHERE "
				       "token_hash = ?");

	if (!s)
		return EIO;
	db_bind_int64(s, 1, t->now);
	db_bind_text(s, 2, t->token_hash, -1);
	return step_done(c, s, false);
}

int store_console_session_touch(struct store *st, const char *token_hash, int64_t now)
{
	struct touch t = {token_hash, now};

	if (!st || !token_hash)
		return EINVAL;
	return store_write(st, session_touch, &t);
}

static int session_remove(struct store_conn *c, void *arg)
{
	struct db_stmt *s = store_stmt(c, "DELETE FROM console_sessions WHERE token_hash = ?");

	if (!s)
		return EIO;
	db_bind_text(s, 1, arg, -1);
	return step_done(c, s, false);
}

int store_console_session_delete(struct store *st, const char *token_hash)
{
	if (!st || !token_hash)
		return EINVAL;
	return store_write(st, session_remove, (void *)token_hash);
}

struct link {
	const char *token_hash;
	uint64_t sdkappid;
	const char *name;
	int64_t t;                 /* expires_at to add; now to redeem */
	struct store_console_session *s;
};

static int link_insert(struct store_conn *c, void *arg)
{
	const struct link *l = arg;
	struct db_stmt *s = store_stmt(c, "INSERT INTO console_links (token_hash, sdkappid, name, "
				       "expires_at) VALUES (?,?,?,?)");

	if (!s)
		return EIO;
	db_bind_text(s, 1, l->token_hash, -1);
	db_bind_int64(s, 2, (int64_t)l->sdkappid);
	db_bind_text(s, 3, l->name, -1);
	db_bind_int64(s, 4, l->t);
	return step_done(c, s, false);
}

int store_console_link_add(struct store *st, const char *token_hash, uint64_t sdkappid,
			   const char *name, int64_t expires_at)
{
	struct link l = {token_hash, sdkappid, name, expires_at, NULL};

	if (!st || !token_hash || !name)
		return EINVAL;
	return store_write(st, link_insert, &l);
}

/* The link is marked used and the session inserted in one transaction: two requests with
 * one link cannot both sign in (the second's UPDATE finds used_at set). */
static int link_redeem(struct store_conn *c, void *arg)
{
	struct link *l = arg;
	struct db_stmt *s = store_stmt(c, "UPDATE console_links SET used_at = ? WHERE "
				       "token_hash = ? AND used_at = 0 AND expires_at > ? "
				       "RETURNING sdkappid, name");
	int err;

	if (!s)
		return EIO;
	db_bind_int64(s, 1, l->t);
	db_bind_text(s, 2, l->token_hash, -1);
	db_bind_int64(s, 3, l->t);
	err = store_step_row(s);
	if (!err) {
		l->s->sdkappid = (uint64_t)db_col_int64(s, 0);
		store_col_text(s, 1, l->s->name, sizeof(l->s->name));
	}
	db_reset(s);
	if (err)
		return err;
	s = store_stmt(c, "SELECT role FROM console_users WHERE sdkappid = ? AND name = ?");
	if (!s)
		return EIO;
	db_bind_int64(s, 1, (int64_t)l->s->sdkappid);
	db_bind_text(s, 2, l->s->name, -1);
	err = store_step_row(s);
	if (!err)
		store_col_text(s, 0, l->s->role, sizeof(l->s->role));
	db_reset(s);
	return err ? err : session_insert(c, l->s);
}

int store_console_link_redeem(struct store *st, const char *link_hash, int64_t now,
			      struct store_console_session *s)
{
	struct link l = {link_hash, 0, NULL, now, s};

	if (!st || !link_hash || !s)
		return EINVAL;
	return store_write(st, link_redeem, &l);
}

static int audit_insert(struct store_conn *c, void *arg)
{
	const struct store_console_audit *a = arg;
	struct db_stmt *s = store_stmt(c, "INSERT INTO console_audit (sdkappid, at_ms, name, "
				       "action, result, summary) VALUES (?,?,?,?,?,?)");

	if (!s)
		return EIO;
	db_bind_int64(s, 1, (int64_t)a->sdkappid);
	db_bind_int64(s, 2, a->at_ms);
	db_bind_text(s, 3, a->name, -1);
	db_bind_text(s, 4, a->action, -1);
	db_bind_text(s, 5, a->result, -1);
	db_bind_text(s, 6, a->summary, -1);
	return step_done(c, s, false);
}

int store_console_audit_add(struct store *st, const struct store_console_audit *a)
{
	if (!st || !a)
		return EINVAL;
	return store_write(st, audit_insert, (void *)a);
}

struct audit_page {
	uint64_t sdkappid, offset, limit;
};

static void bind_page(struct db_stmt *s, const void *arg)
{
	const struct audit_page *p = arg;

	db_bind_int64(s, 1, (int64_t)p->sdkappid);
	db_bind_int64(s, 2, (int64_t)p->limit);
	db_bind_int64(s, 3, (int64_t)p->offset);
}

struct audit_walk {
	store_console_audit_h *h;
	void *arg;
};

static int audit_row(struct db_stmt *s, void *arg)
{
	struct audit_walk *w = arg;
	struct store_console_audit a;

	memset(&a, 0, sizeof(a));
	a.id = (uint64_t)db_col_int64(s, 0);
	a.sdkappid = (uint64_t)db_col_int64(s, 1);
	a.at_ms = db_col_int64(s, 2);
	store_col_text(s, 3, a.name, sizeof(a.name));
	store_col_text(s, 4, a.action, sizeof(a.action));
	store_col_text(s, 5, a.result, sizeof(a.result));
	store_col_text(s, 6, a.summary, sizeof(a.summary));
	return w->h(&a, w->arg);
}

static int count_row(struct db_stmt *s, void *arg)
{
	*(uint64_t *)arg = (uint64_t)db_col_int64(s, 0);
	return 0;
}

int store_console_audit_list(struct store *st, uint64_t sdkappid, uint64_t offset,
			     uint64_t limit, store_console_audit_h *h, void *arg,
			     uint64_t *totalp)
{
	struct audit_page p = {sdkappid, offset, limit};
	struct audit_walk w = {h, arg};
	int err;

	if (!st || !h || !totalp)
		return EINVAL;
	err = store_read(st, "SELECT count(*) AS n FROM console_audit WHERE sdkappid = ?",
			 bind_sdkappid, &sdkappid, count_row, totalp, true);
	if (!err)
		err = store_read(st, "SELECT id, sdkappid, at_ms, name, action, result, summary "
				 "FROM console_audit WHERE sdkappid = ? ORDER BY at_ms DESC, "
				 "id DESC LIMIT ? OFFSET ?", bind_page, &p, audit_row, &w, false);
	return err == ENOENT ? 0 : err;
}
