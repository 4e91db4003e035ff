/* screen: refusing malformed SIP on libre's sockets, before libre's parser where it can.
 *
 * UDP: a helper on each SIP UDP socket sees every datagram before libre decodes it. What
 * frame.c refuses is answered statelessly (400 naming the fault, 505 for another SIP
 * version) from the request's own Via/From/To/Call-ID/CSeq lines, or dropped when those
 * are missing (no response could be addressed) and when it is a response; what it accepts
 * is cut to its Content-Length, as RFC 3261 §18.3 says, so libre never reads trailing
 * octets as body. libre 1.1.0 gives no access to a transport's socket but hands it in
 * every message it decodes (sip_msg.sock), so the helper is attached from the first
 * message seen on that socket; call_screen_probe makes that first message our own,
 * sent right after the socket opens.
 *
 * TCP: libre frames the stream itself and its connections are out of reach, so requests
 * are judged once decoded, here in the first listener. A framing fault on a stream (a
 * negative, duplicated or folded Content-Length) leaves the rest of the stream ambiguous:
 * it is answered 400, every further message libre parses from that connection in the same
 * turn of the loop is dropped, and the connection is shut down (found by its addresses)
 * so that libre closes it. A message libre cannot decode at all closes the connection
 * inside libre, unanswered.
 *
 * The UDP helper also shows every outgoing datagram to call_screen_on_send's handler: the
 * user agent puts its advertised address into the Via there (via.c).
 *
 * Every decoded request, whatever the transport, is judged again in the first listener
 * (a UDP datagram may have arrived before the helper was attached) and asked
 * call_frame_request (416 for a scheme cccd does not serve). Refusals are stateless: a
 * flood of bad messages costs a parse and a send each, nothing kept. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "base/base.h"
#include "call/call_int.h"
#include "metrics/metrics.h"

enum {
	SCREEN_LAYER = -1000, /* before any other helper libre might add */
	REPLY_BYTES  = 1024,
};

/* Owner: its call_screen (list udps). */
struct screen_udp {
	struct le le;
	struct call_screen *scr;
	struct udp_sock *us;        /* a reference */
	struct udp_helper *uh;
};

/* Owner: whoever called call_screen_alloc (the user agent). */
struct call_screen {
	struct sip *sip;            /* not owned */
	struct sip_lsnr *lsnr_req, *lsnr_resp;
	struct list udps;
	struct list cut;            /* struct screen_cut: TCP connections refused this turn */
	struct tmr cut_tmr;
	uint64_t log_ms;
	unsigned refused;           /* since the last log line */
	call_screen_send_h *sendh;  /* outgoing datagrams (NAT: via.c) */
	void *send_arg;
};

/* A connection whose framing was refused; holds a reference so that no other connection
 * takes its address until the loop turn ends. Owner: its call_screen (list cut). */
struct screen_cut {
	struct le le;
	void *sock;
};

static void udp_destructor(void *arg)
{
	struct screen_udp *su = arg;

	list_unlink(&su->le);
	su->uh = mem_deref(su->uh);
	su->us = mem_deref(su->us);
}

static void cut_destructor(void *arg)
{
	struct screen_cut *c = arg;

	list_unlink(&c->le);
	mem_deref(c->sock);
}

static void screen_destructor(void *arg)
{
	struct call_screen *scr = arg;

	tmr_cancel(&scr->cut_tmr);
	list_flush(&scr->cut);
	list_flush(&scr->udps);
	scr->lsnr_req = mem_deref(scr->lsnr_req);
	scr->lsnr_resp = mem_deref(scr->lsnr_resp);
}

/* At most one log line a second, with the count and the latest fault. */
static void refused(struct call_screen *scr, const char *tp, const struct sa *src,
		    uint16_t scode, const char *reason)
{
	uint64_t now = clock_mono_ms();
	char sab[64];

	scr->refused++;
	metrics_sip_malformed();
	if (now - scr->log_ms < 1000)
		return;
	log_info("call", "malformed SIP refused: %u in the last second or more, the latest "
		 "over %s from %s: %u %s", scr->refused, tp, call_sa_str(src, sab, sizeof(sab)),
		 scode, reason);
	scr->log_ms = now;
	scr->refused = 0;
}

/* ---- UDP: before libre's parser ------------------------------------------------------ */

