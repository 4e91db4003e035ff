/* Bridge tests over loopback: two test sockets play the two parties of a transfer, each
 * talking to its own stream; what one party sends must reach the other, under the other
 * stream's RTP session, transcoded when the codecs differ, with keys re-generated. Audio is
 * checked by content; no timing is asserted. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <re.h>
#include "base/base.h"
#include "media/media_int.h"

enum { MAX_PKTS = 1500, TELEV_PT = 101, PEER_SSRC = 0xCAFE0001 };

struct pkt {
	struct media_rtp h;
	uint8_t payload[480];
};

/* One party: an RTP socket (and the RTCP one beside it), what it received. */
struct party {
	struct udp_sock *rtp, *rtcp;
	struct sa addr;
	struct pkt *pkts;
	int npkts;
	uint16_t seq;
	uint32_t ts;
};

struct fixture {
	struct media_conf mc;
	struct media *m;
	struct party p[2];
	struct media_stream *ms[2];
	struct sa local[2];
	char keys[16];             /* DTMF events reported by the streams */
	int nkeys;
};

static void on_event(struct media_stream *ms, const struct media_event *ev, void *arg)
{
	struct fixture *f = arg;

	(void)ms;
	if (ev->type == MEDIA_EV_DTMF && f->nkeys < (int)sizeof(f->keys) - 1)
		f->keys[f->nkeys++] = ev->key;
}

static void rtp_recv(const struct sa *src, struct mbuf *mb, void *arg)
{
	struct party *p = arg;
	struct pkt *k;

	(void)src;
	if (p->npkts == MAX_PKTS)
		return;
	k = &p->pkts[p->npkts];
	if (media_rtp_parse(mbuf_buf(mb), mbuf_get_left(mb), &k->h) || k->h.plen > 480)
		return;
	memcpy(k->payload, k->h.payload, k->h.plen);
	k->h.payload = k->payload;
	p->npkts++;
}

static void rtcp_recv(const struct sa *src, struct mbuf *mb, void *arg)
{
	(void)src;
	(void)mb;
	(void)arg;
}

static void party_open(struct party *p)
{
	p->pkts = calloc(MAX_PKTS, sizeof(*p->pkts));
	assert_non_null(p->pkts);
	for (int attempt = 0; attempt < 100; attempt++) {
		struct sa s;

		sa_set_str(&s, "127.0.0.1", 0);
		assert_int_equal(udp_listen(&p->rtp, &s, rtp_recv, p), 0);
		assert_int_equal(udp_local_get(p->rtp, &p->addr), 0);
		if (sa_port(&p->addr) % 2 == 0) {
			sa_set_port(&s, (uint16_t)(sa_port(&p->addr) + 1));
			if (udp_listen(&p->rtcp, &s, rtcp_recv, p) == 0)
				return;
		}
		p->rtp = mem_deref(p->rtp);
	}
	fail_msg("no free even/odd port pair");
}

static void party_close(struct party *p)
{
	p->rtp = mem_deref(p->rtp);
	p->rtcp = mem_deref(p->rtcp);
	free(p->pkts);
}

struct waiter {
	struct tmr tmr;
	uint64_t deadline;
	bool (*cond)(struct fixture *f, const void *arg);
	struct fixture *f;
	const void *arg;
};

static void waiter_poll(void *arg)
{
	struct waiter *w = arg;

	if ((w->cond && w->cond(w->f, w->arg)) || clock_mono_ms() >= w->deadline)
		re_cancel();
	else
		tmr_start(&w->tmr, 5, waiter_poll, w);
}

static bool run_until(struct fixture *f, bool (*cond)(struct fixture *, const void *),
		      const void *arg, unsigned max_ms)
{
	struct waiter w = {.cond = cond, .f = f, .arg = arg};

	w.deadline = clock_mono_ms() + max_ms;
	tmr_init(&w.tmr);
	tmr_start(&w.tmr, 0, waiter_poll, &w);
	re_main(NULL);
	tmr_cancel(&w.tmr);
	return cond ? cond(f, arg) : true;
}

