/* fetch: files a customer names by URL (UploadIvrAudio), fetched with libcurl under
 * bounds — size, time, redirects, http/https only — and a server-side request forgery
 * guard: every connection, redirects included, is checked on the address it is about to
 * connect to (not on a name resolved beforehand), so a name that resolves to a public
 * address for a check and to 127.0.0.1 for the connection (DNS rebinding) gets nowhere.
 *
 * Blocking: a fetch waits for the network (at most its timeout). Never on the control
 * loop; the API runs it on its own thread, bounded (docs/api-compatibility.md). */
#ifndef CCCD_FETCH_H
#define CCCD_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sockaddr;

/* What an address is, for the guard. */
enum fetch_addr_class {
	FETCH_ADDR_PUBLIC = 0,
	FETCH_ADDR_LOOPBACK,     /* 127.0.0.0/8, ::1 */
	FETCH_ADDR_PRIVATE,      /* 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7, fec0::/10 */
	FETCH_ADDR_LINK_LOCAL,   /* 169.254/16, fe80::/10 */
	FETCH_ADDR_MULTICAST,    /* 224/4, ff00::/8 */
	FETCH_ADDR_UNSPECIFIED,  /* 0.0.0.0/8, :: */
	FETCH_ADDR_RESERVED,     /* 240/4 and broadcast, other special-use blocks */
};

/* IPv4 and IPv6; v4-mapped (::ffff:a.b.c.d), v4-compatible (::a.b.c.d), NAT64
 * (64:ff9b::/96) and 6to4 (2002::/16) addresses are classed by the IPv4 inside. An
 * address of another family is RESERVED. */
enum fetch_addr_class fetch_addr_class(const struct sockaddr *sa);
const char *fetch_addr_class_name(enum fetch_addr_class c);

/* Classes a fetch may connect to besides PUBLIC (bits of 1 << class). Multicast,
 * unspecified and reserved addresses are never allowed. */
enum {
	FETCH_ALLOW_LOOPBACK = 1u << FETCH_ADDR_LOOPBACK,
	FETCH_ALLOW_PRIVATE = (1u << FETCH_ADDR_PRIVATE) | (1u << FETCH_ADDR_LINK_LOCAL),
};
bool fetch_addr_allowed(const struct sockaddr *sa, unsigned allow);

struct fetch_limits {
	size_t max_bytes;        /* a larger body fails with EFBIG */
	unsigned timeout_ms;     /* the whole transfer, redirects included */
	unsigned max_redirects;
	unsigned allow;          /* FETCH_ALLOW_* */
};

/* GETs url into *bodyp (malloc'd, the caller frees) and *lenp. 0, or: EPROTONOSUPPORT
 * (not http/https), EACCES (an address the guard refuses), EFBIG, ETIMEDOUT, EBADMSG
 * (an HTTP status that is not 2xx; *statusp has it), EHOSTUNREACH (no connection),
 * ELOOP (too many redirects), EIO (anything else). why says it in words. */
int fetch_get(const char *url, const struct fetch_limits *lim, uint8_t **bodyp,
	      size_t *lenp, long *statusp, char *why, size_t whysz);

#endif