static bool sip_start(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool udp_recv(struct sa *src, struct mbuf *mb, void *arg)
{
	struct screen_udp *su = arg;
	const char *p = (const char *)mbuf_buf(mb);
	size_t n = mbuf_get_left(mb);
	struct call_frame f;
	struct mbuf *out;

	/* keep-alives and STUN are libre's (it ignores 4 bytes or less and reads STUN) */
	if (n <= 4 || !sip_start((unsigned char)p[0]) || call_frame_check(p, n, true, &f))
		return false;
	if (!f.scode) {
		mb->end = mb->pos + f.hdr_len + f.body_len;
		return false;
	}
	/* A response is never answered; it is dropped when its bounds or status are in doubt,
	 * and otherwise left to libre as before (a sloppy trunk's bare LFs must not fail
	 * calls: libre reads them, and nothing of a response is forwarded). */
	if (!f.req && !f.desync && strcmp(f.reason, CALL_FRAME_BAD_STATUS))
		return false;
	refused(su->scr, "udp", src, f.scode, f.reason);
	if (!f.req)
		return true;
	out = mbuf_alloc(REPLY_BYTES);
	if (out && !call_frame_reply(out, p, n, f.scode, f.reason)) {
		out->pos = 0;
		(void)udp_send(su->us, src, out);
	}
	mem_deref(out);
	return true;
}

static bool udp_sending(int *err, struct sa *dst, struct mbuf *mb, void *arg)
{
	struct screen_udp *su = arg;
	struct sa laddr;

	(void)err;
	if (su->scr->sendh && !udp_local_get(su->us, &laddr))
		su->scr->sendh(&laddr, dst, mb, su->scr->send_arg);
	return false; /* libre sends it */
}

void call_screen_on_send(struct call_screen *scr, call_screen_send_h *h, void *arg)
{
	scr->sendh = h;
	scr->send_arg = arg;
}

static void udp_attach(struct call_screen *scr, const struct sip_msg *msg)
{
	struct screen_udp *su;
	struct le *le;

	if (msg->tp != SIP_TRANSP_UDP || !msg->sock)
		return;
	for (le = scr->udps.head; le; le = le->next) {
		su = le->data;
		if (su->us == msg->sock)
			return;
	}
	su = mem_zalloc(sizeof(*su), udp_destructor);
	if (!su)
		return;
	su->scr = scr;
	su->us = mem_ref(msg->sock);
	if (udp_register_helper(&su->uh, su->us, SCREEN_LAYER, udp_sending, udp_recv, su)) {
		mem_deref(su);
		return;
	}
	list_append(&scr->udps, &su->le, su);
}

int call_screen_probe(const struct sa *laddr)
{
	static const char probe[] =
		"SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-cccd-screen-probe\r\n"
		"From: <sip:probe@invalid>;tag=probe\r\n"
		"To: <sip:probe@invalid>;tag=probe\r\n"
		"Call-ID: cccd-screen-probe\r\n"
		"CSeq: 1 OPTIONS\r\n"
		"Content-Length: 0\r\n\r\n";
	struct sa dst = *laddr;
	int fd, err = 0;

	if (sa_is_any(&dst))
		(void)sa_set_str(&dst, sa_af(laddr) == AF_INET6 ? "::1" : "127.0.0.1",
				 sa_port(laddr));
	fd = socket(sa_af(&dst), SOCK_DGRAM, 0);
	if (fd < 0)
		return errno;
	if (sendto(fd, probe, sizeof(probe) - 1, 0, &dst.u.sa, dst.len) < 0)
		err = errno;
	(void)close(fd);
	return err;
}

/* ---- TCP and every decoded request ---------------------------------------------------- */

static void cut_clear(void *arg)
{
	struct call_screen *scr = arg;

	list_flush(&scr->cut);
}

static bool is_cut(const struct call_screen *scr, const void *sock)
{
	for (struct le *le = scr->cut.head; le; le = le->next) {
		const struct screen_cut *c = le->data;

		if (c->sock == sock)
			return true;
	}
	return false;
}

static void cut(struct call_screen *scr, const struct sip_msg *msg)
{
	struct screen_cut *c = mem_zalloc(sizeof(*c), cut_destructor);
	int fd;

	if (c) {
		c->sock = mem_ref(msg->sock);
		list_append(&scr->cut, &c->le, c);
		tmr_start(&scr->cut_tmr, 0, cut_clear, scr);
	}
	/* libre reads the shut-down socket's end and closes the connection itself; the 400
	 * already queued is still sent before the FIN */
	fd = call_sock_find(SOCK_STREAM, &msg->dst, &msg->src);
	if (fd >= 0)
		(void)shutdown(fd, SHUT_RDWR);
}

static bool screen_request(const struct sip_msg *msg, void *arg)
{
	struct call_screen *scr = arg;
	bool stream = msg->tp != SIP_TRANSP_UDP;
	const char *start = msg->met.p;
	const char *reason = NULL;
	struct call_frame f;
	uint16_t scode = 0;
	bool desync = false;

	if (stream && is_cut(scr, msg->sock))
		return true;
	udp_attach(scr, msg);
	if (!call_frame_check(start, (size_t)((const char *)msg->mb->buf + msg->mb->end - start),
			      !stream, &f) && f.scode) {
		scode = f.scode;
		reason = f.reason;
		desync = stream && f.desync;
	}
	else
		(void)call_frame_request(msg, &scode, &reason);
	if (!scode)
		return false;
	refused(scr, sip_transp_name(msg->tp), &msg->src, scode, reason);
	if (pl_strcmp(&msg->met, "ACK") && pl_isset(&msg->via.sentby))
		(void)sip_reply(scr->sip, msg, scode, reason);
	if (desync)
		cut(scr, msg);
	return true;
}

static bool screen_response(const struct sip_msg *msg, void *arg)
{
	udp_attach(arg, msg);
	return false;
}

int call_screen_alloc(struct call_screen **scrp, struct sip *sip)
{
	struct call_screen *scr;
	int err;

	if (!scrp || !sip)
		return EINVAL;
	scr = mem_zalloc(sizeof(*scr), screen_destructor);
	if (!scr)
		return ENOMEM;
	scr->sip = sip;
	list_init(&scr->udps);
	list_init(&scr->cut);
	tmr_init(&scr->cut_tmr);
	err = sip_listen(&scr->lsnr_req, sip, true, screen_request, scr);
	err = err ? err : sip_listen(&scr->lsnr_resp, sip, false, screen_response, scr);
	if (err)
		mem_deref(scr);
	else
		*scrp = scr;
	return err;
}
