/* hep: every SIP message cccd sends or receives, copied to a Homer capture server as HEPv3
 * (the HEP/EEP encapsulation: "HEP3", a length, then chunks of vendor 0 — addresses,
 * ports, time, protocol type 1 = SIP, the capture agent's id, an optional auth key, the
 * message, and the Call-ID as the correlation id that Homer groups a call's messages by).
 *
 * Sending never waits: one non-blocking UDP socket owned by the user agent, written from
 * the control loop with MSG_DONTWAIT; a datagram the kernel cannot queue at once is
 * dropped and counted (a capture server is a witness, never a brake on calls). */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include "base/base.h"
#include "call/call_int.h"

enum {
	HEP_FAMILY = 0x0001, HEP_PROTO = 0x0002, HEP_SRC4 = 0x0003, HEP_DST4 = 0x0004,
	HEP_SRC6 = 0x0005, HEP_DST6 = 0x0006, HEP_SPORT = 0x0007, HEP_DPORT = 0x0008,
	HEP_SEC = 0x0009, HEP_USEC = 0x000a, HEP_PTYPE = 0x000b, HEP_AGENT = 0x000c,
	HEP_AUTH = 0x000e, HEP_PAYLOAD = 0x000f, HEP_CORR = 0x0011,
	HEP_TYPE_SIP = 1,
};

/* Owner: its call_ua. */
struct call_hep {
	int fd;
	struct sa dst;
	uint32_t agent_id;
	char password[64];
	uint64_t dropped;
};

static void hep_destructor(void *arg)
{
	struct call_hep *h = arg;

	if (h->fd >= 0)
		close(h->fd);
}

