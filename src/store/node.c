/* nodes: each node's row (heartbeat, lease, state) and the takeover of a node whose lease
 * ran out (docs/architecture.md §Nodes).
 *
 * Why one claim statement: several survivors may see the same dead node at once. The
 * claim is an UPDATE whose WHERE repeats what made the node claimable (lease run out,
 * not taken yet); PostgreSQL re-checks it on the row it locked once the first claimer's
 * transaction ends, so exactly one claimer changes the row (db_changes says who), and
 * the move of the sessions happens in that same transaction. A node that restarts with
 * its old id while it is being taken over waits on the same row: either its new lease
 * lands first (nobody can claim it any more) or the claim does (its sessions are the
 * claimer's; it starts with none). On SQLite one node writes at a time: trivially so. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "base/base.h"
#include "store/store_int.h"

static const char *const state_names[] = {"running", "draining", "stopped", "dead"};

struct node_job {
	const char *node_id;
	int64_t now_ms;
	unsigned lease_ms;
	bool draining;
	char taken[64];                 /* takeover: the node taken */
	struct store_session **rows;    /* takeover: its unfinished sessions (mem array) */
	size_t n_rows;
};

static int step_done(struct db_stmt *s)
{
	int rc = db_step(s);

	if (rc == DB_ROW)
		db_reset(s);
	return rc == DB_DONE || rc == DB_ROW ? 0 : (rc > 0 ? rc : EIO);
}

static int start_write(struct store_conn *c, void *arg)
{
	const struct node_job *j = arg;
	struct db_stmt *s = store_stmt(c,
		"INSERT INTO nodes (node_id, started_ms, heartbeat_ms, lease_until_ms, state, "
		"taken_by) VALUES (?, ?, ?, ?, 'running', '') ON CONFLICT (node_id) DO UPDATE "
		"SET started_ms = excluded.started_ms, heartbeat_ms = excluded.heartbeat_ms, "
		"lease_until_ms = excluded.lease_until_ms, state = 'running', taken_by = ''");
	int err;

	if (!s)
		return EIO;
	db_bind_text(s, 1, j->node_id, -1);
	db_bind_int64(s, 2, j->now_ms);
	db_bind_int64(s, 3, j->now_ms);
	db_bind_int64(s, 4, j->now_ms + j->lease_ms);
	err = step_done(s);
	if (err)
		return err;
	s = store_stmt(c, "UPDATE sessions SET owner_node = ? WHERE owner_node = '' AND "
		       "status <> 3");
	if (!s)
		return EIO;
	db_bind_text(s, 1, j->node_id, -1);
	return step_done(s);
}

static int node_id_ok(const char *node_id)
{
	return node_id && node_id[0] && strlen(node_id) < 64 ? 0 : EINVAL;
}

int store_node_start(struct store *st, const char *node_id, int64_t now_ms, unsigned lease_ms)
{
	struct node_job j = {.node_id = node_id, .now_ms = now_ms, .lease_ms = lease_ms};

	if (!st || node_id_ok(node_id))
		return EINVAL;
	return store_write(st, start_write, &j);
}

static int heartbeat_write(struct store_conn *c, void *arg)
{
	const struct node_job *j = arg;
	struct db_stmt *s = store_stmt(c,
		"UPDATE nodes SET heartbeat_ms = ?, lease_until_ms = ?, state = ? "
		"WHERE node_id = ? AND state IN ('running', 'draining')");
	int err;

	if (!s)
		return EIO;
	db_bind_int64(s, 1, j->now_ms);
	db_bind_int64(s, 2, j->now_ms + j->lease_ms);
	db_bind_text(s, 3, state_names[j->draining ? STORE_NODE_DRAINING : STORE_NODE_RUNNING],
		     -1);
	db_bind_text(s, 4, j->node_id, -1);
	err = step_done(s);
	return err ? err : (db_changes(c->db) ? 0 : ESRCH);
}

int store_node_heartbeat(struct store *st, const char *node_id, bool draining,
			 int64_t now_ms, unsigned lease_ms)
{
	struct node_job j = {.node_id = node_id, .now_ms = now_ms, .lease_ms = lease_ms,
			     .draining = draining};

	if (!st || node_id_ok(node_id))
		return EINVAL;
	return store_write(st, heartbeat_write, &j);
}

