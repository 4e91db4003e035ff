/* acl: who may call cccd — inbound INVITEs are taken only from a trunk's source addresses
 * ([trunk] inbound_from, by default the addresses of its host) or from [sip] inbound_from
 * (peers of no trunk, such as an edge proxy), or with digest credentials of a trunk that
 * has inbound_username. Everything else is refused 403, statelessly, before any call or
 * transaction exists: a scanner spraying INVITEs costs a parse and a send each, nothing
 * kept, and a resent INVITE is judged again and gets the same answer.
 *
 * Digest is stateless too: the nonce is the time it was made and an HMAC of that time
 * under a key drawn at start, so any nonce cccd made in the last NONCE_TTL_S seconds is
 * accepted without remembering it (a replay within that window is possible; RFC 3261
 * §22.4 allows a server to trade that for statelessness, and the credentials only let a
 * peer call the numbers the trunk may call anyway). */
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include "base/base.h"
#include "call/call_int.h"

enum { NONCE_TTL_S = 300, NONCE_MAC_BYTES = 10 };

/* ---- networks (pure) ------------------------------------------------------------------- */

int call_cidr_parse(const char *s, struct call_cidr *c)
{
	char host[64];
	const char *slash;
	struct sa sa;
	size_t hl;
	unsigned long bits;

	if (!s || !c)
		return EINVAL;
	slash = strchr(s, '/');
	hl = slash ? (size_t)(slash - s) : strlen(s);
	if (!hl || hl >= sizeof(host))
		return EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (sa_set_str(&sa, host, 0))
		return EINVAL;
	memset(c, 0, sizeof(*c));
	if (sa_af(&sa) == AF_INET) {
		c->len = 4;
		memcpy(c->addr, &sa.u.in.sin_addr, 4);
	}
	else {
		c->len = 16;
		memcpy(c->addr, &sa.u.in6.sin6_addr, 16);
	}
	bits = c->len * 8u;
	if (slash) {
		char *end;

		if (!slash[1] || slash[1] < '0' || slash[1] > '9')
			return EINVAL;
		bits = strtoul(slash + 1, &end, 10);
		if (*end || bits > c->len * 8u)
			return EINVAL;
	}
	c->bits = (uint8_t)bits;
	/* host bits set below the prefix are a typo more often than a network */
	for (unsigned i = c->bits; i < c->len * 8u; i++) {
		if (c->addr[i / 8] & (0x80 >> (i % 8)))
			return EINVAL;
	}
	return 0;
}

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool call_cidr_match(const struct call_cidr *c, const uint8_t *addr, size_t len)
{
	unsigned full, rest;

	if (!c || !addr)
		return false;
	if (len == 16 && c->len == 4 && !memcmp(addr, v4mapped, sizeof(v4mapped))) {
		addr += 12;
		len = 4;
	}
	if (len != c->len)
		return false;
	full = c->bits / 8u;
	rest = c->bits % 8u;
	if (memcmp(addr, c->addr, full))
		return false;
	return !rest || !((addr[full] ^ c->addr[full]) & (uint8_t)(0xff00 >> rest));
}

int call_acl_parse(const char *list, struct call_acl *acl, char *why, size_t whysz)
{
	char buf[1024], *tok, *save = NULL;

	if (!list || !acl)
		return EINVAL;
	memset(acl, 0, sizeof(*acl));
	acl->set = true;
	if (snprintf(buf, sizeof(buf), "%s", list) >= (int)sizeof(buf)) {
		snprintf(why, whysz, "the list is too long");
		return EINVAL;
	}
	if (!strcmp(buf, "none"))
		return 0;
	for (tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		if (acl->n >= CALL_ACL_MAX) {
			snprintf(why, whysz, "at most %d networks", CALL_ACL_MAX);
			return EINVAL;
		}
		if (call_cidr_parse(tok, &acl->v[acl->n])) {
			snprintf(why, whysz, "'%s' is not an IP address or a network such as "
				 "192.0.2.0/24 or 2001:db8::/32 (host bits clear)", tok);
			return EINVAL;
		}
		acl->n++;
	}
	if (!acl->n) {
		snprintf(why, whysz, "no network given (write 'none' for an empty list)");
		return EINVAL;
	}
	return 0;
}

