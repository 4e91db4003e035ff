/* cluster: what makes one cccd a node among several on one shared store ([cluster]).
 * A node has a stable id, written into what it owns in the store (its heartbeat row,
 * the sessions it holds, the outbox rows and commands it claims), and a lease: another
 * node takes over what a node owns once that node's lease has run out
 * (docs/cluster.md). A single node needs nothing here: the defaults serve it. */
#ifndef CCCD_CLUSTER_H
#define CCCD_CLUSTER_H

struct conf;
struct conf_err;

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

#endif
