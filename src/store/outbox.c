/* outbox rows: adding pushes in the writer's transaction, claiming, results, replay.
 *
 * Ordering: a session's rows go out in creation order (seq) and one at a time — a row is
 * claimable only when no older row of its session is still pending. A claimed row stays
 * pending with a lease (lease_ms in the future) until its result is written, so it blocks
 * its session's later rows and is not claimed twice. The claim reads and leases inside one
 * write job, so nothing (a result, an operator's resend) can slip in between.
 *
 * Sharing. The deliverer says how many rows each instance may take (its share of the
 * requests in flight, push/deliver.c); the claim takes them per instance through the
 * outbox_instance_due index, so one instance's backlog is never read to find another's
 * rows. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "base/base.h"
#include "store/store_int.h"

enum { OUTBOX_BODY_MAX = 1 << 20 };

static const char *const state_names[] = {"pending", "delivered", "dead"};

const char *store_outbox_state_name(enum store_outbox_state s)
{
	return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "";
}

int store_outbox_state_parse(const char *name, enum store_outbox_state *sp)
{
	for (size_t i = 0; name && i < sizeof(state_names) / sizeof(state_names[0]); i++) {
		if (!strcmp(name, state_names[i])) {
			*sp = (enum store_outbox_state)i;
			return 0;
		}
	}
	return EINVAL;
}

/* The push configuration bit of an action; 0 for an unknown action. */
static unsigned action_bit(const char *action)
{
	if (!action)
		return 0;
	if (!strcmp(action, "cdr"))
		return STORE_PUSH_CDR;
	if (!strcmp(action, "record"))
		return STORE_PUSH_RECORD;
	if (!strcmp(action, "voicemail"))
		return STORE_PUSH_VOICEMAIL;
	if (!strcmp(action, "event"))
		return STORE_PUSH_EVENT;
	return 0;
}

static int step_done(struct db_stmt *s)
{
	int rc = db_step(s);

	if (rc == DB_ROW)
		db_reset(s);
	return rc == DB_DONE ? 0 : (rc > 0 ? rc : EIO);
}

static int outbox_insert(struct store_conn *c, uint64_t sdkappid, const char *session_id,
			 const char *action, const char *body, char *idp)
{
	unsigned bit = action_bit(action);
	int64_t now = clock_unix_ms();
	char id[37];
	struct db_stmt *s;
	bool wanted;
	int rc, err;

	if (idp)
		idp[0] = '\0';
	if (!c || !bit || !session_id || !*session_id || strlen(session_id) > 64 || !body ||
	    strlen(body) > OUTBOX_BODY_MAX)
		return EINVAL;

	s = store_stmt(c, "SELECT enabled, events FROM push_conf WHERE sdkappid = ?");
	if (!s)
		return EIO;
	db_bind_int64(s, 1, (int64_t)sdkappid);
	rc = db_step(s);
	wanted = rc == DB_ROW && db_col_int64(s, 0) && (db_col_int64(s, 1) & bit);
	db_reset(s);
	if (rc != DB_ROW && rc != DB_DONE)
		return rc;
	if (!wanted)
		return 0;

	err = ids_uuid(id);
	if (err)
		return err;
	s = store_stmt(c, "INSERT INTO outbox (id, sdkappid, session_id, action, body, next_ms, "
		       "created_ms) VALUES (?,?,?,?,?,?,?)");
	if (!s)
		return EIO;
	db_bind_text(s, 1, id, -1);
	db_bind_int64(s, 2, (int64_t)sdkappid);
	db_bind_text(s, 3, session_id, -1);
	db_bind_text(s, 4, action, -1);
	db_bind_text(s, 5, body, -1);
	db_bind_int64(s, 6, now);
	db_bind_int64(s, 7, now);
	err = step_done(s);
	if (err)
		return err;
	c->outbox_added = true;
	if (idp)
		strcpy(idp, id);
	return 0;
}

int store_outbox_add(struct store_conn *c, uint64_t sdkappid, const char *session_id,
		     const char *action, const char *body)
{
	return outbox_insert(c, sdkappid, session_id, action, body, NULL);
}

struct enqueue_job {
	uint64_t sdkappid;
	const char *session_id, *action, *body;
	char id[37];
};

static int enqueue_write(struct store_conn *c, void *arg)
{
	struct enqueue_job *j = arg;

	return outbox_insert(c, j->sdkappid, j->session_id, j->action, j->body, j->id);
}

