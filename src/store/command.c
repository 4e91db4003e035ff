/* commands: work for whichever node holds a call, through the database (HangUpCall sent
 * to a node that does not hold the call).
 *
 * A node that is asked to act on a session it may not hold writes a command row and, in
 * the same transaction, NOTIFY cccd_command (PostgreSQL delivers it at commit). Every node
 * listens on a connection of its own (store_listener, on a thread of its own: the wait
 * blocks) and reads the open commands of the last COMMAND_AGE_MS that other nodes wrote;
 * the node that holds the session runs the command and marks it done in its name. A
 * notification lost with a connection costs at most the poll period: the listener's
 * wait times out and the rows are read anyway. Rows older than COMMAND_AGE_MS are not
 * read again (the call they were for ended, or its node died and another took it over
 * with its state from the store). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "base/base.h"
#include "store/store_int.h"

enum { COMMAND_AGE_MS = 10000 };

struct command_add {
	uint64_t sdkappid;
	const char *session_id, *kind, *node_id;
};

static int add_write(struct store_conn *c, void *arg)
{
	const struct command_add *a = arg;
	struct db_stmt *s = store_stmt(c, "INSERT INTO commands (sdkappid, session_id, kind, "
				     "created_ms, created_by) VALUES (?,?,?,?,?)");
	int rc;

	if (!s)
		return EIO;
	db_bind_int64(s, 1, (int64_t)a->sdkappid);
	db_bind_text(s, 2, a->session_id, -1);
	db_bind_text(s, 3, a->kind, -1);
	db_bind_int64(s, 4, clock_unix_ms());
	db_bind_text(s, 5, a->node_id, -1);
	rc = db_step(s);
	if (rc != DB_DONE)
		return rc > 0 ? rc : EIO;
	return db_backend(c->db) == DB_POSTGRESQL ? db_exec(c->db, "NOTIFY cccd_command") : 0;
}

int store_command_add(struct store *st, uint64_t sdkappid, const char *session_id,
		      const char *kind)
{
	struct command_add a = {sdkappid, session_id, kind, st ? st->conf.node_id : ""};

	if (!st || !session_id || !*session_id || strlen(session_id) > 64 || !kind || !*kind)
		return EINVAL;
	if (st->conf.backend == DB_SQLITE)
		return 0; /* one node: the caller's own control loop is the one */
	return store_write(st, add_write, &a);
}

struct command_walk {
	store_command_h *h;
	void *arg;
};

static int command_row(struct db_stmt *q, void *arg)
{
	struct command_walk *w = arg;
	struct store_command cmd = {0};

	cmd.id = db_col_int64(q, 0);
	cmd.sdkappid = (uint64_t)db_col_int64(q, 1);
	store_col_text(q, 2, cmd.session_id, sizeof(cmd.session_id));
	store_col_text(q, 3, cmd.kind, sizeof(cmd.kind));
	return w->h(&cmd, w->arg);
}

struct command_query {
	int64_t after_id, since_ms;
	const char *node_id;
};

static void command_bind(struct db_stmt *q, const void *arg)
{
	const struct command_query *k = arg;

	db_bind_int64(q, 1, k->after_id);
	db_bind_int64(q, 2, k->since_ms);
	db_bind_text(q, 3, k->node_id, -1);
}

int store_commands_open(struct store *st, int64_t after_id, store_command_h *h, void *arg)
{
	struct command_walk w = {h, arg};
	struct command_query k = {after_id, clock_unix_ms() - COMMAND_AGE_MS,
				  st ? st->conf.node_id : ""};

	if (!st || !h)
		return EINVAL;
	return store_read(st, "SELECT id, sdkappid, session_id, kind FROM commands WHERE "
			  "id > ? AND done_ms = 0 AND created_ms >= ? AND created_by <> ? "
			  "ORDER BY id", command_bind, &k, command_row, &w, false);
}

struct command_done {
	int64_t id;
	char node_id[64];
};

static int done_write(struct store_conn *c, void *arg)
{
	const struct command_done *d = arg;
	struct db_stmt *s = store_stmt(c, "UPDATE commands SET claimed_by = ?, done_ms = ? "
				     "WHERE id = ? AND done_ms = 0");
	int rc;

	if (!s)
		return EIO;
	db_bind_text(s, 1, d->node_id, -1);
	db_bind_int64(s, 2, clock_unix_ms());
	db_bind_int64(s, 3, d->id);
	rc = db_step(s);
	return rc == DB_DONE ? 0 : (rc > 0 ? rc : EIO);
}

int store_command_done(struct store *st, int64_t id)
{
	struct command_done *d;

	if (!st || id <= 0)
		return EINVAL;
	d = mem_zalloc(sizeof(*d), NULL);
	if (!d)
		return ENOMEM;
	d->id = id;
	snprintf(d->node_id, sizeof(d->node_id), "%s", st->conf.node_id);
	return store_write_async(st, done_write, d);
}

/* ---- the listener ------------------------------------------------------------------ */

struct store_listener {
	struct store_conf conf;
	struct db_conn *db;         /* NULL while lost: made again at the next wait */
};

static void listener_destructor(void *arg)
{
	struct store_listener *l = arg;

	mem_deref(l->db);
}

static int listener_connect(struct store_listener *l)
{
	int err = db_open(&l->db, &l->conf, false);

	if (!err)
		err = db_listen(l->db, "cccd_command");
	if (err)
		l->db = mem_deref(l->db);
	return err;
}

int store_listener_open(struct store *st, struct store_listener **lp)
{
	struct store_listener *l;
	int err;

	if (!st || !lp)
		return EINVAL;
	if (st->conf.backend != DB_POSTGRESQL)
		return ENOTSUP;
	l = mem_zalloc(sizeof(*l), listener_destructor);
	if (!l)
		return ENOMEM;
	l->conf = st->conf;
	err = listener_connect(l);
	if (err) {
		mem_deref(l);
		return err;
	}
	*lp = l;
	return 0;
}

int store_listener_wait(struct store_listener *l, int timeout_ms)
{
	int err;

	if (!l)
		return EINVAL;
	if (!l->db && listener_connect(l)) {
		sys_msleep((unsigned)timeout_ms);
		return ETIMEDOUT;
	}
	err = db_wait_notify(l->db, timeout_ms);
	if (err == EIO) {
		log_warn("store", "the command listener's connection was lost: made again");
		l->db = mem_deref(l->db);
		return ETIMEDOUT;
	}
	return err;
}
