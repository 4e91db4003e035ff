/* session rows: creation (durable before the API replies) and lookup. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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
	mem_deref(s->participants);
	mem_deref(s->voicemail_urls);
	mem_deref(s->evidence);
}

int store_session_alloc(struct store_session **sp, const char *uui, const char *variables)
{
	struct store_session *s = mem_zalloc(sizeof(*s), session_destructor);
	int err;

	if (!s)
		return ENOMEM;
	err = str_dup(&s->uui, uui ? uui : "");
	err |= str_dup(&s->variables, variables ? variables : "[]");
	err |= str_dup(&s->participants, "[]");
	err |= str_dup(&s->voicemail_urls, "[]");
	err |= str_dup(&s->evidence, "{}");
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
	struct db_stmt *s = store_stmt(c,
		"INSERT INTO sessions (id, sdkappid, account_id, direction, caller, callee, "
		"ivr_id, ivr_version, uui, variables, max_ring_s, request_id, status, created_ms, "
		"start_ts, ai, owner_node, task_id, task_seq) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
	int rc;

	if (!s)
		return EIO;
	db_bind_text(s, 1, x->id, -1);
	db_bind_int64(s, 2, (int64_t)x->sdkappid);
	db_bind_int64(s, 3, (int64_t)x->account_id);
	db_bind_int64(s, 4, x->direction);
	db_bind_text(s, 5, x->caller, -1);
	db_bind_text(s, 6, x->callee, -1);
	db_bind_int64(s, 7, (int64_t)x->ivr_id);
	db_bind_int64(s, 8, x->ivr_version);
	db_bind_text(s, 9, x->uui ? x->uui : "", -1);
	db_bind_text(s, 10, x->variables ? x->variables : "[]", -1);
	db_bind_int64(s, 11, x->max_ring_s);
	db_bind_text(s, 12, x->request_id, -1);
	db_bind_int64(s, 13, (int)x->status);
	db_bind_int64(s, 14, x->created_ms);
	db_bind_int64(s, 15, x->start_ts);
	db_bind_int64(s, 16, x->ai ? 1 : 0);
	db_bind_text(s, 17, c->node_id, -1);
	db_bind_int64(s, 18, (int64_t)x->task_id);
	db_bind_int64(s, 19, x->task_seq);
	rc = db_step(s);
	if (rc != DB_DONE)
		return rc > 0 ? rc : EIO;
	return x->task_id ? store_task_session_added(c, x) : 0;
}

static int session_insert_job(struct store_conn *c, void *arg)
{
	return session_insert(c, arg);
}

/* A copy of s with strings of its own, for another thread to own. */
static int session_copy(const struct store_session *s, struct store_session **cp)
{
	struct store_session *c;
	char *uui, *variables, *participants, *voicemail_urls, *evidence;
	int err = store_session_alloc(&c, s->uui, s->variables);

	if (err)
		return err;
	c->participants = mem_deref(c->participants);
	c->voicemail_urls = mem_deref(c->voicemail_urls);
	c->evidence = mem_deref(c->evidence);
	err = str_dup(&c->participants, s->participants ? s->participants : "[]");
	err |= str_dup(&c->voicemail_urls, s->voicemail_urls ? s->voicemail_urls : "[]");
	err |= str_dup(&c->evidence, s->evidence ? s->evidence : "{}");
	if (err) {
		mem_deref(c);
		return ENOMEM;
	}
	uui = c->uui;
	variables = c->variables;
	participants = c->participants;
	voicemail_urls = c->voicemail_urls;
	evidence = c->evidence;
	*c = *s;
	c->uui = uui;
	c->variables = variables;
	c->participants = participants;
	c->voicemail_urls = voicemail_urls;
	c->evidence = evidence;
	*cp = c;
	return 0;
}

int store_session_create_async(struct store *st, struct store_session *s)
{
	struct store_session *copy;
	int err;

	if (!st || !s || strlen(s->id) != 32)
		return EINVAL;
	/* The writer thread owns its copy: sharing s would have both threads change its
	 * (non-atomic) reference count. */
	err = session_copy(s, &copy);
	return err ? err : store_write_async(st, session_insert_job, copy);
}

int store_session_create(struct store *st, const struct store_session *s)
{
	if (!st || !s || strlen(s->id) != 32)
		return EINVAL;
	return store_write(st, session_insert, (void *)s);
}

struct admit_job {
	struct store_session *s;
	const struct store_admit_query *q;
	store_admit_h *decide;
	void *arg;
	int refusal;
};

/* ---- admission: the counted checks, exact across nodes ------------------------------
 *
 * Every count of an admission and the insert it allows must be one step for all the
 * nodes, or two nodes could both count 2 under a cap of 3 and both insert (PostgreSQL's
 * READ COMMITTED). Before counting, the job locks one key per thing it counts — the
 * callee, each caller candidate, the instance (AI licences, channels, minutes), the
 * account (the request rate) — with transaction-scoped advisory locks (db_lock_keys), so
 * a second admission of the same key anywhere waits for the first one's commit and then
 * counts its session (each statement of READ COMMITTED reads what committed before it
 * started). Keys are 64-bit FNV-1a hashes of "instance/kind/value": two keys that
 * collide only serialise more than needed.
 *
 * No deadlock: the writer runs many jobs in one transaction (group commit), so a batch
 * holds the keys of its earlier jobs while a later job asks for its own, and two nodes
 * could then wait for each other. Hence only the first job of a batch that locks keys
 * waits for them (sorted ascending, so waiters form chains of increasing keys, never a
 * cycle); a later job only tries, and when a key is taken elsewhere it rolls back its
 * savepoint (releasing what it took) with EAGAIN and is queued again for a later batch,
 * where it may be first. Serializable transactions were the other way: they would
 * abort a whole batch of the group commit on every conflict, with every acknowledged
 * write of it to redo; locks make the second admission wait a commit, not retry.
 *
 * Round trips (PostgreSQL): an admission is three — the locks, all keys in one statement
 * (with the job's SAVEPOINT and the previous job's RELEASE, held back by db_pg.c); every
 * count, sent together (db_send) and read in the same order; the insert (and the pool's
 * number update, sent before it). Counting one statement at a time made it eight or more,
 * and on a loaded machine each round trip is two context switches between cccd and the
 * server, which is what the profile showed the writer waiting on. The callee's two
 * windows (interval and day) are one statement: one index range, two sums. */
enum { ADMIT_KEYS_MAX = STORE_ADMIT_MAX_CALLERS + 3, ADMIT_RETRIES = 200, ADMIT_READS = 8 };

static int64_t key_hash(uint64_t sdkappid, const char *kind, const char *value)
{
	char text[128];
	uint64_t h = 14695981039346656037ull;
	int n = snprintf(text, sizeof(text), "%llu/%s/%s", (unsigned long long)sdkappid, kind,
			 value);

	for (int i = 0; i < n && i < (int)sizeof(text) - 1; i++) {
		h ^= (unsigned char)text[i];
		h *= 1099511628211ull;
	}
	return (int64_t)h;
}

