/* manager: the hand-over queue from the API threads, flow loading and the prompt table,
 * the set of sessions being worked, and taking up unfinished sessions after a restart. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "base/base.h"
#include "conf/conf.h"
#include "ivr/ivr.h"
#include "media/media.h"
#include "session/session_int.h"

enum { MSG_NEW = 1, MSG_HANGUP }; /* and MSG_INBOUND_TABLE (session_int.h) */

/* A decoded prompt file. Owner: the manager's prompt hash. */
struct prompt_entry {
	struct le he;
	char *path;
	struct media_prompt *prompt;
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
	rc = conf_uint(sec, "resume_max_age", 60, 0, 86400, &age, err);
	rc = rc ? rc : conf_uint(sec, "stop_wait", 30, 0, 3600, &stop_wait, err);
	rc = rc ? rc : conf_str(sec, "prompt_dir", "", &dir, err);
	rc = rc ? rc : conf_bool(sec, "allow_plain_http", false, &sc->allow_plain_http, err);
	if (rc)
		return rc;
	if (strlen(dir) >= sizeof(sc->prompt_dir)) {
		conf_err_set(err, conf_key_line(sec, "prompt_dir"), "'prompt_dir' is too long");
		return EINVAL;
	}
	strcpy(sc->prompt_dir, dir);
	sc->resume_max_age_s = (unsigned)age;
	sc->stop_wait_s = (unsigned)stop_wait;
	return 0;
}

static void prompt_entry_destructor(void *arg)
{
	struct prompt_entry *e = arg;

	hash_unlink(&e->he);
	mem_deref(e->path);
	mem_deref(e->prompt);
}

static bool prompt_match(struct le *le, void *arg)
{
	return !strcmp(((struct prompt_entry *)le->data)->path, arg);
}

/* Decodes one prompt file into the table (called with m->lock held). */
static int prompt_load(const char *path, void *arg)
{
	struct session_mgr *m = arg;
	struct prompt_entry *e;
	char why[200] = "";
	int err;

	if (!m->deps.media || list_ledata(hash_lookup(m->prompts, hash_joaat_str(path),
						      prompt_match, (void *)path)))
		return 0;
	e = mem_zalloc(sizeof(*e), prompt_entry_destructor);
	if (!e || str_dup(&e->path, path)) {
		mem_deref(e);
		return ENOMEM;
	}
	err = media_prompt_file(m->deps.media, path, &e->prompt, why, sizeof(why));
	if (err) {
		log_error("session", "prompt %s: %s", path, why);
		mem_deref(e);
		return err;
	}
	hash_append(m->prompts, hash_joaat_str(path), &e->he, e);
	return 0;
}

/* libre's reference counts are not atomic, so a flow object is never shared between
 * threads: the thread that hands a session over loads the session's own copy and gives it
 * away with the session. Loading is a parse of a small document; prompt files are decoded
 * once into the shared prompt table (whose entries live as long as the manager). */
int session_flow_get(struct session_mgr *m, const struct store_session *row,
		     struct ivr_flow **flowp)
{
	const struct ivr_flow_opts opts = {
		.prompt_dir = m->conf.prompt_dir[0] ? m->conf.prompt_dir : NULL,
		.allow_plain_http = m->conf.allow_plain_http,
	};
	struct ivr_diag *diag = NULL;
	struct ivr_flow *flow = NULL;
	char *doc = NULL;
	int err;

	err = store_ivr_document(m->deps.store, row->sdkappid, row->ivr_id, row->ivr_version, &doc);
	if (err) {
		log_error("session", "%s: IVR %llu version %u: %s", row->id,
			  (unsigned long long)row->ivr_id, row->ivr_version, strerror(err));
		return err;
	}
	err = ivr_flow_load(&flow, doc, strlen(doc), &opts, &diag);
	mem_deref(doc);
	if (err) {
		log_error("session", "%s: IVR %llu version %u does not load: %s%s%s", row->id,
			  (unsigned long long)row->ivr_id, row->ivr_version,
			  diag && diag->n ? diag->v[0].node : "", diag && diag->n ? ": " : "",
			  diag && diag->n ? diag->v[0].msg : strerror(err));
		mem_deref(diag);
		return err;
	}
	pthread_mutex_lock(&m->lock);
	err = ivr_flow_prompt_files(flow, prompt_load, m);
	pthread_mutex_unlock(&m->lock);
	if (err)
		mem_deref(flow);
	else
		*flowp = flow;
	return err;
}

