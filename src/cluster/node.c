/* node: this node's heartbeat and the takeover of nodes that died (docs/architecture.md
 * §Nodes).
 *
 * One thread, waking every lease/3: it renews the node's lease with one write, then, unless
 * the node is draining, takes over every node whose lease ran out, one claim at a time,
 * and hands their unfinished sessions to the session manager. A lease renewed every
 * third of its length survives two missed heartbeats (a busy writer, a slow commit). A
 * node finds a dead one within lease + lease/3 of its last heartbeat: the failover time.
 *
 * Why a node that could not write holds back: when the database itself was away (a
 * restart, a standby promoted: docs/cluster.md), every node's heartbeats failed alike, and
 * every lease ran out together. A lease run out then says nothing about its node, and the
 * first node back would take over all the others, alive and about to beat again. So after
 * its own heartbeats failed, a node takes nobody over until they have landed again for
 * RECOVER_LEASES leases: time for the others, whose writers retry on their own schedule
 * (a pause of up to two seconds, then a connection to each host in turn), to renew
 * theirs. Two leases were not enough under ASan on a loaded machine (one node's writes
 * landed 4.5 s after the other's, with 2 s leases). A node really dead meanwhile is taken
 * over that much later. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <re.h>
#include "base/base.h"
#include "cluster/cluster.h"
#include "store/store.h"

enum {
	RECOVER_LEASES = 3, /* leases of landed heartbeats before a takeover after a failure */
};

struct cluster_node {
	struct store *st;               /* not owned */
	struct cluster_conf conf;
	struct cluster_node_hooks hooks;
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;           /* guards stopping */
	pthread_cond_t wake;
	bool stopping;
	bool lost;                      /* the row was taken over: logged once */
	bool failing;                   /* the last heartbeat failed */
	uint64_t landed_ms;             /* monotonic: the first heartbeat landed after one
					   failed; 0 = none failed */
	atomic_uint live;               /* nodes with a live lease at the last heartbeat */
};

static int adopt_one(struct store_session *row, void *arg)
{
	struct cluster_node *n = arg;

	n->hooks.adopt(row, n->hooks.arg);
	return 0;
}

/* Takes over every node whose lease ran out, one claim (one transaction) each. */
static void takeover_pass(struct cluster_node *n)
{
	for (;;) {
		char taken[CLUSTER_NODE_ID_MAX] = "";
		uint64_t t0 = clock_mono_ms();
		int err = store_node_takeover(n->st, n->conf.node_id, clock_unix_ms(), taken,
					      sizeof(taken), adopt_one, n);

		if (err == ENOENT)
			return;
		if (err) {
			log_warn("cluster", "takeover: %s", strerror(err));
			return;
		}
		log_info("cluster", "took over node %s: its lease ran out (%llu ms)", taken,
			 (unsigned long long)(clock_mono_ms() - t0));
	}
}

static void beat(struct cluster_node *n)
{
	bool draining = n->hooks.draining && n->hooks.draining(n->hooks.arg);
	int err = store_node_heartbeat(n->st, n->conf.node_id, draining, clock_unix_ms(),
				       n->conf.lease_ms);
	uint64_t live = 0;

	if (err == ESRCH && !n->lost) {
		log_error("cluster", "node %s was taken over by another node (its lease ran out "
			  "before a heartbeat landed): its sessions are that node's now",
			  n->conf.node_id);
		n->lost = true;
	}
	else if (err && err != ESRCH) {
		log_warn("cluster", "heartbeat: %s", strerror(err));
	}
	if (err) {
		n->failing = true;
		return;
	}
	if (!store_nodes_live(n->st, clock_unix_ms(), &live) && live)
		atomic_store_explicit(&n->live, (unsigned)live, memory_order_relaxed);
	if (n->failing) {
		n->failing = false;
		n->landed_ms = clock_mono_ms();
		log_info("cluster", "heartbeat landed again: no takeover for %u ms, while the "
			 "other nodes renew their leases", RECOVER_LEASES * n->conf.lease_ms);
	}
	if (n->landed_ms && clock_mono_ms() - n->landed_ms < RECOVER_LEASES * n->conf.lease_ms)
		return;
	if (!draining)
		takeover_pass(n);
}

unsigned cluster_node_live(const struct cluster_node *n)
{
	unsigned live = n ? atomic_load_explicit(&n->live, memory_order_relaxed) : 1;

	return live ? live : 1;
}

static void *node_main(void *arg)
{
	struct cluster_node *n = arg;

	pthread_mutex_lock(&n->lock);
	while (!n->stopping) {
		struct timespec until;
		unsigned ms = n->conf.lease_ms / 3;

		pthread_mutex_unlock(&n->lock);
		beat(n);
		pthread_mutex_lock(&n->lock);
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += ms / 1000;
		until.tv_nsec += (long)(ms % 1000) * 1000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		while (!n->stopping &&
		       pthread_cond_timedwait(&n->wake, &n->lock, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&n->lock);
	return NULL;
}

void cluster_node_halt(struct cluster_node *n)
{
	if (!n || !n->running)
		return;
	pthread_mutex_lock(&n->lock);
	n->stopping = true;
	pthread_cond_signal(&n->wake);
	pthread_mutex_unlock(&n->lock);
	pthread_join(n->thread, NULL);
	n->running = false;
}

static void node_destructor(void *arg)
{
	struct cluster_node *n = arg;
	int err;

	cluster_node_halt(n);
	err = store_node_stopped(n->st, n->conf.node_id, clock_unix_ms());
	if (err)
		log_warn("cluster", "node %s: the stopped state was not written (%s): a survivor "
			 "takes over once its lease runs out", n->conf.node_id, strerror(err));
	pthread_cond_destroy(&n->wake);
	pthread_mutex_destroy(&n->lock);
}

int cluster_node_alloc(struct cluster_node **np, struct store *st,
		       const struct cluster_conf *cc)
{
	struct cluster_node *n;
	pthread_condattr_t ca;
	int err;

	if (!np || !st || !cc)
		return EINVAL;
	err = store_node_start(st, cc->node_id, clock_unix_ms(), cc->lease_ms);
	if (err)
		return err;
	n = mem_zalloc(sizeof(*n), node_destructor);
	if (!n)
		return ENOMEM;
	n->st = st;
	n->conf = *cc;
	pthread_mutex_init(&n->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&n->wake, &ca);
	pthread_condattr_destroy(&ca);
	*np = n;
	return 0;
}

int cluster_node_run(struct cluster_node *n, const struct cluster_node_hooks *hooks)
{
	int err;

	if (!n || !hooks || !hooks->adopt || n->running)
		return EINVAL;
	n->hooks = *hooks;
	err = pthread_create(&n->thread, NULL, node_main, n);
	if (err)
		return err;
	n->running = true;
	return 0;
}