int store_outbox_enqueue(struct store *st, uint64_t sdkappid, const char *session_id,
			 const char *action, const char *body, char *idp)
{
	struct enqueue_job j = {sdkappid, session_id, action, body, ""};
	int err;

	if (idp)
		idp[0] = '\0';
	if (!st || !action_bit(action) || !session_id || !*session_id || !body)
		return EINVAL;
	err = store_write(st, enqueue_write, &j);
	if (!err && idp)
		strcpy(idp, j.id);
	return err;
}

/* ---- rows ------------------------------------------------------------------------- */

#define ROW_COLUMNS "seq, id, sdkappid, session_id, action, body, state, attempts, replays, " \
	"next_ms, created_ms, done_ms, last_error"

static void row_destructor(void *arg)
{
	struct store_outbox_row *r = arg;

	mem_deref(r->body);
}

static int row_read(struct db_stmt *q, struct store_outbox_row **rp)
{
	struct store_outbox_row *r = mem_zalloc(sizeof(*r), row_destructor);

	if (!r)
		return ENOMEM;
	r->body = store_col_dup(q, 5);
	if (!r->body) {
		mem_deref(r);
		return ENOMEM;
	}
	r->seq = (uint64_t)db_col_int64(q, 0);
	store_col_text(q, 1, r->id, sizeof(r->id));
	r->sdkappid = (uint64_t)db_col_int64(q, 2);
	store_col_text(q, 3, r->session_id, sizeof(r->session_id));
	store_col_text(q, 4, r->action, sizeof(r->action));
	r->state = (enum store_outbox_state)db_col_int64(q, 6);
	r->attempts = (unsigned)db_col_int64(q, 7);
	r->replays = (unsigned)db_col_int64(q, 8);
	r->next_ms = db_col_int64(q, 9);
	r->created_ms = db_col_int64(q, 10);
	r->done_ms = db_col_int64(q, 11);
	store_col_text(q, 12, r->last_error, sizeof(r->last_error));
	*rp = r;
	return 0;
}

/* ---- claim -------------------------------------------------------------------------- */

/* Due, not leased, and the oldest pending row of its session; binds now twice. */
#define CLAIMABLE "state = 0 AND next_ms <= ? AND lease_ms <= ? AND NOT EXISTS " \
	"(SELECT 1 FROM outbox p WHERE p.state = 0 AND p.session_id = o.session_id " \
	"AND p.seq < o.seq)"

/* Instances with pending rows that are due: an index-only scan (outbox_instance_due). */
struct due_walk {
	store_outbox_inst_h *h;
	void *arg;
};

static int due_row(struct db_stmt *q, void *arg)
{
	struct due_walk *w = arg;

	return w->h((uint64_t)db_col_int64(q, 0), w->arg);
}

static void bind_now(struct db_stmt *q, const void *now_ms)
{
	db_bind_int64(q, 1, *(const int64_t *)now_ms);
}

int store_outbox_due_instances(struct store *st, int64_t now_ms, store_outbox_inst_h *h,
			       void *arg)
{
	struct due_walk w = {h, arg};
	int err;

	if (!st || !h)
		return EINVAL;
	err = store_read(st, "SELECT DISTINCT sdkappid FROM outbox WHERE state = 0 AND "
			 "next_ms <= ? ORDER BY sdkappid", bind_now, &now_ms, due_row, &w,
			 false);
	return err == ENOENT ? 0 : err;
}

struct pending_count {
	uint64_t n;
	int64_t oldest_ms;
};

static int pending_row(struct db_stmt *q, void *arg)
{
	struct pending_count *pc = arg;

	pc->n = (uint64_t)db_col_int64(q, 0);
	pc->oldest_ms = db_col_int64(q, 1);
	return 0;
}

int store_outbox_pending(struct store *st, uint64_t *np, int64_t *oldest_ms)
{
	struct pending_count pc = {0, 0};
	int err;

	if (!st || !np || !oldest_ms)
		return EINVAL;
	/* over the partial index of pending rows (outbox_due): their number, not the table's */
	err = store_read(st, "SELECT count(*), coalesce(min(created_ms), 0) FROM outbox "
			 "WHERE state = 0", NULL, NULL, pending_row, &pc, true);
	if (err)
		return err;
	*np = pc.n;
	*oldest_ms = pc.oldest_ms;
	return 0;
}

