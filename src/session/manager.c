/* manager: the hand-over queue from the API threads, flow loading, the control loop's
 * flow cache and the prompt table, the dial queue's side of sessions (waiting, placed,
 * expired), the set of sessions being worked, and taking up unfinished sessions after a
 * restart. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include "base/base.h"
#include "conf/conf.h"
#include "ivr/ivr.h"
#include "media/media.h"
#include "session/session_int.h"
#include <re_main.h> /* after the libre types they use */
#include "wheel/wheel.h"

enum { MSG_HANGUP = 2, MSG_MARKED = 5 }; /* and MSG_INBOUND_TABLE, MSG_REMOTE_HANGUP (session_int.h) */
enum { MARKS_MAX = 256 }; /* dialled marks in flight at once (dial_ready) */

/* A flow version nobody has used for this long leaves the cache (its sessions hold their
 * own references); the sweep runs at the same period. */
enum { FLOW_IDLE_MS = 60000 };

/* A cached flow is parsed again at least this often, so that the current version of the
 * survey IVRs it names (attached at load) is picked up by new calls. */
enum { FLOW_MAX_AGE_MS = 60000 };

/* One IVR version's parsed flow in the control loop's cache. Owner: the manager's flows
 * hash; created and freed by the loop under handover_lock. API threads only read the key
 * and count `pins` under the lock; `flow` is touched by the loop alone (libre reference
 * counts are not atomic). */
struct flow_entry {
	struct le he;
	uint64_t sdkappid, ivr_id;
	uint32_t version;
	struct ivr_flow *flow;     /* owned */
	unsigned pins;             /* hand-overs on their way that count on this entry */
	uint64_t used_ms;          /* monotonic, last hand-over */
	uint64_t loaded_ms;        /* monotonic, when the entry was made */
};

/* A dialled mark's completion, from the store's writer thread. */
struct marked_msg {
	char id[33];
	int result;
};

/* HangUpCall's request through the queue. */
struct hangup_msg {
	uint64_t sdkappid;
	char id[33];
};

int session_conf_read(const struct conf *cf, struct session_conf *sc, struct conf_err *err)
{
	const struct conf_section *sec = conf_section_first(cf, "session");
	const char *dir;
	uint64_t age, stop_wait;
	int rc;

	memset(sc, 0, sizeof(*sc));
	/* Retired by the dialled mark (docs/configuration.md): a session whose INVITE may
	 * have left is never dialled again, whatever its age. Still read, so that an old
	 * configuration keeps starting; its value is checked and unused. */
	rc = conf_uint(sec, "resume_max_age", 60, 0, 86400, &age, err);
	rc = rc ? rc : conf_uint(sec, "stop_wait", 30, 0, 3600, &stop_wait, err);
	rc = rc ? rc : conf_str(sec, "prompt_dir", "", &dir, err);
	rc = rc ? rc : conf_bool(sec, "allow_plain_http", false, &sc->allow_plain_http, err);
	rc = rc ? rc : dialq_conf_read(cf, &sc->dial, err);
	rc = rc ? rc : amd_conf_read(cf, &sc->amd, err);
	rc = rc ? rc : asr_conf_read(cf, &sc->asr, err);
	if (rc)
		return rc;
	if (strlen(dir) >= sizeof(sc->prompt_dir)) {
		conf_err_set(err, conf_key_line(sec, "prompt_dir"), "'prompt_dir' is too long");
		return EINVAL;
	}
	strcpy(sc->prompt_dir, dir);
	(void)age;
	sc->stop_wait_s = (unsigned)stop_wait;
	return 0;
}

/* The prompt table's decoder: a file through the media module's cache. */
static int prompt_decode(const char *path, struct media_prompt **pp, void *arg)
{
	struct session_mgr *m = arg;
	char why[200] = "";
	int err = media_prompt_file(m->deps.media, path, pp, why, sizeof(why));

	if (err)
		log_error("session", "prompt %s: %s", path, why);
	return err;
}

/* ivr_flow_prompt_files' handler: one file of the flow into the prompt table. */
static int prompt_load(const char *path, void *arg)
{
	struct session_mgr *m = arg;

	return m->prompts ? session_prompts_load(m->prompts, path) : 0;
}

