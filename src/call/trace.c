/* trace: the SIP messages of each call, kept for its record (CccdDescribeSipTrace).
 *
 * libre's trace handler sees every message on the control loop; this file keys them by
 * Call-ID to the call's traces (one per INVITE: a failover makes several) and copies the
 * bytes there, up to a cap per call. A call's first message (the INVITE it sends, or the one
 * it answers) passes the handler before the call knows its Call-ID, so a few messages that
 * match no trace wait in a small ring until a trace claims them. When the call has ended
 * and the session has named itself (call_trace_bind), its traces linger a few seconds for
 * what follows the end on the wire (the BYE's 200, the ACK of a 487), then go to the
 * handler in one batch — the store writes them as one queued write. Nothing here waits. */
#include <errno.h>
#include <string.h>
#include <time.h>
#include "base/base.h"
#include "call/call_int.h"

enum {
	ORPHANS = 8,            /* unmatched recent messages kept for a trace to claim */
	LINGER_MS = 8000,       /* after the end: the last responses and ACKs */
	TRACE_BUCKETS = 256,
};

/* One message, its bytes after the struct. Owner: its trace (or the orphan ring). */
struct trace_msg {
	struct le le;
	struct call_trace_msg m;
	char callid[128];
};

/* One INVITE's dialog. Owner: the ua's table (ua->traces); the call lists it. */
struct call_trace {
	struct le he;           /* in ua->traces, by Call-ID */
	struct le le_call;      /* in its call's list while the call lives */
	struct call_ua *ua;
	char callid[128];
	struct list msgs;       /* struct trace_msg */
	size_t bytes;
	unsigned dropped;       /* messages over the cap */
	size_t *call_bytes;     /* the call's total, shared by its traces (in the call) */
	bool bound;
	char session_id[33];
	uint64_t sdkappid;
	struct wheel_tmr linger;
};

static void msg_destructor(void *arg)
{
	struct trace_msg *t = arg;

	list_unlink(&t->le);
}

static void trace_destructor(void *arg)
{
	struct call_trace *t = arg;

	wheel_cancel(&t->linger);
	hash_unlink(&t->he);
	list_unlink(&t->le_call);
	list_flush(&t->msgs);
}

static bool callid_match(struct le *le, void *arg)
{
	return !strcmp(((struct call_trace *)le->data)->callid, arg);
}

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static struct trace_msg *msg_copy(bool tx, const struct sa *src, const struct sa *dst,
				  const uint8_t *pkt, size_t len, const char *callid)
{
	struct trace_msg *t = mem_zalloc(sizeof(*t) + len + 1, msg_destructor);

	if (!t)
		return NULL;
	t->m.tx = tx;
	t->m.ts_us = now_us();
	call_sa_str(src, t->m.src, sizeof(t->m.src));
	call_sa_str(dst, t->m.dst, sizeof(t->m.dst));
	memcpy((char *)(t + 1), pkt, len);
	((char *)(t + 1))[len] = '\0';
	t->m.text = (const char *)(t + 1);
	t->m.len = len;
	str_ncpy(t->callid, callid, sizeof(t->callid));
	return t;
}

/* Appends a message to a trace within the call's cap. Takes m. */
static void trace_add(struct call_trace *t, struct trace_msg *m)
{
	if (*t->call_bytes + m->m.len > t->ua->trace_cap) {
		t->dropped++;
		mem_deref(m);
		return;
	}
	*t->call_bytes += m->m.len;
	t->bytes += m->m.len;
	list_append(&t->msgs, &m->le, m);
}

void call_trace_msg(struct call_ua *ua, bool tx, const struct sa *src, const struct sa *dst,
		    const uint8_t *pkt, size_t len)
{
	char callid[128];
	struct call_trace *t;
	struct trace_msg *m;
	struct le *le;

	if (!ua->trace_h || call_sip_callid(pkt, len, callid, sizeof(callid)))
		return;
	le = hash_lookup(ua->traces, hash_joaat_str(callid), callid_match, callid);
	t = le ? le->data : NULL;
	if (t && *t->call_bytes + len > ua->trace_cap) {
		t->dropped++;
		return;
	}
	m = msg_copy(tx, src, dst, pkt, len, callid);
	if (!m)
		return;
	if (t) {
		trace_add(t, m);
		return;
	}
	/* nobody's yet: the ring keeps the newest few */
	if (list_count(&ua->trace_orphans) >= ORPHANS)
		mem_deref(list_ledata(list_head(&ua->trace_orphans)));
	list_append(&ua->trace_orphans, &m->le, m);
}

int call_trace_open(struct call_ua *ua, struct list *call_traces, size_t *call_bytes,
		    const char *callid)
{
	struct call_trace *t;
	struct le *le;

	if (!ua->trace_h || !callid || !callid[0])
		return 0;
	if (!ua->traces && hash_alloc(&ua->traces, TRACE_BUCKETS))
		return ENOMEM;
	t = mem_zalloc(sizeof(*t), trace_destructor);
	if (!t)
		return ENOMEM;
	t->ua = ua;
	str_ncpy(t->callid, callid, sizeof(t->callid));
	t->call_bytes = call_bytes;
	wheel_tmr_init(&t->linger);
	hash_append(ua->traces, hash_joaat_str(t->callid), &t->he, t);
	list_append(call_traces, &t->le_call, t);
	/* its messages that came before it, in their order */
	le = list_head(&ua->trace_orphans);
	while (le) {
		struct trace_msg *m = le->data;

		le = le->next;
		if (!strcmp(m->callid, callid)) {
			list_unlink(&m->le);
			trace_add(t, m);
		}
	}
	return 0;
}

static void linger_over(void *arg)
{
	struct call_trace *t = arg;
	struct call_trace_msg *v;
	size_t n = list_count(&t->msgs), i = 0;

	v = n ? mem_zalloc(n * sizeof(*v), NULL) : NULL;
	if (n && !v) {
		log_error("call", "%s: out of memory handing over the SIP trace", t->session_id);
	} else if (n) {
		for (struct le *le = list_head(&t->msgs); le; le = le->next)
			v[i++] = ((struct trace_msg *)le->data)->m;
		t->ua->trace_h(t->session_id, t->sdkappid, t->callid, v, n, t->dropped,
			       t->ua->trace_arg);
	}
	mem_deref(v);
	mem_deref(t);
}

void call_trace_bind_list(struct list *call_traces, const char *session_id, uint64_t sdkappid)
{
	struct le *le;

	/* the traces leave the call (it may go now) and wait on the ua's table */
	while ((le = list_head(call_traces))) {
		struct call_trace *t = le->data;

		list_unlink(&t->le_call);
		t->bound = true;
		t->call_bytes = &t->bytes; /* the call's count goes with the call */
		str_ncpy(t->session_id, session_id, sizeof(t->session_id));
		t->sdkappid = sdkappid;
		wheel_start(&t->linger, LINGER_MS, linger_over, t);
	}
}

void call_trace_drop_list(struct list *call_traces)
{
	struct le *le;

	while ((le = list_head(call_traces)))
		mem_deref(le->data);
}

void call_trace_close(struct call_ua *ua)
{
	/* at shutdown: traces still lingering are handed over now (the store outlives us) */
	for (uint32_t i = 0; ua->traces && i < TRACE_BUCKETS; i++) {
		struct le *le;

		while ((le = list_head(hash_list(ua->traces, i)))) {
			struct call_trace *t = le->data;

			if (t->bound)
				linger_over(t);
			else
				mem_deref(t);
		}
	}
	ua->traces = mem_deref(ua->traces);
	list_flush(&ua->trace_orphans);
}
