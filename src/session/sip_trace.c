/* sip_trace: a session's SIP messages from the call module to the store — the call's
 * trace handler (call_trace_h), on the control loop, as one queued write per dialog. */
#include <errno.h>
#include <string.h>
#include <re_types.h>
#include <re_mem.h>
#include <re_fmt.h>
#include "base/base.h"
#include "session/session.h"
#include "store/store.h"

void session_sip_trace(const char *session_id, uint64_t sdkappid, const char *call_id,
		       const struct call_trace_msg *msgs, size_t n, unsigned dropped, void *arg)
{
	struct store *st = arg;
	struct store_sip_msg *v = mem_zalloc(n * sizeof(*v), NULL);
	int err = v ? 0 : ENOMEM;

	for (size_t i = 0; v && i < n; i++) {
		v[i].tx = msgs[i].tx;
		v[i].ts_us = msgs[i].ts_us;
		str_ncpy(v[i].src, msgs[i].src, sizeof(v[i].src));
		str_ncpy(v[i].dst, msgs[i].dst, sizeof(v[i].dst));
		v[i].text = (char *)msgs[i].text; /* a view: the store copies it */
	}
	err = err ? err : store_sip_trace_add(st, session_id, sdkappid, call_id, v, n);
	if (err)
		log_warn("session", "%s: SIP trace of %s not kept: %s", session_id, call_id,
			 strerror(err));
	if (dropped)
		log_info("session", "%s: SIP trace of %s: %u messages over [records] "
			 "sip_trace_bytes not kept", session_id, call_id, dropped);
	mem_deref(v);
}