static int key_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int admit_lock(struct store_conn *c, const struct admit_job *j)
{
	const struct store_admit_query *q = j->q;
	int64_t keys[ADMIT_KEYS_MAX];
	size_t n = 0, u = 0;
	char account[24];
	int err;

	if (db_backend(c->db) == DB_SQLITE)
		return 0; /* one writer at a time: nothing to lock */
	if (!(q->skip & STORE_ADMIT_SKIP_CALLEE_INTERVAL) ||
	    !(q->skip & STORE_ADMIT_SKIP_CALLEE_DAILY))
		keys[n++] = key_hash(j->s->sdkappid, "callee", j->s->callee);
	/* Every caller candidate, counted or not: the admission updates the chosen one's
	 * row (numbers.last_used_ms), and a row lock taken without its key could close a
	 * cycle with another node — this batch's job holding the row, then waiting for a
	 * key the other node's batch holds while a later job of it waits for the row (a
	 * deadlock PostgreSQL breaks by failing a whole batch; seen with many accounts). */
	for (size_t i = 0; i < q->n_callers; i++)
		keys[n++] = key_hash(j->s->sdkappid, "caller", q->callers[i]);
	if (q->ai || q->channels || q->minutes)
		keys[n++] = key_hash(j->s->sdkappid, "instance", "");
	if (q->rate_limit) {
		snprintf(account, sizeof(account), "%llu", (unsigned long long)j->s->account_id);
		keys[n++] = key_hash(0, "account", account);
	}
	if (!n)
		return 0;
	qsort(keys, n, sizeof(keys[0]), key_cmp);
	for (size_t i = 0; i < n; i++) { /* each key once */
		if (!u || keys[i] != keys[u - 1])
			keys[u++] = keys[i];
	}
	err = db_lock_keys(c->db, keys, u, !c->keys_locked);
	if (!err)
		c->keys_locked = true;
	return err;
}

/* The counts of one admission: each statement sent at once (db_send), then all read in
 * the order sent; a statement's first two columns go to a and b (either may be NULL). */
struct admit_reads {
	struct db_stmt *q[ADMIT_READS];
	uint32_t *a[ADMIT_READS], *b[ADMIT_READS];
	unsigned n;
};

static int reads_send(struct admit_reads *r, struct db_stmt *q, uint32_t *a, uint32_t *b)
{
	if (!q)
		return EIO;
	r->q[r->n] = q;
	r->a[r->n] = a;
	r->b[r->n] = b;
	r->n++;
	return db_send(q);
}

