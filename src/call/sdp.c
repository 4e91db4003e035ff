/* call: SDP offer/answer for one audio stream (G.711 and telephone-event) on libre's sdp. */
#include <errno.h>
#include <string.h>
#include "call/call_int.h"

void call_sdp_close(struct call_sdp *s)
{
	s->audio = NULL; /* owned by the session */
	s->sess = mem_deref(s->sess);
}

int call_sdp_init(struct call_sdp *s, const struct sa *laddr, const enum media_codec *codecs,
		  unsigned ncodecs)
{
	int err;

	memset(s, 0, sizeof(*s));
	err = sdp_session_alloc(&s->sess, laddr);
	err = err ? err : sdp_media_add(&s->audio, s->sess, sdp_media_audio, sa_port(laddr),
					sdp_proto_rtpavp);
	for (unsigned i = 0; !err && i < ncodecs && i < 2; i++) {
		bool ulaw = codecs[i] == MEDIA_PCMU;

		err = sdp_format_add(NULL, s->audio, false, ulaw ? "0" : "8",
				     ulaw ? "PCMU" : "PCMA", 8000, 1, NULL, NULL, NULL, false,
				     NULL);
	}
	err = err ? err : sdp_format_add(NULL, s->audio, false, "101", "telephone-event", 8000,
					 1, NULL, NULL, NULL, false, "0-15");
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

int call_sdp_decode(struct call_sdp *s, struct mbuf *body, bool offer,
		    struct call_media_params *mp)
{
	const struct sdp_format *fmt, *telev;
	const struct list *lst;
	const struct sa *raddr;
	enum sdp_dir dir;
	struct le *le;
	int err;

	if (!s->sess || !body || !mbuf_get_left(body))
		return EPROTO;
	err = sdp_decode(s->sess, body, offer);
	if (err)
		return err == ENOMEM ? ENOMEM : EPROTO;

	/* The first remote format we share, in the peer's order, that is a voice codec (the
	 * static payload types 0 and 8: a name is optional for them). */
	fmt = NULL;
	lst = sdp_media_format_lst(s->audio, false);
	for (le = lst ? lst->head : NULL; le; le = le->next) {
		const struct sdp_format *f = le->data;

		if (f->sup && (f->pt == MEDIA_PCMU || f->pt == MEDIA_PCMA)) {
			fmt = f;
			break;
		}
	}
	raddr = sdp_media_raddr(s->audio);
	if (!fmt || !raddr || !sa_port(raddr))
		return EPROTO;
	mp->codec = fmt->pt == MEDIA_PCMA ? MEDIA_PCMA : MEDIA_PCMU;
	telev = sdp_media_rformat(s->audio, "telephone-event");
	mp->telev_pt = telev && telev->pt >= 96 && telev->pt < 128 ? telev->pt : -1;
	mp->remote = *raddr;
	dir = sdp_media_dir(s->audio);
	/* RFC 3264 hold is sendonly/inactive; the older form is c=0.0.0.0 (the caller keeps
	 * the previous remote address then). */
	mp->hold = !(dir & SDP_SENDONLY) || !sa_isset(raddr, SA_ADDR);
	return 0;
}