struct claim_job {
	const char *node_id;
	int64_t now_ms, lease_ms;
	unsigned max;
	const struct store_outbox_room *rooms;
	size_t n_rooms;
	unsigned *taken;               /* per room */
	bool *dry;                     /* per room: it had fewer rows than asked */
	struct store_outbox_row **rows;
	unsigned n;
};

/* Up to want due rows of room i's instance, leased at once so the next round skips them
 * (and their sessions' later rows stay behind them). */
static int claim_instance(struct store_conn *c, struct claim_job *j, size_t i, unsigned want)
{
	struct db_stmt *q, *u;
	unsigned first = j->n;
	int rc = DB_DONE, err = 0;

	/* PostgreSQL: rows another node is claiming right now are locked by its claim and
	 * skipped, not waited for; one it leased and committed meanwhile fails CLAIMABLE
	 * when its locked row is read again. SQLite's one writer needs neither. */
	q = store_stmt(c, db_backend(c->db) == DB_SQLITE ?
		       "SELECT " ROW_COLUMNS " FROM outbox o WHERE sdkappid = ? AND "
		       CLAIMABLE " ORDER BY next_ms, seq LIMIT ?" :
		       "SELECT " ROW_COLUMNS " FROM outbox o WHERE sdkappid = ? AND "
		       CLAIMABLE " ORDER BY next_ms, seq LIMIT ? FOR UPDATE SKIP LOCKED");
	u = store_stmt(c, "UPDATE outbox SET lease_ms = ?, claimed_by = ? WHERE seq = ?");
	if (!q || !u)
		return EIO;
	db_bind_int64(q, 1, (int64_t)j->rooms[i].sdkappid);
	db_bind_int64(q, 2, j->now_ms);
	db_bind_int64(q, 3, j->now_ms);
	db_bind_int64(q, 4, want);
	while (j->n - first < want && (rc = db_step(q)) == DB_ROW) {
		err = row_read(q, &j->rows[j->n]);
		if (err)
			break;
		j->n++;
	}
	if (!err && j->n - first < want && rc != DB_DONE)
		err = rc > 0 ? rc : EIO;
	db_reset(q);
	j->taken[i] += j->n - first;
	if (j->n - first < want)
		j->dry[i] = true;
	for (unsigned k = first; !err && k < j->n; k++) {
		db_bind_int64(u, 1, j->now_ms + j->lease_ms);
		db_bind_text(u, 2, j->node_id, -1);
		db_bind_int64(u, 3, (int64_t)j->rows[k]->seq);
		err = step_done(u);
	}
	return err;
}

/* Rounds: every instance that still has room and rows takes an equal part of what is
 * left, so a claim smaller than the demand is shared, not taken by the first instance
 * listed, and what one instance cannot use goes to the others in the next round. */
static int claim_write(struct store_conn *c, void *arg)
{
	struct claim_job *j = arg;
	int err = 0;

	while (!err && j->n < j->max) {
		unsigned open = 0, part;

		for (size_t i = 0; i < j->n_rooms; i++)
			open += !j->dry[i] && j->taken[i] < j->rooms[i].room;
		if (!open)
			break;
		part = (j->max - j->n) / open ? (j->max - j->n) / open : 1;
		for (size_t i = 0; !err && i < j->n_rooms && j->n < j->max; i++) {
			unsigned want = j->rooms[i].room - j->taken[i];

			if (j->dry[i] || !want)
				continue;
			want = want < part ? want : part;
			want = want < j->max - j->n ? want : j->max - j->n;
			err = claim_instance(c, j, i, want);
		}
	}
	return err;
}

int store_outbox_claim(struct store *st, int64_t now_ms, int64_t lease_ms, unsigned max,
		       const struct store_outbox_room *rooms, size_t n_rooms,
		       store_outbox_h *h, void *arg)
{
	struct claim_job j = {st ? st->conf.node_id : "", now_ms, lease_ms, max, rooms, n_rooms,
			      NULL, NULL, NULL, 0};
	int err = 0;

	if (!st || !h || !max || lease_ms <= 0 || (n_rooms && !rooms))
		return EINVAL;
	if (!n_rooms)
		return 0;
	j.rows = mem_zalloc(max * sizeof(*j.rows), NULL);
	j.taken = mem_zalloc(n_rooms * sizeof(*j.taken), NULL);
	j.dry = mem_zalloc(n_rooms * sizeof(*j.dry), NULL);
	if (!j.rows || !j.taken || !j.dry)
		err = ENOMEM;
	if (!err)
		err = store_write(st, claim_write, &j);
	for (unsigned i = 0; i < j.n; i++) {
		/* Rows go out only once their lease is durable; a handler error stops the
		 * hand-out, and the rows not handed out come back when their lease ends. */
		if (!err)
			err = h(j.rows[i], arg);
		mem_deref(j.rows[i]);
	}
	mem_deref(j.rows);
	mem_deref(j.taken);
	mem_deref(j.dry);
	return err;
}

