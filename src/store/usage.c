/* usage: what an instance's records add up to — call minutes per direction over a range
 * (DescribeTelCallInfo) and its live inbound calls per number (DescribeCallInMetrics).
 * Both are read from the sessions table, so with PostgreSQL they count every node's calls. */
#include <errno.h>
#include <string.h>
#include "store/store_int.h"

struct usage_args {
	uint64_t sdkappid;
	int64_t since, until;
};

static void bind_usage(struct db_stmt *s, const void *arg)
{
	const struct usage_args *a = arg;

	db_bind_int64(s, 1, (int64_t)a->sdkappid);
	db_bind_int64(s, 2, a->since);
	db_bind_int64(s, 3, a->until);
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

/* A call's minutes are its talk time rounded up to whole minutes, as carriers bill; an
 * unanswered call has none. Calls count in the range their end falls in (the records'
 * index is on the end). */
int store_usage_minutes(struct store *st, uint64_t sdkappid, int64_t since, int64_t until,
			struct store_usage *u)
{
	struct usage_args a = {sdkappid, since, until};
	int err;

	if (!st || !u)
		return EINVAL;
	err = store_read(st, "SELECT direction, CAST(SUM((ended_ts - accept_ts + 59) / 60) AS BIGINT) "
			 "FROM sessions WHERE sdkappid = ? AND status = 3 AND ended_ts "
			 "BETWEEN ? AND ? AND accept_ts > 0 AND ended_ts >= accept_ts "
			 "GROUP BY direction", bind_usage, &a, usage_row, u, false);
	return err == ENOENT ? 0 : err;
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