/* Sends one RTP packet from party i to its stream. */
static void party_send(struct fixture *f, int i, uint8_t pt, uint32_t ts, const uint8_t *pl,
		       size_t len, bool marker)
{
	struct mbuf *mb = mbuf_alloc(12 + len);
	uint8_t hdr[12];

	media_rtp_header(hdr, marker, pt, f->p[i].seq++, ts, PEER_SSRC + (uint32_t)i);
	mbuf_write_mem(mb, hdr, 12);
	mbuf_write_mem(mb, pl, len);
	mb->pos = 0;
	assert_int_equal(udp_send(f->p[i].rtp, &f->local[i], mb), 0);
	mem_deref(mb);
}

/* n frames of a recognisable pattern from party i, paced by the control loop so the
 * stream's buffer sees a real-time flow. */
static void party_talk(struct fixture *f, int i, enum media_codec c, unsigned frames,
		       uint8_t base)
{
	uint8_t pl[MEDIA_FRAME];

	for (unsigned n = 0; n < frames; n++) {
		for (unsigned k = 0; k < MEDIA_FRAME; k++)
			pl[k] = (uint8_t)(base + (n * 7 + k) % 64);
		party_send(f, i, (uint8_t)c, f->p[i].ts, pl, MEDIA_FRAME, false);
		f->p[i].ts += MEDIA_FRAME;
		run_until(f, NULL, NULL, 20);
	}
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->mc.rtp_ip, sizeof(f->mc.rtp_ip), "127.0.0.1");
	f->mc.port_min = 31000;
	f->mc.port_max = 31099;
	f->mc.workers = 2;
	f->mc.prompt_cache_bytes = 1 << 20;
	f->mc.rtcp_interval_ms = 5000;
	snprintf(f->mc.tts_voice, sizeof(f->mc.tts_voice), "kal");
	snprintf(f->mc.recording_dir, sizeof(f->mc.recording_dir), "/tmp");
	assert_int_equal(media_alloc(&f->m, &f->mc), 0);
	party_open(&f->p[0]);
	party_open(&f->p[1]);
	f->p[0].seq = 100;
	f->p[1].seq = 9000;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	f->ms[0] = mem_deref(f->ms[0]);
	f->ms[1] = mem_deref(f->ms[1]);
	/* let the workers free the streams before the media engine goes */
	run_until(f, NULL, NULL, 30);
	f->m = mem_deref(f->m);
	party_close(&f->p[0]);
	party_close(&f->p[1]);
	free(f);
	return 0;
}

/* Stream i towards party i; the second one on the first one's worker. */
static void streams_up(struct fixture *f, enum media_codec c0, enum media_codec c1,
		       int telev0, int telev1)
{
	enum media_codec c[2] = {c0, c1};
	int tev[2] = {telev0, telev1};

	assert_int_equal(media_stream_alloc(&f->ms[0], f->m, on_event, f), 0);
	assert_int_equal(media_stream_alloc_near(&f->ms[1], f->m, f->ms[0], on_event, f), 0);
	for (int i = 0; i < 2; i++) {
		struct media_params p = {.remote = &f->p[i].addr, .codec = c[i],
					 .telev_pt = tev[i], .ptime_ms = 20};

		media_stream_local(f->ms[i], &f->local[i]);
		assert_int_equal(media_stream_start(f->ms[i], &p), 0);
	}
}

/* Does party `to` hold a packet whose payload is frame n of the pattern party `from`
 * sent (after `map`, the transcoding expected)? */
