/* dialq: the queue itself — per-tenant FIFOs, the round-robin ring of tenants with
 * waiting items, the arrival list for expiry, and the one timer that runs passes. */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <re_types.h>
#include <re_mem.h>
#include <re_list.h>
#include <re_hash.h>
#include "base/base.h"
#include "conf/conf.h"
#include "dialq/dialq.h"
#include "wheel/wheel.h"

/* With items waiting and nothing else due, a pass runs this often anyway: trunks come
 * back into use (health checks, a Retry-After over) without telling the queue. */
enum { DIALQ_IDLE_PASS_MS = 1000 };

/* A tenant with waiting items. Owner: the queue (freed when its FIFO empties). */
struct dialq_tenant {
	struct le he;            /* in q->tenants */
	struct le le;            /* in q->ring */
	uint64_t id;
	struct list fifo;        /* struct dialq_entry, in push order */
};

/* One waiting item. Owner: the queue. */
struct dialq_entry {
	struct le he;            /* in q->items, by item pointer */
	struct le le_fifo;       /* in its tenant's fifo */
	struct le le_all;        /* in q->all, by since_ms */
	struct dialq_tenant *t;
	uint64_t since_ms;
	void *item;              /* not owned */
};

/* Owner: whoever called dialq_alloc. */
struct dialq {
	struct dialq_conf conf;
	dialq_ready_h *readyh;
	dialq_dial_h *dialh;
	dialq_expire_h *expireh;
	void *arg;
	struct hash *tenants;    /* id → struct dialq_tenant */
	struct hash *items;      /* item pointer → struct dialq_entry */
	struct list ring;        /* tenants with waiting items; the head goes next */
	size_t ntenants;
	struct list all;         /* every entry, oldest since_ms first */
	size_t n;
	struct wheel_tmr tmr;
	/* n and the oldest entry's since_ms (0: none) for readers on other threads
	 * (dialq_stats); written by the loop after every change */
	_Atomic size_t depth;
	_Atomic uint64_t oldest_since_ms;
};

static void stats_publish(struct dialq *q)
{
	const struct dialq_entry *oldest = q->all.head ? q->all.head->data : NULL;

	atomic_store_explicit(&q->depth, q->n, memory_order_relaxed);
	atomic_store_explicit(&q->oldest_since_ms, oldest ? oldest->since_ms : 0,
			      memory_order_relaxed);
}

int dialq_conf_read(const struct conf *cf, struct dialq_conf *dc, struct conf_err *err)
{
	const struct conf_section *sec = conf_section_first(cf, "dial");
	uint64_t wait, burst;
	int rc;

	rc = conf_uint(sec, "queue_max_wait", 300, 0, 86400, &wait, err);
	rc = rc ? rc : conf_uint(sec, "burst", 64, 1, 100000, &burst, err);
	if (rc)
		return rc;
	dc->max_wait_s = (unsigned)wait;
	dc->burst = (unsigned)burst;
	return 0;
}

static uint32_t ptr_key(const void *p)
{
	return hash_fast((const char *)&p, sizeof(p));
}

static void tenant_destructor(void *arg)
{
	struct dialq_tenant *t = arg;

	hash_unlink(&t->he);
	list_unlink(&t->le);
}

static void entry_destructor(void *arg)
{
	struct dialq_entry *e = arg;

	hash_unlink(&e->he);
	list_unlink(&e->le_fifo);
	list_unlink(&e->le_all);
}

static void queue_destructor(void *arg)
{
	struct dialq *q = arg;
	struct le *le;

	wheel_cancel(&q->tmr);
	while ((le = q->all.head))
		mem_deref(le->data);
	while ((le = q->ring.head))
		mem_deref(le->data);
	mem_deref(q->items);
	mem_deref(q->tenants);
}

static void pass(void *arg);

int dialq_alloc(struct dialq **qp, const struct dialq_conf *dc, dialq_ready_h *readyh,
		dialq_dial_h *dialh, dialq_expire_h *expireh, void *arg)
{
	struct dialq *q;
	int err;

	if (!qp || !dc || !readyh || !dialh || !expireh)
		return EINVAL;
	q = mem_zalloc(sizeof(*q), queue_destructor);
	if (!q)
		return ENOMEM;
	q->conf = *dc;
	if (!q->conf.burst)
		q->conf.burst = 1;
	q->readyh = readyh;
	q->dialh = dialh;
	q->expireh = expireh;
	q->arg = arg;
	wheel_tmr_init(&q->tmr);
	err = hash_alloc(&q->tenants, 64);
	err = err ? err : hash_alloc(&q->items, 1024);
	if (err)
		mem_deref(q);
	else
		*qp = q;
	return err;
}

static bool tenant_match(struct le *le, void *arg)
{
	return ((struct dialq_tenant *)le->data)->id == *(uint64_t *)arg;
}

static bool item_match(struct le *le, void *arg)
{
	return ((struct dialq_entry *)le->data)->item == arg;
}