static bool acl_match(const struct call_acl *acl, const struct sa *src)
{
	const uint8_t *a = sa_af(src) == AF_INET ? (const uint8_t *)&src->u.in.sin_addr :
		(const uint8_t *)&src->u.in6.sin6_addr;
	size_t len = sa_af(src) == AF_INET ? 4 : 16;

	for (unsigned i = 0; i < acl->n; i++) {
		if (call_cidr_match(&acl->v[i], a, len))
			return true;
	}
	return false;
}

/* ---- the trunks' source lists ---------------------------------------------------------- */

/* A trunk without inbound_from takes calls from its host's addresses. A DNS name is
 * resolved once, by call_conf_resolve: at start (blocking, before the loop serves calls)
 * or on a reload's own thread. A carrier whose addresses change needs inbound_from
 * written out, or a reload (a trunk whose addresses changed counts as changed). */
int call_acl_trunk_init(struct call_trunk *t)
{
	const struct call_trunk_conf *tc = t->tc;

	t->from = tc->inbound_from.set ? tc->inbound_from : tc->host_from;
	return 0;
}

static void host_resolve(struct call_trunk_conf *tc)
{
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *res = NULL, *ai;
	char buf[64];
	int rc;

	memset(&tc->host_from, 0, sizeof(tc->host_from));
	tc->host_from.set = true;
	rc = getaddrinfo(tc->host, NULL, &hints, &res);
	if (rc) {
		log_warn("call", "trunk %s: cannot resolve '%s' for its inbound source addresses "
			 "(%s): inbound calls from it need inbound_from or digest", tc->name,
			 tc->host, gai_strerror(rc));
		return;
	}
	for (ai = res; ai && tc->host_from.n < CALL_ACL_MAX; ai = ai->ai_next) {
		struct sa sa;

		if (sa_set_sa(&sa, ai->ai_addr))
			continue;
		re_snprintf(buf, sizeof(buf), "%j", &sa);
		if (!acl_match(&tc->host_from, &sa) &&
		    !call_cidr_parse(buf, &tc->host_from.v[tc->host_from.n]))
			tc->host_from.n++;
	}
	freeaddrinfo(res);
}

void call_conf_resolve(struct call_conf *cc)
{
	for (unsigned i = 0; i < cc->ntrunks; i++) {
		struct call_trunk_conf *tc = &cc->trunks[i];

		if (!tc->inbound_from.set && !tc->host_from.set)
			host_resolve(tc);
	}
}

/* ---- digest ------------------------------------------------------------------------------ */

