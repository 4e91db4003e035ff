/* store/task: auto-callout tasks and their callees (task.h, docs/tasks.md).
 *
 * The callees of a task are rows of task_callees keyed by (task_id, seq). The column
 * `due` says when a callee's next try may be placed (NULL: none pending — answered,
 * finished, calling, or its task stopped); the index on (task_id, due, seq) lets the
 * scheduler take a task's next due callees in order without reading the others, so its
 * cost per attempt does not grow with the number waiting. The statements it runs per
 * tick or per attempt are listed by store_task_sched_sql (at the end), whose plans
 * tests/unit/test_store_plan.c checks on both engines: none reads a task's callees one by
 * one, none sorts them. A claim is one UPDATE whose rows are picked by a sub-select: on
 * SQLite the writer's transaction is the only writer there is, on PostgreSQL the
 * sub-select locks the rows it picks and skips those another node's claim holds (FOR
 * UPDATE SKIP LOCKED). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <re.h>
#include "base/base.h"
#include "store/store_int.h"
#include "store/task.h"

static void task_destroy(void *arg)
{
	struct store_task *t = arg;

	mem_deref(t->name);
	mem_deref(t->description);
	mem_deref(t->callers);
	mem_deref(t->variables);
	mem_deref(t->uui);
	mem_deref(t->time_zone);
	mem_deref(t->windows);
	mem_deref(t->retry_statuses);
}

int store_task_alloc(struct store_task **tp)
{
	struct store_task *t;
	int err;

	if (!tp)
		return EINVAL;
	t = mem_zalloc(sizeof(*t), task_destroy);
	if (!t)
		return ENOMEM;
	err = str_dup(&t->name, "");
	err |= str_dup(&t->description, "");
	err |= str_dup(&t->callers, "[]");
	err |= str_dup(&t->variables, "[]");
	err |= str_dup(&t->uui, "");
	err |= str_dup(&t->time_zone, "");
	err |= str_dup(&t->windows, "");
	err |= str_dup(&t->retry_statuses, "");
	if (err) {
		mem_deref(t);
		return ENOMEM;
	}
	*tp = t;
	return 0;
}

/* ---- creation ---------------------------------------------------------------------- */

struct task_new {
	struct store_task *t;
	const struct store_task_callee *callees;
	size_t n;
};

static int task_insert(struct store_conn *c, void *arg)
{
	struct task_new *tn = arg;
	struct store_task *t = tn->t;
	struct db_stmt *s;
	int err;

	s = store_stmt(c, "INSERT INTO tasks (sdkappid, account_id, name, description, ivr_id, "
		       "not_before, not_after, tries, retry_interval, max_ring_s, callers, "
		       "variables, uui, time_zone, windows, retry_statuses, concurrency, state, "
		       "callee_count, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
		       "RETURNING task_id");
	if (!s)
		return EIO;
	db_bind_int64(s, 1, (int64_t)t->sdkappid);
	db_bind_int64(s, 2, (int64_t)t->account_id);
	db_bind_text(s, 3, t->name, -1);
	db_bind_text(s, 4, t->description, -1);
	db_bind_int64(s, 5, (int64_t)t->ivr_id);
	db_bind_int64(s, 6, t->not_before);
	if (t->not_after)
		db_bind_int64(s, 7, t->not_after);
	db_bind_int64(s, 8, t->tries);
	db_bind_int64(s, 9, t->retry_interval);
	db_bind_int64(s, 10, t->max_ring_s);
	db_bind_text(s, 11, t->callers, -1);
	db_bind_text(s, 12, t->variables, -1);
	db_bind_text(s, 13, t->uui, -1);
	db_bind_text(s, 14, t->time_zone, -1);
	db_bind_text(s, 15, t->windows, -1);
	db_bind_text(s, 16, t->retry_statuses, -1);
	db_bind_int64(s, 17, t->concurrency);
	db_bind_int64(s, 18, STORE_TASK_CREATED);
	db_bind_int64(s, 19, (int64_t)tn->n);
	db_bind_int64(s, 20, t->created_at);
	err = store_step_row(s);
	if (!err)
		t->task_id = (uint64_t)db_col_int64(s, 0);
	db_reset(s);
	if (err)
		return err == ENOENT ? EIO : err;

	for (size_t i = 0; i < tn->n; i++) {
		const struct store_task_callee *ce = &tn->callees[i];

		s = store_stmt(c, "INSERT INTO task_callees (task_id, seq, callee, uui, variables, "
			       "due) VALUES (?,?,?,?,?,?)");
		if (!s)
			return EIO;
		db_bind_int64(s, 1, (int64_t)t->task_id);
		db_bind_int64(s, 2, (int64_t)i);
		db_bind_text(s, 3, ce->callee, -1);
		if (ce->uui)
			db_bind_text(s, 4, ce->uui, -1);
		if (ce->variables)
			db_bind_text(s, 5, ce->variables, -1);
		db_bind_int64(s, 6, t->not_before);
		err = db_step(s);
		if (err != DB_DONE)
			return err > 0 ? err : EIO;
	}
	return 0;
}