/* This node's leases, and those of rows leased before claims named a node: another live
 * node's stay, and its rows come back when their lease ends if it dies. */
static int unlease_write(struct store_conn *c, void *arg)
{
	struct db_stmt *s = store_stmt(c, "UPDATE outbox SET lease_ms = 0 WHERE state = 0 AND "
				     "lease_ms <> 0 AND (claimed_by = ? OR claimed_by = '')");

	if (!s)
		return EIO;
	db_bind_text(s, 1, arg, -1);
	return step_done(s);
}

int store_outbox_unlease(struct store *st)
{
	return st ? store_write(st, unlease_write, st->conf.node_id) : EINVAL;
}

struct unclaim_job {
	const char *node_id;
	int64_t lease_until_ms;
};

static int unclaim_write(struct store_conn *c, void *arg)
{
	const struct unclaim_job *j = arg;
	struct db_stmt *s = store_stmt(c, "UPDATE outbox SET lease_ms = 0 WHERE state = 0 AND "
				     "claimed_by = ? AND lease_ms = ?");

	if (!s)
		return EIO;
	db_bind_text(s, 1, j->node_id, -1);
	db_bind_int64(s, 2, j->lease_until_ms);
	return step_done(s);
}

int store_outbox_unclaim(struct store *st, int64_t lease_until_ms)
{
	struct unclaim_job j = {st ? st->conf.node_id : "", lease_until_ms};

	return st ? store_write(st, unclaim_write, &j) : EINVAL;
}

/* ---- results ----------------------------------------------------------------------- */

struct results_job {
	const struct store_outbox_result *r;
	size_t n;
};

static int results_write(struct store_conn *c, void *arg)
{
	const struct results_job *j = arg;
	struct db_stmt *s = store_stmt(c, "UPDATE outbox SET state = ?, attempts = attempts + ?, "
				     "next_ms = ?, lease_ms = 0, last_error = ?, done_ms = ? "
				     "WHERE seq = ?");
	int err = 0;

	if (!s)
		return EIO;
	for (size_t i = 0; !err && i < j->n; i++) {
		const struct store_outbox_result *r = &j->r[i];

		db_bind_int64(s, 1, (int)r->state);
		db_bind_int64(s, 2, r->attempted ? 1 : 0);
		db_bind_int64(s, 3, r->next_ms);
		db_bind_text(s, 4, r->error, -1);
		db_bind_int64(s, 5, r->state == STORE_OUTBOX_PENDING ? 0 : r->now_ms);
		db_bind_int64(s, 6, (int64_t)r->seq);
		err = step_done(s);
	}
	return err;
}

int store_outbox_results(struct store *st, const struct store_outbox_result *r, size_t n)
{
	struct results_job j = {r, n};

	if (!st || (n && !r))
		return EINVAL;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned)r[i].state > STORE_OUTBOX_DEAD ||
		    !memchr(r[i].error, '\0', sizeof(r[i].error)))
			return EINVAL;
	}
	return n ? store_write(st, results_write, &j) : 0;
}

/* ---- operator: list, resend, purge ------------------------------------------------ */

/* Each condition is off when its value is 0 (a negative state, a NULL text). A number is
 * bound twice (FILTER_PARAMS parameters in all), and a text compared to its column
 * through coalesce: a lone `? IS NULL` has no type PostgreSQL could infer. A lone number
 * is cast: `? = 0` alone would make PostgreSQL infer a 32-bit integer, too small for a
 * time in ms. */
#define FILTER "(CAST(? AS BIGINT) = 0 OR sdkappid = ?) AND id = coalesce(?, id) AND " \
	"session_id = coalesce(?, session_id) AND action = coalesce(?, action) AND " \
	"(CAST(? AS BIGINT) < 0 OR state = ?) AND " \
	"(CAST(? AS BIGINT) = 0 OR created_ms >= ?) AND (CAST(? AS BIGINT) = 0 OR created_ms < ?)"
enum { FILTER_PARAMS = 11 };

