/* erase: deleting sessions and everything kept about them — their key presses, IVR path,
 * SIP messages and pushes (variables, evidence and transfer legs are columns of the
 * session row) — for retention (finished sessions of an instance older than its period)
 * and erasure (every finished session of one phone number). Both delete in small batches,
 * one write job each, so the writer is never held for long; both find their sessions
 * through an index (sessions_ended, sessions_caller, sessions_callee) and each session's
 * rows through their primary keys or outbox_session.
 *
 * The recording files of the deleted sessions are not the store's: each batch hands their
 * names back after it committed, and the caller (records/) deletes them. */
#include <errno.h>
#include <string.h>
#include "base/base.h"
#include "store/store_int.h"

enum {
	ERASE_BATCH_MAX = 1000,
	/* A call's last rows land after its end: its SIP messages linger 8 s on the control
	 * loop for the final responses (call/trace.c), then queue. An erasure waits this long
	 * after a session's end, or it could run before them and leave them behind. */
	ERASE_SETTLE_S = 30,
};

struct erase_job {
	uint64_t sdkappid;
	int64_t ended_before_s;        /* retention */
	const char *number;            /* erasure: caller or callee */
	unsigned max;
	struct store_erased n;         /* this batch's counts */
	struct store_erased_session *sessions; /* mem array of max; n_read used */
	size_t n_read;
};

static void session_free(struct store_erased_session *s)
{
	s->voicemail_files = mem_deref(s->voicemail_files);
}

static int step_done(struct db_stmt *s)
{
	int rc = db_step(s);

	return rc == DB_DONE ? 0 : rc > 0 ? rc : EIO;
}

/* The rows of one session, children first; counts added to j->n. */
static int session_delete(struct store_conn *c, struct erase_job *j, const char *id)
{
	static const char *const sql[] = {
		"DELETE FROM key_presses WHERE session_id = ?",
		"DELETE FROM session_path WHERE session_id = ?",
		"DELETE FROM sip_messages WHERE session_id = ?",
		"DELETE FROM outbox WHERE session_id = ?",
		"DELETE FROM sessions WHERE id = ?",
	};
	uint64_t *count[] = {&j->n.key_presses, &j->n.path_steps, &j->n.sip_messages,
			     &j->n.pushes, &j->n.sessions};

	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		struct db_stmt *s = store_stmt(c, sql[i]);
		int err;

		if (!s)
			return EIO;
		db_bind_text(s, 1, id, -1);
		err = step_done(s);
		if (err)
			return err;
		*count[i] += db_changes(c->db);
	}
	return 0;
}

/* Reads the selected sessions (id, record_url, voicemail_urls) into j->sessions, from
 * index `from` on; *np gets the new total. */
static int sessions_read(struct db_stmt *s, struct erase_job *j, size_t from, size_t *np)
{
	size_t n = from;
	int rc = DB_DONE;

	while (n < j->max) {
		struct store_erased_session *es = &j->sessions[n];

		rc = db_step(s);
		if (rc != DB_ROW)
			break;
		store_col_text(s, 0, es->id, sizeof(es->id));
		store_col_text(s, 1, es->record_file, sizeof(es->record_file));
		es->voicemail_files = store_col_dup(s, 2);
		*np = ++n;
		if (!es->voicemail_files) {
			db_reset(s);
			return ENOMEM;
		}
	}
	*np = n;
	if (rc == DB_ROW) {
		db_reset(s);
		return 0;
	}
	return rc == DB_DONE ? 0 : rc > 0 ? rc : EIO;
}

static int batch_delete(struct store_conn *c, struct erase_job *j, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int err = session_delete(c, j, j->sessions[i].id);

		if (err)
			return err;
	}
	return 0;
}

/* The job may run again (a new transaction): it starts from nothing each time. */
static void job_reset(struct erase_job *j)
{
	for (size_t i = 0; i < j->max; i++)
		session_free(&j->sessions[i]);
	memset(&j->n, 0, sizeof(j->n));
	j->n_read = 0;
}

/* Finished sessions of the instance that ended before the cut, and none of whose pushes
 * is still waiting to go: sessions_ended finds them (status = 3 is its condition), and
 * outbox_session_pending answers NOT EXISTS per session. */
static int expire_write(struct store_conn *c, void *arg)
{
	struct erase_job *j = arg;
	struct db_stmt *s = store_stmt(c, "SELECT id, record_url, voicemail_urls FROM sessions "
				     "WHERE sdkappid = ? AND status = 3 AND ended_ts < ? AND "
				     "NOT EXISTS (SELECT 1 FROM outbox WHERE outbox.session_id = "
				     "sessions.id AND outbox.state = 0) LIMIT ?");
	size_t n = 0;
	int err;

	job_reset(j);
	if (!s)
		return EIO;
	db_bind_int64(s, 1, (int64_t)j->sdkappid);
	db_bind_int64(s, 2, j->ended_before_s);
	db_bind_int64(s, 3, j->max);
	err = sessions_read(s, j, 0, &n);
	j->n_read = n;
	return err ? err : batch_delete(c, j, n);
}

/* Whether a row answers s (its bindings made). */
static int any_row(struct db_stmt *s, bool *anyp)
{
	int err = store_step_row(s);

	if (!err) {
		db_reset(s);
		*anyp = true;
	}
	return err == ENOENT ? 0 : err;
}

/* Whether the number has a session not settled yet: unfinished (through
 * sessions_caller_live and sessions_callee), or finished less than ERASE_SETTLE_S ago
 * (through sessions_ended: the instance's last seconds of ends). */