int store_task_create(struct store *st, struct store_task *t,
		      const struct store_task_callee *callees, size_t n, uint64_t *idp)
{
	struct task_new tn = {t, callees, n};
	int err;

	if (!st || !t || (!callees && n) || !idp || n > UINT32_MAX)
		return EINVAL;
	err = store_write(st, task_insert, &tn);
	if (err)
		return err;
	t->state = STORE_TASK_CREATED;
	t->callee_count = (uint32_t)n;
	*idp = t->task_id;
	return 0;
}

/* ---- reads ------------------------------------------------------------------------- */

#define TASK_COLUMNS "task_id, sdkappid, account_id, name, description, ivr_id, not_before, " \
	"coalesce(not_after, 0), tries, retry_interval, max_ring_s, callers, variables, uui, " \
	"time_zone, windows, retry_statuses, concurrency, state, reason, callee_count, " \
	"created_at, ended_at"

static int task_from_row(struct db_stmt *q, struct store_task **tp)
{
	struct store_task *t = mem_zalloc(sizeof(*t), task_destroy);

	if (!t)
		return ENOMEM;
	t->task_id = (uint64_t)db_col_int64(q, 0);
	t->sdkappid = (uint64_t)db_col_int64(q, 1);
	t->account_id = (uint64_t)db_col_int64(q, 2);
	t->name = store_col_dup(q, 3);
	t->description = store_col_dup(q, 4);
	t->ivr_id = (uint64_t)db_col_int64(q, 5);
	t->not_before = db_col_int64(q, 6);
	t->not_after = db_col_int64(q, 7);
	t->tries = (uint32_t)db_col_int64(q, 8);
	t->retry_interval = (uint32_t)db_col_int64(q, 9);
	t->max_ring_s = (uint32_t)db_col_int64(q, 10);
	t->callers = store_col_dup(q, 11);
	t->variables = store_col_dup(q, 12);
	t->uui = store_col_dup(q, 13);
	t->time_zone = store_col_dup(q, 14);
	t->windows = store_col_dup(q, 15);
	t->retry_statuses = store_col_dup(q, 16);
	t->concurrency = (uint32_t)db_col_int64(q, 17);
	t->state = (enum store_task_state)db_col_int64(q, 18);
	store_col_text(q, 19, t->reason, sizeof(t->reason));
	t->callee_count = (uint32_t)db_col_int64(q, 20);
	t->created_at = db_col_int64(q, 21);
	t->ended_at = db_col_int64(q, 22);
	if (!t->name || !t->description || !t->callers || !t->variables || !t->uui ||
	    !t->time_zone || !t->windows || !t->retry_statuses) {
		mem_deref(t);
		return ENOMEM;
	}
	*tp = t;
	return 0;
}

struct task_key {
	uint64_t sdkappid, task_id;
};

static void bind_task_key(struct db_stmt *q, const void *arg)
{
	const struct task_key *k = arg;

	db_bind_int64(q, 1, (int64_t)k->sdkappid);
	db_bind_int64(q, 2, (int64_t)k->task_id);
}

static int task_row(struct db_stmt *q, void *arg)
{
	return task_from_row(q, arg);
}

int store_task_get(struct store *st, uint64_t sdkappid, uint64_t task_id,
		   struct store_task **tp)
{
	struct task_key k = {sdkappid, task_id};

	if (!st || !tp)
		return EINVAL;
	*tp = NULL;
	return store_read(st, "SELECT " TASK_COLUMNS " FROM tasks WHERE sdkappid = ? AND "
			  "task_id = ?", bind_task_key, &k, task_row, tp, true);
}

