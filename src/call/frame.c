/* call: judging a SIP message's raw bytes and header syntax before anything acts on it.
 *
 * libre 1.1.0's decoder is liberal: over UDP it takes the whole datagram as the body
 * whatever Content-Length says (9999, or "-1"), over TCP it reads "-1" as 0 and parses the
 * would-be body as the next message; it accepts a Request-URI in <>, an unterminated quoted
 * display name, spaces inside an address. Framing that two parsers read differently is
 * how a message is smuggled past a proxy in front of cccd, so cccd refuses it (RFC 3261
 * §18.3, RFC 4475 §3.1.2) instead of guessing. Everything here is pure: bytes in, a
 * verdict out; fuzzed by fuzz/fuzz_sip_frame.c. */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include "call/call_int.h"

enum {
	CL_DIGITS_MAX = 9,      /* 999 999 999 bytes: far above any datagram or TCP buffer */
	CSEQ_MAX      = 0xffffffffu,
	MAXFWD_MAX    = 255,
};

/* token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
static bool is_token(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("-.!%*_+`'~", c));
}

static bool is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool name_is(const char *p, size_t n, const char *full, const char *compact)
{
	return (strlen(full) == n && !strncasecmp(p, full, n)) ||
	       (compact && strlen(compact) == n && !strncasecmp(p, compact, n));
}

/* Skips SWS: spaces, tabs and folded line breaks (CRLF followed by SP or HT). */
static size_t skip_sws(const char *p, size_t n, size_t i)
{
	for (;;) {
		if (i < n && is_wsp((unsigned char)p[i]))
			i++;
		else if (i + 2 < n && p[i] == '\r' && p[i + 1] == '\n' &&
			 is_wsp((unsigned char)p[i + 2]))
			i += 3;
		else
			return i;
	}
}

/* 1..max decimal digits, optionally wrapped in SWS; the value through *vp. */
static bool scalar(const char *p, size_t n, unsigned max_digits, uint64_t *vp)
{
	size_t i = skip_sws(p, n, 0), d = 0;
	uint64_t v = 0;

	while (i < n && is_digit((unsigned char)p[i])) {
		if (++d > max_digits)
			return false;
		v = v * 10 + (uint64_t)(p[i++] - '0');
	}
	if (!d || skip_sws(p, n, i) != n)
		return false;
	*vp = v;
	return true;
}

/* Whether the header value p..n carries the parameter `name` (";name" then "=", ";" or
 * the end, spaces allowed around). */
static bool has_param(const char *p, size_t n, const char *name)
{
	size_t l = strlen(name);

	for (size_t i = 0; i < n; i++) {
		if (p[i] == ';') {
			size_t j = skip_sws(p, n, i + 1);

			if (j + l <= n && !strncasecmp(p + j, name, l) &&
			    (j + l == n || p[j + l] == '=' || p[j + l] == ';' ||
			     is_wsp((unsigned char)p[j + l]) || p[j + l] == '\r'))
				return true;
		}
	}
	return false;
}

static const char *version_fault(const char *p, size_t n)
{
	size_t i = 4;

	if (n == 7 && !strncasecmp(p, "SIP/2.0", 7))
		return NULL;
	if (n < 7 || strncasecmp(p, "SIP/", 4))
		return "Malformed Request-Line";
	while (i < n && is_digit((unsigned char)p[i]))
		i++;
	if (i == 4 || i == n || p[i] != '.')
		return "Malformed Request-Line";
	for (i++; i < n; i++) {
		if (!is_digit((unsigned char)p[i]))
			return "Malformed Request-Line";
	}
	return "Version Not Supported";
}

static bool sip_scheme(const char *p, size_t n)
{
	return (n > 4 && !strncasecmp(p, "sip:", 4)) || (n > 5 && !strncasecmp(p, "sips:", 5));
}

/* What is wrong with a Request-URI, or NULL. Only sip: and sips: reach here (others are
 * 416, see call_frame_request); RFC 3261 §19.1.1 forbids headers in a Request-URI and the
 * grammar has no room for whitespace or <> in it (RFC 4475 §3.1.2.7, §3.1.2.8, §3.1.2.11). */