static bool has_frame(const struct party *to, uint8_t pt, unsigned n, uint8_t base,
		      uint8_t (*map)(uint8_t))
{
	for (int i = 0; i < to->npkts; i++) {
		const struct pkt *k = &to->pkts[i];
		bool same = k->h.pt == pt && k->h.plen == MEDIA_FRAME;

		for (unsigned j = 0; same && j < MEDIA_FRAME; j++) {
			uint8_t want = (uint8_t)(base + (n * 7 + j) % 64);

			same = k->payload[j] == (map ? map(want) : want);
		}
		if (same)
			return true;
	}
	return false;
}

static unsigned frames_found(const struct party *to, uint8_t pt, unsigned frames, uint8_t base,
			     uint8_t (*map)(uint8_t))
{
	unsigned found = 0;

	for (unsigned n = 0; n < frames; n++)
		found += has_frame(to, pt, n, base, map);
	return found;
}

static bool ssrcs_other_than(const struct party *p, uint32_t ssrc)
{
	for (int i = 0; i < p->npkts; i++) {
		if (p->pkts[i].h.ssrc == ssrc)
			return false;
	}
	return p->npkts > 0;
}

/* Same codec both ways: the payload bytes pass unchanged, in both directions, under each
 * stream's own SSRC. */
static void test_bridge_same_codec(void **state)
{
	struct fixture *f = *state;
	struct media_stats st;
	unsigned ab, ba;

	streams_up(f, MEDIA_PCMA, MEDIA_PCMA, TELEV_PT, TELEV_PT);
	assert_int_equal(media_bridge(f->ms[0], f->ms[1]), 0);
	run_until(f, NULL, NULL, 60);
	party_talk(f, 0, MEDIA_PCMA, 25, 0x10);
	party_talk(f, 1, MEDIA_PCMA, 25, 0x80);
	run_until(f, NULL, NULL, 200);

	ab = frames_found(&f->p[1], MEDIA_PCMA, 25, 0x10, NULL);
	ba = frames_found(&f->p[0], MEDIA_PCMA, 25, 0x80, NULL);
	/* Loopback loses nothing, but the bridge may drop a frame to catch up with a fast
	 * sender: nearly all must arrive. */
	assert_true(ab >= 20);
	assert_true(ba >= 20);
	assert_true(ssrcs_other_than(&f->p[1], PEER_SSRC));
	assert_true(ssrcs_other_than(&f->p[0], PEER_SSRC + 1));
	media_stream_stats(f->ms[1], &st);
	assert_true(st.bridged_frames >= 20);
}

static uint8_t a2u(uint8_t a)
{
	return media_g711_ulaw_encode(media_g711_alaw_decode(a));
}

static uint8_t u2a(uint8_t u)
{
	return media_g711_alaw_encode(media_g711_ulaw_decode(u));
}

/* PCMA on one side, PCMU on the other: every sample is transcoded. */
static void test_bridge_transcodes(void **state)
{
	struct fixture *f = *state;

	streams_up(f, MEDIA_PCMA, MEDIA_PCMU, TELEV_PT, TELEV_PT);
	assert_int_equal(media_bridge(f->ms[0], f->ms[1]), 0);
	run_until(f, NULL, NULL, 60);
	party_talk(f, 0, MEDIA_PCMA, 20, 0x20);
	party_talk(f, 1, MEDIA_PCMU, 20, 0x90);
	run_until(f, NULL, NULL, 200);

	assert_true(frames_found(&f->p[1], MEDIA_PCMU, 20, 0x20, a2u) >= 16);
	assert_true(frames_found(&f->p[0], MEDIA_PCMA, 20, 0x90, u2a) >= 16);
	/* nothing of the other codec leaks through */
	assert_int_equal(frames_found(&f->p[1], MEDIA_PCMA, 20, 0x20, NULL), 0);
}

static bool has_event(struct fixture *f, const void *arg)
{
	const struct party *p = arg;

	for (int i = 0; i < p->npkts; i++) {
		struct media_telev t;

		if (p->pkts[i].h.pt == TELEV_PT &&
		    !media_telev_parse(p->pkts[i].payload, p->pkts[i].h.plen, &t) && t.event == 5)
			return true;
	}
	(void)f;
	return false;
}

