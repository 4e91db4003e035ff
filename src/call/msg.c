/* call: reading what peers send — SIP INFO DTMF bodies, User-to-User, numbers in URIs.
 * Every function here treats its input as hostile: lengths are checked, nothing is
 * assumed NUL-terminated. */
#include <errno.h>
#include <string.h>
#include "call/call_int.h"

static bool key_ok(char c)
{
	return (c >= '0' && c <= '9') || c == '*' || c == '#' || (c >= 'A' && c <= 'D');
}

/* A DTMF signal as written in bodies: one key character, or the event codes 10 ('*') and
 * 11 ('#') some gateways use. */
static int signal_key(struct pl v, char *keyp)
{
	while (v.l && (v.p[0] == ' ' || v.p[0] == '\t'))
		pl_advance(&v, 1);
	while (v.l && (v.p[v.l - 1] == ' ' || v.p[v.l - 1] == '\t' || v.p[v.l - 1] == '\r' ||
		       v.p[v.l - 1] == '\n'))
		v.l--;
	if (v.l == 1) {
		char c = v.p[0];

		if (c >= 'a' && c <= 'd')
			c = (char)(c - 'a' + 'A');
		if (!key_ok(c))
			return EBADMSG;
		*keyp = c;
		return 0;
	}
	if (v.l == 2 && v.p[0] == '1' && (v.p[1] == '0' || v.p[1] == '1')) {
		*keyp = v.p[1] == '0' ? '*' : '#';
		return 0;
	}
	return EBADMSG;
}

int call_info_dtmf(const struct sip_msg *msg, char *keyp)
{
	struct pl body, line;

	if (!msg || !keyp || !msg->mb)
		return EINVAL;
	body.p = (const char *)mbuf_buf(msg->mb);
	body.l = mbuf_get_left(msg->mb);

	if (msg_ctype_cmp(&msg->ctyp, "application", "dtmf"))
		return signal_key(body, keyp);
	if (!msg_ctype_cmp(&msg->ctyp, "application", "dtmf-relay"))
		return ENOTSUP;

	/* Lines of "Name=value"; the first Signal line counts. */
	while (body.l) {
		const char *nl = memchr(body.p, '\n', body.l);
		struct pl name, val;
		const char *eq;

		line.p = body.p;
		line.l = nl ? (size_t)(nl - body.p) : body.l;
		pl_advance(&body, nl ? line.l + 1 : line.l);

		eq = memchr(line.p, '=', line.l);
		if (!eq)
			continue;
		name.p = line.p;
		name.l = (size_t)(eq - line.p);
		while (name.l && (name.p[name.l - 1] == ' ' || name.p[name.l - 1] == '\t'))
			name.l--;
		while (name.l && (name.p[0] == ' ' || name.p[0] == '\t'))
			pl_advance(&name, 1);
		if (pl_strcasecmp(&name, "Signal"))
			continue;
		val.p = eq + 1;
		val.l = (size_t)(line.p + line.l - (eq + 1));
		return signal_key(val, keyp);
	}
	return EBADMSG;
}

int call_uui_hex(const char *uui, char *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = uui ? strlen(uui) : 0;

	if (!out || n > CALL_UUI_MAX || outsz < 2 * n + 1)
		return EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned char b = (unsigned char)uui[i];

		out[2 * i] = hex[b >> 4];
		out[2 * i + 1] = hex[b & 15];
	}
	out[2 * n] = '\0';
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int call_uui_decode(const struct sip_msg *msg, char *out, size_t outsz)
{
	const struct sip_hdr *h;
	struct pl data, enc, params;
	const char *semi;
	size_t n = 0;

	if (!out || !outsz)
		return EINVAL;
	out[0] = '\0';
	h = msg ? sip_msg_xhdr(msg, "User-to-User") : NULL;
	if (!h)
		return 0;
	data = h->val;
	semi = memchr(data.p, ';', data.l);
	if (semi) {
		params.p = semi;
		params.l = data.l - (size_t)(semi - data.p);
		data.l = (size_t)(semi - data.p);
		if (!msg_param_decode(&params, "encoding", &enc) && pl_strcasecmp(&enc, "hex"))
			return EINVAL;
	}
	while (data.l && (data.p[data.l - 1] == ' ' || data.p[data.l - 1] == '\t'))
		data.l--;
	if (data.l % 2 || data.l / 2 >= outsz || data.l / 2 > CALL_UUI_MAX)
		return EINVAL;
	for (size_t i = 0; i < data.l; i += 2) {
		int hi = hexval(data.p[i]), lo = hexval(data.p[i + 1]);
		char c;

		if (hi < 0 || lo < 0)
			return EINVAL;
		c = (char)(hi << 4 | lo);
		if ((unsigned char)c < 0x20 || c == 0x7f)
			return EINVAL; /* text only: it ends up in records and logs */
		out[n++] = c;
	}
	out[n] = '\0';
	return 0;
}

int call_uri_number(const struct uri *uri, char *out, size_t outsz)
{
	struct pl num;
	size_t n = 0;

	if (!uri || !out || !outsz)
		return EINVAL;
	/* tel:+8613800138000 (RFC 3966): libre reads the number as the URI's host */
	num = !pl_strcasecmp(&uri->scheme, "tel") && !pl_isset(&uri->user) ? uri->host :
	      uri->user;
	for (size_t i = 0; i < num.l; i++) {
		char c = num.p[i];

		if (c == '-' || c == '.' || c == '(' || c == ')')
			continue;
		if (n + 1 >= outsz)
			return EINVAL;
		out[n++] = c;
	}
	out[n] = '\0';
	return call_number_ok(out) ? 0 : EINVAL;
}

const char *call_sa_str(const struct sa *sa, char *buf, size_t sz)
{
	if (re_snprintf(buf, sz, "%J", sa) < 0 && sz)
		buf[0] = '\0';
	return buf;
}