struct task_page {
	uint64_t sdkappid, offset, limit;
	store_task_h *h;
	void *arg;
};

static void bind_page(struct db_stmt *q, const void *arg)
{
	const struct task_page *p = arg;

	db_bind_int64(q, 1, (int64_t)p->sdkappid);
	db_bind_int64(q, 2, (int64_t)p->limit);
	db_bind_int64(q, 3, (int64_t)p->offset);
}

static int page_row(struct db_stmt *q, void *arg)
{
	struct task_page *p = arg;
	struct store_task *t = NULL;
	int err = task_from_row(q, &t);

	if (!err)
		err = p->h(t, p->arg);
	mem_deref(t);
	return err;
}

static void bind_sdkappid(struct db_stmt *q, const void *arg)
{
	db_bind_int64(q, 1, (int64_t)*(const uint64_t *)arg);
}

static int count_row(struct db_stmt *q, void *arg)
{
	*(uint64_t *)arg = (uint64_t)db_col_int64(q, 0);
	return 0;
}

int store_tasks_list(struct store *st, uint64_t sdkappid, uint64_t offset, uint64_t limit,
		     store_task_h *h, void *arg, uint64_t *totalp)
{
	struct task_page p = {sdkappid, offset, limit, h, arg};
	int err;

	if (!st || !h || !totalp || offset > INT64_MAX || limit > INT64_MAX)
		return EINVAL;
	err = store_read(st, "SELECT count(*) FROM tasks WHERE sdkappid = ?", bind_sdkappid,
			 &sdkappid, count_row, totalp, true);
	if (err)
		return err;
	return store_read(st, "SELECT " TASK_COLUMNS " FROM tasks WHERE sdkappid = ? ORDER BY "
			  "task_id LIMIT ? OFFSET ?", bind_page, &p, page_row, &p, false);
}

struct callee_walk {
	store_callee_h *h;
	void *arg;
};

static void callee_row_read(struct db_stmt *q, struct store_callee_row *r)
{
	r->task_id = (uint64_t)db_col_int64(q, 0);
	r->seq = (uint32_t)db_col_int64(q, 1);
	r->callee = db_col_text(q, 2);
	r->state = (enum store_callee_state)db_col_int64(q, 3);
	r->tries = (uint32_t)db_col_int64(q, 4);
	r->due = db_col_int64(q, 5);
	r->sessions = db_col_text(q, 6);
}

static int callee_row(struct db_stmt *q, void *arg)
{
	struct callee_walk *w = arg;
	struct store_callee_row r;

	callee_row_read(q, &r);
	return w->h(&r, w->arg);
}

int store_task_callees(struct store *st, uint64_t task_id, store_callee_h *h, void *arg)
{
	struct callee_walk w = {h, arg};

	if (!st || !h)
		return EINVAL;
	return store_read(st, "SELECT task_id, seq, callee, state, tries, coalesce(due, 0), "
			  "sessions FROM task_callees WHERE task_id = ? ORDER BY seq",
			  bind_sdkappid, &task_id, callee_row, &w, false);
}

/* The task-finished push (docs/push.md, a cccd addition): an `event` of the instance's
 * push, in the write that ends the task. The outbox keys it by "task-<TaskId>". */
static int finished_push(struct store_conn *c, uint64_t sdkappid, uint64_t task_id,
			 enum store_task_state state, int64_t now)
{
	char key[32], body[320];

	snprintf(key, sizeof(key), "task-%llu", (unsigned long long)task_id);
	snprintf(body, sizeof(body), "{\"SdkAppId\":%llu,\"SessionId\":\"\",\"Event\":"
		 "\"AutoCalloutTaskFinished\",\"Timestamp\":%lld,\"SessionStatus\":\"\","
		 "\"Data\":{\"TaskId\":%llu,\"State\":%d}}", (unsigned long long)sdkappid,
		 (long long)now * 1000, (unsigned long long)task_id, (int)state);
	return store_outbox_add(c, sdkappid, key, "event", body);
}

/* ---- user actions ------------------------------------------------------------------ */

struct task_change {
	uint64_t sdkappid, task_id;
	enum store_task_op op;
	const char *reason;
	int64_t now;
};

