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

int call_sdp_init(struct call_sdp *s, const struct sa *laddr, const enum media_codec *codecs,
		  unsigned ncodecs)
{
	bool narrow = false, wide = false;
	int err;

	memset(s, 0, sizeof(*s));
	if (!ncodecs || ncodecs > MEDIA_CODECS_MAX)
		return EINVAL;
	memcpy(s->prefer, codecs, ncodecs * sizeof(*codecs));
	s->nprefer = ncodecs;
	err = sdp_session_alloc(&s->sess, laddr);
	err = err ? err : sdp_media_add(&s->audio, s->sess, sdp_media_audio, sa_port(laddr),
					sdp_proto_rtpavp);
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
	mp->remote = *raddr;
	dir = sdp_media_dir(s->audio);
	/* RFC 3264 hold is sendonly/inactive; the older form is c=0.0.0.0 (the caller keeps
	 * the previous remote address then). */
	mp->hold = !(dir & SDP_SENDONLY) || !sa_isset(raddr, SA_ADDR);
	return 0;
}
