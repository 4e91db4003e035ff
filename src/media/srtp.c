/* media: SRTP and SRTCP protection of one stream's packets, on libre's srtp (RFC 3711,
 * AES-CM-128 with HMAC-SHA1 tags of 80 or 32 bits).
 *
 * A stream's two contexts (cccd's key for what it sends, the peer's for what it receives)
 * are made, used and freed by the stream's worker thread alone: libre's objects count
 * their references without atomics, so they never cross threads. The keys reach the
 * worker by value in the start command. Packets are protected in place in the buffers the
 * worker already has, which keep MEDIA_SRTP_ROOM spare bytes for the tag (libre writes the
 * rollover counter and the tag behind the packet, and would reallocate a buffer that had no
 * room: these buffers are not libre's, so the room is checked first). */
#include <errno.h>
#include <string.h>
#include "media/media_int.h"

static enum srtp_suite suite_of(enum media_srtp_suite s)
{
	return s == MEDIA_SRTP_AES_CM_128_HMAC_SHA1_32 ? SRTP_AES_CM_128_HMAC_SHA1_32 :
							 SRTP_AES_CM_128_HMAC_SHA1_80;
}

void media_srtp_clear(struct media_srtp_ctx *c)
{
	c->tx = mem_deref(c->tx);
	c->rx = mem_deref(c->rx);
	memset(&c->keys, 0, sizeof(c->keys));
}

int media_srtp_set(struct media_srtp_ctx *c, const struct media_srtp *p)
{
	int err;

	if (c->tx && !memcmp(p, &c->keys, sizeof(*p)))
		return 0; /* a refresh: the contexts (and their rollover counters) go on */
	media_srtp_clear(c);
	if (p->suite == MEDIA_SRTP_NONE)
		return 0;
	err = srtp_alloc(&c->tx, suite_of(p->suite), p->tx_key, MEDIA_SRTP_KEY_LEN, 0);
	err = err ? err : srtp_alloc(&c->rx, suite_of(p->suite), p->rx_key,
				     MEDIA_SRTP_KEY_LEN, 0);
	if (err) {
		media_srtp_clear(c);
		/* remembered as asked for, with no contexts: every packet is refused below */
		c->keys.suite = p->suite;
		return err;
	}
	c->keys = *p;
	return 0;
}

int media_srtp_protect(struct media_srtp_ctx *c, bool rtcp, uint8_t *pkt, size_t *len,
		       size_t cap)
{
	struct mbuf mb = {.buf = pkt, .size = cap, .pos = 0, .end = *len};
	int err;

	if (!c->tx)
		return c->keys.suite == MEDIA_SRTP_NONE ? 0 : EPERM;
	if (*len + MEDIA_SRTP_ROOM > cap)
		return ENOSPC;
	err = rtcp ? srtcp_encrypt(c->tx, &mb) : srtp_encrypt(c->tx, &mb);
	if (!err)
		*len = mb.end;
	return err;
}

int media_srtp_unprotect(struct media_srtp_ctx *c, bool rtcp, uint8_t *pkt, size_t *len)
{
	struct mbuf mb = {.buf = pkt, .size = *len, .pos = 0, .end = *len};
	int err;

	if (!c->rx)
		return c->keys.suite == MEDIA_SRTP_NONE ? 0 : EPERM;
	err = rtcp ? srtcp_decrypt(c->rx, &mb) : srtp_decrypt(c->rx, &mb);
	if (!err)
		*len = mb.end;
	return err;
}