struct media_prompt *session_prompt_get(struct session_mgr *m, const char *path)
{
	struct prompt_entry *e;

	pthread_mutex_lock(&m->lock);
	e = list_ledata(hash_lookup(m->prompts, hash_joaat_str(path), prompt_match, (void *)path));
	pthread_mutex_unlock(&m->lock);
	return e ? e->prompt : NULL;
}

static void msg_destructor(void *arg)
{
	struct session_msg *msg = arg;

	mem_deref(msg->row);
	mem_deref(msg->flow);
}

static void mqueue_handler(int id, void *data, void *arg)
{
	struct session_mgr *m = arg;

	if (id == MSG_NEW) {
		struct session_msg *msg = data;

		session_work_start(m, msg->row, msg->flow, msg->record);
	}
	else if (id == MSG_INBOUND_TABLE) {
		session_inbound_install(m, data);
		return;
	}
	else if (id == MSG_HANGUP) {
		struct hangup_msg *h = data;

		for (struct le *le = m->active.head; le; le = le->next) {
			struct session_work *w = le->data;

			if (w->row->sdkappid == h->sdkappid && !strcmp(w->row->id, h->id)) {
				session_work_hangup(w);
				break;
			}
		}
	}
	mem_deref(data);
}

/* Does the instance record its calls? Blocking (a store read); false if it cannot tell. */
static bool instance_records(struct session_mgr *m, uint64_t sdkappid)
{
	struct store_instance inst;

	return !store_instance_get(m->deps.store, sdkappid, &inst) && inst.record_calls;
}

int session_mgr_enqueue(struct session_mgr *m, struct store_session *s)
{
	struct session_msg *msg;
	int err;

	if (!m || !s)
		return EINVAL;
	msg = mem_zalloc(sizeof(*msg), msg_destructor);
	if (!msg)
		return ENOMEM;
	msg->row = s; /* the caller's reference moves to the control loop */
	/* A flow that does not load is not fatal here: the session is closed honestly on the
	 * control loop (it was acknowledged, so it must get a record). */
	(void)session_flow_get(m, s, &msg->flow);
	msg->record = instance_records(m, s->sdkappid);
	err = mqueue_push(m->mq, MSG_NEW, msg);
	if (err) {
		msg->row = NULL; /* the caller keeps its reference on failure */
		mem_deref(msg);
	}
	return err;
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

void session_mgr_hangup_all(struct session_mgr *m)
{
	for (struct le *le = m ? m->active.head : NULL; le; le = le->next)
		session_work_hangup(le->data);
}

size_t session_mgr_active(const struct session_mgr *m)
{
	return m ? list_count(&m->active) : 0;
}

/* After a restart: a session that never rang and is young enough is dialled (it was
 * acknowledged, and no call reached the callee); any other unfinished session was on a
 * call when the process died, and ends as a system hang-up with EndStatus 0 (error). A
 * session whose INVITE went out but got no 18x yet is indistinguishable from one never
 * dialled; resume_max_age bounds how late such a call can be placed twice. */
static int resume_handler(struct store_session *row, void *arg)
{
	struct session_mgr *m = arg;
	int64_t age_s = clock_unix_s() - row->start_ts;
	struct ivr_flow *flow = NULL;

	if (row->ring_ts || row->accept_ts || row->status != STORE_STATUS_RINGING) {
		session_work_close(m, row, 0, "cccd stopped during the call");
		return 0;
	}
	if (age_s > (int64_t)m->conf.resume_max_age_s) {
		session_work_close(m, row, 0, "not dialled before cccd stopped; too old to dial");
		return 0;
	}
	(void)session_flow_get(m, row, &flow);
	session_work_start(m, row, flow, instance_records(m, row->sdkappid));
	mem_deref(flow);
	return 0;
}

static void mgr_destructor(void *arg)
{
	struct session_mgr *m = arg;

	session_inbound_stop(m);
	mem_deref(m->mq);
	list_flush(&m->active);
	hash_flush(m->prompts);
	mem_deref(m->prompts);
	pthread_cond_destroy(&m->stop);
	pthread_mutex_destroy(&m->lock);
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
	pthread_cond_init(&m->stop, NULL);
	err = hash_alloc(&m->prompts, 256);
	err = err ? err : mqueue_alloc(&m->mq, mqueue_handler, m);
	err = err ? err : store_sessions_live(deps->store, resume_handler, m);
	err = err ? err : session_inbound_start(m);
	if (err)
		mem_deref(m);
	else
		*mp = m;
	return err;
}