int call_hep_alloc(struct call_hep **hp, const struct sa *server, uint32_t agent_id,
		   const char *password)
{
	struct call_hep *h;
	int err = 0;

	if (!hp || !server || !sa_isset(server, SA_ALL))
		return EINVAL;
	h = mem_zalloc(sizeof(*h), hep_destructor);
	if (!h)
		return ENOMEM;
	h->dst = *server;
	h->agent_id = agent_id;
	str_ncpy(h->password, password ? password : "", sizeof(h->password));
	h->fd = socket(sa_af(server), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->fd < 0)
		err = errno;
	if (err)
		mem_deref(h);
	else
		*hp = h;
	return err;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* Appends one chunk; false when it does not fit. */
static bool chunk(uint8_t *buf, size_t sz, size_t *off, uint16_t type, const void *data,
		  size_t len)
{
	if (len > 0xFFFF - 6 || *off + 6 + len > sz)
		return false;
	put16(buf + *off, 0);
	put16(buf + *off + 2, type);
	put16(buf + *off + 4, (uint16_t)(6 + len));
	memcpy(buf + *off + 6, data, len);
	*off += 6 + len;
	return true;
}

static bool chunk8(uint8_t *buf, size_t sz, size_t *off, uint16_t type, uint8_t v)
{
	return chunk(buf, sz, off, type, &v, 1);
}

static bool chunk16(uint8_t *buf, size_t sz, size_t *off, uint16_t type, uint16_t v)
{
	uint8_t b[2];

	put16(b, v);
	return chunk(buf, sz, off, type, b, 2);
}

static bool chunk32(uint8_t *buf, size_t sz, size_t *off, uint16_t type, uint32_t v)
{
	uint8_t b[4];

	put32(b, v);
	return chunk(buf, sz, off, type, b, 4);
}

static bool addr(uint8_t *buf, size_t sz, size_t *off, bool src, const struct sa *a)
{
	if (sa_af(a) == AF_INET)
		return chunk(buf, sz, off, src ? HEP_SRC4 : HEP_DST4, &a->u.in.sin_addr, 4);
	return chunk(buf, sz, off, src ? HEP_SRC6 : HEP_DST6, &a->u.in6.sin6_addr, 16);
}

size_t call_hep_encode(uint8_t *buf, size_t sz, const struct call_hep_msg *m)
{
	size_t off = 6;
	bool ok;

	if (!buf || !m || !m->src || !m->dst || sa_af(m->src) != sa_af(m->dst) || sz < 6)
		return 0;
	memcpy(buf, "HEP3", 4);
	ok = chunk8(buf, sz, &off, HEP_FAMILY, sa_af(m->src) == AF_INET ? 2 : 10) &&
	     chunk8(buf, sz, &off, HEP_PROTO, m->tcp ? 6 : 17) &&
	     addr(buf, sz, &off, true, m->src) && addr(buf, sz, &off, false, m->dst) &&
	     chunk16(buf, sz, &off, HEP_SPORT, sa_port(m->src)) &&
	     chunk16(buf, sz, &off, HEP_DPORT, sa_port(m->dst)) &&
	     chunk32(buf, sz, &off, HEP_SEC, (uint32_t)(m->ts_us / 1000000)) &&
	     chunk32(buf, sz, &off, HEP_USEC, (uint32_t)(m->ts_us % 1000000)) &&
	     chunk8(buf, sz, &off, HEP_PTYPE, HEP_TYPE_SIP) &&
	     chunk32(buf, sz, &off, HEP_AGENT, m->agent_id) &&
	     (!m->password || !m->password[0] ||
	      chunk(buf, sz, &off, HEP_AUTH, m->password, strlen(m->password))) &&
	     (!m->call_id || !m->call_id[0] ||
	      chunk(buf, sz, &off, HEP_CORR, m->call_id, strlen(m->call_id))) &&
	     chunk(buf, sz, &off, HEP_PAYLOAD, m->pkt, m->len);
	if (!ok || off > 0xFFFF)
		return 0;
	put16(buf + 4, (uint16_t)off);
	return off;
}

int call_sip_callid(const uint8_t *pkt, size_t len, char *out, size_t outsz)
{
	const char *p = (const char *)pkt, *end = p + len;

	if (!pkt || !out || !outsz)
		return EINVAL;
	/* header lines only: the first empty line ends them */
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *v;
		size_t n = (size_t)((eol ? eol : end) - p), vl;

		if (n && p[n - 1] == '\r')
			n--;
		if (!n)
			break;
		v = NULL;
		if (n > 8 && !strncasecmp(p, "Call-ID:", 8))
			v = p + 8;
		else if (n > 2 && (p[0] == 'i' || p[0] == 'I') && p[1] == ':')
			v = p + 2;
		if (v) {
			while (v < p + n && (*v == ' ' || *v == '\t'))
				v++;
			vl = (size_t)(p + n - v);
			while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				vl--;
			if (!vl || vl >= outsz)
				return EINVAL;
			memcpy(out, v, vl);
			out[vl] = '\0';
			return 0;
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	return ENOENT;
}

void call_hep_send(struct call_hep *h, bool tcp, const struct sa *src, const struct sa *dst,
		   const uint8_t *pkt, size_t len)
{
	static uint8_t buf[65535]; /* the control loop's alone */
	char callid[256] = "";
	struct timespec now;
	struct call_hep_msg m = {.tcp = tcp, .src = src, .dst = dst, .pkt = pkt, .len = len,
				 .agent_id = h->agent_id, .password = h->password,
				 .call_id = callid};
	size_t n;

	clock_gettime(CLOCK_REALTIME, &now);
	m.ts_us = (uint64_t)now.tv_sec * 1000000 + (uint64_t)now.tv_nsec / 1000;
	(void)call_sip_callid(pkt, len, callid, sizeof(callid));
	n = call_hep_encode(buf, sizeof(buf), &m);
	if (!n || sendto(h->fd, buf, n, MSG_DONTWAIT, &h->dst.u.sa, h->dst.len) < 0) {
		/* the first and then every 1000th, so a dead collector does not fill the log */
		if (h->dropped++ % 1000 == 0)
			log_warn("call", "HEP: a message was not sent to the capture server (%s; "
				 "%llu so far)", n ? strerror(errno) : "too large",
				 (unsigned long long)h->dropped);
	}
}
