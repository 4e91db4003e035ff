/* cluster: what makes one cccd a node among several on one shared store ([cluster]).
 * A node has a stable id, written into what it owns in the store (its heartbeat row,
 * the sessions it holds, the outbox rows and commands it claims), and a lease: another
 * node takes over what a node owns once that node's lease has run out
 * (docs/cluster.md). A single node needs nothing here: the defaults serve it. */
#ifndef CCCD_CLUSTER_H
#define CCCD_CLUSTER_H

#include <stdbool.h>

struct conf;
struct conf_err;
struct store;
struct store_session;

enum { CLUSTER_NODE_ID_MAX = 64 };

/* [cluster]; docs/configuration.md. */
struct cluster_conf {
	char node_id[CLUSTER_NODE_ID_MAX]; /* node_id = the host name: 1-63 of A-Z a-z 0-9 . _ - */
	unsigned lease_ms;                 /* lease_ms = 5000: how long a node's claims outlive
					      its last heartbeat */
};

int cluster_conf_read(const struct conf *cf, struct cluster_conf *cc, struct conf_err *err);

/* 0 when id is a valid node id (1-63 characters of A-Z a-z 0-9 . _ -), else EINVAL. */
int cluster_node_id_check(const char *id);

/* ---- the node (node.c) -------------------------------------------------------------
 * Its row in the store, renewed every lease_ms / 3 by one write (the lease covers all the
 * node's sessions: never a write per call), and the takeover of nodes whose lease ran
 * out: their unfinished sessions become this node's and are handed to `adopt`. Both run
 * on the node's own thread: the control loop never waits for them. */
struct cluster_node;

struct cluster_node_hooks {
	/* Draining (or stopping): the row says so, and nothing is taken over. Any thread. */
	bool (*draining)(void *arg);
	/* A session taken over from a dead node, now this node's: resume it by the restart
	 * rule (session_mgr_resume). Borrowed: mem_ref to keep. On the node's thread. */
	void (*adopt)(struct store_session *row, void *arg);
	void *arg;
};

/* Writes the node's row (running, a new lease) and adopts sessions without an owner;
 * blocking, at start before the sessions are resumed. mem_deref stops the thread
 * (cluster_node_halt) and writes the row as stopped with its lease ending now, so that a
 * survivor takes over at once what the node still owns: release it after the session
 * manager has queued its last records. */
int cluster_node_alloc(struct cluster_node **np, struct store *st,
		       const struct cluster_conf *cc);
/* Starts the heartbeat and takeover thread (its first pass at once). */
int cluster_node_run(struct cluster_node *n, const struct cluster_node_hooks *hooks);
/* Stops the thread (no takeover from here on); the row is left as it is. */
void cluster_node_halt(struct cluster_node *n);
/* How many nodes hold a live lease, as the last heartbeat counted them (1 before the
 * first, and for a single node): the API shares per-node rate limits by it. Any thread. */
unsigned cluster_node_live(const struct cluster_node *n);

#endif
