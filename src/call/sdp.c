/* call: SDP offer/answer for one audio stream (PCMU, PCMA, G.722, Opus and telephone-event)
 * on libre's sdp.
 *
 * Which codec. Our offer lists the configured codecs in preference order; the answerer
 * chooses (RFC 3264), so with an answer we take its first codec we know. Answering an
 * offer we choose: the first of OUR preference the offer has, whatever its order — the
 * operator's list ([media] codecs) says what this engine wants on its trunks — and answer
 * with that codec alone (plus telephone-event at its clock rate), so the peer cannot switch
 * codec mid-call to another one it saw in the answer. */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include "base/base.h"
#include "call/call_int.h"

/* Opus as RFC 7587 has it: always opus/48000/2 in SDP. The fmtp says what cccd's audio
 * is (8 kHz mono inside, codec.c), so a peer need not spend bits above it, and that it
 * takes in-band FEC. */
static const char opus_fmtp[] = "maxplaybackrate=8000;sprop-maxcapturerate=8000;"
				"stereo=0;sprop-stereo=0;useinbandfec=1";

enum { OPUS_PT = 111, TELEV_PT = 101, TELEV48_PT = 102 };

void call_sdp_close(struct call_sdp *s)
{
	s->audio = NULL; /* owned by the session */
	s->sess = mem_deref(s->sess);
	memset(s->key, 0, sizeof(s->key));
}

static int format_add(struct sdp_media *m, enum media_codec c)
{
	switch (c) {
	case MEDIA_PCMA:
		return sdp_format_add(NULL, m, false, "8", "PCMA", 8000, 1, NULL, NULL, NULL,
				      false, NULL);
	case MEDIA_G722:
		return sdp_format_add(NULL, m, false, "9", "G722", 8000, 1, NULL, NULL, NULL,
				      false, NULL);
	case MEDIA_OPUS:
		return sdp_format_add(NULL, m, false, "111", "opus", 48000, 2, NULL, NULL, NULL,
				      false, "%s", opus_fmtp);
	default:
		return sdp_format_add(NULL, m, false, "0", "PCMU", 8000, 1, NULL, NULL, NULL,
				      false, NULL);
	}
}

/* ---- SDES (RFC 4568) -------------------------------------------------------------------
 * cccd offers one a=crypto line, tag 1, AES_CM_128_HMAC_SHA1_80 (the suite every SDES
 * implementation has), and answers an offer with the first of its lines whose suite it
 * knows (AES_CM_128_HMAC_SHA1_80 or _32) and whose key it can use: a single inline key of
 * 30 bytes, no MKI, no session parameters (UNENCRYPTED_SRTP and the like would weaken
 * what the trunk asked for). The answer repeats the offer's tag and suite with cccd's own
 * key. Keys are per call, random, and never logged. */

enum { CRYPTO_TAG_OFFER = 1 };

struct crypto_pick {
	bool offer;                    /* reading an offer (else the answer to ours) */
	bool found;
	unsigned tag;
	enum media_srtp_suite suite;
	uint8_t key[MEDIA_SRTP_KEY_LEN];
};

static const char *suite_name(enum media_srtp_suite s)
{
	return s == MEDIA_SRTP_AES_CM_128_HMAC_SHA1_32 ? "AES_CM_128_HMAC_SHA1_32" :
							 "AES_CM_128_HMAC_SHA1_80";
}

static bool crypto_line(const char *name, const char *value, void *arg)
{
	struct crypto_pick *pk = arg;
	struct pl tag, suite, key, rest;
	size_t klen = sizeof(pk->key);
	enum media_srtp_suite s;
	uint8_t k[64];

	(void)name;
	if (re_regex(value, strlen(value), "[0-9]+[ \t]+[^ \t]+[ \t]+inline:[^ \t|]+[^]*",
		     &tag, NULL, &suite, NULL, &key, &rest))
		return false;
	if (!pl_strcmp(&suite, "AES_CM_128_HMAC_SHA1_80"))
		s = MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80;
	else if (!pl_strcmp(&suite, "AES_CM_128_HMAC_SHA1_32"))
		s = MEDIA_SRTP_AES_CM_128_HMAC_SHA1_32;
	else
		return false;
	/* a lifetime is allowed ("|2^31"); an MKI ("|1:4") or session parameters are not */
	if (rest.l && (rest.p[0] != '|' || pl_strchr(&rest, ':') || pl_strchr(&rest, ' ') ||
		       pl_strchr(&rest, '\t') || pl_strchr(&rest, '|') != rest.p ||
		       memchr(rest.p + 1, '|', rest.l - 1)))
		return false;
	klen = sizeof(k);
	if (base64_decode(key.p, key.l, k, &klen) || klen != MEDIA_SRTP_KEY_LEN)
		return false;
	if (!pk->offer && (pl_u32(&tag) != CRYPTO_TAG_OFFER ||
			   s != MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80))
		return false; /* an answer takes up what we offered, nothing else */
	pk->found = true;
	pk->tag = pl_u32(&tag);
	pk->suite = s;
	memcpy(pk->key, k, sizeof(pk->key));
	memset(k, 0, sizeof(k));
	return true;
}