static const char *ruri_fault(const char *p, size_t n)
{
	if (!n)
		return "Malformed Request-URI";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '"' || c == '\\' ||
		    c == '{' || c == '}' || c == '|' || c == '^')
			return "Malformed Request-URI";
	}
	/* '?' may stand in the user part (RFC 4475 §3.1.1.2); after the host it starts
	 * headers */
	{
		const char *at = memchr(p, '@', n);
		const char *q = at ? memchr(at, '?', n - (size_t)(at - p)) : memchr(p, '?', n);

		if (q)
			return "Headers Not Allowed in Request-URI";
	}
	return NULL;
}

/* ---- header syntax ------------------------------------------------------------------- */

/* quoted-string from p[*ip] == '"': *ip moves past the closing quote; false when it is
 * never closed. quoted-pair may escape any octet but CR and LF. */
static bool quoted_end(const char *p, size_t n, size_t *ip)
{
	for (size_t i = *ip + 1; i < n; i++) {
		if (p[i] == '\\') {
			if (i + 1 >= n || p[i + 1] == '\r' || p[i + 1] == '\n')
				return false;
			i++;
		}
		else if (p[i] == '"') {
			*ip = i + 1;
			return true;
		}
	}
	return false;
}

static bool is_param_char(unsigned char c)
{
	return is_token(c) || c == ':' || c == '[' || c == ']' || c == '/';
}

/* *( SEMI generic-param ) from p[i] to the end; generic-param = token [ EQUAL
 * ( token / host / quoted-string ) ]. Empty parameters (";;") are refused (RFC 4475
 * §3.1.2.1). */
static bool params_ok(const char *p, size_t n, size_t i)
{
	for (;;) {
		size_t s;

		i = skip_sws(p, n, i);
		if (i == n)
			return true;
		if (p[i] != ';')
			return false;
		i = skip_sws(p, n, i + 1);
		s = i;
		while (i < n && is_token((unsigned char)p[i]))
			i++;
		if (i == s)
			return false;
		i = skip_sws(p, n, i);
		if (i < n && p[i] == '=') {
			i = skip_sws(p, n, i + 1);
			if (i < n && p[i] == '"') {
				if (!quoted_end(p, n, &i))
					return false;
			}
			else {
				s = i;
				while (i < n && is_param_char((unsigned char)p[i]))
					i++;
				if (i == s)
					return false;
			}
		}
	}
}

static bool uri_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '<' && c != '>' && c != '"' && c != ' ';
}

/* name-addr / addr-spec followed by header parameters (From, To, Contact):
 * name-addr = [ display-name ] LAQUOT addr-spec RAQUOT, display-name = *(token LWS) /
 * quoted-string. RFC 4475 §3.1.2.6 (unterminated quote), §3.1.2.14 (spaces in the
 * addr-spec), §3.1.2.15 (non-token characters in an unquoted display name). */
static bool addr_ok(const char *p, size_t n)
{
	size_t i = skip_sws(p, n, 0), s;

	if (i == n)
		return false;
	if (p[i] == '"') {
		if (!quoted_end(p, n, &i))
			return false;
		i = skip_sws(p, n, i);
		if (i >= n || p[i] != '<')
			return false;
	}
	else if (memchr(p + i, '<', n - i)) {
		while (i < n && p[i] != '<') {
			if (!is_token((unsigned char)p[i]) && !is_wsp((unsigned char)p[i]) &&
			    !(p[i] == '\r' || p[i] == '\n'))
				return false;
			i++;
		}
	}
	if (i < n && p[i] == '<') {
		s = ++i;
		while (i < n && p[i] != '>') {
			if (!uri_char((unsigned char)p[i]))
				return false;
			i++;
		}
		if (i == n || i == s)
			return false;
		return params_ok(p, n, i + 1);
	}
	/* addr-spec: the URI ends at the first ';' (the rest are header parameters) */
	s = i;
	while (i < n && p[i] != ';' && !is_wsp((unsigned char)p[i]) && p[i] != '\r') {
		if (!uri_char((unsigned char)p[i]) || p[i] == '?')
			return false;
		i++;
	}
	return i > s && params_ok(p, n, i);
}

/* Via = sent-protocol LWS sent-by *( SEMI via-params ); the protocol's parts may be
 * spaced ("SIP / 2.0 / UDP", RFC 4475 §3.1.1.1). */
