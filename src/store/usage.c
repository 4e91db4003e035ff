/* usage: what an instance's records add up to — call minutes per direction over a range
 * of days (DescribeTelCallInfo) and its live inbound calls per number
 * (DescribeCallInMetrics). Both are read from the store, so with PostgreSQL they count
 * every node's calls.
 *
 * The minutes come from call_days (migration 22), a tally per instance, UTC day of the
 * end, direction and node that the write finishing a session adds to in its own
 * transaction (store_usage_tally): summing 90 days is then at most 90 × 2 × nodes rows,
 * where summing the sessions read every call of the range — 26 s for 90 days of a
 * 10 M-call store on SQLite (docs/benchmarks.md §Records at scale). A row per node, not
 * per instance-day: with several nodes on one PostgreSQL, each writer's group commit
 * holds its rows until it commits, and two nodes' batches touching two shared rows in
 * opposite orders would deadlock; with a row each they never meet. Retention and erasure
 * delete sessions, not their tally: the minutes are billing, kept after the detail. */
#include <errno.h>
#include <string.h>
#include "store/store_int.h"

struct usage_args {
	uint64_t sdkappid;
	int64_t first_day, last_day;
};

static void bind_usage(struct db_stmt *s, const void *arg)
{
	const struct usage_args *a = arg;

	db_bind_int64(s, 1, (int64_t)a->sdkappid);
	db_bind_int64(s, 2, a->first_day);
	db_bind_int64(s, 3, a->last_day);
}

static int usage_row(struct db_stmt *s, void *arg)
{
	struct store_usage *u = arg;
	int64_t minutes = db_col_int64(s, 1);

	if (db_col_int64(s, 0) == 0)
		u->in_minutes += minutes;
	else
		u->out_minutes += minutes;
	return 0;
}

int store_usage_minutes(struct store *st, uint64_t sdkappid, int64_t first_day,
			int64_t last_day, struct store_usage *u)
{
	struct usage_args a = {sdkappid, first_day, last_day};
	int err;

	if (!st || !u)
		return EINVAL;
	err = store_read(st, STORE_USAGE_SQL, bind_usage, &a, usage_row, u, false);
	return err == ENOENT ? 0 : err;
}

/* A call's minutes are its talk time (answer to end) rounded up to whole minutes, as
 * carriers bill; an unanswered call has none. The same formulas as migration 22's
 * back-fill. */
#define ANSWERED "accept_ts > 0 AND ended_ts >= accept_ts"

int store_usage_tally(struct store_conn *c, const char *session_id)
{
	struct db_stmt *s = store_stmt(c,
		"INSERT INTO call_days (sdkappid, day, direction, node_id, calls, answered, "
		"talk_s, minutes) "
		"SELECT sdkappid, ended_ts / 86400, direction, ?, 1, "
		"CASE WHEN " ANSWERED " THEN 1 ELSE 0 END, "
		"CASE WHEN " ANSWERED " THEN ended_ts - accept_ts ELSE 0 END, "
		"CASE WHEN " ANSWERED " THEN (ended_ts - accept_ts + 59) / 60 ELSE 0 END "
		"FROM sessions WHERE id = ? AND status = 3 "
		"ON CONFLICT (sdkappid, day, direction, node_id) DO UPDATE SET "
		"calls = call_days.calls + excluded.calls, "
		"answered = call_days.answered + excluded.answered, "
		"talk_s = call_days.talk_s + excluded.talk_s, "
		"minutes = call_days.minutes + excluded.minutes");
	int rc;

	if (!s)
		return EIO;
	db_bind_text(s, 1, c->node_id, -1);
	db_bind_text(s, 2, session_id, -1);
	rc = db_step(s);
	return rc == DB_DONE ? 0 : (rc > 0 ? rc : EIO);
}

static void bind_sdkappid(struct db_stmt *s, const void *arg)
{
	db_bind_int64(s, 1, (int64_t)*(const uint64_t *)arg);
}

struct inbound_walk {
	store_inbound_h *h;
	void *arg;
};

static int inbound_row(struct db_stmt *s, void *arg)
{
	struct inbound_walk *w = arg;
	struct store_inbound_live l;

	memset(&l, 0, sizeof(l));
	store_col_text(s, 0, l.number, sizeof(l.number));
	l.transferred = db_col_int64(s, 1) != 0;
	l.count = (uint32_t)db_col_int64(s, 2);
	return w->h(&l, w->arg);
}

int store_inbound_live(struct store *st, uint64_t sdkappid, store_inbound_h *h, void *arg)
{
	struct inbound_walk w = {h, arg};
	int err;

	if (!st || !h)
		return EINVAL;
	err = store_read(st, "SELECT callee, CASE WHEN outbound_callee <> '' THEN 1 ELSE 0 END, "
			 "count(*) FROM sessions "
			 "WHERE sdkappid = ? AND direction = 0 AND status <> 3 "
			 "GROUP BY 1, 2 ORDER BY 1, 2", bind_sdkappid, &sdkappid, inbound_row, &w,
			 false);
	return err == ENOENT ? 0 : err;
}