/* libre's reference counts are not atomic, so a flow object is never shared between
 * threads: the thread that hands a session over loads the session's own copy and gives it
 * away with the session. Loading is a parse of a small document; prompt files are decoded
 * once into the shared prompt table (prompts.c; entries live as long as the manager). */
/* The instance's uploaded prompts, for the flows that name them (ivr_audio_h). */
struct audio_ref {
	struct store *st;
	uint64_t sdkappid;
};

static int audio_resolve(uint64_t file_id, const char *custom_name, char *path, size_t sz,
			 void *arg)
{
	const struct audio_ref *r = arg;
	struct store_audio a;
	int err = store_audio_find(r->st, r->sdkappid, file_id, custom_name, &a);

	if (!err)
		snprintf(path, sz, "%s", a.path);
	return err;
}

/* One version of an IVR, parsed, its prompt files decoded into the table. Blocking. */
static int flow_version_load(struct session_mgr *m, const char *sid, uint64_t sdkappid,
			     uint64_t ivr_id, uint32_t version, struct ivr_flow **flowp)
{
	struct audio_ref ref = {m->deps.store, sdkappid};
	const struct ivr_flow_opts opts = {
		.prompt_dir = m->conf.prompt_dir[0] ? m->conf.prompt_dir : NULL,
		.allow_plain_http = m->conf.allow_plain_http,
		.audio = audio_resolve,
		.audio_arg = &ref,
		.asr = &m->conf.asr,
	};
	struct ivr_diag *diag = NULL;
	struct ivr_flow *flow = NULL;
	char *doc = NULL;
	int err;

	err = store_ivr_document(m->deps.store, sdkappid, ivr_id, version, &doc);
	if (err) {
		log_error("session", "%s: IVR %llu version %u: %s", sid,
			  (unsigned long long)ivr_id, version, strerror(err));
		return err;
	}
	err = ivr_flow_load(&flow, doc, strlen(doc), &opts, &diag);
	mem_deref(doc);
	if (err) {
		log_error("session", "%s: IVR %llu version %u does not load: %s%s%s", sid,
			  (unsigned long long)ivr_id, version,
			  diag && diag->n ? diag->v[0].node : "", diag && diag->n ? ": " : "",
			  diag && diag->n ? diag->v[0].msg : strerror(err));
		mem_deref(diag);
		return err;
	}
	err = ivr_flow_prompt_files(flow, prompt_load, m);
	if (err)
		mem_deref(flow);
	else
		*flowp = flow;
	return err;
}

/* The current versions of the survey IVRs the flow's transfers name, attached to it. A
 * survey that does not load (or is not a survey) is left out: the transfer still works,
 * and the call ends when its leg ends, as without a survey. */
static void flow_surveys_attach(struct session_mgr *m, const char *sid, uint64_t sdkappid,
				struct ivr_flow *flow)
{
	uint64_t ids[IVR_SURVEYS_MAX];
	size_t n = ivr_flow_survey_ids(flow, ids, IVR_SURVEYS_MAX);

	for (size_t i = 0; i < n && i < IVR_SURVEYS_MAX; i++) {
		struct ivr_flow *survey = NULL;
		struct store_ivr ivr;
		int err = store_ivr_get(m->deps.store, sdkappid, ids[i], &ivr);

		err = err ? err : flow_version_load(m, sid, sdkappid, ids[i], ivr.version, &survey);
		err = err ? err : ivr_flow_survey_attach(flow, ids[i], survey);
		if (err)
			log_warn("session", "%s: survey IVR %llu is not available (%s); transfers "
				 "that name it end without a survey", sid,
				 (unsigned long long)ids[i], strerror(err));
		mem_deref(survey);
	}
}

int session_flow_get(struct session_mgr *m, const struct store_session *row,
		     struct ivr_flow **flowp)
{
	int err = flow_version_load(m, row->id, row->sdkappid, row->ivr_id, row->ivr_version,
				    flowp);