static bool via_ok(const char *p, size_t n)
{
	size_t i = skip_sws(p, n, 0), s;

	for (int part = 0; part < 3; part++) {
		s = i;
		while (i < n && is_token((unsigned char)p[i]))
			i++;
		if (i == s)
			return false;
		i = skip_sws(p, n, i);
		if (part < 2) {
			if (i >= n || p[i] != '/')
				return false;
			i = skip_sws(p, n, i + 1);
		}
	}
	s = i;
	while (i < n && (is_param_char((unsigned char)p[i])))
		i++;
	return i > s && params_ok(p, n, i);
}

static bool contact_ok(const char *p, size_t n)
{
	size_t i = skip_sws(p, n, 0);

	if (i < n && p[i] == '*')
		return skip_sws(p, n, i + 1) == n;
	return addr_ok(p, n);
}

static size_t line_end(const char *p, size_t n, size_t i)
{
	const char *cr = memchr(p + i, '\n', n - i);

	return cr ? (size_t)(cr - p) : n;
}

static void fault(struct call_frame *f, uint16_t scode, const char *reason)
{
	if (!f->scode) {
		f->scode = scode;
		f->reason = reason;
	}
}

/* Request-Line = Method SP Request-URI SP SIP-Version CRLF, single spaces (RFC 4475
 * §3.1.2.9 and §3.1.2.10 allow refusing extra ones, and refusing is the safe reading).
 * Status-Line = SIP-Version SP 3DIGIT SP Reason-Phrase CRLF. */
static void start_line(const char *p, size_t n, struct call_frame *f)
{
	size_t i = 0, m, u;

	if (n >= 4 && !strncmp(p, "SIP/", 4)) {
		f->req = false;
		if (n < 12 || strncmp(p, "SIP/2.0 ", 8) || !is_digit((unsigned char)p[8]) ||
		    !is_digit((unsigned char)p[9]) || !is_digit((unsigned char)p[10]) ||
		    p[11] != ' ' || p[8] < '1' || p[8] > '6')
			fault(f, 400, CALL_FRAME_BAD_STATUS);
		return;
	}
	f->req = true;
	while (i < n && is_token((unsigned char)p[i]))
		i++;
	m = i;
	if (!m || i >= n || p[i] != ' ') {
		fault(f, 400, "Malformed Request-Line");
		return;
	}
	u = ++i;
	while (i < n && p[i] != ' ')
		i++;
	if (i >= n) {
		fault(f, 400, "Malformed Request-Line");
		return;
	}
	if (u == i) {
		fault(f, 400, "Malformed Request-Line");
		return;
	}
	/* the version first: an unknown version is 505 whatever else is wrong */
	if (memchr(p + i + 1, ' ', n - i - 1)) {
		fault(f, 400, "Malformed Request-Line");
		return;
	}
	{
		const char *why = version_fault(p + i + 1, n - i - 1);

		if (why)
			fault(f, why[0] == 'V' ? 505 : 400, why);
	}
	if (p[u] == '<')
		fault(f, 400, "Request-URI in Angle Brackets");
	else if (sip_scheme(p + u, i - u)) {
		const char *why = ruri_fault(p + u, i - u);

		if (why)
			fault(f, 400, why);
	} /* another scheme is answered 416 once decoded (call_frame_request) */
}

/* Each element of a comma-separated header value (commas inside quotes or <> do not
 * separate) through ok(). */
static bool list_ok(const char *p, size_t n, bool (*ok)(const char *, size_t))
{
	size_t s = 0, i = 0;
	bool quoted = false, angled = false;

	for (; i <= n; i++) {
		if (i < n && p[i] == '"' && !angled)
			quoted = !quoted;
		else if (i < n && quoted && p[i] == '\\')
			i++;
		else if (i < n && !quoted && (p[i] == '<' || p[i] == '>'))
			angled = p[i] == '<';
		else if (i == n || (p[i] == ',' && !quoted && !angled)) {
			if (!ok(p + s, (i < n ? i : n) - s))
				return false;
			s = i + 1;
		}
	}
	return true;
}

/* The first Via must carry a branch: libre 1.1.0 cannot decode a request without one (an
 * RFC 2543 Via), and RFC 3261 §8.1.1.7 makes it mandatory. */
static bool top_via_ok(const char *p, size_t n)
{
	size_t i = 0;
	bool quoted = false;

	while (i < n && (quoted || p[i] != ',')) {
		if (p[i] == '"')
			quoted = !quoted;
		i++;
	}
	return has_param(p, i, "branch");
}