static int crypto_lattr(struct sdp_media *m, unsigned tag, enum media_srtp_suite suite,
			const uint8_t *key)
{
	char b64[64];
	size_t n = sizeof(b64) - 1;
	int err = base64_encode(key, MEDIA_SRTP_KEY_LEN, b64, &n);

	if (err)
		return err;
	b64[n] = '\0';
	err = sdp_media_set_lattr(m, true, "crypto", "%u %s inline:%s", tag, suite_name(suite),
				  b64);
	memset(b64, 0, sizeof(b64));
	return err;
}

/* After the codecs are settled: the keys of the media, or EACCES (call_sdp_decode). */
static int crypto_settle(struct call_sdp *s, bool offer, struct call_media_params *mp)
{
	struct crypto_pick pk = {.offer = offer};
	bool savp = !strcmp(sdp_media_proto(s->audio), sdp_proto_rtpsavp);
	int err;

	memset(&mp->srtp, 0, sizeof(mp->srtp));
	if (s->srtp == CALL_SRTP_OFF)
		return offer && savp ? EACCES : 0; /* an RTP/SAVP offer to a plain trunk */
	(void)sdp_media_rattr_apply(s->audio, "crypto", crypto_line, &pk);
	if (!pk.found) {
		if (s->srtp == CALL_SRTP_REQUIRED || (offer && savp))
			return EACCES;
		if (offer) /* optional: plain RTP, and an answer without a key */
			sdp_media_del_lattr(s->audio, "crypto");
		return 0;
	}
	if (offer) {
		err = crypto_lattr(s->audio, pk.tag, pk.suite, s->key);
		if (err)
			return err;
	}
	mp->srtp.suite = pk.suite;
	memcpy(mp->srtp.tx_key, s->key, MEDIA_SRTP_KEY_LEN);
	memcpy(mp->srtp.rx_key, pk.key, MEDIA_SRTP_KEY_LEN);
	memset(pk.key, 0, sizeof(pk.key));
	return 0;
}

int call_sdp_init(struct call_sdp *s, const struct sa *laddr, const enum media_codec *codecs,
		  unsigned ncodecs, enum call_srtp srtp)
{
	bool narrow = false, wide = false;
	int err;

	memset(s, 0, sizeof(*s));
	if (!ncodecs || ncodecs > MEDIA_CODECS_MAX)
		return EINVAL;
	memcpy(s->prefer, codecs, ncodecs * sizeof(*codecs));
	s->nprefer = ncodecs;
	s->srtp = srtp;
	err = sdp_session_alloc(&s->sess, laddr);
	err = err ? err : sdp_media_add(&s->audio, s->sess, sdp_media_audio, sa_port(laddr),
					srtp == CALL_SRTP_REQUIRED ? sdp_proto_rtpsavp :
					sdp_proto_rtpavp);
	/* either profile is taken in an offer; crypto_settle decides what it may carry */
	if (!err && srtp != CALL_SRTP_OFF)
		err = sdp_media_set_alt_protos(s->audio, 2, sdp_proto_rtpavp, sdp_proto_rtpsavp);
	if (!err && srtp != CALL_SRTP_OFF)
		err = ids_random(s->key, sizeof(s->key));
	if (!err && srtp != CALL_SRTP_OFF)
		err = crypto_lattr(s->audio, CRYPTO_TAG_OFFER, MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80,
				   s->key);
	for (unsigned i = 0; !err && i < ncodecs; i++) {
		err = format_add(s->audio, codecs[i]);
		if (media_codec_clock(codecs[i]) == 8000)
			narrow = true;
		else
			wide = true;
	}
	/* RFC 4733 events run at the clock of the codec they go with: one telephone-event
	 * for each clock rate offered. */
	if (!err && narrow)
		err = sdp_format_add(NULL, s->audio, false, "101", "telephone-event", 8000, 1,
				     NULL, NULL, NULL, false, "0-15");
	if (!err && wide)
		err = sdp_format_add(NULL, s->audio, false, "102", "telephone-event", 48000, 1,
				     NULL, NULL, NULL, false, "0-15");
	err = err ? err : sdp_media_set_lattr(s->audio, true, "ptime", "20");
	if (err)
		call_sdp_close(s);
	return err;
}