static int task_change_apply(struct store_conn *c, void *arg)
{
	const struct task_change *tc = arg;
	struct db_stmt *s;
	int rc;

	switch (tc->op) {
	case STORE_TASK_PAUSE:
		s = store_stmt(c, "UPDATE tasks SET state = 5, reason = ? WHERE sdkappid = ? AND "
			       "task_id = ? AND state IN (0, 1)");
		break;
	case STORE_TASK_RESUME:
		/* Before NotBefore the task has not started: it is created again. */
		s = store_stmt(c, "UPDATE tasks SET state = CASE WHEN not_before > ? THEN 0 ELSE "
			       "1 END, reason = '' WHERE sdkappid = ? AND task_id = ? AND "
			       "state = 5");
		break;
	default:
		s = store_stmt(c, "UPDATE tasks SET state = 4, ended_at = ? WHERE sdkappid = ? "
			       "AND task_id = ? AND state IN (0, 1, 3, 5)");
		break;
	}
	if (!s)
		return EIO;
	if (tc->op == STORE_TASK_PAUSE)
		db_bind_text(s, 1, tc->reason ? tc->reason : "", -1);
	else
		db_bind_int64(s, 1, tc->now);
	db_bind_int64(s, 2, (int64_t)tc->sdkappid);
	db_bind_int64(s, 3, (int64_t)tc->task_id);
	rc = db_step(s);
	if (rc != DB_DONE)
		return rc > 0 ? rc : EIO;
	if (!db_changes(c->db)) {
		/* Unknown (ENOENT) or in a state that does not allow it (EPERM). */
		s = store_stmt(c, "SELECT 1 FROM tasks WHERE sdkappid = ? AND task_id = ?");
		if (!s)
			return EIO;
		db_bind_int64(s, 1, (int64_t)tc->sdkappid);
		db_bind_int64(s, 2, (int64_t)tc->task_id);
		rc = store_step_row(s);
		db_reset(s);
		return rc ? rc : EPERM;
	}
	if (tc->op != STORE_TASK_STOP)
		return 0;
	rc = finished_push(c, tc->sdkappid, tc->task_id, STORE_TASK_STOPPED, tc->now);
	if (rc)
		return rc;
	s = store_stmt(c, "UPDATE task_callees SET due = NULL, state = CASE WHEN state = 4 "
		       "THEN 2 ELSE state END WHERE task_id = ? AND due IS NOT NULL");
	if (!s)
		return EIO;
	db_bind_int64(s, 1, (int64_t)tc->task_id);
	rc = db_step(s);
	return rc == DB_DONE ? 0 : (rc > 0 ? rc : EIO);
}

int store_task_change(struct store *st, uint64_t sdkappid, uint64_t task_id,
		      enum store_task_op op, const char *reason, int64_t now)
{
	struct task_change tc = {sdkappid, task_id, op, reason, now};

	if (!st || op < STORE_TASK_PAUSE || op > STORE_TASK_STOP)
		return EINVAL;
	return store_write(st, task_change_apply, &tc);
}

/* ---- the scheduler's side ---------------------------------------------------------- */

enum { CLAIM_MAX = 64 };

struct claimed {
	uint32_t seq;
	uint32_t tries;
	char callee[33];
	char *uui;            /* NULL: the task's */
	char *variables;      /* NULL: the task's */
};

struct task_claim {
	uint64_t task_id;
	int64_t now;
	unsigned max;
	const char *node;
	struct claimed rows[CLAIM_MAX];
	unsigned n;
};

static void claimed_clear(struct task_claim *tc)
{
	for (unsigned i = 0; i < tc->n; i++) {
		tc->rows[i].uui = mem_deref(tc->rows[i].uui);
		tc->rows[i].variables = mem_deref(tc->rows[i].variables);
	}
	tc->n = 0;
}

static void task_claim_destroy(void *arg)
{
	claimed_clear(arg);
}

/* The sub-select reads task_callees_next (task_id, due, seq) from the task's first due
 * callee on and stops at the LIMIT's: the rows come in the ORDER BY's order, nothing is
 * sorted. (With task_callees_due alone, the callees due at one time — all of a task's
 * until its first tries are made — were sorted by seq to take 64.) */