/* CSeq = 1*DIGIT LWS Method, the number at most 2**32 - 1, the method the request's. */
static const char *cseq_fault(const char *p, size_t n, const char *met, size_t met_l)
{
	size_t i = skip_sws(p, n, 0), s = i;
	uint64_t v;

	while (i < n && is_digit((unsigned char)p[i]))
		i++;
	if (!scalar(p + s, i - s, 10, &v) || v > CSEQ_MAX)
		return "CSeq Out of Range";
	s = i = skip_sws(p, n, i);
	while (i < n && is_token((unsigned char)p[i]))
		i++;
	if (i == s || skip_sws(p, n, i) != n)
		return "Malformed CSeq";
	if (i - s != met_l || memcmp(p + s, met, met_l))
		return "CSeq Method Mismatch";
	return NULL;
}

/* One header of a request, value p..n (folded lines included): what is wrong, or NULL. */
static const char *header_fault(const char *name, size_t name_l, const char *p, size_t n,
				const char *met, size_t met_l, unsigned *viasp)
{
	uint64_t v;

	if (name_is(name, name_l, "Via", "v")) {
		if (!list_ok(p, n, via_ok))
			return "Malformed Via";
		if (!(*viasp)++ && !top_via_ok(p, n))
			return "Via Without Branch";
	}
	else if (name_is(name, name_l, "From", "f") && !addr_ok(p, n))
		return "Malformed From";
	else if (name_is(name, name_l, "To", "t") && !addr_ok(p, n))
		return "Malformed To";
	else if (name_is(name, name_l, "Contact", "m") && !list_ok(p, n, contact_ok))
		return "Malformed Contact";
	else if (name_is(name, name_l, "CSeq", NULL))
		return cseq_fault(p, n, met, met_l);
	else if (name_is(name, name_l, "Max-Forwards", NULL) &&
		 (!scalar(p, n, 10, &v) || v > MAXFWD_MAX))
		return "Max-Forwards Out of Range";
	return NULL;
}

int call_frame_check(const char *p, size_t n, bool datagram, struct call_frame *f)
{
	size_t i, e, cl_n = 0, met_l = 0, name = 0, name_l = 0, vs = 0, ve = 0;
	uint64_t cl = 0;
	unsigned vias = 0;
	bool ended = false;

	if (!p || !f)
		return EINVAL;
	memset(f, 0, sizeof(*f));

	e = line_end(p, n, 0);
	if (e == n || !e || p[e - 1] != '\r') {
		fault(f, 400, e == n ? "Incomplete Message" : "Bare LF");
		return 0;
	}
	start_line(p, e - 1, f);
	if (f->req)
		while (met_l < e && is_token((unsigned char)p[met_l]))
			met_l++;

	for (i = e + 1; i < n; i = e + 1) {
		size_t le, j;

		e = line_end(p, n, i);
		if (e == n) {
			fault(f, 400, "Missing Empty Line");
			break;
		}
		if (e == i || p[e - 1] != '\r') {
			fault(f, 400, "Bare LF");
			break;
		}
		le = e - 1; /* the CR */
		if (memchr(p + i, '\r', le - i)) {
			fault(f, 400, "Bare CR");
			break;
		}
		if (le > i && is_wsp((unsigned char)p[i])) { /* a folded continuation line */
			if (!name_l) {
				fault(f, 400, "Malformed Header Line");
				break;
			}
			if (name_is(p + name, name_l, "Content-Length", "l")) {
				/* parsers disagree on a folded Content-Length */
				fault(f, 400, "Folded Content-Length");
				f->desync = true;
			}
			ve = le;
			continue;
		}
		if (name_l && f->req) {
			const char *why = header_fault(p + name, name_l, p + vs, ve - vs, p, met_l,
						       &vias);

			if (why)
				fault(f, 400, why);
		}
		if (le == i) {
			ended = true;
			f->hdr_len = e + 1;
			break;
		}
		for (j = i; j < le && is_token((unsigned char)p[j]); j++)
			;
		name = i;
		name_l = j - i;
		while (j < le && is_wsp((unsigned char)p[j]))
			j++;
		if (!name_l || j >= le || p[j] != ':') {
			fault(f, 400, "Malformed Header Line");
			break;
		}
		vs = j + 1;
		ve = le;
		if (!name_is(p + name, name_l, "Content-Length", "l"))
			continue;
		if (cl_n++) {
			fault(f, 400, "Multiple Content-Length");
			f->desync = true;
			continue;
		}
		if (e + 1 < n && is_wsp((unsigned char)p[e + 1]))
			continue; /* folded: refused with the continuation line */
		if (!scalar(p + vs, le - vs, CL_DIGITS_MAX, &cl)) {
			size_t k = skip_sws(p + vs, le - vs, 0);

			fault(f, 400, vs + k < le && p[vs + k] == '-' ? "Negative Content-Length"
								       : "Bad Content-Length");
			f->desync = true;
		}
	}
	if (!ended) {
		fault(f, 400, "Missing Empty Line");
		return 0;
	}
	if (datagram) {
		size_t left = n - f->hdr_len;

		if (!cl_n) {
			f->body_len = left;
		}
		else if (cl > left) {
			fault(f, 400, "Content-Length Larger Than Datagram");
			f->desync = true;
		}
		else {
			f->body_len = (size_t)cl;
		}
	}
	else {
		if (!cl_n)
			fault(f, 400, "Missing Content-Length");
		f->body_len = (size_t)cl;
	}
	return 0;
}