	if (!err)
		flow_surveys_attach(m, row->id, row->sdkappid, *flowp);
	return err;
}

struct media_prompt *session_prompt_get(struct session_mgr *m, const char *path)
{
	return session_prompts_get(m->prompts, path);
}

static uint32_t flow_key(uint64_t sdkappid, uint64_t ivr_id, uint32_t version)
{
	return (uint32_t)(sdkappid * 2654435761u) ^ (uint32_t)(ivr_id * 40503u) ^ version;
}

struct flow_match_arg {
	uint64_t sdkappid, ivr_id;
	uint32_t version;
};

static bool flow_match(struct le *le, void *arg)
{
	const struct flow_entry *e = le->data;
	const struct flow_match_arg *k = arg;

	return e->sdkappid == k->sdkappid && e->ivr_id == k->ivr_id && e->version == k->version;
}

/* With handover_lock held. */
static struct flow_entry *flow_lookup(struct session_mgr *m, const struct store_session *row)
{
	struct flow_match_arg k = {row->sdkappid, row->ivr_id, row->ivr_version};

	return list_ledata(hash_lookup(m->flows, flow_key(k.sdkappid, k.ivr_id, k.version),
				       flow_match, &k));
}

static void flow_entry_destructor(void *arg)
{
	struct flow_entry *e = arg;

	hash_unlink(&e->he);
	mem_deref(e->flow);
}

/* On the control loop: the cached flow of row's version, adding `flow` (a version just
 * loaded, may be NULL) when the cache has none. Returns a borrowed pointer or NULL. */
static struct ivr_flow *flow_cache_put(struct session_mgr *m, const struct store_session *row,
				       struct ivr_flow *flow)
{
	struct flow_entry *e;

	pthread_mutex_lock(&m->handover_lock);
	e = flow_lookup(m, row);
	if (!e && flow) {
		e = mem_zalloc(sizeof(*e), flow_entry_destructor);
		if (e) {
			e->sdkappid = row->sdkappid;
			e->ivr_id = row->ivr_id;
			e->version = row->ivr_version;
			e->flow = mem_ref(flow);
			e->loaded_ms = clock_mono_ms();
			hash_append(m->flows, flow_key(e->sdkappid, e->ivr_id, e->version), &e->he,
				    e);
		}
	}
	if (e)
		e->used_ms = clock_mono_ms();
	pthread_mutex_unlock(&m->handover_lock);
	return e ? e->flow : flow;
}

/* On the control loop: the pinned entry of a hand-over, unpinned. */
static struct ivr_flow *flow_cache_take(struct session_mgr *m, const struct store_session *row)
{
	struct flow_entry *e;

	pthread_mutex_lock(&m->handover_lock);
	e = flow_lookup(m, row);
	if (e) {
		e->pins--;
		e->used_ms = clock_mono_ms();
	}
	pthread_mutex_unlock(&m->handover_lock);
	return e ? e->flow : NULL;
}

static bool flow_idle(struct le *le, void *arg)
{
	struct flow_entry *e = le->data;
	const uint64_t *now = arg;

	if (!e->pins && (*now - e->used_ms >= FLOW_IDLE_MS ||
			 *now - e->loaded_ms >= FLOW_MAX_AGE_MS))
		mem_deref(e);
	return false;
}

static void flow_sweep(void *arg)
{
	struct session_mgr *m = arg;
	uint64_t now = clock_mono_ms();

	pthread_mutex_lock(&m->handover_lock);
	hash_apply(m->flows, flow_idle, &now);
	pthread_mutex_unlock(&m->handover_lock);
	wheel_start(m->flow_sweep, FLOW_IDLE_MS, flow_sweep, m);
}

static void msg_destructor(void *arg)
{
	struct session_msg *msg = arg;

	mem_deref(msg->row);
	mem_deref(msg->flow);
}

/* ---- the dial queue's side ---------------------------------------------------------- */

/* A session left unplaced past [dial] queue_max_wait: the lines its trunks offer were
 * full that long. EndStatus 208 operatorError ("carrier/line fault"), HungUpSide system:
 * the callee was never called, and a caller that retries later may well get through. */