#define CLAIM_SQL(lock) "UPDATE task_callees SET state = 3, tries = tries + 1, due = NULL, " \
	"claimed_by = ? WHERE task_id = ? AND seq IN (SELECT seq FROM task_callees WHERE " \
	"task_id = ? AND due <= ? AND EXISTS (SELECT 1 FROM tasks WHERE tasks.task_id = ? AND " \
	"tasks.state = 1) ORDER BY due, seq LIMIT ?" lock ") RETURNING seq, tries, callee, " \
	"uui, variables"

static const char claim_sql[] = CLAIM_SQL("");
static const char claim_sql_pg[] = CLAIM_SQL(" FOR UPDATE SKIP LOCKED");

static int task_claim_apply(struct store_conn *c, void *arg)
{
	struct task_claim *tc = arg;
	struct db_stmt *s;
	int rc;

	/* The job may run again after a failed batch: what it read last time is void. */
	claimed_clear(tc);
	s = store_stmt(c, db_backend(c->db) == DB_POSTGRESQL ? claim_sql_pg : claim_sql);
	if (!s)
		return EIO;
	db_bind_text(s, 1, tc->node ? tc->node : "", -1);
	db_bind_int64(s, 2, (int64_t)tc->task_id);
	db_bind_int64(s, 3, (int64_t)tc->task_id);
	db_bind_int64(s, 4, tc->now);
	db_bind_int64(s, 5, (int64_t)tc->task_id);
	db_bind_int64(s, 6, tc->max);
	while ((rc = db_step(s)) == DB_ROW) {
		struct claimed *r = &tc->rows[tc->n++];

		r->seq = (uint32_t)db_col_int64(s, 0);
		r->tries = (uint32_t)db_col_int64(s, 1);
		store_col_text(s, 2, r->callee, sizeof(r->callee));
		r->uui = db_col_null(s, 3) ? NULL : store_col_dup(s, 3);
		r->variables = db_col_null(s, 4) ? NULL : store_col_dup(s, 4);
	}
	return rc == DB_DONE ? 0 : (rc > 0 ? rc : EIO);
}

int store_task_claim(struct store *st, uint64_t task_id, int64_t now, unsigned max,
		     const char *node, store_callee_h *h, void *arg)
{
	struct task_claim *tc;
	int err;

	if (!st || !h || !max || max > CLAIM_MAX)
		return EINVAL;
	tc = mem_zalloc(sizeof(*tc), task_claim_destroy);
	if (!tc)
		return ENOMEM;
	*tc = (struct task_claim){.task_id = task_id, .now = now, .max = max, .node = node};
	err = store_write(st, task_claim_apply, tc);
	for (unsigned i = 0; !err && i < tc->n; i++) {
		struct store_callee_row r = {
			.task_id = task_id, .seq = tc->rows[i].seq, .callee = tc->rows[i].callee,
			.state = STORE_CALLEE_CALLING, .tries = tc->rows[i].tries, .sessions = "",
			.uui = tc->rows[i].uui, .variables = tc->rows[i].variables,
		};

		err = h(&r, arg);
	}
	mem_deref(tc);
	return err;
}

/* A claimed callee given back (also a try a trunk's refusal gave back). */
static const char unclaim_sql[] = "UPDATE task_callees SET state = CASE WHEN tries > 1 THEN "
	"4 ELSE 0 END, tries = tries - 1, due = ? WHERE task_id = ? AND seq = ? AND state = 3";

struct unclaim {
	uint64_t task_id;
	uint32_t seq;
	int64_t due;
};

static int unclaim_apply(struct store_conn *c, void *arg)
{
	const struct unclaim *u = arg;
	struct db_stmt *q = store_stmt(c, unclaim_sql);
	int rc;

	if (!q)
		return EIO;
	db_bind_int64(q, 1, u->due);
	db_bind_int64(q, 2, (int64_t)u->task_id);
	db_bind_int64(q, 3, u->seq);
	rc = db_step(q);
	return rc == DB_DONE ? 0 : (rc > 0 ? rc : EIO);
}

int store_task_unclaim(struct store *st, uint64_t task_id, uint32_t seq, int64_t due)
{
	struct unclaim u = {task_id, seq, due};

	if (!st)
		return EINVAL;
	return store_write(st, unclaim_apply, &u);
}

struct recover {
	const char *node;
	int64_t now;
};

/* A claim whose session never reached the store (the node stopped between the two) has
 * fewer sessions than tries: the try was not made. */
