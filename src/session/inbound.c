/* inbound: which numbers answer into which inbound IVR. The table is read from the store
 * on a thread of its own every few seconds (numbers added by `ccc admin` show up without a
 * restart) and handed to the control loop whole through its queue, so that the table and
 * its flows are only ever touched by one thread at a time (libre's reference counts are
 * not atomic); the control loop only looks numbers up in memory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "base/base.h"
#include "ivr/ivr.h"
#include "policy/policy.h"
#include "records/records.h"
#include "session/session_int.h"

enum { INBOUND_REFRESH_S = 5 };

static void entry_destructor(void *arg)
{
	struct inbound_entry *e = arg;

	hash_unlink(&e->he);
	mem_deref(e->flow);
}

/* A number read in one country: the entry must be that number of an instance of that
 * country (the same digits dialled to an instance elsewhere mean another number). */
struct lookup {
	const char *number;
	const char *cc;
};

static bool entry_match(struct le *le, void *arg)
{
	const struct inbound_entry *e = le->data;
	const struct lookup *l = arg;

	return !strcmp(e->number, l->number) && !strcmp(e->default_cc, l->cc);
}

static void table_destructor(void *arg)
{
	struct inbound_table *t = arg;

	hash_flush(t->numbers);
	mem_deref(t->numbers);
	mem_deref(t->ccs);
}

/* Adds cc to the table's ascending set of countries. */
static int table_cc_add(struct inbound_table *t, const char *cc)
{
	size_t i = 0;
	char (*ccs)[4];

	while (i < t->n_ccs && strcmp(t->ccs[i], cc) < 0)
		i++;
	if (i < t->n_ccs && !strcmp(t->ccs[i], cc))
		return 0;
	ccs = t->ccs ? mem_realloc(t->ccs, (t->n_ccs + 1) * sizeof(*ccs))
		     : mem_alloc(sizeof(*ccs), NULL);
	if (!ccs)
		return ENOMEM;
	memmove(&ccs[i + 1], &ccs[i], (t->n_ccs - i) * sizeof(*ccs));
	snprintf(ccs[i], sizeof(ccs[i]), "%s", cc);
	t->ccs = ccs;
	t->n_ccs++;
	return 0;
}

/* The instance's country, from its calling rules as CreateIVRSession reads them (without
 * the work-time zone: nothing here needs it). */
static int instance_cc(struct store *st, uint64_t sdkappid, char cc[4])
{
	struct policy_rules *r = NULL;
	char *text = NULL, why[192] = "";
	int err = store_instance_rules_get(st, sdkappid, &text);

	if (err)
		return err;
	if (text[0])
		err = policy_rules_parse_dest(&r, text, strlen(text), why, sizeof(why));
	mem_deref(text);
	if (err) {
		log_warn("session", "instance %llu: its calling rules do not load (%s): its "
			 "inbound numbers are not answered", (unsigned long long)sdkappid, why);
		return err;
	}
	snprintf(cc, 4, "%s", policy_rules_default_cc(r));
	mem_deref(r);
	return 0;
}

struct build {
	struct session_mgr *m;
	struct inbound_table *table;
};

static int entry_add(const struct store_number *num, void *arg)
{
	struct build *b = arg;
	struct store_instance inst;
	struct store_ivr ivr;
	struct store_session row = {0};
	struct inbound_entry *e;
	char cc[4];
	int err;

	if (store_instance_get(b->m->deps.store, num->sdkappid, &inst) ||
	    store_ivr_get(b->m->deps.store, num->sdkappid, num->inbound_ivr, &ivr) ||
	    ivr.type != STORE_IVR_INBOUND ||
	    instance_cc(b->m->deps.store, num->sdkappid, cc))
		return 0; /* a number bound to nothing usable is refused like an unknown one */
	err = table_cc_add(b->table, cc);
	if (err)
		return err;
	e = mem_zalloc(sizeof(*e), entry_destructor);
	if (!e)
		return ENOMEM;
	snprintf(e->default_cc, sizeof(e->default_cc), "%s", cc);
	snprintf(e->number, sizeof(e->number), "%s", num->number);
	e->sdkappid = num->sdkappid;
	e->account_id = inst.account_id;
	e->ivr_id = ivr.ivr_id;
	e->ivr_version = ivr.version;
	e->record = inst.record_calls;
	e->ai_channels = inst.ai_channels;
	row.sdkappid = e->sdkappid;
	row.ivr_id = e->ivr_id;
	row.ivr_version = e->ivr_version;
	snprintf(row.id, sizeof(row.id), "inbound");
	(void)session_flow_get(b->m, &row, &e->flow);
	if (e->ai_channels && e->flow && ivr_flow_uses_ai(e->flow)) {
		uint64_t n = 0;

		(void)store_ai_live_elsewhere(b->m->deps.store, e->sdkappid, &n);
		e->ai_elsewhere = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
	}
	hash_append(b->table->numbers, hash_joaat_str(e->number), &e->he, e);
	return 0;
}