enum { SESSION_QUEUE_EXPIRED_STATUS = 208 };

static void wait_destructor(void *arg)
{
	struct session_wait *sw = arg;

	hash_unlink(&sw->he);
	mem_deref(sw->row);
	mem_deref(sw->flow);
}

static uint32_t id_key(const char *id)
{
	return hash_joaat_str(id);
}

static bool wait_match(struct le *le, void *arg)
{
	return !strcmp(((struct session_wait *)le->data)->row->id, arg);
}

/* THE check before a waiting session's INVITE leaves (dialq_ready_h): room on a trunk
 * that carries its callee. Limits that must hold at dial time join here. */
static int dial_ready(void *item, uint64_t *wait_ms, void *arg)
{
	struct session_mgr *m = arg;
	struct session_wait *sw = item;

	/* The room a session takes on a trunk with limits is only taken when its INVITE
	 * leaves, after its dialled mark commits, so a second session let out meanwhile
	 * could find it gone: while a mark is in flight, a session bound for a limited
	 * trunk waits (session_work_marked kicks the queue). Sessions whose trunks have no
	 * channel or cps limit go out side by side, their marks sharing commits, up to
	 * MARKS_MAX at once: each mark's completion is one message into the loop's queue,
	 * written by the store's writer under its lock, so the queue's pipe must never
	 * fill with them (a writer blocked there, holding the lock the loop needs to queue
	 * a write, would stop both). */
	if (m->dial_held || m->marks >= MARKS_MAX ||
	    (m->marks && call_route_limited(m->deps.ua, sw->row->callee))) {
		*wait_ms = 0;
		return EAGAIN;
	}
	return call_route_ready(m->deps.ua, sw->row->callee, wait_ms);
}

static void dial_now(void *item, void *arg)
{
	struct session_mgr *m = arg;
	struct session_wait *sw = item;

	session_work_start(m, sw->row, sw->flow, sw->record);
	mem_deref(sw);
}

static void dial_expired(void *item, void *arg)
{
	struct session_mgr *m = arg;
	struct session_wait *sw = item;

	log_warn("session", "%s: not placed within [dial] queue_max_wait (%u s): its trunks "
		 "stayed at their limits", sw->row->id, m->conf.dial.max_wait_s);
	session_work_close(m, sw->row, SESSION_QUEUE_EXPIRED_STATUS,
			   "not placed in time: trunks at their limits");
	mem_deref(sw);
}

static void room_freed(void *arg)
{
	struct session_mgr *m = arg;

	dialq_kick(m->dialq);
}

/* A session joins the dial queue; waiting since since_ms (clock_mono_ms). flow: borrowed,
 * may be NULL. */
static void session_queue(struct session_mgr *m, struct store_session *row,
			  struct ivr_flow *flow, bool record, uint64_t since_ms)
{
	struct session_wait *sw = mem_zalloc(sizeof(*sw), wait_destructor);
	int err;

	if (!sw) {
		session_work_close(m, row, 0, "out of memory");
		return;
	}
	sw->row = mem_ref(row);
	sw->flow = mem_ref(flow);
	sw->record = record;
	hash_append(m->waiting, id_key(row->id), &sw->he, sw);
	err = dialq_push(m->dialq, row->sdkappid, since_ms, sw);
	if (err) {
		session_work_close(m, row, 0, "out of memory");
		mem_deref(sw);
	}
}

void session_requeue(struct session_mgr *m, struct store_session *row, struct ivr_flow *flow,
		     bool record)
{
	session_queue(m, row, flow, record, clock_mono_ms());
}

/* HangUpCall of a session still waiting: it leaves the queue, ended before it rang. */
static bool waiting_hangup(struct session_mgr *m, uint64_t sdkappid, const char *id)
{
	struct session_wait *sw = list_ledata(hash_lookup(m->waiting, id_key(id), wait_match,
							  (void *)id));

	if (!sw || sw->row->sdkappid != sdkappid)
		return false;
	(void)dialq_remove(m->dialq, sw);
	session_work_close(m, sw->row, 221, "hung up (HangUpCall) before it was placed");
	mem_deref(sw);
	return true;
}

