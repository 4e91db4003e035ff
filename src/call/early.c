/* call: the early dialogs of an outbound INVITE — requests inside the dialog a response
 * makes, and PRACK for reliable provisional responses (RFC 3262).
 *
 * libre 1.1.0's session hands every provisional response to the progress handler and
 * nothing more: it never PRACKs, and its dialog holds no remote tag until the 2xx. A trunk
 * that sends `Require: 100rel` retransmits its 18x until it is PRACKed and fails the call
 * after 32 s (RFC 3262 §3), so the PRACK is sent here, built from the 18x itself: each
 * To tag is one early dialog (a forking proxy makes several), with its own RSeq order. */
#include <errno.h>
#include <string.h>
#include "base/base.h"
#include "call/call_int.h"

/* Exported by libre 1.1.0 (src/sip/dialog.c) but missing from its header. It is the only
 * way to take a CSeq number from the session's dialog: every PRACK takes one, so that the
 * BYE and re-INVITEs libre sends in the dialog after the answer number above the PRACKs
 * (RFC 3261 §12.2.1.1: CSeq grows within a dialog; a UAS may refuse a lower one with 500). */
int sip_dialog_encode(struct mbuf *mb, struct sip_dialog *dlg, uint32_t cseq,
		      const char *met);

const char *call_rel100_tag(enum call_rel100 rel)
{
	return rel == CALL_REL100_OFF ? NULL : "100rel";
}

const char *call_rel100_hdr(enum call_rel100 rel)
{
	return rel == CALL_REL100_REQUIRED ? "Require: 100rel\r\n" : "";
}

void call_early_start(struct call_early *e, struct sip_dialog *dlg, const char *sid)
{
	call_early_close(e);
	e->dlg = mem_ref(dlg);
	e->sid = sid;
}

void call_early_close(struct call_early *e)
{
	e->dlg = mem_deref(e->dlg);
	memset(e->forks, 0, sizeof(e->forks));
	e->nforks = 0;
}

struct call_fork *call_early_fork(struct call_early *e, const struct pl *rtag)
{
	struct call_fork *f;

	if (!pl_isset(rtag) || rtag->l >= sizeof(f->rtag))
		return NULL;
	for (unsigned i = 0; i < e->nforks; i++) {
		if (!pl_strcmp(rtag, e->forks[i].rtag))
			return &e->forks[i];
	}
	if (e->nforks >= CALL_FORKS_MAX)
		return NULL;
	f = &e->forks[e->nforks++];
	pl_strcpy(rtag, f->rtag, sizeof(f->rtag));
	return f;
}

static bool route_print(const struct sip_hdr *hdr, const struct sip_msg *msg, void *arg)
{
	(void)msg;
	return mbuf_printf(arg, "Route: %r\r\n", &hdr->val) != 0;
}

int call_early_request(struct sip *sip, const struct sip_msg *resp, const char *met,
		       uint32_t cseq, bool stateful, sip_resp_h *resph, void *arg,
		       const char *hdrs)
{
	const struct sip_hdr *contact = sip_msg_hdr(resp, SIP_HDR_CONTACT);
	const struct sip_hdr *rr;
	struct sip_addr target, first;
	struct mbuf *routes = NULL;
	char *uri = NULL;
	int err;

	if (!contact || sip_addr_decode(&target, &contact->val) || !pl_isset(&resp->to.tag))
		return EBADMSG;
	routes = mbuf_alloc(256);
	if (!routes)
		return ENOMEM;
	/* The route set is the Record-Route in reverse (the UAC's view); the request goes to
	 * its first entry, loose routing assumed as libre's own dialogs do. */
	rr = sip_msg_hdr_apply(resp, false, SIP_HDR_RECORD_ROUTE, route_print, routes);
	if (rr) {
		err = ENOMEM;
		goto out;
	}
	rr = sip_msg_hdr_apply(resp, false, SIP_HDR_RECORD_ROUTE, NULL, NULL);
	if (rr && sip_addr_decode(&first, &rr->val)) {
		err = EBADMSG;
		goto out;
	}
	err = pl_strdup(&uri, &target.auri);
	if (err)
		goto out;
	err = sip_requestf(NULL, sip, stateful, met, uri, rr ? &first.uri : NULL, NULL, NULL,
			   resph, arg,
			   "%b"
			   "To: %r\r\n"
			   "From: %r\r\n"
			   "Call-ID: %r\r\n"
			   "CSeq: %u %s\r\n"
			   "%s"
			   "Content-Length: 0\r\n"
			   "\r\n",
			   routes->buf, routes->end, &resp->to.val, &resp->from.val, &resp->callid,
			   cseq, met, hdrs ? hdrs : "");

 out:
	mem_deref(uri);
	mem_deref(routes);
	return err;
}

static void prack_resp(int err, const struct sip_msg *msg, void *arg)
{
	(void)arg;
	/* The early dialog goes on either way: a trunk that dislikes the PRACK retransmits
	 * its 18x, or fails the INVITE, and the call's outcome says so. */
	if (err)
		log_warn("call", "PRACK: %s", strerror(err));
	else if (msg->scode >= 300)
		log_warn("call", "PRACK for Call-ID %.*s refused: %u %.*s", (int)msg->callid.l,
			 msg->callid.p, msg->scode, (int)msg->reason.l, msg->reason.p);
}

int call_early_prack(struct call_early *e, struct sip *sip, const struct sip_msg *msg)
{
	const struct sip_hdr *h;
	struct call_fork *f;
	struct mbuf *scratch;
	char rack[64];
	uint32_t rseq, cseq;
	struct pl num;
	int err;

	if (!e->dlg || msg->scode <= 100 || msg->scode > 199 ||
	    !sip_msg_hdr_has_value(msg, SIP_HDR_REQUIRE, "100rel"))
		return 0;
	h = sip_msg_hdr(msg, SIP_HDR_RSEQ);
	if (!h || re_regex(h->val.p, h->val.l, "[0-9]+", &num) || num.p != h->val.p ||
	    num.l > 10 || !(rseq = pl_u32(&num))) {
		log_warn("call", "%s: reliable %u without a usable RSeq: not PRACKed", e->sid,
			 msg->scode);
		return EBADMSG;
	}
	f = call_early_fork(e, &msg->to.tag);
	if (!f) {
		log_warn("call", "%s: reliable %u without a To tag, or from a fork beyond %u: "
			 "not PRACKed", e->sid, msg->scode, CALL_FORKS_MAX);
		return EBADMSG;
	}
	/* RFC 3262 §4: only the next in order; a retransmission (our PRACK lost or late) is
	 * answered by the PRACK's own retransmissions. */
	if (f->rseq && rseq != f->rseq + 1)
		return 0;
	cseq = sip_dialog_lseq(e->dlg);
	scratch = mbuf_alloc(512);
	if (!scratch)
		return ENOMEM;
	err = sip_dialog_encode(scratch, e->dlg, 0, "PRACK"); /* takes cseq from the dialog */
	mem_deref(scratch);
	if (err)
		return err;
	re_snprintf(rack, sizeof(rack), "RAck: %u %u INVITE\r\n", rseq, msg->cseq.num);
	err = call_early_request(sip, msg, "PRACK", cseq, true, prack_resp, NULL, rack);
	if (err) {
		log_warn("call", "%s: cannot PRACK the %u (RSeq %u): %s", e->sid, msg->scode, rseq,
			 strerror(err));
		return err;
	}
	f->rseq = rseq;
	log_debug("call", "%s: PRACK for %u, RSeq %u", e->sid, msg->scode, rseq);
	return 0;
}