static uint32_t count_clamp(int64_t v)
{
	return v < 0 ? 0 : v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* Reads every statement sent (each one, even after an error: each has its result), then
 * empties r; the first error, or 0. */
static int reads_collect(struct admit_reads *r)
{
	int err = 0;

	for (unsigned i = 0; i < r->n; i++) {
		int rc = db_step(r->q[i]);

		if (rc == DB_ROW) {
			if (r->a[i])
				*r->a[i] = count_clamp(db_col_int64(r->q[i], 0));
			if (r->b[i])
				*r->b[i] = count_clamp(db_col_int64(r->q[i], 1));
			db_reset(r->q[i]);
		}
		else if (!err) {
			err = rc > 0 ? rc : EIO;
		}
	}
	r->n = 0;
	return err;
}

/* The callee's sessions in its interval window (a) and in its day (b), one index range:
 * sessions_callee from the earlier of the two. */
static int callee_send(struct store_conn *c, struct admit_reads *r, const struct admit_job *j,
		       struct store_admit_counts *counts)
{
	const struct store_admit_query *q = j->q;
	bool interval = !(q->skip & STORE_ADMIT_SKIP_CALLEE_INTERVAL);
	bool daily = !(q->skip & STORE_ADMIT_SKIP_CALLEE_DAILY);
	int64_t from = !interval ? q->callee_daily_since : !daily ? q->callee_interval_since :
		q->callee_interval_since < q->callee_daily_since ? q->callee_interval_since :
		q->callee_daily_since;
	struct db_stmt *s;

	if (!interval && !daily)
		return 0;
	s = store_stmt(c, "SELECT CAST(coalesce(sum(CASE WHEN start_ts >= ? THEN 1 ELSE 0 END), "
		       "0) AS BIGINT), CAST(coalesce(sum(CASE WHEN start_ts >= ? THEN 1 ELSE 0 "
		       "END), 0) AS BIGINT) FROM sessions WHERE sdkappid = ? AND callee = ? AND "
		       "start_ts >= ?");
	if (s) {
		db_bind_int64(s, 1, q->callee_interval_since);
		db_bind_int64(s, 2, q->callee_daily_since);
		db_bind_int64(s, 3, (int64_t)j->s->sdkappid);
		db_bind_text(s, 4, j->s->callee, -1);
		db_bind_int64(s, 5, from);
	}
	return reads_send(r, s, interval ? &counts->callee_interval : NULL,
			  daily ? &counts->callee_daily : NULL);
}

/* A count bound with (sdkappid, number, since). */
static int count_send(struct store_conn *c, struct admit_reads *r, const char *sql,
		      uint64_t sdkappid, const char *number, int64_t since, uint32_t *countp)
{
	struct db_stmt *s = store_stmt(c, sql);

	if (s) {
		db_bind_int64(s, 1, (int64_t)sdkappid);
		db_bind_text(s, 2, number, -1);
		db_bind_int64(s, 3, since);
	}
	return reads_send(r, s, countp, NULL);
}

/* Caller candidate i's sessions in progress and recent ones. Unfinished sessions only
 * through the partial index sessions_caller_live: the cost follows the calls in
 * progress, not the number's whole history. */
static int caller_send(struct store_conn *c, struct admit_reads *r, const struct admit_job *j,
		       size_t i, struct store_admit_counts *counts)
{
	const struct store_admit_query *q = j->q;
	int err = 0;

	if (!(q->skip & STORE_ADMIT_SKIP_CALLER_LIVE))
		err = count_send(c, r, "SELECT count(*) FROM sessions WHERE sdkappid = ? AND "
				 "caller = ? AND status <> 3 AND start_ts >= ?", j->s->sdkappid,
				 q->callers[i], 0, &counts->callers[i].live);
	if (!err && !(q->skip & STORE_ADMIT_SKIP_CALLER_RECENT))
		err = count_send(c, r, "SELECT count(*) FROM sessions WHERE sdkappid = ? AND "
				 "caller = ? AND start_ts >= ?", j->s->sdkappid, q->callers[i],
				 q->caller_since, &counts->callers[i].recent);
	return err;
}

/* The instance-wide counts: AI channels in use, outbound channels live (tenant_caps:
 * through a partial index of live sessions, the cost follows the calls in progress),
 * answered outbound seconds of the day (the calls that ended since the day's start,
 * through sessions_ended — a call over midnight counts whole to the day it ended — and
 * those still up, until now). */
static int instance_send(struct store_conn *c, struct admit_reads *r, const struct admit_job *j,
			 struct store_admit_counts *counts)
{
	const struct store_admit_query *q = j->q;
	int64_t id = (int64_t)j->s->sdkappid;
	struct db_stmt *s;
	int err = 0;

	if (q->ai) {
		s = store_stmt(c, "SELECT count(*) FROM sessions WHERE sdkappid = ? AND ai = 1 "
			       "AND status <> 3");
		if (s)
			db_bind_int64(s, 1, id);
		err = reads_send(r, s, &counts->ai_in_use, NULL);
	}
	if (!err && q->channels) {
		s = store_stmt(c, "SELECT count(*) FROM sessions WHERE status <> 3 AND "
			       "sdkappid = ? AND direction = 1");
		if (s)
			db_bind_int64(s, 1, id);
		err = reads_send(r, s, &counts->channels_live, NULL);
	}
	if (!err && q->minutes) {
		/* sum() is numeric in PostgreSQL: the casts keep the result a 64-bit integer. */
		s = store_stmt(c, "SELECT CAST(coalesce((SELECT sum(ended_ts - accept_ts) "
			       "FROM sessions WHERE sdkappid = ? AND status = 3 AND "
			       "ended_ts >= ? AND accept_ts > 0 AND direction = 1), 0) + "
			       "coalesce((SELECT sum(CASE WHEN accept_ts < ? THEN ? - accept_ts "
			       "ELSE 0 END) FROM sessions WHERE status <> 3 AND sdkappid = ? "
			       "AND accept_ts > 0 AND direction = 1), 0) AS BIGINT)");
		if (s) {
			db_bind_int64(s, 1, id);
			db_bind_int64(s, 2, q->day_since);
			db_bind_int64(s, 3, q->now);
			db_bind_int64(s, 4, q->now);
			db_bind_int64(s, 5, id);
		}
		err = reads_send(r, s, &counts->seconds_today, NULL);
	}
	return err;
}

/* The account's sessions created in the last second (PostgreSQL only, through
 * sessions_account_created; on SQLite the API counts them in memory). */
static int rate_send(struct store_conn *c, struct admit_reads *r, const struct admit_job *j,
		     uint32_t *recentp)
{
	struct db_stmt *s;

	if (!j->q->rate_limit || db_backend(c->db) == DB_SQLITE)
		return 0;
	s = store_stmt(c, "SELECT count(*) FROM sessions WHERE account_id = ? AND "
		       "created_ms > ?");
	if (s) {
		db_bind_int64(s, 1, (int64_t)j->s->account_id);
		db_bind_int64(s, 2, j->q->rate_since_ms);
	}
	return reads_send(r, s, recentp, NULL);
}

/* Every count, sent together: the first caller candidate's with the rest, each further
 * candidate's in a round trip of its own (the statements are the same). */
static int admit_count(struct store_conn *c, const struct admit_job *j,
		       struct store_admit_counts *counts, uint32_t *recentp)
{
	struct admit_reads r = {.n = 0};
	int err = rate_send(c, &r, j, recentp);

	err = err ? err : callee_send(c, &r, j, counts);
	err = err ? err : instance_send(c, &r, j, counts);
	for (size_t i = 0; !err && i < j->q->n_callers; i++) {
		err = caller_send(c, &r, j, i, counts);
		if (!err)
			err = reads_collect(&r);
	}
	if (r.n) {
		int e = reads_collect(&r);

		err = err ? err : e;
	}
	return err;
}

static int admit_write(struct store_conn *c, void *arg)
{
	struct admit_job *j = arg;
	const struct store_admit_query *q = j->q;
	struct store_admit_counts counts = {.n_callers = q->n_callers};
	uint32_t recent = 0;
	size_t chosen = 0;
	int err = admit_lock(c, j);

	err = err ? err : admit_count(c, j, &counts, &recent);
	if (err)
		return err;
	if (q->rate_limit && db_backend(c->db) != DB_SQLITE && recent >= q->rate_limit) {
		j->refusal = STORE_ADMIT_RATE_LIMITED;
		return j->refusal;
	}
	j->refusal = j->decide(&counts, &chosen, j->arg);
	if (j->refusal)
		return j->refusal;
	if (chosen < q->n_callers) {
		struct db_stmt *u = store_stmt(c, "UPDATE numbers SET last_used_ms = ? "
					     "WHERE sdkappid = ? AND number = ?");

		snprintf(j->s->caller, sizeof(j->s->caller), "%s", q->callers[chosen]);
		/* The pool hands out the least recently used number first; sent, it goes
		 * with the insert. */
		if (!u)
			return EIO;
		db_bind_int64(u, 1, j->s->created_ms);
		db_bind_int64(u, 2, (int64_t)j->s->sdkappid);
		db_bind_text(u, 3, j->s->caller, -1);
		err = db_send(u);
		if (err)
			return err;
		err = session_insert(c, j->s);
		if (db_step(u) != DB_DONE) /* its outcome, read after the insert ran */
			err = err ? err : EIO;
		return err;
	}
	return session_insert(c, j->s);
}

int store_session_admit(struct store *st, struct store_session *s,
			const struct store_admit_query *q, store_admit_h *decide, void *arg)
{
	struct admit_job j = {s, q, decide, arg, 0};
	int err, tries = 0;

	if (!st || !s || !q || !decide || q->n_callers > STORE_ADMIT_MAX_CALLERS ||
	    strlen(s->id) != 32)
		return EINVAL;
	/* EAGAIN: a key was held elsewhere while this job ran behind another in its batch
	 * (admit_lock); a later batch runs it again. */
	do
		err = store_write(st, admit_write, &j);
	while (err == EAGAIN && !j.refusal && ++tries < ADMIT_RETRIES);
	if (err == EAGAIN)
		err = EBUSY;
	return j.refusal ? j.refusal : err;
}

static int session_row(struct db_stmt *q, struct store_session **sp)
{
	struct store_session *s;
	int err = store_session_alloc(&s, NULL, NULL);

	if (err)
		return err;
	mem_deref(s->uui);
	mem_deref(s->variables);
	mem_deref(s->participants);
	mem_deref(s->voicemail_urls);
	mem_deref(s->evidence);
	s->uui = store_col_dup(q, 8);
	s->variables = store_col_dup(q, 9);
	s->participants = store_col_dup(q, 23);
	s->voicemail_urls = store_col_dup(q, 26);
	s->evidence = store_col_dup(q, 28);
	if (!s->uui || !s->variables || !s->participants ||
	    !s->voicemail_urls || !s->evidence) {
		mem_deref(s);
		return ENOMEM;
	}
	store_col_text(q, 0, s->id, sizeof(s->id));
	s->sdkappid = (uint64_t)db_col_int64(q, 1);
	s->account_id = (uint64_t)db_col_int64(q, 2);
	s->direction = (int)db_col_int64(q, 3);
	store_col_text(q, 4, s->caller, sizeof(s->caller));
	store_col_text(q, 5, s->callee, sizeof(s->callee));
	s->ivr_id = (uint64_t)db_col_int64(q, 6);
	s->ivr_version = (uint32_t)db_col_int64(q, 7);
	s->max_ring_s = (uint32_t)db_col_int64(q, 10);
	store_col_text(q, 11, s->request_id, sizeof(s->request_id));
	s->status = (enum store_status)db_col_int64(q, 12);
	s->created_ms = db_col_int64(q, 13);
	s->start_ts = db_col_int64(q, 14);
	s->ring_ts = db_col_int64(q, 15);
	s->accept_ts = db_col_int64(q, 16);
	s->ended_ts = db_col_int64(q, 17);
	s->end_status = (int)db_col_int64(q, 18);
	store_col_text(q, 19, s->hungup_side, sizeof(s->hungup_side));
	store_col_text(q, 20, s->end_reason, sizeof(s->end_reason));
	store_col_text(q, 21, s->record_url, sizeof(s->record_url));
	store_col_text(q, 22, s->record_id, sizeof(s->record_id));
	store_col_text(q, 24, s->outbound_caller, sizeof(s->outbound_caller));
	store_col_text(q, 25, s->outbound_callee, sizeof(s->outbound_callee));
	s->ai = db_col_int64(q, 27) != 0;
	s->dialled_ms = db_col_int64(q, 29);
	*sp = s;
	return 0;
}

/* A session query's rows handed to h, one at a time. */
struct session_walk {
	store_session_h *h;
	void *arg;
};

static int session_walk_row(struct db_stmt *q, void *arg)
{
	struct session_walk *w = arg;
	struct store_session *s;
	int err = session_row(q, &s);

	if (!err)
		err = w->h(s, w->arg);
	mem_deref(s);
	return err;
}

/* Hands every row of an ad-hoc session query to h, in order. */
static int rows_each(struct db_stmt *q, store_session_h *h, void *arg)
{
	struct session_walk w = {h, arg};
	int rc, err;

	while ((rc = db_step(q)) == DB_ROW) {
		err = session_walk_row(q, &w);
		if (err)
			return err;
	}
	return rc == DB_DONE ? 0 : (rc > 0 ? rc : EIO);
}

struct session_key {
	uint64_t sdkappid;
	const char *id;
};

static void bind_session_key(struct db_stmt *q, const void *arg)
{
	const struct session_key *k = arg;

	db_bind_text(q, 1, k->id, -1);
	db_bind_int64(q, 2, (int64_t)k->sdkappid);
}

static int session_get_row(struct db_stmt *q, void *sp)
{
	return session_row(q, sp);
}

int store_session_get(struct store *st, uint64_t sdkappid, const char *id,
		      struct store_session **sp)
{
	struct session_key k = {sdkappid, id};

	if (!st || !id || !sp)
		return EINVAL;
	return store_read(st, "SELECT " SESSION_COLUMNS " FROM sessions WHERE id = ? AND "
			  "sdkappid = ?", bind_session_key, &k, session_get_row, sp, true);
}

static void bind_text1(struct db_stmt *q, const void *text)
{
	db_bind_text(q, 1, text, -1);
}

int store_sessions_live(struct store *st, store_session_h *h, void *arg)
{
	struct session_walk w = {h, arg};

	if (!st || !h)
		return EINVAL;
	return store_read(st, "SELECT " SESSION_COLUMNS " FROM sessions WHERE status <> 3 "
			  "AND owner_node = ? ORDER BY created_ms", bind_text1, st->conf.node_id,
			  session_walk_row, &w, false);
}

int store_session_rows(struct db_stmt *q, store_session_h *h, void *arg)
{
	return rows_each(q, h, arg);
}

/* ---- lifecycle: queued writes from the control loop ---------------------------------- */

/* One queued lifecycle write; a mem object owned by the writer once queued. */
struct lifecycle {
	char id[33];
	uint64_t sdkappid;
	char *cdr_body;         /* owned (mem), or NULL */
	char *participants;     /* owned (mem), or NULL */
	char *evidence;         /* owned (mem), or NULL */
	bool set_numbers;
	char caller[33], callee[33];
	int status;
	char *record_body;      /* owned (mem), or NULL */
	char *text;             /* owned (mem), or NULL: a voicemail file */
	int64_t ts;
	unsigned seq;
	struct store_key_press kp;
	struct store_session_end end;
	char node[64], label[64], result[64];
};

static void lifecycle_destructor(void *arg)
{
	struct lifecycle *l = arg;

	mem_deref(l->cdr_body);
	mem_deref(l->record_body);
	mem_deref(l->text);
	mem_deref(l->participants);
	mem_deref(l->evidence);
}

static struct lifecycle *lifecycle_alloc(const char *id)
{
	struct lifecycle *l;

	if (!id || strlen(id) != 32)
		return NULL;
	l = mem_zalloc(sizeof(*l), lifecycle_destructor);
	if (l)
		strcpy(l->id, id);
	return l;
}

static int step_one(struct db_stmt *s)
{
	int rc = db_step(s);

	if (rc == DB_ROW)
		db_reset(s);
	return rc == DB_DONE ? 0 : (rc > 0 ? rc : EIO);
}

/* A time stamp written once: the statement binds (ts, id). */
static int ts_write(struct store_conn *c, const struct lifecycle *l, const char *sql)
{
	struct db_stmt *s = store_stmt(c, sql);

	if (!s)
		return EIO;
	db_bind_int64(s, 1, l->ts);
	db_bind_text(s, 2, l->id, -1);
	return step_one(s);
}

static int ringing_write(struct store_conn *c, void *arg)
{
	return ts_write(c, arg, "UPDATE sessions SET ring_ts = ? "
			"WHERE id = ? AND ring_ts = 0 AND status = 0");
}

/* Only the session's owner marks it: a node that lost it (another took it over while
 * this one could not renew its lease) must not dial it too. ESRCH when the row is not
 * this node's to mark (taken over, or finished meanwhile).
 * A mark already there with this very timestamp is this job's own: a batch whose COMMIT
 * reached the server but whose answer was lost with the connection (the server crashed
 * while the commit waited for the synchronous standby, which has it) is run again by the
 * writer, and must then find its mark done rather than refused — refused, the session
 * would be left undialled and unfinished. */
static int dialled_write(struct store_conn *c, void *arg)
{
	const struct lifecycle *l = arg;
	struct db_stmt *s = store_stmt(c, "UPDATE sessions SET dialled_ms = ? WHERE id = ? AND "
				     "(dialled_ms = 0 OR dialled_ms = ?) AND status <> 3 AND "
				     "owner_node = ?");
	int err;

	if (!s)
		return EIO;
	db_bind_int64(s, 1, l->ts);
	db_bind_text(s, 2, l->id, -1);
	db_bind_int64(s, 3, l->ts);
	db_bind_text(s, 4, c->node_id, -1);
	err = step_one(s);
	return err ? err : (db_changes(c->db) ? 0 : ESRCH);
}

static int answered_write(struct store_conn *c, void *arg)
{
	return ts_write(c, arg, "UPDATE sessions SET accept_ts = ?, status = 2 "
			"WHERE id = ? AND status < 2");
}

static int ts_queue(struct store *st, const char *id, int64_t ts, store_write_fn *fn)
{
	struct lifecycle *l = lifecycle_alloc(id);

	if (!st || !l) {
		mem_deref(l);
		return EINVAL;
	}
	l->ts = ts;
	return store_write_async(st, fn, l);
}

int store_session_ringing(struct store *st, const char *id, int64_t ring_ts)
{
	return ts_queue(st, id, ring_ts, ringing_write);
}

int store_session_dialled(struct store *st, const char *id, int64_t dialled_ms)
{
	struct lifecycle *l = lifecycle_alloc(id);

	if (!st || !l) {
		mem_deref(l);
		return EINVAL;
	}
	l->ts = dialled_ms;
	return store_write_async_done(st, dialled_write, l, id);
}

int store_session_answered(struct store *st, const char *id, int64_t accept_ts)
{
	return ts_queue(st, id, accept_ts, answered_write);
}

static int transfer_write(struct store_conn *c, void *arg)
{
	const struct lifecycle *l = arg;
	struct db_stmt *s = store_stmt(c, l->set_numbers ?
		"UPDATE sessions SET status = ?, outbound_caller = ?, outbound_callee = ? "
		"WHERE id = ? AND status <> 3" :
		"UPDATE sessions SET status = ? WHERE id = ? AND status <> 3");

	if (!s)
		return EIO;
	db_bind_int64(s, 1, l->status);
	if (l->set_numbers) {
		db_bind_text(s, 2, l->caller, -1);
		db_bind_text(s, 3, l->callee, -1);
		db_bind_text(s, 4, l->id, -1);
	}
	else {
		db_bind_text(s, 2, l->id, -1);
	}
	return step_one(s);
}

int store_session_transfer(struct store *st, const char *id, enum store_status status,
			   const char *outbound_caller, const char *outbound_callee)
{
	struct lifecycle *l = lifecycle_alloc(id);

	if (!st || !l || status == STORE_STATUS_FINISHED) {
		mem_deref(l);
		return EINVAL;
	}
	l->status = (int)status;
	if (outbound_caller || outbound_callee) {
		l->set_numbers = true;
		snprintf(l->caller, sizeof(l->caller), "%s", outbound_caller ? outbound_caller : "");
		snprintf(l->callee, sizeof(l->callee), "%s", outbound_callee ? outbound_callee : "");
	}
	return store_write_async(st, transfer_write, l);
}

static int key_write(struct store_conn *c, void *arg)
{
	const struct lifecycle *l = arg;
	struct db_stmt *s = store_stmt(c, "INSERT INTO key_presses (session_id, seq, key, label, "
				     "ts_ms, node_label, original, tts_prompt, post) "
				     "VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (session_id, seq) DO "
				     "UPDATE SET key = excluded.key, label = excluded.label, "
				     "ts_ms = excluded.ts_ms, node_label = excluded.node_label, "
				     "original = excluded.original, tts_prompt = excluded.tts_prompt, "
				     "post = excluded.post");

	if (!s)
		return EIO;
	db_bind_text(s, 1, l->id, -1);
	db_bind_int64(s, 2, l->seq);
	db_bind_text(s, 3, l->kp.key, -1);
	db_bind_text(s, 4, l->kp.label, -1);
	db_bind_int64(s, 5, l->kp.ts_ms);
	db_bind_text(s, 6, l->kp.node_label, -1);
	db_bind_text(s, 7, l->kp.original, -1);
	db_bind_text(s, 8, l->kp.tts_prompt, -1);
	db_bind_int64(s, 9, l->kp.post);
	return step_one(s);
}

int store_session_key(struct store *st, const char *id, unsigned seq,
		      const struct store_key_press *kp)
{
	struct lifecycle *l = lifecycle_alloc(id);

	if (!st || !l || !kp) {
		mem_deref(l);
		return EINVAL;
	}
	l->seq = seq;
	l->kp = *kp;
	return store_write_async(st, key_write, l);
}

static int path_write(struct store_conn *c, void *arg)
{
	const struct lifecycle *l = arg;
	struct db_stmt *s = store_stmt(c, "INSERT INTO session_path (session_id, seq, node, label, "
				     "result, ts_ms) VALUES (?,?,?,?,?,?) ON CONFLICT (session_id, "
				     "seq) DO UPDATE SET node = excluded.node, label = excluded.label, "
				     "result = excluded.result, ts_ms = excluded.ts_ms");

	if (!s)
		return EIO;
	db_bind_text(s, 1, l->id, -1);
	db_bind_int64(s, 2, l->seq);
	db_bind_text(s, 3, l->node, -1);
	db_bind_text(s, 4, l->label, -1);
	db_bind_text(s, 5, l->result, -1);
	db_bind_int64(s, 6, l->ts);
	return step_one(s);
}

int store_session_path(struct store *st, const char *id, unsigned seq, const char *node,
		       const char *label, const char *result, int64_t ts_ms)
{
	struct lifecycle *l = lifecycle_alloc(id);

	if (!st || !l || !node) {
		mem_deref(l);
		return EINVAL;
	}
	l->seq = seq;
	l->ts = ts_ms;
	snprintf(l->node, sizeof(l->node), "%s", node);
	snprintf(l->label, sizeof(l->label), "%s", label ? label : "");
	snprintf(l->result, sizeof(l->result), "%s", result ? result : "");
	return store_write_async(st, path_write, l);
}

static int record_write(struct store_conn *c, void *arg)
{
	const struct lifecycle *l = arg;
	struct db_stmt *s = store_stmt(c, "UPDATE sessions SET record_url = ?, record_id = ? "
				     "WHERE id = ? AND status <> 3");

	if (!s)
		return EIO;
	db_bind_text(s, 1, l->end.record_url, -1);
	db_bind_text(s, 2, l->end.record_id, -1);
	db_bind_text(s, 3, l->id, -1);
	return step_one(s);
}

int store_session_record(struct store *st, const char *id, const char *record_url,
			 const char *record_id)
{
	struct lifecycle *l = lifecycle_alloc(id);

	if (!st || !l || !record_url || !record_id || strlen(record_url) >= sizeof(l->end.record_url) ||
	    strlen(record_id) >= sizeof(l->end.record_id)) {
		mem_deref(l);
		return EINVAL;
	}
	strcpy(l->end.record_url, record_url);
	strcpy(l->end.record_id, record_id);
	return store_write_async(st, record_write, l);
}

static int voicemail_write(struct store_conn *c, void *arg)
{
	const struct lifecycle *l = arg;
	/* Appends the file (l->text, a JSON string already) to the compact JSON array in
	 * text, without an engine's JSON functions: '[]' becomes '["a"]', '["a"]' becomes
	 * '["a","b"]' — what SQLite's json_insert(voicemail_urls, '$[#]', ?) wrote before. */
	struct db_stmt *s = store_stmt(c, "UPDATE sessions SET voicemail_urls = CASE WHEN "
				     "voicemail_urls = '[]' THEN '[' || ? || ']' ELSE "
				     "substr(voicemail_urls, 1, length(voicemail_urls) - 1) || ',' "
				     "|| ? || ']' END WHERE id = ? AND status <> 3");
	int err;

	if (!s)
		return EIO;
	db_bind_text(s, 1, l->text, -1);
	db_bind_text(s, 2, l->text, -1);
	db_bind_text(s, 3, l->id, -1);
	err = step_one(s);
	if (err || db_changes(c->db) == 0 || !l->cdr_body)
		return err;
	return store_outbox_add(c, l->sdkappid, l->id, "voicemail", l->cdr_body);
}

/* text as a JSON string, quoted and escaped (RFC 8259: '"', '\\' and control
 * characters, with the short escapes where there is one, as SQLite's JSON functions
 * write them), in a new mem string. */
static int json_text(char **jp, const char *text)
{
	size_t n = strlen(text);
	char *j = mem_alloc(n * 6 + 3, NULL), *o = j; /* \u00XX is 6 per byte at most */

	if (!j)
		return ENOMEM;
	*o++ = '"';
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p == '"' || *p == '\\') {
			*o++ = '\\';
			*o++ = (char)*p;
		}
		else if (*p < 0x20 && strchr("\b\t\n\f\r", *p)) {
			*o++ = '\\';
			*o++ = "btn?fr"[*p - '\b'];
		}
		else if (*p < 0x20) {
			o += sprintf(o, "\\u%04x", *p);
		}
		else {
			*o++ = (char)*p;
		}
	}
	*o++ = '"';
	*o = '\0';
	*jp = j;
	return 0;
}

