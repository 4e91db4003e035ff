/* remote: commands from other nodes for the calls this node holds (HangUpCall sent to a
 * node that does not hold the call; store/command.c).
 *
 * With PostgreSQL, a thread of its own waits on the store's listener (LISTEN on a
 * connection of its own: the wait blocks, so never on the control loop) for at most
 * POLL_MS, then reads the open commands other nodes wrote since the last one it saw, and
 * hands each to the control loop. The loop checks the session against the calls it holds;
 * only the node holding it hangs up and marks the command done. The poll makes a lost
 * notification cost at most POLL_MS. With SQLite (one node) the thread does not run. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "base/base.h"
#include "session/session_int.h"

enum { POLL_MS = 250 };

struct command_msg {
	int64_t id;
	uint64_t sdkappid;
	char session_id[33];
};

struct remote_walk {
	struct session_mgr *m;
	int64_t last_id;
};

static int command_push(const struct store_command *cmd, void *arg)
{
	struct remote_walk *w = arg;
	struct command_msg *msg;

	w->last_id = cmd->id;
	if (strcmp(cmd->kind, "hangup") || strlen(cmd->session_id) != 32)
		return 0;
	msg = mem_zalloc(sizeof(*msg), NULL);
	if (!msg)
		return ENOMEM;
	msg->id = cmd->id;
	msg->sdkappid = cmd->sdkappid;
	strcpy(msg->session_id, cmd->session_id);
	if (mqueue_push(w->m->mq, MSG_REMOTE_HANGUP, msg))
		mem_deref(msg);
	return 0;
}

static bool remote_stopping(struct session_mgr *m)
{
	bool stop;

	pthread_mutex_lock(&m->lock);
	stop = m->stopping;
	pthread_mutex_unlock(&m->lock);
	return stop;
}

static void *remote_main(void *arg)
{
	struct session_mgr *m = arg;
	struct remote_walk w = {m, 0};

	while (!remote_stopping(m)) {
		int err = store_listener_wait(m->listener, POLL_MS);

		if (err && err != ETIMEDOUT)
			usleep(POLL_MS * 1000);
		if (store_commands_open(m->deps.store, w.last_id, command_push, &w))
			log_debug("session", "the commands of other nodes could not be read");
	}
	return NULL;
}

int session_remote_start(struct session_mgr *m)
{
	int err = store_listener_open(m->deps.store, &m->listener);

	if (err == ENOTSUP)
		return 0;
	if (err)
		return err;
	err = pthread_create(&m->remote, NULL, remote_main, m);
	if (!err)
		m->remote_running = true;
	return err;
}

void session_remote_stop(struct session_mgr *m)
{
	if (m->remote_running) {
		pthread_mutex_lock(&m->lock);
		m->stopping = true;
		pthread_cond_broadcast(&m->stop);
		pthread_mutex_unlock(&m->lock);
		pthread_join(m->remote, NULL);
		m->remote_running = false;
	}
	m->listener = mem_deref(m->listener);
}

void session_remote_hangup(struct session_mgr *m, void *data)
{
	struct command_msg *msg = data;

	if (session_mgr_hangup_held(m, msg->sdkappid, msg->session_id))
		store_command_done(m->deps.store, msg->id);
	mem_deref(msg);
}
