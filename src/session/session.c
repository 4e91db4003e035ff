/* session: the hand-over queue from the API threads to the control loop, and the set of
 * sessions the control loop is working. */
#include <errno.h>
#include <re.h>
#include "base/base.h"
#include "session/session.h"
#include "store/store.h"

enum { SESSION_MSG_NEW = 1 };

struct session_mgr {
	struct store *st;      /* not owned */
	struct mqueue *mq;     /* API threads → control loop */
	struct list active;    /* struct session_item, owned */
};

/* One session being worked; owned by the manager's active list. */
struct session_item {
	struct le le;
	struct store_session *row; /* owned reference */
};

static void item_destructor(void *arg)
{
	struct session_item *it = arg;

	list_unlink(&it->le);
	mem_deref(it->row);
}

static void mgr_destructor(void *arg)
{
	struct session_mgr *m = arg;

	mem_deref(m->mq);
	list_flush(&m->active);
}

static int item_add(struct session_mgr *m, struct store_session *row)
{
	struct session_item *it = mem_zalloc(sizeof(*it), item_destructor);

	if (!it)
		return ENOMEM;
	it->row = mem_ref(row);
	list_append(&m->active, &it->le, it);
	log_info("session", "%s queued: sdkappid %llu callee %s ivr %llu v%u", row->id,
		 (unsigned long long)row->sdkappid, row->callee,
		 (unsigned long long)row->ivr_id, row->ivr_version);
	return 0;
}

static void mqueue_handler(int id, void *data, void *arg)
{
	struct session_mgr *m = arg;
	struct store_session *row = data;

	if (id == SESSION_MSG_NEW && item_add(m, row))
		log_error("session", "%s: out of memory, session not worked", row->id);
	mem_deref(row);
}

static int resume_handler(struct store_session *row, void *arg)
{
	return item_add(arg, row);
}

int session_mgr_alloc(struct session_mgr **mp, struct store *st)
{
	struct session_mgr *m;
	int err;

	if (!mp || !st)
		return EINVAL;
	m = mem_zalloc(sizeof(*m), mgr_destructor);
	if (!m)
		return ENOMEM;
	m->st = st;
	err = mqueue_alloc(&m->mq, mqueue_handler, m);
	/* Sessions acknowledged by an earlier run and not finished are worked again. */
	if (!err)
		err = store_sessions_live(st, resume_handler, m);
	if (err)
		mem_deref(m);
	else
		*mp = m;
	return err;
}

int session_mgr_enqueue(struct session_mgr *m, struct store_session *s)
{
	int err;

	if (!m || !s)
		return EINVAL;
	err = mqueue_push(m->mq, SESSION_MSG_NEW, mem_ref(s));
	if (err)
		mem_deref(s);
	return err;
}

size_t session_mgr_active(const struct session_mgr *m)
{
	return m ? list_count(&m->active) : 0;
}