int store_session_voicemail(struct store *st, const char *id, uint64_t sdkappid,
			    const char *file, const char *push_body)
{
	struct lifecycle *l = lifecycle_alloc(id);
	int err;

	if (!st || !l || !file || !*file) {
		mem_deref(l);
		return EINVAL;
	}
	l->sdkappid = sdkappid;
	err = json_text(&l->text, file);
	if (!err && push_body && str_dup(&l->cdr_body, push_body))
		err = ENOMEM;
	if (err) {
		mem_deref(l);
		return err;
	}
	return store_write_async(st, voicemail_write, l);
}

static int finish_write(struct store_conn *c, void *arg)
{
	const struct lifecycle *l = arg;
	int err;
	struct db_stmt *s = store_stmt(c, "UPDATE sessions SET status = 3, ended_ts = ?, "
				     "end_status = ?, hungup_side = ?, end_reason = ?, "
				     "record_url = ?, record_id = ?, "
				     "participants = coalesce(?, participants), "
				     "evidence = coalesce(?, evidence) "
				     "WHERE id = ? AND status <> 3");

	if (!s)
		return EIO;
	db_bind_int64(s, 1, l->end.ended_ts);
	db_bind_int64(s, 2, l->end.end_status);
	db_bind_text(s, 3, l->end.hungup_side, -1);
	db_bind_text(s, 4, l->end.end_reason, -1);
	db_bind_text(s, 5, l->end.record_url, -1);
	db_bind_text(s, 6, l->end.record_id, -1);
	if (l->participants)
		db_bind_text(s, 7, l->participants, -1);
	else
		db_bind_null(s, 7);
	if (l->evidence)
		db_bind_text(s, 8, l->evidence, -1);
	else
		db_bind_null(s, 8);
	db_bind_text(s, 9, l->id, -1);
	err = step_one(s);
	/* Only the write that finished the session pushes its records: the recording first
	 * (records-and-push.md §4.5), then the CDR; an auto-callout task's attempt also
	 * gives its callee the outcome, and the day's tally (DescribeTelCallInfo) gets the
	 * call, in the same transaction. */
	if (err || db_changes(c->db) == 0)
		return err;
	err = store_task_session_finished(c, l->id, l->end.end_status, l->end.end_reason,
					  l->end.ended_ts);
	if (!err)
		err = store_usage_tally(c, l->id);
	if (err)
		return err;
	if (l->record_body)
		err = store_outbox_add(c, l->sdkappid, l->id, "record", l->record_body);
	if (!err && l->cdr_body)
		err = store_outbox_add(c, l->sdkappid, l->id, "cdr", l->cdr_body);
	return err;
}