/* ---- a stateless answer built from the raw request ----------------------------------- */

static bool echoed(const char *p, size_t n)
{
	return name_is(p, n, "Via", "v") || name_is(p, n, "From", "f") ||
	       name_is(p, n, "To", "t") || name_is(p, n, "Call-ID", "i") ||
	       name_is(p, n, "CSeq", NULL);
}

int call_frame_reply(struct mbuf *mb, const char *p, size_t n, uint16_t scode,
		     const char *reason)
{
	unsigned seen = 0; /* bits: Via, From, To, Call-ID, CSeq */
	size_t i, e;
	int err;

	if (!mb || !p || !reason || scode < 300 || scode > 699)
		return EINVAL;
	e = line_end(p, n, 0);
	err = mbuf_printf(mb, "SIP/2.0 %u %s\r\n", scode, reason);
	for (i = e + 1; !err && i < n; i = e + 1) {
		size_t j, end, name_l;
		bool to;

		e = line_end(p, n, i);
		if (e == n || e == i || p[e - 1] != '\r' || e - 1 == i)
			break; /* the end of the headers, or where they stop making sense */
		for (j = i; j < e && is_token((unsigned char)p[j]); j++)
			;
		name_l = j - i;
		if (!name_l || !echoed(p + i, name_l))
			continue;
		/* the header with its folded continuation lines */
		end = e + 1;
		while (end < n && is_wsp((unsigned char)p[end])) {
			size_t ce = line_end(p, n, end);

			if (ce == n)
				break;
			end = ce + 1;
			e = ce;
		}
		to = name_is(p + i, name_l, "To", "t");
		seen |= name_is(p + i, name_l, "Via", "v") ? 1u :
			name_is(p + i, name_l, "From", "f") ? 2u : to ? 4u :
			name_is(p + i, name_l, "Call-ID", "i") ? 8u : 16u;
		if (to && !has_param(p + i, end - 2 - i, "tag"))
			err = mbuf_printf(mb, "%b;tag=cccd-refused\r\n", p + i, end - 2 - i);
		else
			err = mbuf_write_mem(mb, (const uint8_t *)p + i, end - i);
	}
	err = err ? err : mbuf_write_str(mb, "Content-Length: 0\r\n\r\n");
	if (!err && seen != 31)
		err = ENOENT;
	return err;
}

int call_frame_request(const struct sip_msg *msg, uint16_t *scodep, const char **reasonp)
{
	if (!msg || !scodep || !reasonp)
		return EINVAL;
	*scodep = 0;
	*reasonp = NULL;
	/* RFC 3261 §8.2.2.1: a scheme we do not serve is 416 (RFC 4475 §3.3.2). tel: is
	 * served: carriers address numbers with it (RFC 3966), on INVITEs only. */
	if (msg->req && !sip_scheme(msg->ruri.p, msg->ruri.l) &&
	    !(!pl_strcmp(&msg->met, "INVITE") && msg->ruri.l > 4 &&
	      !strncasecmp(msg->ruri.p, "tel:", 4))) {
		*scodep = 416;
		*reasonp = "Unsupported URI Scheme";
	}
	return 0;
}
