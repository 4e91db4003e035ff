/* quality: a leg's media quality in the terms an operator argues with a carrier in —
 * packet loss, RFC 3550 interarrival jitter, and an estimated MOS from the ITU-T G.107
 * E-model, both for what cccd received and for what the peer says (RTCP) it received.
 *
 * The E-model, reduced for G.711 the way G.107 and G.113 allow when only loss and delay are
 * known (the other impairments at their defaults):
 *
 *   R = (Ro - Is) - Id - Ie,eff            (A = 0: no advantage expected of a phone call)
 *   Ro - Is = 93.2                         (G.107 at its default values: Ro 94.77,
 *                                           Is 1.41, and the 0.15 of Id they give at
 *                                           zero delay folded in)
 *   Id = 0.024 d + 0.11 (d - 177.3) H(d - 177.3)   (Cole & Rosenbluth's fit of G.107's
 *                                           Idd/Idte/Idle for echo-cancelled calls;
 *                                           d = one-way delay in ms, H the step function)
 *   Ie,eff = Ie + (95 - Ie) Ppl / (Ppl / BurstR + Bpl)
 *          Ie = 0 (G.711), Bpl = 25.1 (G.711 with packet-loss concealment, G.113
 *          Appendix I: phones and gateways conceal losses), BurstR = 1 (random loss),
 *          Ppl the loss in %
 *   MOS = 1 + 0.035 R + R (R - 60) (100 - R) 7e-6 for 0 < R < 100; 1 below, 4.5 above
 *
 * So G.711 without loss or delay rates R = 93.2, MOS 4.41; 10 % random loss R = 66.1,
 * MOS 3.41. The delay d a listener suffers is half the round trip (from the peer's RTCP
 * LSR/DLSR; 0 while unknown) plus a jitter buffer taken as twice the jitter. Codec delay
 * and the network's delay to a trunk that sends no RTCP are not seen, so the figure is an
 * upper bound of the quality, which is what a loss or jitter problem needs. */
#include <string.h>
#include "media/media.h"

enum { TS_PER_MS = 8 };

static const double RO_MINUS_IS = 93.2, BPL_G711_PLC = 25.1, BURST_R = 1.0, IE_G711 = 0.0;

double media_emodel_r(double loss_pct, double delay_ms)
{
	double id, ie_eff, r;

	if (loss_pct < 0)
		loss_pct = 0;
	if (loss_pct > 100)
		loss_pct = 100;
	if (delay_ms < 0)
		delay_ms = 0;
	id = 0.024 * delay_ms + (delay_ms > 177.3 ? 0.11 * (delay_ms - 177.3) : 0);
	ie_eff = IE_G711 + (95 - IE_G711) * loss_pct / (loss_pct / BURST_R + BPL_G711_PLC);
	r = RO_MINUS_IS - id - ie_eff;
	return r < 0 ? 0 : r > 100 ? 100 : r;
}

double media_emodel_mos(double r)
{
	if (r <= 0)
		return 1.0;
	if (r >= 100)
		return 4.5;
	return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6;
}

static void dir_fill(struct media_dir_quality *d, double loss_pct, double jitter_ms,
		     int32_t rtt_ms)
{
	double delay = (rtt_ms > 0 ? rtt_ms / 2.0 : 0) + 2 * jitter_ms;

	d->loss_pct = loss_pct;
	d->jitter_ms = jitter_ms;
	d->r = media_emodel_r(loss_pct, delay);
	d->mos = media_emodel_mos(d->r);
}

static double pct(int32_t lost, uint32_t of)
{
	double p = of && lost > 0 ? 100.0 * lost / of : 0;

	return p > 100 ? 100 : p;
}

void media_quality_from_stats(const struct media_stats *st, struct media_quality *q)
{
	memset(q, 0, sizeof(*q));
	q->sent = st->rtp_sent;
	q->received = st->rtp_received;
	q->expected = st->expected;
	q->lost = st->lost;
	q->rtt_ms = st->rtt_ms;
	dir_fill(&q->rx, pct(st->lost, st->expected), (double)st->jitter / TS_PER_MS, st->rtt_ms);
	q->peer_report = st->peer_reports > 0;
	if (!q->peer_report)
		return;
	q->peer_lost = st->peer_lost;
	q->peer_fraction_pct = st->peer_fraction * 100.0 / 256;
	/* what the peer expected of us is what we sent, give or take the packets in flight */
	dir_fill(&q->tx, pct(st->peer_lost, st->rtp_sent), (double)st->peer_jitter / TS_PER_MS,
		 st->rtt_ms);
}

void media_stream_quality(const struct media_stream *ms, struct media_quality *q)
{
	struct media_stats st;

	media_stream_stats(ms, &st);
	media_quality_from_stats(&st, q);
}