int store_session_finish(struct store *st, const char *id, uint64_t sdkappid,
			 const struct store_session_end *end, const char *cdr_body,
			 const char *record_body)
{
	struct lifecycle *l = lifecycle_alloc(id);

	if (!st || !l || !end) {
		mem_deref(l);
		return EINVAL;
	}
	l->sdkappid = sdkappid;
	l->end = *end;
	l->end.participants = NULL; /* the copies below are the writer's */
	l->end.evidence = NULL;
	if ((cdr_body && str_dup(&l->cdr_body, cdr_body)) ||
	    (record_body && str_dup(&l->record_body, record_body)) ||
	    (end->participants && str_dup(&l->participants, end->participants)) ||
	    (end->evidence && str_dup(&l->evidence, end->evidence))) {
		mem_deref(l);
		return ENOMEM;
	}
	return store_write_async(st, finish_write, l);
}

/* A session born finished: the row and how it ended, both owned by the writer. */
struct born_finished {
	struct store_session *s;
	struct lifecycle *l;
};

static void born_finished_destructor(void *arg)
{
	struct born_finished *b = arg;

	mem_deref(b->s);
	mem_deref(b->l);
}

/* The insert and the finish share this job's savepoint: nobody ever reads the row live,
 * and a failure of either leaves neither (nor the push). */
