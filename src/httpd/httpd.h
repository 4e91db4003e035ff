/* httpd: one way to start a libmicrohttpd listener from a small listener config.
 *
 * The admin listener starts through it; the API listener may too. It is the place where
 * what every listener shares is decided once: the address family, the error log, and —
 * when TLS comes — the certificate and key (add them to struct httpd_listen and to the
 * options httpd_start builds; every listener started here then speaks HTTPS alike). */
#ifndef CCCD_HTTPD_H
#define CCCD_HTTPD_H

#include <stdbool.h>
#include <stdint.h>
#include <microhttpd.h>

struct conf_section;
struct conf_err;

/* Where a listener listens. port 0: the listener is off. */
struct httpd_listen {
	char host[64];
	uint16_t port;
};

/* Reads `key` of sec as "address:port", or "" (off). def is used when the key is absent. */
int httpd_listen_read(const struct conf_section *sec, const char *key, const char *def,
		      struct httpd_listen *l, struct conf_err *err);

/* Starts a daemon on l with its own polling thread (threads > 1: a pool of that many),
 * answering with h(arg); flags: more MHD_USE_* flags (MHD_USE_TLS), more: further options
 * (an MHD_OPTION_END-terminated array: the certificate and key, limits) or NULL.
 * `name` names the listener in log lines. Returns 0 or errno (EINVAL: not an address;
 * EADDRINUSE: cannot listen). */
int httpd_start(struct MHD_Daemon **dp, const char *name, const struct httpd_listen *l,
		unsigned threads, unsigned flags, MHD_AccessHandlerCallback h, void *arg,
		const struct MHD_OptionItem *more);

#endif