/* A new table from the store. Blocking (store, flow files); any thread. */
static int table_build(struct session_mgr *m, struct inbound_table **tp)
{
	struct build b = {m, mem_zalloc(sizeof(struct inbound_table), table_destructor)};
	int err = b.table ? hash_alloc(&b.table->numbers, 64) : ENOMEM;

	if (!err)
		err = store_numbers_inbound(m->deps.store, entry_add, &b);
	if (err)
		mem_deref(b.table);
	else
		*tp = b.table;
	return err;
}

void session_inbound_install(struct session_mgr *m, struct inbound_table *t)
{
	mem_deref(m->inbound);
	m->inbound = t;
}

static void *refresher_main(void *arg)
{
	struct session_mgr *m = arg;
	struct inbound_table *t;
	struct timespec until;

	pthread_mutex_lock(&m->lock);
	while (!m->stopping) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += INBOUND_REFRESH_S;
		pthread_cond_timedwait(&m->stop, &m->lock, &until);
		if (m->stopping)
			break;
		pthread_mutex_unlock(&m->lock);
		t = NULL;
		if (table_build(m, &t))
			log_warn("session", "the inbound numbers could not be re-read");
		else if (mqueue_push(m->mq, MSG_INBOUND_TABLE, t))
			mem_deref(t);
		pthread_mutex_lock(&m->lock);
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

int session_inbound_start(struct session_mgr *m)
{
	int err = table_build(m, &m->inbound);

	if (err)
		return err;
	err = pthread_create(&m->refresher, NULL, refresher_main, m);
	if (!err)
		m->refresher_running = true;
	return err;
}

void session_inbound_stop(struct session_mgr *m)
{
	if (m->refresher_running) {
		pthread_mutex_lock(&m->lock);
		m->stopping = true;
		pthread_cond_signal(&m->stop);
		pthread_mutex_unlock(&m->lock);
		pthread_join(m->refresher, NULL);
		m->refresher_running = false;
	}
	m->inbound = mem_deref(m->inbound);
}

int session_inbound_find(struct session_mgr *m, const char *number, struct inbound_entry *out)
{
	const struct inbound_table *t = m->inbound;
	struct inbound_entry *e = NULL;
	char norm[33];

	/* Trunks deliver the dialled number in many forms; the table holds the 00-form of
	 * each number as its instance's country reads it. A few countries at most: each is
	 * one parse on the control loop (microseconds, no I/O). */
	for (size_t i = 0; t && !e && i < t->n_ccs; i++) {
		struct lookup l = {norm, t->ccs[i]};

		if (policy_number_normalise(number, t->ccs[i], norm, NULL, 0))
			snprintf(norm, sizeof(norm), "%s", number);
		e = list_ledata(hash_lookup(t->numbers, hash_joaat_str(norm), entry_match, &l));
	}
	if (!e)
		return ENOENT;
	*out = *e;
	out->he = (struct le)LE_INIT;
	out->flow = mem_ref(e->flow);
	return 0;
}

int session_inbound_row(const struct inbound_entry *e, const struct call_incoming *in,
			struct store_session **rowp)
{
	struct store_session *row;
	int64_t now_ms = clock_unix_ms();
	int err;

	err = store_session_alloc(&row, in->uui, "[]");
	if (err)
		return err;
	err = ids_session(row->id);
	if (err) {
		mem_deref(row);
		return err;
	}
	row->sdkappid = e->sdkappid;
	row->account_id = e->account_id;
	row->direction = 0;
	if (policy_number_normalise(in->caller, e->default_cc, row->caller, NULL, 0))
		snprintf(row->caller, sizeof(row->caller), "%s", in->caller);
	snprintf(row->callee, sizeof(row->callee), "%s", e->number);
	row->ivr_id = e->ivr_id;
	row->ivr_version = e->ivr_version;
	row->ai = e->flow && ivr_flow_uses_ai(e->flow);
	row->status = STORE_STATUS_RINGING;
	row->created_ms = now_ms;
	row->start_ts = now_ms / 1000;
	snprintf(row->request_id, sizeof(row->request_id), "inbound");
	*rowp = row;
	return 0;
}

/* A call refused for want of an AI channel still reached the tenant's number: the tenant
 * sees it, as TCCC shows calls no seat could take, as a finished session that never rang
 * nor was answered (Start = End), EndStatus 105 noSeatOnline (docs/sip.md), with its call
 * record pushed. The row and its push are one queued write: the loop does not wait. A
 * failure costs the record only (logged); the refusal itself stands. */
static void refused_record(struct session_mgr *m, const struct inbound_entry *e,
			   const struct call_incoming *in, const char *reason)
{
	struct store_session_end end = {.end_status = 105, .hungup_side = "system"};
	struct store_session *row;
	char id[33], *body = NULL;
	json_t *cdr;
	int err;

	err = session_inbound_row(e, in, &row);
	if (err) {
		log_error("session", "inbound call from %s to %s: no record of the refusal: %s",
			  in->caller, in->callee, strerror(err));
		return;
	}
	end.ended_ts = row->start_ts;
	snprintf(end.end_reason, sizeof(end.end_reason), "%s", reason);
	row->status = STORE_STATUS_FINISHED;
	row->ended_ts = end.ended_ts;
	row->end_status = end.end_status;
	snprintf(row->hungup_side, sizeof(row->hungup_side), "%s", end.hungup_side);
	snprintf(row->end_reason, sizeof(row->end_reason), "%s", reason);
	cdr = records_cdr(row, NULL, 0, true);
	if (cdr)
		body = json_dumps(cdr, JSON_COMPACT);
	json_decref(cdr);
	if (!body)
		log_error("session", "%s: out of memory building the call record push", row->id);
	snprintf(id, sizeof(id), "%s", row->id);
	/* The row goes to the writer, which owns it from here. */
	err = store_session_create_finished(m->deps.store, row, &end, body);
	if (err)
		log_error("session", "%s: the record of the refused call could not be queued: %s",
			  id, strerror(err));
	else
		log_info("session", "%s: refused inbound call from %s to %s recorded: EndStatus "
			 "%d (%s)", id, in->caller, e->number, end.end_status,
			 records_end_status_string(end.end_status));
	free(body);
}

/* An inbound call into an AI flow needs a free AI channel, as CreateIVRSession does
 * (docs/callout-rules.md): EACCES (480) without a licence, EBUSY (486 Busy Here) when the
 * instance's live AI sessions fill its channels. Counted over the sessions this process
 * works, which include every admitted outbound session once handed over, plus those other
 * nodes own as the table's last read found them (every INBOUND_REFRESH_S: in a cluster a
 * burst of inbound AI calls within those seconds may pass the licences by the calls the
 * other nodes took meanwhile; CreateIVRSession's count, in its admission transaction, is
 * exact). The loop never reads the store for it. */
static int ai_channel_free(const struct session_mgr *m, const struct inbound_entry *e)
{
	uint32_t live = e->ai_elsewhere;

	if (!e->flow || !ivr_flow_uses_ai(e->flow))
		return 0;
	if (!e->ai_channels)
		return EACCES;
	for (struct le *le = m->active.head; le; le = le->next) {
		const struct session_work *w = le->data;

		if (w->row->sdkappid == e->sdkappid && w->row->ai)
			live++;
	}
	return live >= e->ai_channels ? EBUSY : 0;
}

int session_mgr_incoming(struct call *c, const struct call_incoming *in, call_event_h **ehp,
			 void **argp, void *arg)
{
	struct session_mgr *m = arg;
	struct inbound_entry e;
	int err;

	/* A call taken now could not be stored: refuse it loudly, as CreateIVRSession is
	 * refused (InternalError.DBError), until the store's queued writes land. */
	if (m && !store_usable(m->deps.store)) {
		log_info("session", "inbound call from %s to %s refused (503): the store is "
			 "unusable", in->caller, in->callee);
		return EAGAIN;
	}
	if (!m || session_inbound_find(m, in->callee, &e)) {
		log_info("session", "inbound call to %s refused: no inbound IVR for the number",
			 in->callee);
		return ENOENT;
	}
	err = ai_channel_free(m, &e);
	if (err) {
		log_warn("session", "inbound call from %s to %s refused (%s): IVR %llu uses AI and "
			 "%s", in->caller, in->callee, err == EBUSY ? "486" : "480",
			 (unsigned long long)e.ivr_id, err == EBUSY ? "all AI channels of the "
			 "instance are in use" : "the instance has no AI licence");
		refused_record(m, &e, in, err == EBUSY ? "refused (486): all AI channels in use"
						       : "refused (480): no AI licence");
		mem_deref(e.flow);
		return err;
	}
	err = session_work_inbound(m, c, &e, in, ehp, argp);
	mem_deref(e.flow);
	return err;
}
