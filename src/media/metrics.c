/* metrics: the media workers' packet counts, tick health and load, for /metrics. */
#include <stdio.h>
#include "base/base.h"
#include "media/media_int.h"
#include "metrics/metrics.h"

bool media_ticking(struct media *m, uint64_t max_age_ms)
{
	uint64_t now = clock_mono_ms();

	for (unsigned i = 0; m && i < m->nworkers; i++) {
		struct media_worker_fig f;

		media_worker_figures(m->workers[i], &f);
		/* an idle worker's timer is off; one given its first stream counts from then */
		if (f.streams && f.tick_ms && now > f.tick_ms && now - f.tick_ms > max_age_ms)
			return false;
	}
	return true;
}

struct fig_family {
	const char *name, *type, *help;
	size_t offset;      /* of the uint64_t in struct media_worker_fig */
	double scale;
};

static const struct fig_family families[] = {
	{"cccd_rtp_packets_sent_total", "counter", "RTP packets sent, by media worker.",
	 offsetof(struct media_worker_fig, rtp_sent), 1},
	{"cccd_rtp_packets_received_total", "counter",
	 "RTP packets received from a call's peer, by media worker.",
	 offsetof(struct media_worker_fig, rtp_received), 1},
	{"cccd_rtp_packets_lost_total", "counter",
	 "RTP packets the peers did not deliver (RFC 3550 expected - received), counted when "
	 "each stream ends.", offsetof(struct media_worker_fig, rtp_lost), 1},
	{"cccd_media_late_ticks_total", "counter",
	 "Media ticks (2 ms) that ran late: the worker was not scheduled in time and caught "
	 "up.", offsetof(struct media_worker_fig, late_ticks), 1},
	{"cccd_media_skipped_ticks_total", "counter",
	 "Media ticks skipped after a stall too long to catch up (audio gap).",
	 offsetof(struct media_worker_fig, skipped_ticks), 1},
	{"cccd_media_worker_busy_seconds_total", "counter",
	 "Time each media worker spent serving its ticks; its rate is the worker's load "
	 "(1 = a core).", offsetof(struct media_worker_fig, busy_us), 1e-6},
};

static void collect(struct metrics_out *o, void *arg)
{
	struct media *m = arg;
	char lb[32];

	for (size_t k = 0; k < sizeof(families) / sizeof(families[0]); k++) {
		const struct fig_family *fam = &families[k];

		metrics_family(o, fam->name, fam->type, fam->help);
		for (unsigned i = 0; i < m->nworkers; i++) {
			struct media_worker_fig f;

			media_worker_figures(m->workers[i], &f);
			snprintf(lb, sizeof(lb), "worker=\"%u\"", i);
			metrics_sample(o, fam->name, lb,
				       (double)*(const uint64_t *)((const char *)&f + fam->offset) *
				       fam->scale);
		}
	}
	metrics_family(o, "cccd_media_worker_streams", "gauge",
		       "RTP streams each media worker serves now.");
	for (unsigned i = 0; i < m->nworkers; i++) {
		struct media_worker_fig f;

		media_worker_figures(m->workers[i], &f);
		snprintf(lb, sizeof(lb), "worker=\"%u\"", i);
		metrics_sample(o, "cccd_media_worker_streams", lb, f.streams);
	}
}

int media_metrics_register(struct media *m)
{
	return metrics_collector_add(&m->metrics, collect, m);
}