/* An RFC 4733 key from one party is reported and sent again to the other party. */
static void test_bridge_dtmf(void **state)
{
	struct fixture *f = *state;
	struct media_telev t = {.event = 5, .volume = 10};
	uint8_t pl[4];
	uint32_t ts = 4000;

	streams_up(f, MEDIA_PCMU, MEDIA_PCMU, TELEV_PT, TELEV_PT);
	assert_int_equal(media_bridge(f->ms[0], f->ms[1]), 0);
	run_until(f, NULL, NULL, 40);
	for (int n = 1; n <= 5; n++) {
		t.duration = (uint16_t)(n * MEDIA_FRAME);
		t.end = n == 5;
		media_telev_write(pl, &t);
		party_send(f, 0, TELEV_PT, ts, pl, 4, n == 1);
	}
	assert_true(run_until(f, has_event, &f->p[1], 2000));
	assert_int_equal(f->nkeys, 1);
	assert_int_equal(f->keys[0], '5');
}

static bool all_silence_since(const struct party *p, int from, uint8_t silence)
{
	for (int i = from; i < p->npkts; i++) {
		for (unsigned j = 0; j < p->pkts[i].h.plen; j++) {
			if (p->pkts[i].h.pt < 96 && p->pkts[i].payload[j] != silence)
				return false;
		}
	}
	return true;
}

/* After media_unbridge, or when the other stream goes, a stream sends silence again and
 * keeps working. */
static void test_bridge_ends(void **state)
{
	struct fixture *f = *state;
	int mark;

	streams_up(f, MEDIA_PCMU, MEDIA_PCMU, -1, -1);
	assert_int_equal(media_bridge(f->ms[0], f->ms[1]), 0);
	party_talk(f, 0, MEDIA_PCMU, 10, 0x30);
	run_until(f, NULL, NULL, 100);
	assert_true(frames_found(&f->p[1], MEDIA_PCMU, 10, 0x30, NULL) >= 6);

	media_unbridge(f->ms[1]);
	run_until(f, NULL, NULL, 60);
	mark = f->p[1].npkts;
	party_talk(f, 0, MEDIA_PCMU, 10, 0x30);
	run_until(f, NULL, NULL, 100);
	assert_true(f->p[1].npkts > mark);
	assert_true(all_silence_since(&f->p[1], mark, media_g711_silence(MEDIA_PCMU)));

	/* bridged again, then the first stream is released while audio flows */
	assert_int_equal(media_bridge(f->ms[1], f->ms[0]), 0);
	party_talk(f, 0, MEDIA_PCMU, 5, 0x30);
	f->ms[0] = mem_deref(f->ms[0]);
	run_until(f, NULL, NULL, 60);
	mark = f->p[1].npkts;
	party_talk(f, 1, MEDIA_PCMU, 5, 0x90);
	run_until(f, NULL, NULL, 100);
	assert_true(f->p[1].npkts > mark);
	assert_true(all_silence_since(&f->p[1], mark, media_g711_silence(MEDIA_PCMU)));
}

/* Streams of different workers cannot be bridged; bad arguments are refused. */
static void test_bridge_refused(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(media_stream_alloc(&f->ms[0], f->m, on_event, f), 0);
	/* the least loaded worker is the other one */
	assert_int_equal(media_stream_alloc(&f->ms[1], f->m, on_event, f), 0);
	assert_int_equal(media_bridge(f->ms[0], f->ms[1]), EXDEV);
	assert_int_equal(media_bridge(f->ms[0], f->ms[0]), EINVAL);
	assert_int_equal(media_bridge(f->ms[0], NULL), EINVAL);
	media_unbridge(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bridge_same_codec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bridge_transcodes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bridge_dtmf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bridge_ends, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bridge_refused, setup, teardown),
	};
	int rc;

	log_set_level(LOG_WARN);
	libre_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	libre_close();
	return rc;
}