static int recover_apply(struct store_conn *c, void *arg)
{
	const struct recover *r = arg;
	struct db_stmt *q = store_stmt(c, "UPDATE task_callees SET state = CASE WHEN tries > 1 "
				       "THEN 4 ELSE 0 END, tries = tries - 1, due = ? WHERE "
				       "state = 3 AND claimed_by = ? AND (SELECT count(*) FROM "
				       "sessions s WHERE s.task_id = task_callees.task_id AND "
				       "s.task_seq = task_callees.seq) < tries");
	int rc;

	if (!q)
		return EIO;
	db_bind_int64(q, 1, r->now);
	db_bind_text(q, 2, r->node, -1);
	rc = db_step(q);
	return rc == DB_DONE ? 0 : (rc > 0 ? rc : EIO);
}

int store_task_recover(struct store *st, const char *node, int64_t now)
{
	struct recover r = {node ? node : "", now};

	if (!st)
		return EINVAL;
	return store_write(st, recover_apply, &r);
}

/* The state changes of a tick that need no row by row work. */
static const char *const advance_sql[] = {
	/* NotBefore reached. */
	"UPDATE tasks SET state = 1 WHERE state = 0 AND not_before <= ?",
	/* NotAfter reached: nothing more is due, calls in progress finish (state 3). */
	("UPDATE task_callees SET due = NULL, state = CASE WHEN state = 4 THEN 2 ELSE state END "
	 "WHERE due IS NOT NULL AND task_id IN (SELECT task_id FROM tasks WHERE state IN "
	 "(0, 1, 5) AND not_after IS NOT NULL AND not_after <= ?)"),
	("UPDATE tasks SET state = 3 WHERE state IN (0, 1, 5) AND not_after IS NOT NULL AND "
	 "not_after <= ?"),
};

/* The tasks that end now, each ended with its push: ending with no call left → stopped;
 * running with no call left and nothing due → completed. */
static const struct {
	const char *find;
	enum store_task_state to;
} endings[] = {
	{"SELECT task_id, sdkappid FROM tasks WHERE state = 3 AND NOT EXISTS (SELECT 1 FROM "
	 "task_callees k WHERE k.task_id = tasks.task_id AND k.state = 3)", STORE_TASK_STOPPED},
	/* A callee of a running task is due exactly when it waits (state 0 or 4: every
	 * write that sets one of these sets due, every other sets it NULL; only a stop and
	 * NotAfter clear due of waiting callees, and their task never runs again): so "no call
	 * and nothing due" is a search of task_callees_state. Written `k.state = 3 OR k.due
	 * IS NOT NULL`, it read the task's callees one by one until one matched, every tick
	 * (the done ones first, once the first tries were made). */
	{"SELECT task_id, sdkappid FROM tasks WHERE state = 1 AND NOT EXISTS (SELECT 1 FROM "
	 "task_callees k WHERE k.task_id = tasks.task_id AND k.state IN (0, 3, 4))",
	 STORE_TASK_COMPLETED},
};

enum { ENDINGS_MAX = 256 };    /* per tick; the rest end on the next */