static int unsettled(struct store_conn *c, const struct erase_job *j, bool *busyp)
{
	struct db_stmt *s;
	int err;

	s = store_stmt(c, "SELECT 1 FROM sessions WHERE sdkappid = ? AND caller = ? AND "
		       "status <> 3 LIMIT 1");
	if (!s)
		return EIO;
	db_bind_int64(s, 1, (int64_t)j->sdkappid);
	db_bind_text(s, 2, j->number, -1);
	err = any_row(s, busyp);
	if (err || *busyp)
		return err;
	s = store_stmt(c, "SELECT 1 FROM sessions WHERE sdkappid = ? AND callee = ? AND "
		       "status <> 3 LIMIT 1");
	if (!s)
		return EIO;
	db_bind_int64(s, 1, (int64_t)j->sdkappid);
	db_bind_text(s, 2, j->number, -1);
	err = any_row(s, busyp);
	if (err || *busyp)
		return err;
	s = store_stmt(c, "SELECT 1 FROM sessions WHERE sdkappid = ? AND status = 3 AND "
		       "ended_ts >= ? AND (caller = ? OR callee = ?) LIMIT 1");
	if (!s)
		return EIO;
	db_bind_int64(s, 1, (int64_t)j->sdkappid);
	db_bind_int64(s, 2, clock_unix_s() - ERASE_SETTLE_S);
	db_bind_text(s, 3, j->number, -1);
	db_bind_text(s, 4, j->number, -1);
	return any_row(s, busyp);
}

/* Every session of the number (caller or callee) is checked first — one not settled
 * refuses the whole erasure with EINPROGRESS — then finished ones are deleted, callers'
 * through sessions_caller, callees' through sessions_callee. */
static int erase_write(struct store_conn *c, void *arg)
{
	struct erase_job *j = arg;
	struct db_stmt *s;
	bool busy = false;
	size_t n = 0;
	int err;

	job_reset(j);
	err = unsettled(c, j, &busy);
	if (err)
		return err;
	if (busy)
		return EINPROGRESS;
	s = store_stmt(c, "SELECT id, record_url, voicemail_urls FROM sessions "
		       "WHERE sdkappid = ? AND caller = ? AND status = 3 LIMIT ?");
	if (!s)
		return EIO;
	db_bind_int64(s, 1, (int64_t)j->sdkappid);
	db_bind_text(s, 2, j->number, -1);
	db_bind_int64(s, 3, j->max);
	err = sessions_read(s, j, 0, &n);
	if (!err && n < j->max) {
		/* A session that called its own number is found twice: caller = callee. */
		s = store_stmt(c, "SELECT id, record_url, voicemail_urls FROM sessions "
			       "WHERE sdkappid = ? AND callee = ? AND caller <> ? AND status = 3 "
			       "LIMIT ?");
		if (!s)
			return EIO;
		db_bind_int64(s, 1, (int64_t)j->sdkappid);
		db_bind_text(s, 2, j->number, -1);
		db_bind_text(s, 3, j->number, -1);
		db_bind_int64(s, 4, j->max - n);
		err = sessions_read(s, j, n, &n);
	}
	j->n_read = n;
	return err ? err : batch_delete(c, j, n);
}

static void job_destructor(void *arg)
{
	struct erase_job *j = arg;

	for (size_t i = 0; j->sessions && i < j->max; i++)
		session_free(&j->sessions[i]);
	mem_deref(j->sessions);
}

/* One batch: the job runs, then h gets each deleted session's files. */
static int batch_run(struct store *st, store_write_fn *fn, struct erase_job *j,
		     struct store_erased *out, store_erased_h *h, void *arg)
{
	int err;

	if (!j->max || j->max > ERASE_BATCH_MAX)
		return EINVAL;
	j->sessions = mem_zalloc(j->max * sizeof(*j->sessions), NULL);
	if (!j->sessions)
		return ENOMEM;
	err = store_write(st, fn, j);
	if (!err) {
		for (size_t i = 0; h && i < j->n_read; i++)
			h(j->sdkappid, &j->sessions[i], arg);
		if (out)
			*out = j->n;
	}
	return err;
}

int store_sessions_expire(struct store *st, uint64_t sdkappid, int64_t ended_before_s,
			  unsigned max, struct store_erased *out, store_erased_h *h, void *arg)
{
	struct erase_job *j;
	int err;

	if (!st || !sdkappid)
		return EINVAL;
	j = mem_zalloc(sizeof(*j), job_destructor);
	if (!j)
		return ENOMEM;
	j->sdkappid = sdkappid;
	j->ended_before_s = ended_before_s;
	j->max = max;
	err = batch_run(st, expire_write, j, out, h, arg);
	mem_deref(j);
	return err;
}

int store_number_erase(struct store *st, uint64_t sdkappid, const char *number, unsigned max,
		       struct store_erased *out, store_erased_h *h, void *arg)
{
	struct erase_job *j;
	int err;

	if (!st || !sdkappid || !number || !number[0])
		return EINVAL;
	j = mem_zalloc(sizeof(*j), job_destructor);
	if (!j)
		return ENOMEM;
	j->sdkappid = sdkappid;
	j->number = number;
	j->max = max;
	err = batch_run(st, erase_write, j, out, h, arg);
	mem_deref(j);
	return err;
}

struct retention_walk {
	store_retention_h *h;
	void *arg;
};

static int retention_row(struct db_stmt *s, void *arg)
{
	struct retention_walk *w = arg;

	return w->h((uint64_t)db_col_int64(s, 0), (int32_t)db_col_int64(s, 1), w->arg);
}

int store_instances_retention(struct store *st, store_retention_h *h, void *arg)
{
	struct retention_walk w = {h, arg};

	if (!st || !h)
		return EINVAL;
	return store_read(st, "SELECT sdkappid, retention_days FROM instances ORDER BY sdkappid",
			  NULL, NULL, retention_row, &w, false);
}
