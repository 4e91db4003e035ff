/* sip_trace: the SIP messages of a session's calls (CccdDescribeSipTrace), written by the
 * control loop as one queued write per dialog, read per session and instance, and deleted
 * after [records] sip_trace_days by the retention thread. */
#include <errno.h>
#include <string.h>
#include "base/base.h"
#include "store/store_int.h"

/* One queued batch; a mem object owned by the writer once queued. */
struct trace_batch {
	char session_id[33];
	uint64_t sdkappid;
	char call_id[128];
	struct store_sip_msg *msgs;   /* mem array, its texts mem strings */
	size_t n;
	int64_t created_ms;
};

static void batch_destructor(void *arg)
{
	struct trace_batch *b = arg;

	for (size_t i = 0; b->msgs && i < b->n; i++)
		mem_deref(b->msgs[i].text);
	mem_deref(b->msgs);
}

/* Repeatable (the writer may run it again): each row's key is (session, Call-ID, seq). */
static int batch_write(struct store_conn *c, void *arg)
{
	const struct trace_batch *b = arg;
	struct db_stmt *s = store_stmt(c, "INSERT INTO sip_messages (session_id, call_id, seq, "
				     "sdkappid, ts_us, tx, src, dst, message, created_ms) "
				     "VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT (session_id, call_id, "
				     "seq) DO UPDATE SET sdkappid = excluded.sdkappid, "
				     "ts_us = excluded.ts_us, tx = excluded.tx, src = excluded.src, "
				     "dst = excluded.dst, message = excluded.message, "
				     "created_ms = excluded.created_ms");

	if (!s)
		return EIO;
	for (size_t i = 0; i < b->n; i++) {
		const struct store_sip_msg *m = &b->msgs[i];
		int rc;

		db_bind_text(s, 1, b->session_id, -1);
		db_bind_text(s, 2, b->call_id, -1);
		db_bind_int64(s, 3, (int64_t)i);
		db_bind_int64(s, 4, (int64_t)b->sdkappid);
		db_bind_int64(s, 5, m->ts_us);
		db_bind_int64(s, 6, m->tx);
		db_bind_text(s, 7, m->src, -1);
		db_bind_text(s, 8, m->dst, -1);
		db_bind_text(s, 9, m->text, -1);
		db_bind_int64(s, 10, b->created_ms);
		rc = db_step(s);
		if (rc != DB_DONE)
			return rc > 0 ? rc : EIO;
	}
	return 0;
}

int store_sip_trace_add(struct store *st, const char *session_id, uint64_t sdkappid,
			const char *call_id, const struct store_sip_msg *msgs, size_t n)
{
	struct trace_batch *b;

	if (!st || !session_id || strlen(session_id) != 32 || !call_id || !msgs || !n)
		return EINVAL;
	b = mem_zalloc(sizeof(*b), batch_destructor);
	if (!b)
		return ENOMEM;
	str_ncpy(b->session_id, session_id, sizeof(b->session_id));
	str_ncpy(b->call_id, call_id, sizeof(b->call_id));
	b->sdkappid = sdkappid;
	b->created_ms = clock_unix_ms();
	b->msgs = mem_zalloc(n * sizeof(*msgs), NULL);
	if (!b->msgs) {
		mem_deref(b);
		return ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		b->msgs[i] = msgs[i];
		b->msgs[i].text = NULL;
		b->n = i + 1;
		if (str_dup(&b->msgs[i].text, msgs[i].text)) {
			mem_deref(b);
			return ENOMEM;
		}
	}
	return store_write_async(st, batch_write, b);
}

struct trace_key {
	uint64_t sdkappid;
	const char *id;
};

static void bind_key(struct db_stmt *s, const void *arg)
{
	const struct trace_key *k = arg;

	db_bind_text(s, 1, k->id, -1);
	db_bind_int64(s, 2, (int64_t)k->sdkappid);
}

struct trace_walk {
	store_sip_msg_h *h;
	void *arg;
};

static int trace_row(struct db_stmt *q, void *arg)
{
	struct trace_walk *w = arg;
	struct store_sip_msg m = {0};
	char call_id[128];
	int err;

	store_col_text(q, 0, call_id, sizeof(call_id));
	m.ts_us = db_col_int64(q, 1);
	m.tx = db_col_int64(q, 2) != 0;
	store_col_text(q, 3, m.src, sizeof(m.src));
	store_col_text(q, 4, m.dst, sizeof(m.dst));
	m.text = store_col_dup(q, 5);
	if (!m.text)
		return ENOMEM;
	err = w->h(call_id, &m, w->arg);
	mem_deref(m.text);
	return err;
}

int store_sip_trace_get(struct store *st, uint64_t sdkappid, const char *session_id,
			store_sip_msg_h *h, void *arg)
{
	struct trace_key k = {sdkappid, session_id};
	struct trace_walk w = {h, arg};

	if (!st || !session_id || !h)
		return EINVAL;
	return store_read(st, "SELECT call_id, ts_us, tx, src, dst, message FROM sip_messages "
			  "WHERE session_id = ? AND sdkappid = ? ORDER BY ts_us, call_id, seq",
			  bind_key, &k, trace_row, &w, false);
}

struct purge {
	int64_t before_ms;
	unsigned count;
};

static int purge_write(struct store_conn *c, void *arg)
{
	struct purge *p = arg;
	struct db_stmt *s = store_stmt(c, "DELETE FROM sip_messages WHERE created_ms < ?");
	int rc;

	if (!s)
		return EIO;
	db_bind_int64(s, 1, p->before_ms);
	rc = db_step(s);
	if (rc != DB_DONE)
		return rc > 0 ? rc : EIO;
	p->count = (unsigned)db_changes(c->db);
	return 0;
}

int store_sip_trace_purge(struct store *st, int64_t before_ms, unsigned *countp)
{
	struct purge p = {before_ms, 0};
	int err;

	if (!st)
		return EINVAL;
	err = store_write(st, purge_write, &p);
	if (!err && countp)
		*countp = p.count;
	return err;
}