static int advance_apply(struct store_conn *c, void *arg)
{
	const int64_t *now = arg;
	uint64_t ids[ENDINGS_MAX][2];
	struct db_stmt *q;
	int rc;

	for (size_t i = 0; i < sizeof(advance_sql) / sizeof(advance_sql[0]); i++) {
		q = store_stmt(c, advance_sql[i]);
		if (!q)
			return EIO;
		db_bind_int64(q, 1, *now);
		rc = db_step(q);
		if (rc != DB_DONE)
			return rc > 0 ? rc : EIO;
	}
	for (size_t e = 0; e < sizeof(endings) / sizeof(endings[0]); e++) {
		size_t n = 0;

		q = store_stmt(c, endings[e].find);
		if (!q)
			return EIO;
		while (n < ENDINGS_MAX && (rc = db_step(q)) == DB_ROW) {
			ids[n][0] = (uint64_t)db_col_int64(q, 0);
			ids[n++][1] = (uint64_t)db_col_int64(q, 1);
		}
		db_reset(q);
		if (rc != DB_ROW && rc != DB_DONE)
			return rc;
		for (size_t i = 0; i < n; i++) {
			q = store_stmt(c, "UPDATE tasks SET state = ?, ended_at = ? WHERE task_id = ?");
			if (!q)
				return EIO;
			db_bind_int64(q, 1, endings[e].to);
			db_bind_int64(q, 2, *now);
			db_bind_int64(q, 3, (int64_t)ids[i][0]);
			rc = db_step(q);
			if (rc != DB_DONE)
				return rc > 0 ? rc : EIO;
			rc = finished_push(c, ids[i][1], ids[i][0], endings[e].to, *now);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int store_tasks_advance(struct store *st, int64_t now)
{
	uint64_t open = 0;
	int err;

	if (!st)
		return EINVAL;
	/* A read first: with no task that can change, a tick writes nothing (a write is a
	 * commit, an fsync, every tick_ms of an idle cccd). */
	err = store_read(st, "SELECT count(*) FROM tasks WHERE state IN (0, 1, 3, 5)", NULL,
			 NULL, count_row, &open, true);
	if (err || !open)
		return err;
	return store_write(st, advance_apply, &now);
}

struct running_walk {
	store_task_h *h;
	void *arg;
};

static int running_row(struct db_stmt *q, void *arg)
{
	struct running_walk *w = arg;
	struct store_task *t = NULL;
	int err = task_from_row(q, &t);

	if (!err)
		err = w->h(t, w->arg);
	mem_deref(t);
	return err;
}

int store_tasks_running(struct store *st, store_task_h *h, void *arg)
{
	struct running_walk w = {h, arg};

	if (!st || !h)
		return EINVAL;
	return store_read(st, "SELECT " TASK_COLUMNS " FROM tasks WHERE state = 1 ORDER BY "
			  "task_id", NULL, NULL, running_row, &w, false);
}

static const char calling_sql[] = "SELECT count(*) FROM task_callees WHERE task_id = ? AND "
	"state = 3";

int store_task_calling(struct store *st, uint64_t task_id, uint64_t *np)
{
	if (!st || !np)
		return EINVAL;
	return store_read(st, calling_sql, bind_sdkappid, &task_id, count_row, np, true);
}

/* ---- attempts, inside the session writes --------------------------------------------- */

static const char session_added_sql[] = "UPDATE task_callees SET sessions = CASE WHEN "
	"sessions = '' THEN ? ELSE sessions || ',' || ? END WHERE task_id = ? AND seq = ?";

int store_task_session_added(struct store_conn *c, const struct store_session *s)
{
	struct db_stmt *q = store_stmt(c, session_added_sql);
	int rc;

	if (!q)
		return EIO;
	db_bind_text(q, 1, s->id, -1);
	db_bind_text(q, 2, s->id, -1);
	db_bind_int64(q, 3, (int64_t)s->task_id);
	db_bind_int64(q, 4, s->task_seq);
	rc = db_step(q);
	return rc == DB_DONE ? 0 : (rc > 0 ? rc : EIO);
}

/* The EndStatus codes retried when the task names none (RetryHangupTypes' list without
 * 222: a machine that answered is retried only when the task asks). 203 (the callee
 * rejected the call) is in neither: a callee's refusal is never retried. */
static bool retry_default(int code)
{
	return code == 202 || (code >= 204 && code <= 208) || code == 210 || code == 212 ||
	       code == 213 || (code >= 215 && code <= 219) || code == 221 || code == 234;
}

/* Is code in "202,206,..."? */
static bool retry_listed(const char *list, int code)
{
	char want[16];
	size_t n = (size_t)snprintf(want, sizeof(want), "%d", code);

	for (const char *p = list; *p; ) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == n && !memcmp(p, want, n))
			return true;
		p += len + (end ? 1 : 0);
	}
	return false;
}

/* A trunk that refused cccd's own credentials or the call as a whole (401, 403, 407:
 * EndStatus 208 or 212 with that SIP status first in the reason) says nothing about the
 * callee: the task pauses and the try is given back. */
static bool refused_by_trunk(int end_status, const char *reason)
{
	return (end_status == 208 || end_status == 212) && reason &&
	       (!strncmp(reason, "401 ", 4) || !strncmp(reason, "403 ", 4) ||
		!strncmp(reason, "407 ", 4));
}

static int trunk_refusal(struct store_conn *c, int64_t task_id, int64_t seq, const char *reason,
			 int64_t ended_ts)
{
	char why[256];
	struct db_stmt *q;
	int rc;

	snprintf(why, sizeof(why), "the trunk refused the calls: %s", reason);
	q = store_stmt(c, "UPDATE tasks SET state = 5, reason = ? WHERE task_id = ? AND "
		       "state IN (0, 1)");
	if (!q)
		return EIO;
	db_bind_text(q, 1, why, -1);
	db_bind_int64(q, 2, task_id);
	rc = db_step(q);
	if (rc != DB_DONE)
		return rc > 0 ? rc : EIO;
	if (db_changes(c->db))
		log_warn("tasks", "task %lld paused: %s", (long long)task_id, why);
	q = store_stmt(c, unclaim_sql);
	if (!q)
		return EIO;
	db_bind_int64(q, 1, ended_ts);
	db_bind_int64(q, 2, task_id);
	db_bind_int64(q, 3, seq);
	rc = db_step(q);
	return rc == DB_DONE ? 0 : (rc > 0 ? rc : EIO);
}

/* The callee's tries by a sub-select on its key: as a join, PostgreSQL may merge it with
 * task_callees read in task order from the first task on (where few sessions are a
 * task's, it expects the session's task among the first). */
static const char finished_sql[] = "SELECT s.task_id, s.task_seq, t.tries, t.retry_interval, "
	"t.retry_statuses, (SELECT k.tries FROM task_callees k WHERE k.task_id = s.task_id "
	"AND k.seq = s.task_seq), t.state FROM sessions s JOIN tasks t ON t.task_id = "
	"s.task_id WHERE s.id = ? AND s.task_id <> 0";
static const char outcome_sql[] = "UPDATE task_callees SET state = ?, due = ? WHERE "
	"task_id = ? AND seq = ? AND state = 3";

int store_task_session_finished(struct store_conn *c, const char *session_id, int end_status,
				const char *reason, int64_t ended_ts)
{
	struct db_stmt *q = store_stmt(c, finished_sql);
	int64_t task_id, seq, interval;
	uint32_t tries, made;
	char statuses[256];
	enum store_callee_state state;
	bool retry, running;
	int rc;

	if (!q)
		return EIO;
	db_bind_text(q, 1, session_id, -1);
	rc = store_step_row(q);
	if (rc) {
		db_reset(q);
		return rc == ENOENT ? 0 : rc;
	}
	task_id = db_col_int64(q, 0);
	seq = db_col_int64(q, 1);
	tries = (uint32_t)db_col_int64(q, 2);
	interval = db_col_int64(q, 3);
	store_col_text(q, 4, statuses, sizeof(statuses));
	made = (uint32_t)db_col_int64(q, 5);
	running = db_col_int64(q, 6) == STORE_TASK_RUNNING || db_col_int64(q, 6) == STORE_TASK_PAUSED;
	db_reset(q);

	if (refused_by_trunk(end_status, reason))
		return trunk_refusal(c, task_id, seq, reason, ended_ts);
	retry = end_status != 203 &&
		(statuses[0] ? retry_listed(statuses, end_status) : retry_default(end_status));
	if (end_status == 1)
		state = STORE_CALLEE_ANSWERED;
	else if (retry && running && made < tries)
		state = STORE_CALLEE_RETRY;
	else
		state = STORE_CALLEE_NOT_ANSWERED;
	/* Only a callee still calling takes it; a task that ended meanwhile (stopped,
	 * ending) keeps the outcome but retries nothing. */
	q = store_stmt(c, outcome_sql);
	if (!q)
		return EIO;
	db_bind_int64(q, 1, state);
	if (state == STORE_CALLEE_RETRY)
		db_bind_int64(q, 2, ended_ts + interval);
	db_bind_int64(q, 3, task_id);
	db_bind_int64(q, 4, seq);
	rc = db_step(q);
	return rc == DB_DONE ? 0 : (rc > 0 ? rc : EIO);
}

/* The statements that read task_callees per tick or per attempt, for the plan tests.
 * Not among them: NotAfter's (advance_sql[1]), which reads callees only on the tick a
 * task reaches its NotAfter, to end every one of them that waits. */
const char *store_task_sched_sql(enum db_backend backend, size_t i)
{
	const char *const sql[] = {
		backend == DB_POSTGRESQL ? claim_sql_pg : claim_sql, unclaim_sql, calling_sql,
		endings[0].find, endings[1].find, session_added_sql, finished_sql, outcome_sql,
	};

	return i < sizeof(sql) / sizeof(sql[0]) ? sql[i] : NULL;
}
