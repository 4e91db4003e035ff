/* admin: the operator's HTTP listener — /metrics (Prometheus text format), /healthz and
 * /readyz — on its own address ([admin] listen, loopback by default), apart from the API so
 * that a firewall can keep it off the customers' network. Nothing on it is signed: it
 * shows counts, never data; it changes nothing (draining is an API action and a signal). */
#ifndef CCCD_ADMIN_H
#define CCCD_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include "httpd/httpd.h"
#include "httptls/httptls.h"

struct admin;
struct conf;
struct conf_err;

/* [admin]; docs/configuration.md. */
struct admin_conf {
	struct httpd_listen listen;    /* listen = 127.0.0.1:9100; "" = no admin listener */
	struct http_tls_conf tls;      /* tls_cert, tls_key: HTTPS (httptls.h) */
};

int admin_conf_read(const struct conf *cf, struct admin_conf *ac, struct conf_err *err);

/* Readiness, asked on the admin listener's thread for each /readyz: true when the node
 * should receive new work; else false with the first failed check written to why. Must
 * not block: read atomics. */
typedef bool (admin_ready_h)(char *why, size_t size, void *arg);

/* Starts listening (*ap stays NULL when the listener is off). mem_deref stops it, waiting
 * for a scrape in progress: release it before what its collectors and readyh read. */
int admin_start(struct admin **ap, const struct admin_conf *ac, admin_ready_h *readyh,
		void *arg);

#endif