static int born_finished_write(struct store_conn *c, void *arg)
{
	struct born_finished *b = arg;
	int err;

	b->s->status = STORE_STATUS_RINGING;
	err = session_insert(c, b->s);
	return err ? err : finish_write(c, b->l);
}

int store_session_create_finished(struct store *st, struct store_session *s,
				  const struct store_session_end *end, const char *cdr_body)
{
	struct born_finished *b;
	int err;

	if (!st || !s || !end || strlen(s->id) != 32) {
		mem_deref(s);
		return EINVAL;
	}
	b = mem_zalloc(sizeof(*b), born_finished_destructor);
	if (!b) {
		mem_deref(s);
		return ENOMEM;
	}
	b->s = s;
	b->l = lifecycle_alloc(s->id);
	if (!b->l) {
		mem_deref(b);
		return ENOMEM;
	}
	b->l->sdkappid = s->sdkappid;
	b->l->end = *end;
	b->l->end.participants = NULL;
	b->l->end.evidence = NULL;
	err = cdr_body ? str_dup(&b->l->cdr_body, cdr_body) : 0;
	if (!err && end->evidence)
		err = str_dup(&b->l->evidence, end->evidence);
	if (err) {
		mem_deref(b);
		return err;
	}
	return store_write_async(st, born_finished_write, b);
}

