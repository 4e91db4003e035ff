/* call: a 2xx from a fork that did not answer first — ACK and BYE, never a second call.
 *
 * A forking proxy may pass on a 200 from each phone it rang. The first ends libre's INVITE
 * transaction and becomes the call; libre 1.1.0 hands any later 2xx to its session
 * listener, which re-ACKs it when it belongs to the answered dialog and silently drops it
 * otherwise, so the losing phone would retransmit its 200 for 32 s and then hang up on a
 * call nobody hears. RFC 3261 §13.2.2.4 asks the UAC to ACK such a 2xx and end its dialog
 * with BYE at once; this listener runs before libre's and does that. */
#include <errno.h>
#include <string.h>
#include "base/base.h"
#include "call/call_int.h"

static void bye_resp(int err, const struct sip_msg *msg, void *arg)
{
	(void)arg;
	if (err)
		log_debug("call", "BYE to a losing fork: %s", strerror(err));
	else
		log_debug("call", "BYE to a losing fork: %u %.*s", msg->scode, (int)msg->reason.l,
			  msg->reason.p);
}

/* ACK (its own transaction, sent once per 2xx as RFC 3261 §13.2.2.4 wants), then BYE once
 * per losing dialog: a retransmitted 2xx (our ACK lost) is ACKed again only. */
static void fork_hangup(struct call_early *e, struct sip *sip, const struct sip_msg *msg)
{
	struct call_fork *f = call_early_fork(e, &msg->to.tag);
	int err;

	err = call_early_request(sip, msg, "ACK", msg->cseq.num, false, NULL, NULL, NULL);
	if (err)
		log_warn("call", "%s: cannot ACK the %u of a losing fork: %s", e->sid, msg->scode,
			 strerror(err));
	if (f && f->bye_sent)
		return;
	log_info("call", "%s: %u from a second fork (tag %.*s): ACK and BYE", e->sid,
		 msg->scode, (int)msg->to.tag.l, msg->to.tag.p);
	err = call_early_request(sip, msg, "BYE", msg->cseq.num + 1, true, bye_resp, NULL,
				 "Reason: SIP;cause=200;text=\"Call completed elsewhere\"\r\n");
	if (err)
		log_warn("call", "%s: cannot BYE a losing fork: %s", e->sid, strerror(err));
	else if (f)
		f->bye_sent = true;
}

bool call_fork_2xx(struct call_ua *ua, const struct sip_msg *msg)
{
	if (msg->scode < 200 || msg->scode > 299 || pl_strcmp(&msg->cseq.met, "INVITE"))
		return false;
	for (struct le *le = ua->calls.head; le; le = le->next) {
		struct call_early *e = call_early_of(le->data);

		if (!e || !e->dlg || !sip_dialog_cmp_half(e->dlg, msg))
			continue;
		/* The answered dialog's own 2xx again (our ACK lost): libre ACKs it again. */
		if (sip_dialog_established(e->dlg) && sip_dialog_cmp(e->dlg, msg))
			return false;
		fork_hangup(e, ua->sip, msg);
		return true;
	}
	return false;
}