static int stopped_write(struct store_conn *c, void *arg)
{
	const struct node_job *j = arg;
	struct db_stmt *s = store_stmt(c,
		"UPDATE nodes SET heartbeat_ms = ?, lease_until_ms = ?, state = 'stopped' "
		"WHERE node_id = ? AND state IN ('running', 'draining')");

	if (!s)
		return EIO;
	db_bind_int64(s, 1, j->now_ms);
	db_bind_int64(s, 2, j->now_ms);
	db_bind_text(s, 3, j->node_id, -1);
	return step_done(s);
}

int store_node_stopped(struct store *st, const char *node_id, int64_t now_ms)
{
	struct node_job j = {.node_id = node_id, .now_ms = now_ms};

	if (!st || node_id_ok(node_id))
		return EINVAL;
	return store_write(st, stopped_write, &j);
}

static int row_keep(struct store_session *row, void *arg)
{
	struct node_job *j = arg;
	size_t size = (j->n_rows + 1) * sizeof(*j->rows);
	/* libre's mem_realloc makes nothing of NULL */
	struct store_session **rows = j->rows ? mem_realloc(j->rows, size) :
		mem_zalloc(size, NULL);

	if (!rows)
		return ENOMEM;
	j->rows = rows;
	j->rows[j->n_rows++] = mem_ref(row);
	return 0;
}

static void rows_drop(struct node_job *j)
{
	for (size_t i = 0; i < j->n_rows; i++)
		mem_deref(j->rows[i]);
	j->rows = mem_deref(j->rows);
	j->n_rows = 0;
}

/* The claim and the move, in one savepoint: the oldest claimable node first. */
static int takeover_write(struct store_conn *c, void *arg)
{
	struct node_job *j = arg;
	struct db_stmt *s;
	int err;

	rows_drop(j);
	j->taken[0] = '\0';
	s = store_stmt(c, "SELECT node_id FROM nodes WHERE lease_until_ms < ? AND node_id <> ? "
		       "AND taken_by = '' AND state IN ('running', 'draining', 'stopped') "
		       "ORDER BY lease_until_ms LIMIT 1");
	if (!s)
		return EIO;
	db_bind_int64(s, 1, j->now_ms);
	db_bind_text(s, 2, j->node_id, -1);
	err = store_step_row(s);
	if (err)
		return err;
	store_col_text(s, 0, j->taken, sizeof(j->taken));
	db_reset(s);

	s = store_stmt(c, "UPDATE nodes SET taken_by = ?, state = CASE WHEN state = 'stopped' "
		       "THEN 'stopped' ELSE 'dead' END WHERE node_id = ? AND lease_until_ms < ? "
		       "AND taken_by = '' AND state IN ('running', 'draining', 'stopped')");
	if (!s)
		return EIO;
	db_bind_text(s, 1, j->node_id, -1);
	db_bind_text(s, 2, j->taken, -1);
	db_bind_int64(s, 3, j->now_ms);
	err = step_done(s);
	if (err)
		return err;
	if (!db_changes(c->db))
		return ENOENT; /* another node claimed it first */

	s = store_stmt(c, "SELECT " SESSION_COLUMNS " FROM sessions WHERE owner_node = ? AND "
		       "status <> 3 ORDER BY created_ms");
	if (!s)
		return EIO;
	db_bind_text(s, 1, j->taken, -1);
	err = store_session_rows(s, row_keep, j);
	if (err) {
		db_reset(s);
		return err;
	}
	s = store_stmt(c, "UPDATE sessions SET owner_node = ? WHERE owner_node = ? AND "
		       "status <> 3");
	if (!s)
		return EIO;
	db_bind_text(s, 1, j->node_id, -1);
	db_bind_text(s, 2, j->taken, -1);
	err = step_done(s);
	if (err)
		return err;
	/* The pushes it had claimed come back now, not when their lease ends (minutes): any
	 * node delivers them next, with the same push ids (a receiver dedupes one the dead
	 * node had sent just before it died). */
	s = store_stmt(c, "UPDATE outbox SET lease_ms = 0, claimed_by = '' WHERE state = 0 AND "
		       "claimed_by = ?");
	if (!s)
		return EIO;
	db_bind_text(s, 1, j->taken, -1);
	return step_done(s);
}