/* Binds f's values to FILTER's parameters, the first being k. */
static void filter_bind(struct db_stmt *s, int k, const struct store_outbox_filter *f)
{
	db_bind_int64(s, k++, (int64_t)f->sdkappid);
	db_bind_int64(s, k++, (int64_t)f->sdkappid);
	if (f->id)
		db_bind_text(s, k, f->id, -1);
	k++;
	if (f->session_id)
		db_bind_text(s, k, f->session_id, -1);
	k++;
	if (f->action)
		db_bind_text(s, k, f->action, -1);
	k++;
	db_bind_int64(s, k++, f->state);
	db_bind_int64(s, k++, f->state);
	db_bind_int64(s, k++, f->since_ms);
	db_bind_int64(s, k++, f->since_ms);
	db_bind_int64(s, k++, f->until_ms);
	db_bind_int64(s, k, f->until_ms);
}

struct list_walk {
	store_outbox_h *h;
	void *arg;
};

static void list_bind(struct db_stmt *q, const void *f)
{
	const struct store_outbox_filter *filter = f;

	filter_bind(q, 1, filter);
	/* No limit: the largest one (LIMIT -1 is SQLite's only). */
	db_bind_int64(q, FILTER_PARAMS + 1, filter->limit ? (int64_t)filter->limit : INT64_MAX);
}

static int list_row(struct db_stmt *q, void *arg)
{
	struct list_walk *w = arg;
	struct store_outbox_row *r;
	int err = row_read(q, &r);

	if (!err)
		err = w->h(r, w->arg);
	mem_deref(r);
	return err;
}

int store_outbox_list(struct store *st, const struct store_outbox_filter *f,
		      store_outbox_h *h, void *arg)
{
	struct list_walk w = {h, arg};

	if (!st || !f || !h)
		return EINVAL;
	return store_read(st, "SELECT " ROW_COLUMNS " FROM outbox WHERE " FILTER
			  " ORDER BY seq LIMIT ?", list_bind, f, list_row, &w, false);
}

struct resend_job {
	const struct store_outbox_filter *f;
	unsigned count;
};

static int resend_write(struct store_conn *c, void *arg)
{
	struct resend_job *j = arg;
	/* The lease is kept: a row in flight right now is not sent twice at once; its
	 * result lands, and the re-queued attempt follows if it was not delivered. */
	struct db_stmt *s = store_stmt(c, "UPDATE outbox SET state = 0, attempts = 0, "
				     "replays = replays + 1, done_ms = 0, next_ms = ? WHERE "
				     FILTER);
	int err;

	if (!s)
		return EIO;
	db_bind_int64(s, 1, clock_unix_ms());
	filter_bind(s, 2, j->f);
	err = step_done(s);
	if (!err) {
		j->count = (unsigned)db_changes(c->db);
		c->outbox_added = j->count > 0;
	}
	return err;
}

int store_outbox_resend(struct store *st, const struct store_outbox_filter *f,
			unsigned *countp)
{
	struct resend_job j = {f, 0};
	int err;

	/* Some selection is required: "resend everything" is not an accident to allow. */
	if (!st || !f || (!f->id && !f->session_id && !f->since_ms && !f->until_ms))
		return EINVAL;
	err = store_write(st, resend_write, &j);
	if (countp)
		*countp = err ? 0 : j.count;
	return err;
}

struct purge_job {
	int64_t before_ms;
	unsigned count;
};

static int purge_write(struct store_conn *c, void *arg)
{
	struct purge_job *j = arg;
	struct db_stmt *s = store_stmt(c, "DELETE FROM outbox WHERE state <> 0 AND done_ms < ?");
	int err;

	if (!s)
		return EIO;
	db_bind_int64(s, 1, j->before_ms);
	err = step_done(s);
	if (!err)
		j->count = (unsigned)db_changes(c->db);
	return err;
}

int store_outbox_purge(struct store *st, int64_t before_ms, unsigned *countp)
{
	struct purge_job j = {before_ms, 0};
	int err;

	if (!st)
		return EINVAL;
	err = store_write(st, purge_write, &j);
	if (countp)
		*countp = err ? 0 : j.count;
	return err;
}

void store_outbox_watch(struct store *st, store_outbox_watch_h *h, void *arg)
{
	if (!st)
		return;
	pthread_mutex_lock(&st->lock);
	st->outbox_watch = h;
	st->outbox_watch_arg = arg;
	pthread_mutex_unlock(&st->lock);
}