static void hex(char *out, const uint8_t *b, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static void nonce_make(const struct call_ua *ua, uint64_t ts, char out[64])
{
	uint8_t mac[20]; /* libre's hmac_sha1 writes the whole SHA-1, whatever t says */
	char tsx[17];

	snprintf(tsx, sizeof(tsx), "%016llx", (unsigned long long)ts);
	hmac_sha1(ua->nonce_key, sizeof(ua->nonce_key), (const uint8_t *)tsx, 16, mac,
		  sizeof(mac));
	memcpy(out, tsx, 16);
	hex(out + 16, mac, NONCE_MAC_BYTES);
}

/* 0: a nonce of ours, still fresh; ESTALE: ours but too old; EINVAL: not ours. */
static int nonce_check(const struct call_ua *ua, const struct pl *nonce)
{
	char want[64], tsx[17];
	unsigned long long ts;
	uint64_t now = (uint64_t)clock_unix_s();
	uint8_t diff = 0;
	size_t n;

	if (nonce->l != 16 + 2 * NONCE_MAC_BYTES)
		return EINVAL;
	memcpy(tsx, nonce->p, 16);
	tsx[16] = '\0';
	if (sscanf(tsx, "%16llx", &ts) != 1)
		return EINVAL;
	nonce_make(ua, ts, want);
	n = strlen(want);
	if (n != nonce->l)
		return EINVAL;
	for (size_t i = 0; i < n; i++) /* constant time: the MAC is a secret's work */
		diff |= (uint8_t)(want[i] ^ nonce->p[i]);
	if (diff)
		return EINVAL;
	return ts <= now && now - ts <= NONCE_TTL_S ? 0 : ESTALE;
}

static void md5_hex(char out[33], const char *fmt, ...)
{
	uint8_t md[16];
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = re_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	md5((const uint8_t *)buf, n > 0 ? (size_t)n : 0, md);
	hex(out, md, sizeof(md));
}

/* The trunk whose inbound credentials produced resp for this request, or NULL. */
static const struct call_trunk *digest_trunk(const struct call_ua *ua,
					     const struct sip_msg *msg,
					     const struct httpauth_digest_resp *r)
{
	for (unsigned i = 0; i < ua->cc.ntrunks; i++) {
		const struct call_trunk_conf *tc = &ua->cc.trunks[i];
		char ha1[33], ha2[33], resp[33];

		if (!tc->inbound_username[0] || pl_strcmp(&r->username, tc->inbound_username))
			continue;
		md5_hex(ha1, "%s:%s:%s", tc->inbound_username, ua->cc.auth_realm,
			tc->inbound_password);
		md5_hex(ha2, "%r:%r", &msg->met, &r->uri);
		if (pl_isset(&r->qop))
			md5_hex(resp, "%s:%r:%r:%r:%r:%s", ha1, &r->nonce, &r->nc, &r->cnonce,
				&r->qop, ha2);
		else
			md5_hex(resp, "%s:%r:%s", ha1, &r->nonce, ha2);
		if (!pl_strcasecmp(&r->response, resp))
			return ua->trunks[i];
	}
	return NULL;
}

static bool digest_offered(const struct call_ua *ua)
{
	for (unsigned i = 0; i < ua->cc.ntrunks; i++) {
		if (ua->cc.trunks[i].inbound_username[0])
			return true;
	}
	return false;
}

static void challenge(struct call_ua *ua, const struct sip_msg *msg, bool stale)
{
	char nonce[64];

	nonce_make(ua, (uint64_t)clock_unix_s(), nonce);
	(void)sip_replyf(ua->sip, msg, 401, "Unauthorized",
			 "WWW-Authenticate: Digest realm=\"%s\", nonce=\"%s\", "
			 "algorithm=MD5, qop=\"auth\"%s\r\n"
			 "Content-Length: 0\r\n\r\n",
			 ua->cc.auth_realm, nonce, stale ? ", stale=true" : "");
}

/* ---- the screen of inbound INVITEs ---------------------------------------------------- */

int call_acl_nonce_init(struct call_ua *ua)
{
	return ids_random(ua->nonce_key, sizeof(ua->nonce_key));
}

bool call_acl_refused(struct call_ua *ua, const struct sip_msg *msg)
{
	const struct sip_hdr *h;
	struct httpauth_digest_resp r;
	char sab[64];
	int err;

	memset(&r, 0, sizeof(r));
	if (acl_match(&ua->cc.inbound_from, &msg->src))
		return false;
	for (unsigned i = 0; i < ua->cc.ntrunks; i++) {
		if (acl_match(&ua->trunks[i]->from, &msg->src))
			return false;
	}
	if (digest_offered(ua)) {
		h = sip_msg_hdr(msg, SIP_HDR_AUTHORIZATION);
		if (!h)
			h = sip_msg_hdr(msg, SIP_HDR_PROXY_AUTHORIZATION);
		if (!h) {
			challenge(ua, msg, false);
			return true;
		}
		if (!httpauth_digest_response_decode(&r, &h->val) &&
		    !pl_strcmp(&r.realm, ua->cc.auth_realm) && digest_trunk(ua, msg, &r)) {
			err = nonce_check(ua, &r.nonce);
			if (!err)
				return false;
			if (err == ESTALE) {
				challenge(ua, msg, true);
				return true;
			}
		}
		refusal_note(REFUSAL_INBOUND_AUTH, "inbound INVITE from %s to %.*s: wrong digest "
			     "credentials (user '%.*s'): 403",
			     call_sa_str(&msg->src, sab, sizeof(sab)), (int)msg->uri.user.l,
			     msg->uri.user.p, (int)r.username.l, r.username.p);
		(void)sip_reply(ua->sip, msg, 403, "Forbidden");
		return true;
	}
	refusal_note(REFUSAL_INBOUND_SOURCE, "inbound INVITE from %s to %.*s: no trunk's "
		     "source address: 403", call_sa_str(&msg->src, sab, sizeof(sab)),
		     (int)msg->uri.user.l, msg->uri.user.p);
	(void)sip_reply(ua->sip, msg, 403, "Forbidden");
	return true;
}
