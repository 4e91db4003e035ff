/* daemon: SIGHUP — the config file reread on a thread of its own, applied on the loop.
 *
 * The loop never reads files nor resolves names, so the reread (the file, the calling-rule
 * data a check parses, the trunks' DNS names) runs on a short-lived thread, and its result
 * — plain data, owned by whoever holds it — goes to the loop through a libre mqueue. The
 * signal arrives on a signalfd the loop listens on: SIGHUP is blocked in every thread
 * (daemon_sighup_block, before any starts), so it is never delivered asynchronously. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <re.h>
#include "daemon/daemon.h"

/* Owner: main (the loop). */
struct daemon_reload {
	char path[512];
	int sfd;                    /* signalfd for SIGHUP */
	struct mqueue *mq;          /* rereads' results; outlives every reread thread */
	daemon_reload_h *h;
	void *arg;
	pthread_t thread;
	bool running;               /* a reread thread is out (joined when its result comes) */
	bool again;                 /* a SIGHUP came while it was */
};

/* A reread: made on the loop, filled on its thread, handed back whole through mq. */
struct reread {
	char path[512];
	struct mqueue *mq;          /* not owned: the reload joins the thread before it goes */
	struct cccd_conf *cc;       /* NULL when the file had errors (logged by the thread) */
};

static void reread_err(const struct conf_err *err, void *arg)
{
	const struct reread *rr = arg;

	if (err->line)
		log_error("main", "reload: %s:%u: %s", rr->path, err->line, err->msg);
	else
		log_error("main", "reload: %s: %s", rr->path, err->msg);
}

static void *reread_main(void *arg)
{
	struct reread *rr = arg;
	unsigned n;

	rr->cc = calloc(1, sizeof(*rr->cc));
	if (!rr->cc) {
		log_error("main", "reload: out of memory");
		goto out;
	}
	n = daemon_conf_read(rr->path, rr->cc, reread_err, rr);
	n += n ? 0 : daemon_conf_check(rr->path, rr->cc, reread_err, rr);
	if (n) {
		log_error("main", "reload: %s has %u error%s: nothing changed", rr->path, n,
			  n == 1 ? "" : "s");
		free(rr->cc);
		rr->cc = NULL;
	}
	else {
		call_conf_resolve(&rr->cc->call); /* DNS here, not on the loop */
	}
 out:
	if (mqueue_push(rr->mq, 0, rr)) {
		log_error("main", "reload: cannot hand the result to the loop");
		free(rr->cc);
		free(rr);
	}
	return NULL;
}

static void reread_start(struct daemon_reload *r)
{
	struct reread *rr = calloc(1, sizeof(*rr));
	int err;

	if (!rr) {
		log_error("main", "reload: out of memory");
		return;
	}
	memcpy(rr->path, r->path, sizeof(rr->path));
	rr->mq = r->mq;
	err = pthread_create(&r->thread, NULL, reread_main, rr);
	if (err) {
		log_error("main", "reload: cannot start its thread: %s", strerror(err));
		free(rr);
		return;
	}
	r->running = true;
}

/* On the loop: a reread is done. */
static void reread_done(int id, void *data, void *arg)
{
	struct daemon_reload *r = arg;
	struct reread *rr = data;

	(void)id;
	pthread_join(r->thread, NULL); /* it has pushed: it is returning */
	r->running = false;
	if (rr->cc)
		r->h(rr->cc, r->arg); /* takes rr->cc */
	free(rr);
	if (r->again) {
		r->again = false;
		reread_start(r);
	}
}

static void sighup_readable(int flags, void *arg)
{
	struct daemon_reload *r = arg;
	struct signalfd_siginfo si;

	(void)flags;
	while (read(r->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (r->running) {
			r->again = true;
			continue;
		}
		log_info("main", "SIGHUP: rereading %s", r->path);
		reread_start(r);
	}
}

static void reload_destructor(void *arg)
{
	struct daemon_reload *r = arg;

	if (r->sfd >= 0) {
		fd_close(r->sfd);
		close(r->sfd);
	}
	/* A reread in flight finishes; its result stays in the queue and goes with it. */
	if (r->running)
		pthread_join(r->thread, NULL);
	mem_deref(r->mq);
}

int daemon_sighup_block(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	return pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int daemon_reload_alloc(struct daemon_reload **rp, const char *path, daemon_reload_h *h,
			void *arg)
{
	struct daemon_reload *r;
	sigset_t set;
	int err;

	if (!rp || !path || !h || strlen(path) >= sizeof(r->path))
		return EINVAL;
	r = mem_zalloc(sizeof(*r), reload_destructor);
	if (!r)
		return ENOMEM;
	r->sfd = -1;
	strcpy(r->path, path);
	r->h = h;
	r->arg = arg;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	r->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (r->sfd < 0) {
		err = errno;
		goto out;
	}
	err = mqueue_alloc(&r->mq, reread_done, r);
	err = err ? err : fd_listen(r->sfd, FD_READ, sighup_readable, r);
 out:
	if (err)
		mem_deref(r);
	else
		*rp = r;
	return err;
}
