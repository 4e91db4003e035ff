/* rtp: the RTP (RFC 3550), RTCP and RFC 4733 telephone-event wire formats.
 *
 * Parsed here rather than with libre's rtp_hdr_decode because the workers read packets
 * straight out of recvmmsg buffers: a bounds-checked walk over a byte array needs no mbuf
 * and is the one piece fuzz/fuzz_rtp.c has to cover. */
#include <errno.h>
#include <string.h>
#include "media/media_int.h"

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int media_rtp_parse(const uint8_t *buf, size_t len, struct media_rtp *p)
{
	size_t hlen, pad = 0;
	unsigned cc;

	if (!buf || !p || len < 12 || (buf[0] >> 6) != 2)
		return EBADMSG;
	cc = buf[0] & 0x0F;
	hlen = 12 + 4 * (size_t)cc;
	if (len < hlen)
		return EBADMSG;
	if (buf[0] & 0x10) { /* header extension: 4 bytes + length words */
		if (len < hlen + 4)
			return EBADMSG;
		hlen += 4 + 4 * (size_t)rd16(buf + hlen + 2);
		if (len < hlen)
			return EBADMSG;
	}
	if (buf[0] & 0x20) { /* padding: the last byte counts it, itself included */
		pad = buf[len - 1];
		if (pad == 0 || pad > len - hlen)
			return EBADMSG;
	}
	/* RTCP on the RTP port (RFC 5761 demultiplexing: payload types 72-76 are RTCP). */
	if ((buf[1] & 0x7F) >= 72 && (buf[1] & 0x7F) <= 76)
		return EBADMSG;
	p->marker = buf[1] & 0x80;
	p->pt = buf[1] & 0x7F;
	p->seq = rd16(buf + 2);
	p->ts = rd32(buf + 4);
	p->ssrc = rd32(buf + 8);
	p->payload = buf + hlen;
	p->plen = len - hlen - pad;
	return 0;
}

size_t media_rtp_header(uint8_t *buf, bool marker, uint8_t pt, uint16_t seq, uint32_t ts,
			uint32_t ssrc)
{
	buf[0] = 0x80;
	buf[1] = (uint8_t)((marker ? 0x80 : 0) | (pt & 0x7F));
	wr16(buf + 2, seq);
	wr32(buf + 4, ts);
	wr32(buf + 8, ssrc);
	return 12;
}

int media_telev_parse(const uint8_t *buf, size_t len, struct media_telev *t)
{
	if (!buf || !t || len < 4)
		return EBADMSG;
	t->event = buf[0];
	t->end = buf[1] & 0x80;
	t->volume = buf[1] & 0x3F;
	t->duration = rd16(buf + 2);
	return 0;
}

void media_telev_write(uint8_t out[4], const struct media_telev *t)
{
	out[0] = t->event;
	out[1] = (uint8_t)((t->end ? 0x80 : 0) | (t->volume & 0x3F));
	wr16(out + 2, t->duration);
}

static const char telev_keys[] = "0123456789*#ABCD";

char media_telev_key(uint8_t event)
{
	return event < 16 ? telev_keys[event] : 0;
}

int media_telev_event(char key)
{
	const char *p;

	if (key >= 'a' && key <= 'd')
		key = (char)(key - 'a' + 'A');
	p = key ? strchr(telev_keys, key) : NULL;
	return p ? (int)(p - telev_keys) : -1;
}

bool media_telev_rx(struct media_telev_rx *rx, uint32_t rtp_ts, const struct media_telev *t,
		     char *keyp)
{
	char key = media_telev_key(t->event);

	if (!key)
		return false;
	/* Same timestamp: a continuation or a repeated end packet of the event already
	 * reported. An older timestamp: a late packet of an earlier event. Neither is new. */
	if (rx->seen && (int32_t)(rtp_ts - rx->ts) <= 0)
		return false;
	rx->seen = true;
	rx->ts = rtp_ts;
	*keyp = key;
	return true;
}

