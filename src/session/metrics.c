/* metrics: the sessions by state and the dial queue, published to /metrics by the
 * control loop (session_mgr_metrics_publish, about once a second). The loop owns these
 * lists, so a scrape never walks them: it reads what the loop last published. A walk of
 * the live sessions costs the loop a few microseconds per thousand, once a second. */
#include <pthread.h>
#include "base/base.h"
#include "dialq/dialq.h"
#include "metrics/metrics.h"
#include "session/session_int.h"

void session_mgr_metrics_publish(struct session_mgr *m)
{
	uint64_t n[METRICS_SESSION_STATES] = {0};
	struct dialq_stats dq;

	if (!m)
		return;
	pthread_mutex_lock(&m->handover_lock);
	n[METRICS_SESSION_HANDOVER] = list_count(&m->pending);
	pthread_mutex_unlock(&m->handover_lock);
	n[METRICS_SESSION_QUEUED] = dialq_count(m->dialq);
	for (struct le *le = m->active.head; le; le = le->next) {
		const struct session_work *w = le->data;

		if (w->accept_ts)
			n[METRICS_SESSION_ANSWERED]++;
		else if (w->ring_ts)
			n[METRICS_SESSION_RINGING]++;
		else
			n[METRICS_SESSION_DIALLING]++;
	}
	for (unsigned s = 0; s < METRICS_SESSION_STATES; s++)
		metrics_sessions_set((enum metrics_session_state)s, n[s]);
	dialq_stats(m->dialq, clock_mono_ms(), &dq);
	metrics_dial_queue_set(dq.depth, dq.oldest_wait_ms);
}