struct key_walk {
	store_key_press_h *h;
	void *arg;
};


static int key_walk_row(struct db_stmt *q, void *arg)
{
	struct key_walk *w = arg;
	struct store_key_press kp;

	store_col_text(q, 0, kp.key, sizeof(kp.key));
	store_col_text(q, 1, kp.label, sizeof(kp.label));
	kp.ts_ms = db_col_int64(q, 2);
	store_col_text(q, 3, kp.node_label, sizeof(kp.node_label));
	store_col_text(q, 4, kp.original, sizeof(kp.original));
	store_col_text(q, 5, kp.tts_prompt, sizeof(kp.tts_prompt));
	kp.post = db_col_int64(q, 6) != 0;
	return w->h(&kp, w->arg);
}

int store_session_keys(struct store *st, const char *id, store_key_press_h *h, void *arg)
{
	struct key_walk w = {h, arg};

	if (!st || !id || !h)
		return EINVAL;
	return store_read(st, "SELECT key, label, ts_ms, node_label, original, tts_prompt, post "
			  "FROM key_presses WHERE session_id = ? ORDER BY seq", bind_text1, id,
			  key_walk_row, &w, false);
}

/* ---- listings ----------------------------------------------------------------------- */

/* Appends "col IN (?,?...)" for n values; the values are bound in order later. */
static int in_list(struct mbuf *sql, const char *col, size_t n)
{
	int err = mbuf_printf(sql, "%s IN (", col);

	for (size_t i = 0; i < n; i++)
		err |= mbuf_printf(sql, "%s?", i ? "," : "");
	return err | mbuf_printf(sql, ")");
}

/* A page's key presses in one read: "session_id IN (...)" through the primary key, where
 * one read per record cost a round trip each on PostgreSQL (docs/benchmarks.md §Records
 * at scale). Not a cached statement: its length follows the page's. */
int store_sessions_keys(struct store *st, const char *const *ids, size_t n,
			store_page_key_h *h, void *arg)
{
	struct store_conn *c = NULL;
	struct db_stmt *stmt = NULL;
	struct store_key_press kp;
	struct mbuf *sql;
	char *text = NULL;
	int err, rc = DB_DONE;

	if (!st || (n && !ids) || !h)
		return EINVAL;
	if (!n)
		return 0;
	sql = mbuf_alloc(256);
	if (!sql)
		return ENOMEM;
	err = mbuf_printf(sql, "SELECT session_id, key, label, ts_ms, node_label, original, "
			  "tts_prompt, post FROM key_presses WHERE ");
	err |= in_list(sql, "session_id", n);
	err |= mbuf_printf(sql, " ORDER BY session_id, seq");
	mbuf_set_pos(sql, 0);
	if (!err)
		err = mbuf_strdup(sql, &text, sql->end);
	mem_deref(sql);
	if (err)
		return err;
	err = store_reader_get(st, &c);
	if (err)
		goto out;
	stmt = db_prepare(c->db, text);
	if (!stmt) {
		err = EIO;
		goto put;
	}
	for (size_t i = 0; i < n; i++)
		db_bind_text(stmt, (int)i + 1, ids[i], -1);
	while (!err && (rc = db_step(stmt)) == DB_ROW) {
		store_col_text(stmt, 1, kp.key, sizeof(kp.key));
		store_col_text(stmt, 2, kp.label, sizeof(kp.label));
		kp.ts_ms = db_col_int64(stmt, 3);
		store_col_text(stmt, 4, kp.node_label, sizeof(kp.node_label));
		store_col_text(stmt, 5, kp.original, sizeof(kp.original));
		store_col_text(stmt, 6, kp.tts_prompt, sizeof(kp.tts_prompt));
		kp.post = db_col_int64(stmt, 7) != 0;
		err = h(db_col_text(stmt, 0), &kp, arg);
	}
	if (!err && rc != DB_DONE)
		err = rc > 0 ? rc : EIO;
	mem_deref(stmt);
put:
	store_reader_put(st, c);
out:
	mem_deref(text);
	return err;
}

/* Binds a listing's parameters in the order list_sql wrote them: for each arm (one
 * without Phones, else the caller's and the callee's; in the page with Phones one per
 * number and column) the instance, the range, the SessionIds, the EndStatus codes and the
 * Phones (the arm's one number, then its own limit, offset + limit); then, for the page,
 * its limit and offset. */
void store_list_bind(struct db_stmt *stmt, const struct store_cdr_query *q, bool page)
{
	/* The page with Phones has an arm per number and column (list_sql). */
	const bool arm_each = page && q->n_phones;
	const size_t arms = arm_each ? 2 * q->n_phones : q->n_phones ? 2 : 1;
	int k = 1;

	for (size_t arm = 0; arm < arms; arm++) {
		db_bind_int64(stmt, k++, (int64_t)q->sdkappid);
		if (q->until) {
			db_bind_int64(stmt, k++, q->since);
			db_bind_int64(stmt, k++, q->until);
		}
		for (size_t i = 0; i < q->n_session_ids; i++)
			db_bind_text(stmt, k++, q->session_ids[i], -1);
		for (size_t i = 0; i < q->n_end_statuses; i++)
			db_bind_int64(stmt, k++, q->end_statuses[i]);
		for (size_t i = 0; i < q->n_phones && !arm_each; i++)
			db_bind_text(stmt, k++, q->phones[i], -1);
		if (arm_each) {
			db_bind_text(stmt, k++, q->phones[arm % q->n_phones], -1);
			db_bind_int64(stmt, k++, (int64_t)(q->offset + q->limit));
		}
	}
	if (page) {
		db_bind_int64(stmt, k++, (int64_t)q->limit);
		db_bind_int64(stmt, k, (int64_t)q->offset);
	}
}

/* Runs an ad-hoc query (not cached: its shape depends on the filters). */
static int list_run(struct store *st, const char *count_sql, const char *page_sql,
		    const struct store_cdr_query *q, store_session_h *h, void *arg,
		    uint64_t *totalp)
{
	struct store_conn *c;
	struct db_stmt *stmt = NULL;
	int err, rc;

	err = store_reader_get(st, &c);
	if (err)
		return err;
	for (int pass = 0; pass < 2 && !err; pass++) {
		stmt = db_prepare(c->db, pass ? page_sql : count_sql);
		if (!stmt) {
			err = EIO;
			break;
		}
		store_list_bind(stmt, q, pass);
		if (pass)
			err = rows_each(stmt, h, arg);
		else if ((rc = db_step(stmt)) == DB_ROW)
			*totalp = (uint64_t)db_col_int64(stmt, 0);
		else
			err = rc > 0 ? rc : EIO;
		stmt = mem_deref(stmt);
	}
	store_reader_put(st, c);
	return err;
}

/* The filter of one arm of a listing: `where`, the SessionIds and the EndStatus codes,
 * then a number's column with n_phones numbers (all of Phones, or one). */