/* On the control loop: queues every session handed over so far, in hand-over order. */
static void pending_start(struct session_mgr *m)
{
	struct list batch = LIST_INIT;
	struct le *le;

	pthread_mutex_lock(&m->handover_lock);
	while ((le = list_head(&m->pending))) {
		list_unlink(le);
		list_append(&batch, le, le->data);
	}
	m->wake_pending = false;
	pthread_mutex_unlock(&m->handover_lock);

	while ((le = list_head(&batch))) {
		struct session_msg *msg = le->data;
		struct ivr_flow *flow;

		list_unlink(le);
		flow = msg->cached ? flow_cache_take(m, msg->row) :
				     flow_cache_put(m, msg->row, msg->flow);
		session_queue(m, msg->row, flow, msg->record, clock_mono_ms());
		mem_deref(msg);
	}
}

static void wake_handler(int flags, void *arg)
{
	struct session_mgr *m = arg;
	uint64_t n;

	(void)flags;
	/* Reading resets the counter; the list is the real state, so a short read is fine. */
	if (read(m->wake_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("session", "hand-over eventfd: %s", strerror(errno));
	pending_start(m);
}

static void mqueue_handler(int id, void *data, void *arg)
{
	struct session_mgr *m = arg;

	if (id == MSG_INBOUND_TABLE) {
		session_inbound_install(m, data);
		return;
	}
	if (id == MSG_REMOTE_HANGUP) {
		session_remote_hangup(m, data);
		return;
	}
	if (id == MSG_MARKED) {
		struct marked_msg *mk = data;

		session_work_marked(m, mk->id, mk->result);
		mem_deref(mk);
		return;
	}
	if (id == MSG_HANGUP) {
		struct hangup_msg *h = data;

		session_mgr_hangup_held(m, h->sdkappid, h->id);
	}
	mem_deref(data);
}

bool session_mgr_hangup_held(struct session_mgr *m, uint64_t sdkappid, const char *id)
{
	/* A session handed over before this HangUpCall may still be in the list (its
	 * wake-up and this message race on two descriptors): start it first. */
	pending_start(m);
	if (waiting_hangup(m, sdkappid, id))
		return true;
	for (struct le *le = m->active.head; le; le = le->next) {
		struct session_work *w = le->data;

		if (w->row->sdkappid == sdkappid && !strcmp(w->row->id, id)) {
			session_work_hangup(w);
			return true;
		}
	}
	return false;
}

int session_mgr_enqueue(struct session_mgr *m, struct store_session *s, bool record)
{
	struct session_msg *msg;
	struct flow_entry *e;
	bool wake;

	if (!m || !s)
		return EINVAL;
	msg = mem_zalloc(sizeof(*msg), msg_destructor);
	if (!msg)
		return ENOMEM;
	/* A version the loop has cached is pinned there until this session is started;
	 * otherwise this thread loads the session's own copy (the loop keeps it). A flow
	 * that does not load is not fatal here: the session is closed honestly on the
	 * control loop (it was acknowledged, so it must get a record). */
	pthread_mutex_lock(&m->handover_lock);
	e = flow_lookup(m, s);
	if (e) {
		e->pins++;
		msg->cached = true;
	}
	pthread_mutex_unlock(&m->handover_lock);
	if (!msg->cached)
		(void)session_flow_get(m, s, &msg->flow);
	msg->record = record;

	msg->row = s; /* the caller's reference moves to the control loop */
	pthread_mutex_lock(&m->handover_lock);
	list_append(&m->pending, &msg->le, msg);
	wake = !m->wake_pending;
	m->wake_pending = true;
	pthread_mutex_unlock(&m->handover_lock);
	/* An eventfd write only fails on a counter overflow, which one write per empty list
	 * cannot reach; the session is in the list either way. */
	if (wake && write(m->wake_fd, &(uint64_t){1}, sizeof(uint64_t)) < 0)
		log_warn("session", "hand-over eventfd: %s", strerror(errno));
	return 0;
}

int session_mgr_hangup(struct session_mgr *m, uint64_t sdkappid, const char *session_id)
{
	struct hangup_msg *h;
	int err;

	if (!m || !session_id || strlen(session_id) != 32)
		return EINVAL;
	h = mem_zalloc(sizeof(*h), NULL);
	if (!h)
		return ENOMEM;
	h->sdkappid = sdkappid;
	strcpy(h->id, session_id);
	err = mqueue_push(m->mq, MSG_HANGUP, h);
	if (err)
		mem_deref(h);
	return err;
}

void session_mgr_hold_dialling(struct session_mgr *m)
{
	if (m)
		m->dial_held = true;
}

void session_mgr_hangup_all(struct session_mgr *m)
{
	struct le *le = m ? m->active.head : NULL;

	while (le) {
		struct session_work *w = le->data;

		le = le->next; /* a session still being marked ends (and leaves) at once */
		session_work_hangup(w);
	}
}

size_t session_mgr_active(struct session_mgr *m)
{
	size_t n;

	if (!m)
		return 0;
	pthread_mutex_lock(&m->handover_lock);
	n = list_count(&m->pending);
	pthread_mutex_unlock(&m->handover_lock);
	return n + list_count(&m->active);
}

/* The restart rule, the same after a restart and after a takeover (docs/architecture.md
 * §Nodes): at most one INVITE per session. A session never marked (it was waiting in the
 * dial queue, or its mark never landed: no INVITE left) goes back into the queue with the
 * wait it had, and expires from there like any other. One marked may have reached the
 * callee — its call may even be up at the carrier, which the SIP edge ends — so it is
 * never dialled again: it ends as a system hang-up with EndStatus 0 (error), its record
 * and push like any other. So does any session that rang or was answered, and an inbound
 * one (never dialled: it was a call in progress). NULL: queue it; else why it ends. */
static const char *resume_verdict(const struct store_session *row)
{
	if (!row->direction || row->ring_ts || row->accept_ts ||
	    row->status != STORE_STATUS_RINGING)
		return "cccd stopped during the call";
	if (row->dialled_ms)
		return "dialled (INVITE sent) when cccd stopped: never dialled twice";
	return NULL;
}

/* This runs from session_mgr_alloc on the main thread before re_main starts: nothing is
 * served yet, so the store reads here (the flow, the instance's record flag) block no
 * call. They are the only instance reads the manager makes at start: hand-overs carry
 * the flag the API read, inbound entries the one the refresher thread read. */
static int resume_handler(struct store_session *row, void *arg)
{
	struct session_mgr *m = arg;
	int64_t age_s = clock_unix_s() - row->start_ts;
	const char *why = resume_verdict(row);
	struct ivr_flow *flow = NULL;
	struct store_instance inst;
	uint64_t waited_ms, now_ms;
	bool record;

	if (why) {
		session_work_close(m, row, 0, why);
		return 0;
	}
	/* An instance that cannot be read records nothing; the call is placed all the same
	 * (it was acknowledged). */
	record = !store_instance_get(m->deps.store, row->sdkappid, &inst) && inst.record_calls;
	(void)session_flow_get(m, row, &flow);
	/* Rows come oldest first (store_sessions_live): the queue gets them in the order
	 * they were admitted, and each keeps the wait it already had. */
	waited_ms = (uint64_t)(age_s > 0 ? age_s : 0) * 1000ull;
	now_ms = clock_mono_ms();
	session_queue(m, row, flow_cache_put(m, row, flow), record,
		      now_ms > waited_ms ? now_ms - waited_ms : 0);
	mem_deref(flow);
	return 0;
}

int session_mgr_resume(struct session_mgr *m, struct store_session *row)
{
	const char *why;
	struct store_instance inst;
	bool record;
	int err;

	if (!m || !row)
		return EINVAL;
	why = resume_verdict(row);
	if (why) {
		/* The close only queues writes and reads the store: fine on this thread. */
		session_work_close(m, row, 0, why);
		return 0;
	}
	record = !store_instance_get(m->deps.store, row->sdkappid, &inst) && inst.record_calls;
	err = session_mgr_enqueue(m, mem_ref(row), record);
	if (err)
		mem_deref(row);
	return err;
}

/* On the store's writer thread, holding its lock: the completion goes to the loop. */
static void mark_done(const char *id, int err, void *arg)
{
	struct session_mgr *m = arg;
	struct marked_msg *mk = mem_zalloc(sizeof(*mk), NULL);

	if (!mk) {
		log_error("session", "%s: out of memory handing its dialled mark over", id);
		return;
	}
	snprintf(mk->id, sizeof(mk->id), "%s", id);
	mk->result = err;
	if (mqueue_push(m->mq, MSG_MARKED, mk)) {
		log_error("session", "%s: its dialled mark could not be handed over", id);
		mem_deref(mk);
	}
}

static void mgr_destructor(void *arg)
{
	struct session_mgr *m = arg;

	store_done_handler(m->deps.store, NULL, NULL); /* first: marks land nowhere now */
	session_remote_stop(m);
	session_inbound_stop(m);
	call_ua_room_handler(m->deps.ua, NULL, NULL);
	/* Waiting sessions stay in the store, never dialled: the next start queues them. */
	m->dialq = mem_deref(m->dialq);
	hash_flush(m->waiting);
	m->waiting = mem_deref(m->waiting);
	mem_deref(m->mq);
	if (m->wake_fd >= 0) {
		fd_close(m->wake_fd);
		close(m->wake_fd);
	}
	list_flush(&m->pending);
	if (m->flow_sweep)
		wheel_cancel(m->flow_sweep);
	mem_deref(m->flow_sweep);
	hash_clear(m->marking);
	m->marking = mem_deref(m->marking);
	list_flush(&m->active);
	mem_deref(m->asr);             /* after the runs: they may hold its jobs */
	hash_flush(m->flows);
	mem_deref(m->flows);
	mem_deref(m->prompts);
	mem_deref(m->beep);
	pthread_cond_destroy(&m->stop);
	pthread_mutex_destroy(&m->lock);
	pthread_mutex_destroy(&m->handover_lock);
}

int session_mgr_alloc(struct session_mgr **mp, const struct session_conf *sc,
		      const struct session_deps *deps)
{
	struct session_mgr *m;
	int err;

	if (!mp || !sc || !deps || !deps->store)
		return EINVAL;
	m = mem_zalloc(sizeof(*m), mgr_destructor);
	if (!m)
		return ENOMEM;
	m->conf = *sc;
	m->deps = *deps;
	pthread_mutex_init(&m->lock, NULL);
	pthread_mutex_init(&m->handover_lock, NULL);
	pthread_cond_init(&m->stop, NULL);
	m->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	err = m->wake_fd < 0 ? errno : 0;
	m->flow_sweep = err ? NULL : mem_zalloc(sizeof(*m->flow_sweep), NULL);
	err = err ? err : (m->flow_sweep ? 0 : ENOMEM);
	err = err ? err : fd_listen(m->wake_fd, FD_READ, wake_handler, m);
	if (!err && deps->media)
		err = session_prompts_alloc(&m->prompts, prompt_decode, m);
	err = err ? err : hash_alloc(&m->flows, 64);
	if (!err && deps->media)
		err = media_prompt_tone(&m->beep, 1000, 400);
	err = err ? err : mqueue_alloc(&m->mq, mqueue_handler, m);
	err = err ? err : hash_alloc(&m->waiting, 1024);
	err = err ? err : hash_alloc(&m->marking, 256);
	err = err ? err : dialq_alloc(&m->dialq, &sc->dial, dial_ready, dial_now, dial_expired,
				      m);
	if (!err) {
		call_ua_room_handler(deps->ua, room_freed, m);
		store_done_handler(deps->store, mark_done, m);
	}
	err = err ? err : store_sessions_live(deps->store, resume_handler, m);
	err = err ? err : session_inbound_start(m);
	err = err ? err : session_remote_start(m);
	if (!err)
		wheel_start(m->flow_sweep, FLOW_IDLE_MS, flow_sweep, m);
	if (err)
		mem_deref(m);
	else
		*mp = m;
	return err;
}
