/* count: every SIP message sent or received, counted for /metrics by method and status
 * code, and INVITE retransmissions recognised by their Via branch.
 *
 * libre's trace handler hands each message over as bytes on the control loop; the first
 * line says request or response, a response's method is its CSeq's. Only those two lines
 * and the top Via are looked at — a few hundred bytes scanned per message, no parse.
 * A retransmitted INVITE carries the branch of the first: the last RETRANS_SLOTS INVITE
 * branches (a hash each, per direction) are kept in a table indexed by that hash, so a
 * repeat finds its own slot. Two branches meeting in one slot only forget the older one
 * (a retransmission of it then goes uncounted): the figure is a lower bound, exact while
 * fewer than a few thousand INVITEs are in their retransmission window at once. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "call/call_int.h"
#include "metrics/metrics.h"

enum { RETRANS_SLOTS = 4096 };

static uint64_t branches[2][RETRANS_SLOTS]; /* the control loop's alone */

/* The value of the first header line named `name` (or its compact form, when not 0). */
static bool header_find(const char *p, const char *end, const char *name, char compact,
			const char **vp, size_t *vlp)
{
	size_t nl = strlen(name);
	const char *eol;

	/* skip the start line */
	eol = memchr(p, '\n', (size_t)(end - p));
	p = eol ? eol + 1 : end;
	while (p < end) {
		const char *v = NULL;
		size_t n;

		eol = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((eol ? eol : end) - p);
		if (n && p[n - 1] == '\r')
			n--;
		if (!n)
			return false;
		if (n > nl && !strncasecmp(p, name, nl) && (p[nl] == ':' || p[nl] == ' '))
			v = p + nl;
		else if (compact && n > 1 && (p[0] | 0x20) == compact &&
			 (p[1] == ':' || p[1] == ' '))
			v = p + 1;
		if (v) {
			while (v < p + n && (*v == ' ' || *v == '\t' || *v == ':'))
				v++;
			*vp = v;
			*vlp = (size_t)(p + n - v);
			return true;
		}
		p = eol ? eol + 1 : end;
	}
	return false;
}

static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
	return h | 1; /* never 0: 0 marks an empty slot */
}

static void invite_seen(bool tx, const char *p, const char *end)
{
	const char *v, *b, *e;
	size_t vl;
	uint64_t h;
	uint64_t *slot;

	if (!header_find(p, end, "Via", 'v', &v, &vl))
		return;
	b = NULL;
	for (const char *q = v; q + 7 <= v + vl; q++) {
		if (!strncasecmp(q, "branch=", 7)) {
			b = q + 7;
			break;
		}
	}
	if (!b)
		return;
	for (e = b; e < v + vl && *e != ';' && *e != ',' && *e != ' '; e++)
		;
	h = fnv1a(b, (size_t)(e - b));
	slot = &branches[tx][h % RETRANS_SLOTS];
	if (*slot == h)
		metrics_sip_invite_retransmit(tx);
	else
		*slot = h;
}

void call_count_msg(bool tx, const uint8_t *pkt, size_t len)
{
	const char *p = (const char *)pkt, *end = p + len, *sp, *v;
	size_t vl;

	if (len < 12)
		return;
	if (!strncmp(p, "SIP/2.0 ", 8)) {
		unsigned code = 0;

		for (sp = p + 8; sp < end && sp < p + 11 && *sp >= '0' && *sp <= '9'; sp++)
			code = code * 10 + (unsigned)(*sp - '0');
		if (!header_find(p, end, "CSeq", 0, &v, &vl))
			return;
		/* "CSeq: 1 INVITE": the method after the number */
		while (vl && *v >= '0' && *v <= '9') {
			v++;
			vl--;
		}
		while (vl && (*v == ' ' || *v == '\t')) {
			v++;
			vl--;
		}
		while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
			vl--;
		metrics_sip_response(tx, metrics_sip_method(v, vl), code);
		return;
	}
	sp = memchr(p, ' ', (size_t)(end - p) < 32 ? (size_t)(end - p) : 32);
	if (!sp)
		return;
	{
		enum metrics_sip_method m = metrics_sip_method(p, (size_t)(sp - p));

		metrics_sip_request(tx, m);
		if (m == METRICS_SIP_INVITE)
			invite_seen(tx, p, end);
	}
}

void call_ua_metrics_publish(struct call_ua *ua)
{
	struct metrics_trunk v[METRICS_TRUNKS_MAX];
	unsigned n = 0;

	for (unsigned i = 0; ua && i < ua->cc.ntrunks && n < METRICS_TRUNKS_MAX; i++, n++) {
		snprintf(v[n].name, sizeof(v[n].name), "%s", ua->cc.trunks[i].name);
		v[n].up = call_trunk_usable(ua->trunks[i]);
	}
	metrics_trunks_set(v, n);
}

bool call_ua_bound(const struct call_ua *ua)
{
	return ua && ua->sip;
}