static int arm_print(struct mbuf *sql, const char *where, const struct store_cdr_query *q,
		     const char *phone_col, size_t n_phones)
{
	int err = mbuf_printf(sql, "%s", where);

	if (q->n_session_ids) {
		err |= mbuf_printf(sql, " AND ");
		err |= in_list(sql, "id", q->n_session_ids);
	}
	/* One code is an equality, which SQLite's planner weighs as one: with "IN (?)" it
	 * read the range through sessions_ended_page and each row from the table. */
	if (q->n_end_statuses == 1)
		err |= mbuf_printf(sql, " AND end_status = ?");
	else if (q->n_end_statuses) {
		err |= mbuf_printf(sql, " AND ");
		err |= in_list(sql, "end_status", q->n_end_statuses);
	}
	if (phone_col) {
		err |= mbuf_printf(sql, " AND ");
		err |= in_list(sql, phone_col, n_phones);
	}
	return err;
}

/* A listing's count and page statements. With Phones, the rows are those whose caller is
 * one of them and those whose callee is: "... caller IN (...) UNION ... callee IN (...)",
 * each arm read through its own index (sessions_ended_caller, _callee). The count counts
 * the union's ids themselves: "count(*) ... WHERE id IN (the union)" looked every id up
 * again in the table's key index, a random read each — a busy line's day at 10 M records
 * (1,670 calls) took 20 ms p50 on SQLite for that alone. The plain
 * "AND (caller IN (...) OR callee IN (...))" read every finished call of the range
 * instead: SQLite plans each side of an OR without the terms ANDed around it, so it went
 * through the range's index and checked each row's numbers — 80,000 rows for one day of
 * a 10 M store (docs/benchmarks.md §Records at scale). tests/unit/test_store_plan.c holds
 * both engines to the indexed plans.
 *
 * The page is a deferred join: its ids are found first, in `order`, from index entries
 * alone (`keys`: id and the order's column, which the indexes hold), and only those
 * `limit` rows are read from the table. Without it a page deep into a day read every
 * skipped row (PostgreSQL fetches a row from the heap for each index entry it steps
 * over). With Phones the page has an arm per number and column ("caller = ?", "callee =
 * ?"), each cut to its first offset + limit entries in `order` (sessions_ended_caller_page,
 * _callee_page, migration 22) before the UNION: the page's rows are among them, so a
 * number's page reads at most 2 × (offset + limit) entries however many calls the number
 * has in the range. One arm per number because an index gives one number's calls in
 * order, not several's: with "caller IN (?, ?)" SQLite chose to walk the whole day in
 * order (sessions_ended_page) and check each row's numbers rather than sort. */
static int list_sql(const char *where, const char *order, const char *keys,
		    const struct store_cdr_query *q, char **countp, char **pagep)
{
	struct mbuf *filter = mbuf_alloc(256), *count = mbuf_alloc(512), *page = mbuf_alloc(512);
	int err;

	if (!filter || !count || !page) {
		err = ENOMEM;
		goto out;
	}
	if (q->n_phones) {
		err = mbuf_printf(filter, "SELECT id FROM sessions WHERE ");
		err |= arm_print(filter, where, q, "caller", q->n_phones);
		err |= mbuf_printf(filter, " UNION SELECT id FROM sessions WHERE ");
		err |= arm_print(filter, where, q, "callee", q->n_phones);
		err |= mbuf_printf(count, "SELECT count(*) FROM (%b) AS u",
				   filter->buf, filter->end);
	}
	else {
		err = arm_print(filter, where, q, NULL, 0);
		err |= mbuf_printf(count, "SELECT count(*) FROM sessions WHERE %b",
				   filter->buf, filter->end);
	}
	err |= mbuf_printf(page, "SELECT " SESSION_COLUMNS " FROM sessions WHERE id IN ");
	if (q->n_phones) {
		err |= mbuf_printf(page, "(SELECT id FROM (");
		for (size_t arm = 0; arm < 2 * q->n_phones; arm++) {
			err |= mbuf_printf(page, "%sSELECT %s FROM (SELECT %s FROM sessions "
					   "WHERE ", arm ? " UNION " : "", keys, keys);
			err |= arm_print(page, where, q, arm < q->n_phones ? "caller" : "callee",
					 1);
			err |= mbuf_printf(page, " ORDER BY %s LIMIT ?) AS a%zu", order, arm);
		}
		err |= mbuf_printf(page, ") AS u");
	}
	else {
		err |= mbuf_printf(page, "(SELECT id FROM sessions WHERE %b",
				   filter->buf, filter->end);
	}
	err |= mbuf_printf(page, " ORDER BY %s LIMIT ? OFFSET ?) ORDER BY %s", order, order);
	if (err)
		goto out;
	mbuf_set_pos(count, 0);
	mbuf_set_pos(page, 0);
	err = mbuf_strdup(count, countp, count->end);
	if (!err)
		err = mbuf_strdup(page, pagep, page->end);
	if (err)
		*countp = mem_deref(*countp);
out:
	mem_deref(filter);
	mem_deref(count);
	mem_deref(page);
	return err;
}

static int list_sessions(struct store *st, const char *where, const char *order,
			 const char *keys, const struct store_cdr_query *q, store_session_h *h,
			 void *arg, uint64_t *totalp)
{
	char *count_sql = NULL, *page_sql = NULL;
	int err = list_sql(where, order, keys, q, &count_sql, &page_sql);

	if (!err)
		err = list_run(st, count_sql, page_sql, q, h, arg, totalp);
	mem_deref(count_sql);
	mem_deref(page_sql);
	return err;
}

#define CDR_WHERE "sdkappid = ? AND status = 3 AND ended_ts BETWEEN ? AND ?"
#define CDR_ORDER "ended_ts DESC, id"
#define CDR_KEYS "id, ended_ts"

int store_cdr_sql(const struct store_cdr_query *q, char **countp, char **pagep)
{
	if (!q || !countp || !pagep)
		return EINVAL;
	*countp = *pagep = NULL;
	return list_sql(CDR_WHERE, CDR_ORDER, CDR_KEYS, q, countp, pagep);
}

int store_cdr_list(struct store *st, const struct store_cdr_query *q, store_session_h *h,
		   void *arg, uint64_t *totalp)
{
	if (!st || !q || !h || !totalp)
		return EINVAL;
	*totalp = 0;
	return list_sessions(st, CDR_WHERE, CDR_ORDER, CDR_KEYS, q, h, arg, totalp);
}

int store_sessions_active(struct store *st, uint64_t sdkappid, uint64_t offset,
			  uint64_t limit, store_session_h *h, void *arg, uint64_t *totalp)
{
	const struct store_cdr_query q = {.sdkappid = sdkappid, .offset = offset,
					  .limit = limit};

	if (!st || !h || !totalp)
		return EINVAL;
	*totalp = 0;
	return list_sessions(st, "sdkappid = ? AND status <> 3", "created_ms, id",
			     "id, created_ms", &q, h, arg, totalp);
}