int dialq_push(struct dialq *q, uint64_t tenant, uint64_t since_ms, void *item)
{
	struct dialq_tenant *t;
	struct dialq_entry *e;
	struct le *at;

	if (!q || !item)
		return EINVAL;
	e = mem_zalloc(sizeof(*e), entry_destructor);
	if (!e)
		return ENOMEM;
	t = list_ledata(hash_lookup(q->tenants, (uint32_t)(tenant ^ tenant >> 32), tenant_match,
				    &tenant));
	if (!t) {
		t = mem_zalloc(sizeof(*t), tenant_destructor);
		if (!t) {
			mem_deref(e);
			return ENOMEM;
		}
		t->id = tenant;
		hash_append(q->tenants, (uint32_t)(tenant ^ tenant >> 32), &t->he, t);
		/* a tenant that had nothing waiting joins at the back of the ring */
		list_append(&q->ring, &t->le, t);
		q->ntenants++;
	}
	e->t = t;
	e->since_ms = since_ms;
	e->item = item;
	hash_append(q->items, ptr_key(item), &e->he, e);
	list_append(&t->fifo, &e->le_fifo, e);
	/* Arrivals are nearly always the newest: looking from the back costs one step. */
	for (at = q->all.tail; at && ((struct dialq_entry *)at->data)->since_ms > since_ms;
	     at = at->prev)
		;
	if (at)
		list_insert_after(&q->all, at, &e->le_all, e);
	else
		list_prepend(&q->all, &e->le_all, e);
	q->n++;
	stats_publish(q);
	dialq_kick(q);
	return 0;
}

/* Takes e out of the queue (freed); its tenant goes when it has nothing left. */
static void entry_drop(struct dialq *q, struct dialq_entry *e)
{
	struct dialq_tenant *t = e->t;

	BASE_ASSERT(q->n > 0, "the queue counts every entry");
	mem_deref(e);
	q->n--;
	stats_publish(q);
	if (!t->fifo.head) {
		mem_deref(t);
		q->ntenants--;
	}
}

int dialq_remove(struct dialq *q, void *item)
{
	struct dialq_entry *e;

	if (!q || !item)
		return EINVAL;
	e = list_ledata(hash_lookup(q->items, ptr_key(item), item_match, item));
	if (!e)
		return ENOENT;
	entry_drop(q, e);
	return 0;
}

void dialq_kick(struct dialq *q)
{
	/* A burst of pushes or freed channels costs one pass: a pass already due now is not
	 * started again. */
	if (q && q->n && !(wheel_isrunning(&q->tmr) && !wheel_get_expire(&q->tmr)))
		wheel_start(&q->tmr, 0, pass, q);
}

size_t dialq_count(const struct dialq *q)
{
	return q ? q->n : 0;
}

void dialq_stats(const struct dialq *q, uint64_t now_ms, struct dialq_stats *st)
{
	uint64_t since;

	st->depth = q ? atomic_load_explicit(&q->depth, memory_order_relaxed) : 0;
	since = q ? atomic_load_explicit(&q->oldest_since_ms, memory_order_relaxed) : 0;
	st->oldest_wait_ms = since && now_ms > since ? now_ms - since : 0;
}

/* Expires entries that waited max_wait_s; returns ms until the next one is due, or
 * UINT64_MAX. */
static uint64_t expire(struct dialq *q, uint64_t now_ms)
{
	const uint64_t max_ms = q->conf.max_wait_s * 1000ull;
	struct le *le;

	if (!max_ms)
		return UINT64_MAX;
	while ((le = q->all.head)) {
		struct dialq_entry *e = le->data;
		void *item = e->item;

		if (e->since_ms + max_ms > now_ms)
			return e->since_ms + max_ms - now_ms;
		entry_drop(q, e);
		q->expireh(item, q->arg);
	}
	return UINT64_MAX;
}

void dialq_run(struct dialq *q, uint64_t now_ms)
{
	uint64_t next = DIALQ_IDLE_PASS_MS, due;
	unsigned placed = 0;
	size_t idle = 0;

	if (!q)
		return;
	due = expire(q, now_ms);
	if (due < next)
		next = due;
	/* Round robin: the tenant at the head offers its oldest item; placed or not, the
	 * tenant moves to the back. A whole turn of the ring with nothing placed ends the
	 * pass, so a pass costs the tenants waiting, never the items. Within a tenant the
	 * order is strict (an item whose trunks are full holds back that tenant's later
	 * ones, which almost always need the same trunks). */
	while (q->ring.head && idle < q->ntenants) {
		struct dialq_tenant *t = q->ring.head->data;
		struct dialq_entry *e = t->fifo.head->data;
		uint64_t wait = 0;
		void *item = e->item;

		if (placed >= q->conf.burst) {
			next = 0; /* let the loop serve others, then go on */
			break;
		}
		list_unlink(&t->le);
		list_append(&q->ring, &t->le, t);
		if (q->readyh(item, &wait, q->arg) == EAGAIN) {
			if (wait && wait < next)
				next = wait;
			idle++;
			continue;
		}
		entry_drop(q, e);
		q->dialh(item, q->arg);
		placed++;
		idle = 0;
	}
	if (q->n)
		wheel_start(&q->tmr, next, pass, q);
}

static void pass(void *arg)
{
	dialq_run(arg, clock_mono_ms());
}