static void bind_claimable(struct db_stmt *q, const void *arg)
{
	const struct node_job *j = arg;

	db_bind_int64(q, 1, j->now_ms);
	db_bind_text(q, 2, j->node_id, -1);
}

static int row_none(struct db_stmt *q, void *arg)
{
	(void)q;
	(void)arg;
	return 0;
}

int store_node_takeover(struct store *st, const char *node_id, int64_t now_ms,
			char *takenp, size_t taken_size, store_session_h *h, void *arg)
{
	struct node_job j = {.node_id = node_id, .now_ms = now_ms};
	int err;

	if (!st || node_id_ok(node_id) || !takenp || !h)
		return EINVAL;
	/* A read first: most heartbeats find nobody to take, and cost no write. */
	err = store_read(st, "SELECT node_id FROM nodes WHERE lease_until_ms < ? AND node_id <> ? "
			 "AND taken_by = '' AND state IN ('running', 'draining', 'stopped') LIMIT 1",
			 bind_claimable, &j, row_none, NULL, true);
	if (err)
		return err;
	err = store_write(st, takeover_write, &j);
	for (size_t i = 0; !err && i < j.n_rows; i++)
		err = h(j.rows[i], arg);
	if (!err)
		snprintf(takenp, taken_size, "%s", j.taken);
	rows_drop(&j);
	return err;
}

static void bind_node(struct db_stmt *q, const void *arg)
{
	db_bind_text(q, 1, arg, -1);
}

static int node_row(struct db_stmt *q, void *arg)
{
	struct store_node *n = arg;
	const char *state = db_col_text(q, 4);

	memset(n, 0, sizeof(*n));
	store_col_text(q, 0, n->node_id, sizeof(n->node_id));
	n->started_ms = db_col_int64(q, 1);
	n->heartbeat_ms = db_col_int64(q, 2);
	n->lease_until_ms = db_col_int64(q, 3);
	for (size_t i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++)
		if (!strcmp(state, state_names[i]))
			n->state = (enum store_node_state)i;
	store_col_text(q, 5, n->taken_by, sizeof(n->taken_by));
	return 0;
}

int store_node_get(struct store *st, const char *node_id, struct store_node *out)
{
	if (!st || node_id_ok(node_id) || !out)
		return EINVAL;
	return store_read(st, "SELECT node_id, started_ms, heartbeat_ms, lease_until_ms, state, "
			  "taken_by FROM nodes WHERE node_id = ?", bind_node, node_id, node_row,
			  out, true);
}

static void bind_now(struct db_stmt *q, const void *arg)
{
	db_bind_int64(q, 1, *(const int64_t *)arg);
}

static int count_row(struct db_stmt *q, void *arg)
{
	*(uint64_t *)arg = (uint64_t)db_col_int64(q, 0);
	return 0;
}

struct ai_elsewhere {
	uint64_t sdkappid;
	const char *node_id;
};

static void bind_ai_elsewhere(struct db_stmt *q, const void *arg)
{
	const struct ai_elsewhere *a = arg;

	db_bind_int64(q, 1, (int64_t)a->sdkappid);
	db_bind_text(q, 2, a->node_id, -1);
}

int store_ai_live_elsewhere(struct store *st, uint64_t sdkappid, uint64_t *np)
{
	struct ai_elsewhere a = {sdkappid, st ? st->conf.node_id : ""};

	if (!st || !np)
		return EINVAL;
	*np = 0;
	/* The partial index sessions_ai_live (sdkappid, live AI sessions) serves it. */
	return store_read(st, "SELECT count(*) FROM sessions WHERE sdkappid = ? AND ai = 1 AND "
			  "status <> 3 AND owner_node <> ?", bind_ai_elsewhere, &a, count_row, np,
			  true);
}

int store_nodes_live(struct store *st, int64_t now_ms, uint64_t *np)
{
	if (!st || !np)
		return EINVAL;
	*np = 0;
	return store_read(st, "SELECT count(*) FROM nodes WHERE lease_until_ms >= ? AND state IN "
			  "('running', 'draining')", bind_now, &now_ms, count_row, np, true);
}
