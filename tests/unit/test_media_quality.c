/* media quality: the G.107 E-model's known values, the reading of the peer's RTCP report
 * blocks (against what cccd's own writer sends, and malformed compounds), and a leg's
 * figures from its counters. (The record's CccdEvidence object: test_records.c.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>
#include "media/media_int.h"

static void near(double got, double want, double tol)
{
	if (fabs(got - want) > tol)
		fail_msg("%.4f is not %.4f (± %.4f)", got, want, tol);
}

static void test_emodel_known_values(void **state)
{
	(void)state;
	/* G.711, no loss, no delay: G.107's default rating and its MOS */
	near(media_emodel_r(0, 0), 93.2, 0.01);
	near(media_emodel_mos(media_emodel_r(0, 0)), 4.41, 0.005);
	/* random loss through Bpl 25.1: Ie,eff = 95 p / (p + 25.1) */
	near(media_emodel_r(1, 0), 93.2 - 95.0 / 26.1, 0.01);
	near(media_emodel_r(10, 0), 93.2 - 950.0 / 35.1, 0.01);      /* 66.13 */
	near(media_emodel_mos(media_emodel_r(10, 0)), 3.41, 0.01);
	near(media_emodel_r(20, 0), 93.2 - 1900.0 / 45.1, 0.01);     /* 51.07 */
	/* delay: 0.024 d below 177.3 ms, plus 0.11 (d - 177.3) above */
	near(media_emodel_r(0, 100), 93.2 - 2.4, 0.01);
	near(media_emodel_r(0, 300), 93.2 - 7.2 - 0.11 * 122.7, 0.01);
	/* MOS bounds and monotony */
	near(media_emodel_mos(0), 1.0, 1e-9);
	near(media_emodel_mos(-5), 1.0, 1e-9);
	near(media_emodel_mos(100), 4.5, 1e-9);
	near(media_emodel_mos(50), 1 + 1.75 + 50 * -10 * 50 * 7e-6, 1e-9);
	for (int p = 0; p < 100; p += 5)
		assert_true(media_emodel_r(p + 5, 0) < media_emodel_r(p, 0));
	/* out of range inputs are clamped, never a rating outside 0..100 */
	near(media_emodel_r(-3, -10), 93.2, 0.01);
	assert_true(media_emodel_r(100, 5000) >= 0);
}

static void test_quality_from_stats(void **state)
{
	struct media_stats st = {.rtp_sent = 500, .rtp_received = 450, .expected = 500,
				 .lost = 50, .jitter = 80 /* 10 ms */};
	struct media_quality q;

	(void)state;
	media_quality_from_stats(&st, &q);
	near(q.rx.loss_pct, 10, 1e-9);
	near(q.rx.jitter_ms, 10, 1e-9);
	/* the jitter buffer (twice the jitter) counts as delay: 20 ms → 0.48 */
	near(q.rx.r, 93.2 - 950.0 / 35.1 - 0.48, 0.01);
	assert_false(q.peer_report);

	st.peer_reports = 3;
	st.peer_lost = 5;
	st.peer_fraction = 26;
	st.peer_jitter = 16;
	st.rtt_ms = 40;
	media_quality_from_stats(&st, &q);
	assert_true(q.peer_report);
	near(q.tx.loss_pct, 1, 1e-9);
	near(q.peer_fraction_pct, 10.16, 0.01);
	/* half the round trip plus the jitter buffer: 20 + 4 ms */
	near(q.tx.r, 93.2 - 95.0 / 26.1 - 0.024 * 24, 0.01);
	/* nothing expected: no loss, a perfect rating rather than a division by zero */
	memset(&st, 0, sizeof(st));
	media_quality_from_stats(&st, &q);
	near(q.rx.loss_pct, 0, 1e-9);
	near(q.rx.r, 93.2, 0.01);
}

static void test_rtcp_blocks(void **state)
{
	struct media_rtcp_report r = {.ssrc = 0x11111111, .sender = true, .ntp = 1ull << 40,
				      .rtp_ts = 1, .pkts = 10, .octets = 1600,
				      .has_block = true, .peer_ssrc = 0xCAFEBABE, .fraction = 25,
				      .lost = 51, .ext_seq = 70000, .jitter = 123, .lsr = 0x1234,
				      .dlsr = 0x10000, .cname = "peer"};
	struct media_rtcp_block b;
	uint8_t buf[256];
	size_t n;

	(void)state;
	/* an SR with one block about our SSRC, then SDES */
	n = media_rtcp_write(buf, sizeof(buf), &r);
	assert_true(n > 0);
	assert_int_equal(media_rtcp_block_find(buf, n, 0xCAFEBABE, &b), 0);
	assert_int_equal(b.fraction, 25);
	assert_int_equal(b.lost, 51);
	assert_int_equal(b.ext_seq, 70000);
	assert_int_equal(b.jitter, 123);
	assert_int_equal(b.lsr, 0x1234);
	assert_int_equal(b.dlsr, 0x10000);
	/* a block about someone else is not ours */
	assert_int_equal(media_rtcp_block_find(buf, n, 0x22222222, &b), ENOENT);
	/* an RR, with a negative cumulative loss (duplicates) and a BYE after it */
	r.sender = false;
	r.lost = -3;
	r.bye = true;
	n = media_rtcp_write(buf, sizeof(buf), &r);
	assert_int_equal(media_rtcp_block_find(buf, n, 0xCAFEBABE, &b), 0);
	assert_int_equal(b.lost, -3);
	/* a report without blocks */
	r.has_block = false;
	n = media_rtcp_write(buf, sizeof(buf), &r);
	assert_int_equal(media_rtcp_block_find(buf, n, 0xCAFEBABE, &b), ENOENT);
	/* malformed: truncated, a length beyond the buffer, a report count that does not
	 * fit, a wrong version, trailing bytes */
	r.has_block = true;
	n = media_rtcp_write(buf, sizeof(buf), &r);
	assert_int_equal(media_rtcp_block_find(buf, 20, 0xCAFEBABE, &b), EBADMSG);
	buf[3] = 0xFF;
	assert_int_equal(media_rtcp_block_find(buf, n, 0xCAFEBABE, &b), EBADMSG);
	n = media_rtcp_write(buf, sizeof(buf), &r);
	buf[0] = 0x80 | 5;
	assert_int_equal(media_rtcp_block_find(buf, n, 0xCAFEBABE, &b), EBADMSG);
	n = media_rtcp_write(buf, sizeof(buf), &r);
	buf[0] = 0x40 | 1;
	assert_int_equal(media_rtcp_block_find(buf, n, 0xCAFEBABE, &b), EBADMSG);
	n = media_rtcp_write(buf, sizeof(buf), &r);
	assert_int_equal(media_rtcp_block_find(buf, n + 2, 0xCAFEBABE, &b), EBADMSG);
	assert_int_equal(media_rtcp_block_find(NULL, 0, 1, &b), EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_emodel_known_values),
		cmocka_unit_test(test_quality_from_stats),
		cmocka_unit_test(test_rtcp_blocks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
