/* [cluster]: the node's id and lease. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "cluster/cluster.h"
#include "conf/conf.h"

int cluster_node_id_check(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n >= CLUSTER_NODE_ID_MAX)
		return EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return EINVAL;
	}
	return 0;
}

/* The default id is the host name (its first label when it is too long or has characters a
 * node id may not hold): stable across restarts, distinct between machines. */
static void node_id_default(char *out, size_t size)
{
	char host[256] = "";

	if (gethostname(host, sizeof(host) - 1) || !host[0])
		strcpy(host, "cccd");
	if (cluster_node_id_check(host))
		host[strcspn(host, ".")] = '\0';
	if (cluster_node_id_check(host))
		strcpy(host, "cccd");
	snprintf(out, size, "%.*s", (int)size - 1, host); /* checked: it fits */
}

int cluster_conf_read(const struct conf *cf, struct cluster_conf *cc, struct conf_err *err)
{
	const struct conf_section *sec = conf_section_first(cf, "cluster");
	char def[CLUSTER_NODE_ID_MAX];
	const char *id;
	uint64_t lease;
	int rc;

	memset(cc, 0, sizeof(*cc));
	node_id_default(def, sizeof(def));
	rc = conf_str(sec, "node_id", def, &id, err);
	if (rc)
		return rc;
	if (cluster_node_id_check(id)) {
		conf_err_set(err, conf_key_line(sec, "node_id"),
			     "[cluster] node_id must be 1-63 characters of A-Z a-z 0-9 . _ -");
		return EINVAL;
	}
	strcpy(cc->node_id, id);
	rc = conf_uint(sec, "lease_ms", 5000, 1000, 60000, &lease, err);
	if (rc)
		return rc;
	cc->lease_ms = (unsigned)lease;
	return 0;
}