int call_sdp_encode(struct call_sdp *s, bool offer, struct mbuf **mbp)
{
	if (!s->sess)
		return EINVAL;
	return sdp_encode(mbp, s->sess, offer);
}

/* The codec of a format we could use: G.711 and G.722 by their static payload type (a
 * name is optional for them), Opus by name and clock rate. */
static bool format_codec(const struct sdp_format *f, enum media_codec *cp)
{
	if (!f->sup)
		return false;
	if (f->pt == MEDIA_PCMU || f->pt == MEDIA_PCMA || f->pt == MEDIA_G722) {
		*cp = (enum media_codec)f->pt;
		return true;
	}
	if (f->pt >= 96 && f->pt < 128 && f->name && !strcasecmp(f->name, "opus") &&
	    f->srate == 48000) {
		*cp = MEDIA_OPUS;
		return true;
	}
	return false;
}

static bool preferred(const struct call_sdp *s, enum media_codec c)
{
	for (unsigned i = 0; i < s->nprefer; i++) {
		if (s->prefer[i] == c)
			return true;
	}
	return false;
}

/* The remote format to use: in an answer its first one we know; in an offer the first of
 * our preference it has. */
static const struct sdp_format *choose(const struct call_sdp *s, bool offer,
				       enum media_codec *cp)
{
	const struct list *lst = sdp_media_format_lst(s->audio, false);
	enum media_codec c;

	for (unsigned i = 0; offer && i < s->nprefer; i++) {
		for (struct le *le = lst ? lst->head : NULL; le; le = le->next) {
			if (format_codec(le->data, &c) && c == s->prefer[i]) {
				*cp = c;
				return le->data;
			}
		}
	}
	for (struct le *le = lst ? lst->head : NULL; !offer && le; le = le->next) {
		if (format_codec(le->data, &c) && preferred(s, c)) {
			*cp = c;
			return le->data;
		}
	}
	return NULL;
}

static const struct sdp_format *telev_find(const struct call_sdp *s, unsigned clock)
{
	const struct list *lst = sdp_media_format_lst(s->audio, false);

	for (struct le *le = lst ? lst->head : NULL; le; le = le->next) {
		const struct sdp_format *f = le->data;

		if (f->sup && f->name && !strcasecmp(f->name, "telephone-event") &&
		    f->srate == clock && f->pt >= 96 && f->pt < 128)
			return f;
	}
	return NULL;
}

/* Our answer carries the chosen codec and its telephone-event only. libre marked every
 * format both sides have as supported; the others are unmarked here (the next decode
 * marks them afresh). */
static void answer_narrow(struct call_sdp *s, const struct sdp_format *fmt,
			  const struct sdp_format *telev)
{
	const struct list *lst = sdp_media_format_lst(s->audio, true);

	for (struct le *le = lst ? lst->head : NULL; le; le = le->next) {
		struct sdp_format *f = le->data;

		if (f->pt != fmt->pt && (!telev || f->pt != telev->pt))
			f->sup = false;
	}
}

int call_sdp_decode(struct call_sdp *s, struct mbuf *body, bool offer,
		    struct call_media_params *mp)
{
	const struct sdp_format *fmt, *telev;
	const struct sa *raddr;
	enum media_codec codec = MEDIA_PCMU;
	enum sdp_dir dir;
	int err;

	if (!s->sess || !body || !mbuf_get_left(body))
		return EPROTO;
	err = sdp_decode(s->sess, body, offer);
	if (err)
		return err == ENOMEM ? ENOMEM : EPROTO;

	fmt = choose(s, offer, &codec);
	raddr = sdp_media_raddr(s->audio);
	if (!fmt || !raddr || !sa_port(raddr))
		return EPROTO;
	mp->codec = codec;
	mp->pt = fmt->pt;
	telev = telev_find(s, media_codec_clock(codec));
	mp->telev_pt = telev ? telev->pt : -1;
	if (offer)
		answer_narrow(s, fmt, telev);
	err = crypto_settle(s, offer, mp);
	if (err)
		return err;
	mp->remote = *raddr;
	dir = sdp_media_dir(s->audio);
	/* RFC 3264 hold is sendonly/inactive; the older form is c=0.0.0.0 (the caller keeps
	 * the previous remote address then). */
	mp->hold = !(dir & SDP_SENDONLY) || !sa_isset(raddr, SA_ADDR);
	return 0;
}