int media_rtcp_parse(const uint8_t *buf, size_t len, struct media_rtcp_info *info)
{
	size_t off = 0;

	if (!buf || !info || len < 4)
		return EBADMSG;
	memset(info, 0, sizeof(*info));
	while (off < len) {
		const uint8_t *h = buf + off;
		size_t plen;
		unsigned count, pt;

		if (len - off < 4 || (h[0] >> 6) != 2)
			return EBADMSG;
		count = h[0] & 0x1F;
		pt = h[1];
		plen = 4 * ((size_t)rd16(h + 2) + 1);
		if (plen > len - off)
			return EBADMSG;
		if (pt < 192 || pt > 223)
			return EBADMSG;
		if (pt == 200) { /* SR: ssrc, ntp(8), rtp ts, pkts, octets, blocks */
			if (plen < 28 + 24 * (size_t)count)
				return EBADMSG;
			info->sr = true;
			info->sr_ssrc = rd32(h + 4);
			info->sr_ntp_mid = (uint32_t)(rd32(h + 8) << 16 | rd32(h + 12) >> 16);
		} else if (pt == 201) {
			if (plen < 8 + 24 * (size_t)count)
				return EBADMSG;
		} else if (pt == 203) {
			if (plen < 4 + 4 * (size_t)count)
				return EBADMSG;
			info->bye = true;
		}
		info->packets++;
		off += plen;
	}
	return 0;
}

size_t media_rtcp_write(uint8_t *buf, size_t sz, const struct media_rtcp_report *r)
{
	size_t n = 0, cn = r->cname ? strlen(r->cname) : 0, sdes_len, len;

	if (cn > 255)
		cn = 255;
	len = (r->sender ? 28 : 8) + (r->has_block ? 24 : 0);
	sdes_len = (8 + 2 + cn + 1 + 3) & ~(size_t)3; /* header+ssrc, item, END, pad */
	if (sz < len + sdes_len + (r->bye ? 8 : 0))
		return 0;

	buf[0] = (uint8_t)(0x80 | (r->has_block ? 1 : 0));
	buf[1] = r->sender ? 200 : 201;
	wr16(buf + 2, (uint16_t)(len / 4 - 1));
	wr32(buf + 4, r->ssrc);
	n = 8;
	if (r->sender) {
		wr32(buf + 8, (uint32_t)(r->ntp >> 32));
		wr32(buf + 12, (uint32_t)r->ntp);
		wr32(buf + 16, r->rtp_ts);
		wr32(buf + 20, r->pkts);
		wr32(buf + 24, r->octets);
		n = 28;
	}
	if (r->has_block) {
		int32_t lost = r->lost;

		if (lost > 0x7FFFFF)
			lost = 0x7FFFFF;
		if (lost < -0x800000)
			lost = -0x800000;
		wr32(buf + n, r->peer_ssrc);
		wr32(buf + n + 4, (uint32_t)r->fraction << 24 | ((uint32_t)lost & 0xFFFFFF));
		wr32(buf + n + 8, r->ext_seq);
		wr32(buf + n + 12, r->jitter);
		wr32(buf + n + 16, r->lsr);
		wr32(buf + n + 20, r->dlsr);
		n += 24;
	}
	/* SDES with one chunk: our SSRC and its CNAME, then END and zero padding. */
	memset(buf + n, 0, sdes_len);
	buf[n] = 0x81;
	buf[n + 1] = 202;
	wr16(buf + n + 2, (uint16_t)(sdes_len / 4 - 1));
	wr32(buf + n + 4, r->ssrc);
	buf[n + 8] = 1;
	buf[n + 9] = (uint8_t)cn;
	memcpy(buf + n + 10, r->cname ? r->cname : "", cn);
	n += sdes_len;
	if (r->bye) {
		buf[n] = 0x81;
		buf[n + 1] = 203;
		wr16(buf + n + 2, 1);
		wr32(buf + n + 4, r->ssrc);
		n += 8;
	}
	return n;
}
