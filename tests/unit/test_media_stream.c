/* Stream tests over loopback: a test socket plays the peer, the control loop (re_main) runs
 * here and receives the media events. Audio is checked by content (correlation with the
 * prompt, tone frequencies), not only by packet counts; no timing is asserted. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sndfile.h>
#include <spandsp.h>
#include <re.h>
#include "base/base.h"
#include "media/media_int.h"

enum { MAX_PKTS = 2000, MAX_EVENTS = 64, TELEV_PT = 101 };

struct pkt {
	int sock;           /* 0: A, 1: B */
	struct media_rtp h;
	uint8_t payload[480];
};

/* The peer: two RTP/RTCP socket pairs, A and B. */
struct peer {
	struct udp_sock *rtp[2], *rtcp[2];
	struct sa addr[2];
	struct pkt *pkts;
	int npkts;
	int nrtcp[2], nsr, nbye;
	uint32_t sr_ssrc;
	uint16_t seq;
	uint32_t ts;
};

struct events {
	struct media_event ev[MAX_EVENTS];
	char why[MAX_EVENTS][400];
	int n;
	uint8_t *answer;    /* the last answer an event carried (a reference), for its test */
};

struct fixture {
	char dir[64];
	struct media_conf mc;
	struct media *m;
	struct peer peer;
	struct events evs;
	struct media_stream *ms;
	struct sa local;
};

/* ---- plumbing ---------------------------------------------------------------------- */

static void on_event(struct media_stream *ms, const struct media_event *ev, void *arg)
{
	struct events *e = arg;

	(void)ms;
	if (e->n == MAX_EVENTS)
		return;
	e->ev[e->n] = *ev;
	snprintf(e->why[e->n], sizeof(e->why[0]), "%s", ev->why ? ev->why : "");
	e->ev[e->n].why = ev->why ? e->why[e->n] : NULL;
	if (ev->answer) {
		mem_deref(e->answer);
		e->answer = mem_ref(ev->answer);
	}
	e->n++;
}

static int count_events(const struct events *e, enum media_event_type t)
{
	int n = 0;

	for (int i = 0; i < e->n; i++)
		n += e->ev[i].type == t;
	return n;
}

static const struct media_event *find_event(const struct events *e, enum media_event_type t)
{
	for (int i = 0; i < e->n; i++) {
		if (e->ev[i].type == t)
			return &e->ev[i];
	}
	return NULL;
}

typedef bool (cond_h)(struct fixture *f, void *arg);

struct waiter {
	struct tmr tmr;
	struct fixture *f;
	cond_h *cond;
	void *arg;
	uint64_t deadline;
};

static void waiter_poll(void *arg)
{
	struct waiter *w = arg;

	if ((w->cond && w->cond(w->f, w->arg)) || clock_mono_ms() >= w->deadline)
		re_cancel();
	else
		tmr_start(&w->tmr, 5, waiter_poll, w);
}

/* Runs the control loop until cond holds or max_ms pass (cond NULL: just run max_ms). */
static bool run_until(struct fixture *f, cond_h *cond, void *arg, unsigned max_ms)
{
	struct waiter w = {.f = f, .cond = cond, .arg = arg};

	w.deadline = clock_mono_ms() + max_ms;
	tmr_init(&w.tmr);
	tmr_start(&w.tmr, 0, waiter_poll, &w);
	re_main(NULL);
	tmr_cancel(&w.tmr);
	return cond ? cond(f, arg) : true;
}

static bool has_events(struct fixture *f, void *arg)
{
	const int *want = arg; /* {type, count} */

	return count_events(&f->evs, (enum media_event_type)want[0]) >= want[1];
}

static bool wait_events(struct fixture *f, enum media_event_type t, int n, unsigned max_ms)
{
	int want[2] = {(int)t, n};

	return run_until(f, has_events, want, max_ms);
}

static bool pkts_at(struct fixture *f, void *arg)
{
	const int *want = arg; /* {sock, count} */
	int n = 0;

	for (int i = 0; i < f->peer.npkts; i++)
		n += f->peer.pkts[i].sock == want[0];
	return n >= want[1];
}

static bool wait_pkts(struct fixture *f, int sock, int n, unsigned max_ms)
{
	int want[2] = {sock, n};

	return run_until(f, pkts_at, want, max_ms);
}

static void peer_rtp_recv(struct peer *p, int sock, struct mbuf *mb)
{
	struct pkt *k;

	if (p->npkts == MAX_PKTS)
		return;
	k = &p->pkts[p->npkts];
	if (media_rtp_parse(mbuf_buf(mb), mbuf_get_left(mb), &k->h) || k->h.plen > 480)
		return;
	k->sock = sock;
	memcpy(k->payload, k->h.payload, k->h.plen);
	k->h.payload = k->payload;
	p->npkts++;
}

static void peer_rtcp_recv(struct peer *p, int sock, struct mbuf *mb)
{
	struct media_rtcp_info info;

	if (media_rtcp_parse(mbuf_buf(mb), mbuf_get_left(mb), &info))
		return;
	p->nrtcp[sock]++;
	p->nbye += info.bye;
	if (info.sr) {
		p->nsr++;
		p->sr_ssrc = info.sr_ssrc;
	}
}

static void rtp_a(const struct sa *src, struct mbuf *mb, void *arg)
{
	(void)src;
	peer_rtp_recv(arg, 0, mb);
}

static void rtp_b(const struct sa *src, struct mbuf *mb, void *arg)
{
	(void)src;
	peer_rtp_recv(arg, 1, mb);
}

static void rtcp_a(const struct sa *src, struct mbuf *mb, void *arg)
{
	(void)src;
	peer_rtcp_recv(arg, 0, mb);
}

static void rtcp_b(const struct sa *src, struct mbuf *mb, void *arg)
{
	(void)src;
	peer_rtcp_recv(arg, 1, mb);
}

/* An RTP/RTCP pair on ephemeral ports (RTP even, RTCP the next one up), so concurrent runs
 * of this test never collide. */
static void pair_open(struct peer *p, int i, udp_recv_h *rh, udp_recv_h *ch)
{
	for (int attempt = 0; attempt < 100; attempt++) {
		struct sa s;

		sa_set_str(&s, "127.0.0.1", 0);
		assert_int_equal(udp_listen(&p->rtp[i], &s, rh, p), 0);
		assert_int_equal(udp_local_get(p->rtp[i], &p->addr[i]), 0);
		if (sa_port(&p->addr[i]) % 2 == 0) {
			sa_set_port(&s, (uint16_t)(sa_port(&p->addr[i]) + 1));
			if (udp_listen(&p->rtcp[i], &s, ch, p) == 0)
				return;
		}
		p->rtp[i] = mem_deref(p->rtp[i]);
	}
	fail_msg("no free even/odd port pair for the peer");
}

static void peer_open(struct peer *p)
{
	p->pkts = calloc(MAX_PKTS, sizeof(*p->pkts));
	pair_open(p, 0, rtp_a, rtcp_a);
	pair_open(p, 1, rtp_b, rtcp_b);
	p->seq = 1000;
	p->ts = 50000;
}

static void peer_close(struct peer *p)
{
	for (int i = 0; i < 2; i++) {
		p->rtp[i] = mem_deref(p->rtp[i]);
		p->rtcp[i] = mem_deref(p->rtcp[i]);
	}
	free(p->pkts);
}

/* Sends one RTP packet from socket `sock` of the peer to the stream. */
static void peer_send(struct fixture *f, int sock, bool marker, uint8_t pt, uint32_t ts,
		      const uint8_t *payload, size_t len)
{
	struct mbuf *mb = mbuf_alloc(12 + len);
	uint8_t hdr[12];

	media_rtp_header(hdr, marker, pt, f->peer.seq++, ts, 0xCAFE0001);
	mbuf_write_mem(mb, hdr, 12);
	mbuf_write_mem(mb, payload, len);
	mb->pos = 0;
	assert_int_equal(udp_send(f->peer.rtp[sock], &f->local, mb), 0);
	mem_deref(mb);
}

static void peer_send_pcm(struct fixture *f, int sock, enum media_codec c, const int16_t *pcm)
{
	uint8_t enc[MEDIA_FRAME];

	media_g711_encode(c, enc, pcm, MEDIA_FRAME);
	peer_send(f, sock, false, (uint8_t)c, f->peer.ts, enc, MEDIA_FRAME);
	f->peer.ts += MEDIA_FRAME;
}

static void wav_write(const char *path, const int16_t *pcm, size_t n)
{
	SF_INFO info = {.samplerate = 8000, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
	SNDFILE *sf = sf_open(path, SFM_WRITE, &info);

	assert_non_null(sf);
	assert_int_equal(sf_writef_short(sf, pcm, (sf_count_t)n), (sf_count_t)n);
	sf_close(sf);
}

static void tone(int16_t *pcm, size_t n, double freq, double amp)
{
	for (size_t i = 0; i < n; i++)
		pcm[i] = (int16_t)(amp * sin(2 * M_PI * freq * (double)i / 8000));
}

static struct media_prompt *prompt_of(struct fixture *f, const char *name, const int16_t *pcm,
				      size_t n)
{
	struct media_prompt *p = NULL;
	char path[128], why[256];

	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	wav_write(path, pcm, n);
	assert_int_equal(media_prompt_file(f->m, path, &p, why, sizeof(why)), 0);
	return p;
}

static struct media_prompt *tone_prompt(struct fixture *f, const char *name, double seconds,
					double freq)
{
	size_t n = (size_t)(8000 * seconds);
	int16_t *pcm = malloc(sizeof(int16_t) * n);
	struct media_prompt *p;

	tone(pcm, n, freq, 8000);
	p = prompt_of(f, name, pcm, n);
	free(pcm);
	return p;
}

static int media_open(struct fixture *f, unsigned timeout_ms)
{
	f->mc.rtp_timeout_ms = timeout_ms;
	return media_alloc(&f->m, &f->mc);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/cccd-test-mstream-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->mc.rtp_ip, sizeof(f->mc.rtp_ip), "127.0.0.1");
	f->mc.port_min = 21000;
	f->mc.port_max = 21099;
	f->mc.workers = 2;
	f->mc.prompt_cache_bytes = 4 << 20;
	f->mc.rtcp_interval_ms = 200;
	snprintf(f->mc.tts_voice, sizeof(f->mc.tts_voice), "kal");
	snprintf(f->mc.recording_dir, sizeof(f->mc.recording_dir), "%s/rec", f->dir);
	peer_open(&f->peer);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	f->ms = mem_deref(f->ms);
	f->m = mem_deref(f->m);
	mem_deref(f->evs.answer);
	peer_close(&f->peer);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* A started stream towards peer socket A, PCMU, with or without telephone-event. */
static void stream_up(struct fixture *f, int telev_pt)
{
	struct media_params p = {.remote = &f->peer.addr[0], .codec = MEDIA_PCMU,
				 .telev_pt = telev_pt, .ptime_ms = 20};

	assert_int_equal(media_stream_alloc(&f->ms, f->m, on_event, &f->evs), 0);
	media_stream_local(f->ms, &f->local);
	assert_int_equal(media_stream_start(f->ms, &p), 0);
}

/* ---- audio, pacing, symmetric RTP, RTCP --------------------------------------------- */

/* RTP from strangers to a live stream's port: a spray of packets (random sequence) never
 * moves the stream, nor does a source sending in sequence once the stream heard its peer
 * at the signalled address; none of it is counted as received. Bug pinned: every packet
 * of the negotiated type from a new source moved the stream (a spray over the port range
 * took over live calls' audio). */
static void test_stream_source(void **state)
{
	struct fixture *f = *state;
	int16_t silence[MEDIA_FRAME] = {0};
	struct media_stats st;
	int from_b = 0;

	assert_int_equal(media_open(f, 0), 0);
	stream_up(f, TELEV_PT);
	assert_true(wait_pkts(f, 0, 3, 2000));
	/* a spray before the peer spoke: out of sequence, never four in a row */
	for (int i = 0; i < 12; i++) {
		f->peer.seq = (uint16_t)(f->peer.seq + 2 + i);
		peer_send_pcm(f, 1, MEDIA_PCMU, silence);
	}
	run_until(f, NULL, NULL, 200);
	/* the peer at the signalled address: the source is fixed */
	peer_send_pcm(f, 0, MEDIA_PCMU, silence);
	run_until(f, NULL, NULL, 100);
	/* a stranger in perfect sequence now: ignored */
	for (int i = 0; i < 10; i++)
		peer_send_pcm(f, 1, MEDIA_PCMU, silence);
	run_until(f, NULL, NULL, 300);
	for (int i = 0; i < f->peer.npkts; i++)
		from_b += f->peer.pkts[i].sock == 1;
	assert_int_equal(from_b, 0);
	media_stream_stats(f->ms, &st);
	assert_int_equal(st.rtp_received, 1);
}

static int pkts_to(const struct fixture *f, int sock, int from)
{
	int n = 0;

	for (int i = from; i < f->peer.npkts; i++)
		n += f->peer.pkts[i].sock == sock;
	return n;
}

/* Symmetric RTP behind NATs (symmetric_rtp, enum media_latch). The SDP names a host
 * nobody is on (a phone's private address); its media comes from elsewhere. By default a
 * source may latch only on the SDP's host or the host of the peer's SIP, so a stranger in
 * perfect sequence is ignored until the SIP peer's host is known; a refresh with the same
 * SDP keeps the latch, a new SDP address learns again; "no" never moves. */
static void test_stream_latch(void **state)
{
	struct fixture *f = *state;
	int16_t silence[MEDIA_FRAME] = {0};
	struct sa nat, sig;
	struct media_params p = {.remote = &nat, .codec = MEDIA_PCMU, .telev_pt = TELEV_PT,
				 .ptime_ms = 20, .latch = MEDIA_LATCH_HOST};
	int mark;

	assert_int_equal(media_open(f, 0), 0);
	sa_set_str(&nat, "127.0.0.9", sa_port(&f->peer.addr[0]));
	sa_set_str(&sig, "127.0.0.1", 5060);
	assert_int_equal(media_stream_alloc(&f->ms, f->m, on_event, &f->evs), 0);
	media_stream_local(f->ms, &f->local);
	assert_int_equal(media_stream_start(f->ms, &p), 0);
	/* another host, no SIP peer known: never latched */
	for (int i = 0; i < 8; i++)
		peer_send_pcm(f, 1, MEDIA_PCMU, silence);
	run_until(f, NULL, NULL, 300);
	assert_int_equal(pkts_to(f, 1, 0), 0);

	/* the SIP peer is on that host: it latches after probation */
	p.sig = &sig;
	assert_int_equal(media_stream_start(f->ms, &p), 0);
	run_until(f, NULL, NULL, 100); /* the worker applies the start before the packets */
	for (int i = 0; i < 4; i++)
		peer_send_pcm(f, 1, MEDIA_PCMU, silence);
	assert_true(wait_pkts(f, 1, 3, 2000));

	/* a refresh with the same SDP keeps sending to the latched source */
	assert_int_equal(media_stream_start(f->ms, &p), 0);
	mark = f->peer.npkts;
	run_until(f, NULL, NULL, 200);
	assert_true(pkts_to(f, 1, mark) >= 5);

	/* a new SDP address: sent there, learnt again */
	p.remote = &f->peer.addr[0];
	assert_int_equal(media_stream_start(f->ms, &p), 0);
	mark = f->peer.npkts;
	run_until(f, NULL, NULL, 200);
	assert_true(pkts_to(f, 0, mark) >= 5);
	assert_true(pkts_to(f, 1, mark) <= 1); /* one may have been on its way */

	/* "no": a source elsewhere never takes the stream, even in sequence */
	p.latch = MEDIA_LATCH_OFF;
	assert_int_equal(media_stream_start(f->ms, &p), 0);
	run_until(f, NULL, NULL, 100);
	for (int i = 0; i < 8; i++)
		peer_send_pcm(f, 1, MEDIA_PCMU, silence);
	mark = f->peer.npkts;
	run_until(f, NULL, NULL, 200);
	assert_int_equal(pkts_to(f, 1, mark), 0);
	assert_true(pkts_to(f, 0, mark) >= 5);
}

static void test_stream_audio(void **state)
{
	struct fixture *f = *state;
	size_t n = 4800, total = 0, first = 0;
	int16_t *prompt = malloc(sizeof(int16_t) * n), silence[MEDIA_FRAME] = {0}, *got;
	struct media_prompt *p;
	const struct media_event *done;
	struct media_stats st;
	struct media_params bad = {.remote = &f->peer.addr[0], .codec = MEDIA_PCMU, .telev_pt = -1};
	struct sa v6;
	double best = 0;
	uint32_t play_id;
	int start_b = -1;

	assert_int_equal(media_open(f, 0), 0);
	/* A chirp 200 Hz → 3 kHz: correlates with itself at one lag only. */
	for (size_t i = 0; i < n; i++) {
		double t = (double)i / 8000;

		prompt[i] = (int16_t)(9000 * sin(2 * M_PI * (200 * t + 2800 * t * t / (2 * 0.6))));
	}
	p = prompt_of(f, "chirp.wav", prompt, n);
	stream_up(f, TELEV_PT);
	assert_true(sa_port(&f->local) >= 21000 && sa_port(&f->local) <= 21099);
	assert_int_equal(sa_port(&f->local) % 2, 0);

	/* Bad parameters are refused. */
	bad.codec = 3;
	assert_int_equal(media_stream_start(f->ms, &bad), EINVAL);
	bad.codec = MEDIA_PCMA;
	bad.ptime_ms = 30;
	assert_int_equal(media_stream_start(f->ms, &bad), EINVAL);
	bad.ptime_ms = 20;
	bad.telev_pt = 8;
	assert_int_equal(media_stream_start(f->ms, &bad), EINVAL);
	sa_set_str(&v6, "::1", 5004);
	bad.remote = &v6;
	bad.telev_pt = -1;
	assert_int_equal(media_stream_start(f->ms, &bad), EAFNOSUPPORT);
	bad.remote = NULL;
	assert_int_equal(media_stream_start(f->ms, &bad), EINVAL);

	/* Silence goes to the signalled address first... */
	assert_true(wait_pkts(f, 0, 3, 2000));
	/* ...and to where the peer's RTP comes from once it sends (symmetric RTP): a source
	 * other than the signalled one after a few packets in sequence (probation). */
	for (int i = 0; i < 4; i++)
		peer_send_pcm(f, 1, MEDIA_PCMU, silence);
	assert_true(wait_pkts(f, 1, 2, 2000));
	for (int i = 0; i < f->peer.npkts; i++) {
		if (f->peer.pkts[i].sock == 1) {
			start_b = i;
			break;
		}
	}
	assert_int_equal(media_play(f->ms, p, 1, false, &play_id), 0);
	assert_true(wait_events(f, MEDIA_EV_PLAY_DONE, 1, 3000));
	done = find_event(&f->evs, MEDIA_EV_PLAY_DONE);
	assert_int_equal(done->play_id, play_id);
	assert_false(done->stopped);
	run_until(f, NULL, NULL, 300); /* a little silence after, and more RTCP */

	/* Sequence, timestamps and SSRC consistent at 20 ms per packet, none lost. */
	for (int i = 1; i < f->peer.npkts; i++) {
		struct media_rtp *a = &f->peer.pkts[i - 1].h, *b = &f->peer.pkts[i].h;

		assert_int_equal((uint16_t)(a->seq + 1), b->seq);
		assert_int_equal(b->ts - a->ts, MEDIA_FRAME);
		assert_int_equal(a->ssrc, b->ssrc);
		assert_int_equal(b->pt, 0);
		assert_int_equal(b->plen, MEDIA_FRAME);
		if (i > start_b)
			assert_int_equal(f->peer.pkts[i].sock, 1);
	}
	assert_true(f->peer.pkts[0].h.marker);

	/* The audio sent is the prompt: decode what B got and find the prompt in it. */
	got = malloc(sizeof(int16_t) * MEDIA_FRAME * (size_t)f->peer.npkts);
	for (int i = start_b; i < f->peer.npkts; i++) {
		media_g711_decode(MEDIA_PCMU, got + total, f->peer.pkts[i].payload, MEDIA_FRAME);
		total += MEDIA_FRAME;
	}
	assert_true(total >= n);
	for (size_t lag = 0; lag + n <= total; lag++) {
		double xy = 0, xx = 0, yy = 0, c;

		for (size_t i = 0; i < n; i += 2) {
			xy += (double)prompt[i] * got[lag + i];
			xx += (double)prompt[i] * prompt[i];
			yy += (double)got[lag + i] * got[lag + i];
		}
		c = yy > 0 ? xy / sqrt(xx * yy) : 0;
		if (c > best) {
			best = c;
			first = lag;
		}
	}
	assert_true(best > 0.99);
	assert_int_equal(first % MEDIA_FRAME, 0); /* a prompt starts on a packet boundary */
	free(got);

	/* RTCP sender reports arrive (at the RTP port + 1), from the RTP SSRC. */
	assert_true(f->peer.nsr > 0);
	assert_int_equal(f->peer.sr_ssrc, f->peer.pkts[0].h.ssrc);
	media_stream_stats(f->ms, &st);
	assert_true(st.rtp_sent >= (uint32_t)f->peer.npkts);
	assert_int_equal(st.rtp_received, 1);
	assert_true(st.rtcp_sent > 0);

	/* Junk on the RTP port is counted, not acted on. */
	{
		struct mbuf *mb = mbuf_alloc(8);

		mbuf_write_str(mb, "junk!");
		mb->pos = 0;
		udp_send(f->peer.rtp[1], &f->local, mb);
		mem_deref(mb);
	}
	run_until(f, NULL, NULL, 100);
	media_stream_stats(f->ms, &st);
	assert_int_equal(st.bad_packets, 1);

	/* The end of the stream is an RTCP BYE. */
	assert_int_equal(f->peer.nbye, 0);
	f->ms = mem_deref(f->ms);
	run_until(f, NULL, NULL, 100);
	assert_int_equal(f->peer.nbye, 1);

	mem_deref(p);
	free(prompt);
}

/* ---- DTMF ------------------------------------------------------------------------- */

/* One RFC 4733 key as a phone sends it: updates every 20 ms, the end packet three times. */
static void peer_key(struct fixture *f, char key, uint32_t ts)
{
	for (int i = 1; i <= 8; i++) {
		struct media_telev t = {.event = (uint8_t)media_telev_event(key), .volume = 10,
					.end = i > 5, .duration = (uint16_t)(MEDIA_FRAME * (i > 5 ? 5 : i))};
		uint8_t b[4];

		media_telev_write(b, &t);
		peer_send(f, 0, i == 1, TELEV_PT, ts, b, 4);
	}
}

static void test_dtmf_rfc4733(void **state)
{
	struct fixture *f = *state;
	struct media_prompt *p;
	const char keys[] = "5#5";
	int64_t before = clock_unix_ms();
	uint32_t play_id, play2;
	int k = 0, done_at = -1, first_key = -1;

	assert_int_equal(media_open(f, 0), 0);
	p = tone_prompt(f, "long.wav", 3, 500);
	stream_up(f, TELEV_PT);
	assert_int_equal(media_play(f->ms, p, 0, true, &play_id), 0);
	assert_true(wait_pkts(f, 0, 5, 2000));
	for (int i = 0; keys[i]; i++)
		peer_key(f, keys[i], 70000 + 2000 * (uint32_t)i);
	assert_true(wait_events(f, MEDIA_EV_DTMF, 3, 2000));
	assert_true(wait_events(f, MEDIA_EV_PLAY_DONE, 1, 2000));
	run_until(f, NULL, NULL, 200); /* nothing more may come */

	for (int i = 0; i < f->evs.n; i++) {
		const struct media_event *e = &f->evs.ev[i];

		if (e->type == MEDIA_EV_DTMF) {
			if (first_key < 0)
				first_key = i;
			assert_int_equal(e->key, keys[k]);
			assert_int_equal(e->source, MEDIA_DTMF_RFC4733);
			assert_true(e->ts_ms >= before - 1000 && e->ts_ms <= clock_unix_ms());
			k++;
		} else if (e->type == MEDIA_EV_PLAY_DONE) {
			done_at = i;
			assert_int_equal(e->play_id, play_id);
			assert_true(e->stopped);
		}
	}
	assert_int_equal(k, 3); /* each key once, despite 8 packets and 3 end repeats each */
	assert_int_equal(count_events(&f->evs, MEDIA_EV_PLAY_DONE), 1);
	assert_true(first_key < done_at); /* the key is reported before the barge-in */

	/* A prompt that is not interruptible plays on through a key. */
	f->evs.n = 0;
	assert_int_equal(media_play(f->ms, p, 0, false, &play2), 0);
	assert_int_not_equal(play2, play_id);
	peer_key(f, '9', 90000);
	assert_true(wait_events(f, MEDIA_EV_DTMF, 1, 2000));
	run_until(f, NULL, NULL, 200);
	assert_int_equal(count_events(&f->evs, MEDIA_EV_PLAY_DONE), 0);
	media_stop(f->ms);
	assert_true(wait_events(f, MEDIA_EV_PLAY_DONE, 1, 2000));
	assert_int_equal(find_event(&f->evs, MEDIA_EV_PLAY_DONE)->play_id, play2);
	assert_true(find_event(&f->evs, MEDIA_EV_PLAY_DONE)->stopped);
	mem_deref(p);
}

static void test_dtmf_inband(void **state)
{
	struct fixture *f = *state;
	dtmf_tx_state_t *tx = dtmf_tx_init(NULL);
	struct media_prompt *p;
	int16_t frame[MEDIA_FRAME];
	const char keys[] = "159#";
	uint32_t play_id;
	int k = 0, frames = 0;

	assert_int_equal(media_open(f, 0), 0);
	p = tone_prompt(f, "long.wav", 3, 500);
	stream_up(f, -1); /* no telephone-event negotiated */
	assert_int_equal(media_play(f->ms, p, 0, true, &play_id), 0);
	assert_true(wait_pkts(f, 0, 2, 2000));
	/* The keys as tones in PCMU (spandsp's generator: 50 ms on, 55 ms off), then silence,
	 * sent in groups of ten frames (a whole burst could overflow the socket buffer). */
	dtmf_tx_put(tx, keys, -1);
	for (int silent = 0; silent < 5 && frames < 200; frames++) {
		int n = dtmf_tx(tx, frame, MEDIA_FRAME);

		if (n < 0)
			n = 0;
		memset(frame + n, 0, sizeof(int16_t) * (size_t)(MEDIA_FRAME - n));
		silent += n == 0;
		peer_send_pcm(f, 0, MEDIA_PCMU, frame);
		if (frames % 10 == 9)
			run_until(f, NULL, NULL, 10);
	}
	dtmf_tx_free(tx);
	assert_true(wait_events(f, MEDIA_EV_DTMF, 4, 2000));
	run_until(f, NULL, NULL, 200);
	for (int i = 0; i < f->evs.n; i++) {
		if (f->evs.ev[i].type != MEDIA_EV_DTMF)
			continue;
		assert_int_equal(f->evs.ev[i].key, keys[k]);
		assert_int_equal(f->evs.ev[i].source, MEDIA_DTMF_INBAND);
		assert_true(f->evs.ev[i].ts_ms > 0);
		k++;
	}
	assert_int_equal(k, 4);
	/* The first key stopped the interruptible prompt. */
	assert_int_equal(count_events(&f->evs, MEDIA_EV_PLAY_DONE), 1);
	assert_true(find_event(&f->evs, MEDIA_EV_PLAY_DONE)->stopped);
	mem_deref(p);
}

static void test_dtmf_send(void **state)
{
	struct fixture *f = *state;
	struct media_params p = {.remote = &f->peer.addr[0], .codec = MEDIA_PCMU, .telev_pt = -1};
	dtmf_rx_state_t *rx;
	char digits[8] = "";
	int ev = 0, ends = 0, from = 0;
	uint32_t ts = 0;

	assert_int_equal(media_open(f, 0), 0);
	stream_up(f, TELEV_PT);
	assert_int_equal(media_send_dtmf(f->ms, 'x', 100), EINVAL);
	assert_int_equal(media_send_dtmf(f->ms, '7', 10), EINVAL);
	assert_int_equal(media_send_dtmf(f->ms, '7', 100), 0);
	run_until(f, NULL, NULL, 400);
	for (int i = 0; i < f->peer.npkts; i++) {
		struct pkt *k = &f->peer.pkts[i];
		struct media_telev t;

		if (k->h.pt != TELEV_PT)
			continue;
		assert_int_equal(media_telev_parse(k->payload, k->h.plen, &t), 0);
		assert_int_equal(t.event, 7);
		if (!ev++) {
			ts = k->h.ts;
			assert_true(k->h.marker);
		}
		assert_int_equal(k->h.ts, ts); /* one event: one timestamp */
		ends += t.end;
		if (t.end)
			assert_int_equal(t.duration, 800);
	}
	assert_int_equal(ev, 5 + 2); /* 5 × 20 ms, the last of them repeated twice more */
	assert_int_equal(ends, 3);

	/* Without telephone-event (a re-INVITE changed it): an in-band tone the peer hears. */
	assert_int_equal(media_stream_start(f->ms, &p), 0);
	run_until(f, NULL, NULL, 100);
	from = f->peer.npkts;
	assert_int_equal(media_send_dtmf(f->ms, '3', 120), 0);
	run_until(f, NULL, NULL, 500);
	rx = dtmf_rx_init(NULL, NULL, NULL);
	for (int i = from; i < f->peer.npkts; i++) {
		int16_t pcm[MEDIA_FRAME];

		assert_int_equal(f->peer.pkts[i].h.pt, 0);
		media_g711_decode(MEDIA_PCMU, pcm, f->peer.pkts[i].payload, MEDIA_FRAME);
		dtmf_rx(rx, pcm, MEDIA_FRAME);
	}
	dtmf_rx_get(rx, digits, sizeof(digits) - 1);
	dtmf_rx_free(rx);
	assert_string_equal(digits, "3");
}

/* ---- recording ----------------------------------------------------------------------- */

/* Power of `freq` in a channel (Goertzel). */
static double power_at(const int16_t *stereo, size_t frames, int ch, double freq)
{
	double w = 2 * M_PI * freq / 8000, c = 2 * cos(w), s1 = 0, s2 = 0;

	for (size_t i = 0; i < frames; i++) {
		double s0 = stereo[2 * i + ch] + c * s1 - s2;

		s2 = s1;
		s1 = s0;
	}
	return s1 * s1 + s2 * s2 - c * s1 * s2;
}

struct pacer {
	struct tmr tmr;
	struct fixture *f;
	int left;
	int16_t frame[MEDIA_FRAME];
};

static void pacer_tick(void *arg)
{
	struct pacer *pc = arg;

	peer_send_pcm(pc->f, 0, MEDIA_PCMU, pc->frame);
	if (--pc->left > 0)
		tmr_start(&pc->tmr, 20, pacer_tick, pc);
}

static void test_recording(void **state)
{
	struct fixture *f = *state;
	struct pacer pc = {.f = f, .left = 50};
	struct media_prompt *p;
	SF_INFO info = {0};
	SNDFILE *sf;
	int16_t *rec;
	char path[600];
	uint32_t play_id;
	const struct media_event *done;

	assert_int_equal(media_open(f, 0), 0);
	p = tone_prompt(f, "a440.wav", 1, 440);
	stream_up(f, TELEV_PT);
	assert_int_equal(media_record_start(f->ms, MEDIA_REC_CALL, "../x.wav"), EINVAL);
	assert_int_equal(media_record_start(f->ms, MEDIA_REC_CALL, "a/b/c.wav"), EINVAL);
	assert_int_equal(media_record_start(f->ms, MEDIA_REC_CALL, "/b.wav"), EINVAL);
	assert_int_equal(media_record_start(f->ms, MEDIA_REC_CALL, "a/"), EINVAL);
	assert_int_equal(media_record_start(f->ms, MEDIA_REC_CALL, "a/.."), EINVAL);
	assert_int_equal(media_record_start(f->ms, (enum media_rec_kind)2, "x.wav"), EINVAL);
	assert_int_equal(media_record_stop(f->ms, MEDIA_REC_CALL), ENOENT);
	assert_int_equal(media_record_start(f->ms, MEDIA_REC_CALL, "call.wav"), 0);
	assert_int_equal(media_record_start(f->ms, MEDIA_REC_CALL, "again.wav"), EALREADY);
	/* A message at the same time, in a directory the writer creates. */
	assert_int_equal(media_record_start(f->ms, MEDIA_REC_MESSAGE, "7/msg.wav"), 0);
	assert_int_equal(media_play(f->ms, p, 1, false, &play_id), 0);
	/* The peer speaks a 1 kHz tone, paced like a phone, for one second. */
	tone(pc.frame, MEDIA_FRAME, 1000, 8000); /* 160 samples: a whole number of periods */
	tmr_init(&pc.tmr);
	tmr_start(&pc.tmr, 0, pacer_tick, &pc);
	assert_true(wait_events(f, MEDIA_EV_PLAY_DONE, 1, 3000));
	run_until(f, NULL, NULL, 400);
	tmr_cancel(&pc.tmr);

	/* Before the file is closed (as after a crash) its header already counts the
	 * seconds written so far. */
	snprintf(path, sizeof(path), "%s/call.wav", f->mc.recording_dir);
	sf = sf_open(path, SFM_READ, &info);
	assert_non_null(sf);
	assert_true(info.frames >= 8000);
	sf_close(sf);

	assert_int_equal(media_record_stop(f->ms, MEDIA_REC_CALL), 0);
	assert_true(wait_events(f, MEDIA_EV_RECORD_DONE, 1, 3000));
	done = find_event(&f->evs, MEDIA_EV_RECORD_DONE);
	assert_null(done->why);
	assert_int_equal(done->rec, MEDIA_REC_CALL);
	assert_int_equal(media_record_stop(f->ms, MEDIA_REC_MESSAGE), 0);
	assert_true(wait_events(f, MEDIA_EV_RECORD_DONE, 2, 3000));

	memset(&info, 0, sizeof(info));
	sf = sf_open(path, SFM_READ, &info);
	assert_non_null(sf);
	assert_int_equal(info.channels, 2);
	assert_int_equal(info.samplerate, 8000);
	assert_int_equal(info.format, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
	assert_true(info.frames >= 8000 && info.frames < 8000 * 5);
	rec = malloc(sizeof(int16_t) * 2 * (size_t)info.frames);
	assert_int_equal(sf_readf_short(sf, rec, info.frames), info.frames);
	sf_close(sf);
	/* Left is what the peer sent (1 kHz), right what cccd played (440 Hz). */
	assert_true(power_at(rec, (size_t)info.frames, 0, 1000) >
		    100 * power_at(rec, (size_t)info.frames, 0, 440));
	assert_true(power_at(rec, (size_t)info.frames, 1, 440) >
		    100 * power_at(rec, (size_t)info.frames, 1, 1000));
	free(rec);

	/* The message is mono: the peer's 1 kHz only. */
	snprintf(path, sizeof(path), "%s/7/msg.wav", f->mc.recording_dir);
	memset(&info, 0, sizeof(info));
	sf = sf_open(path, SFM_READ, &info);
	assert_non_null(sf);
	assert_int_equal(info.channels, 1);
	assert_true(info.frames >= 8000 && info.frames < 8000 * 5);
	rec = calloc(2 * (size_t)info.frames, sizeof(int16_t));
	for (sf_count_t i = 0; i < info.frames; i++) {
		int16_t v;

		assert_int_equal(sf_readf_short(sf, &v, 1), 1);
		rec[2 * i] = v;
	}
	sf_close(sf);
	assert_true(power_at(rec, (size_t)info.frames, 0, 1000) >
		    100 * power_at(rec, (size_t)info.frames, 0, 440));
	free(rec);
	mem_deref(p);

	/* A directory that vanished: an error event, then RECORD_DONE with the reason. */
	f->evs.n = 0;
	snprintf(path, sizeof(path), "rm -rf %s", f->mc.recording_dir);
	assert_int_equal(system(path), 0);
	assert_int_equal(media_record_start(f->ms, MEDIA_REC_CALL, "lost.wav"), 0);
	assert_true(wait_events(f, MEDIA_EV_ERROR, 1, 2000));
	assert_non_null(strstr(find_event(&f->evs, MEDIA_EV_ERROR)->why, "lost.wav"));
	assert_int_equal(media_record_stop(f->ms, MEDIA_REC_CALL), 0);
	assert_true(wait_events(f, MEDIA_EV_RECORD_DONE, 1, 2000));
	assert_non_null(find_event(&f->evs, MEDIA_EV_RECORD_DONE)->why);
}

static bool file_has_header(struct fixture *f, void *arg)
{
	FILE *fp = fopen(arg, "rb");
	long size = -1;

	(void)f;
	if (fp && !fseek(fp, 0, SEEK_END))
		size = ftell(fp);
	if (fp)
		fclose(fp);
	return size >= 44;
}

/* A recording cut by kill -9 before its first second was written (found by the chaos
 * test): the file is the header alone, and that header must tell the file's true length —
 * libsndfile's first header said RIFF size 8 for a 44-byte file. */
static void test_recording_header_at_start(void **state)
{
	struct fixture *f = *state;
	uint8_t hdr[44];
	char path[600];
	FILE *fp;

	assert_int_equal(media_open(f, 0), 0);
	stream_up(f, TELEV_PT);
	assert_int_equal(media_record_start(f->ms, MEDIA_REC_CALL, "early.wav"), 0);
	snprintf(path, sizeof(path), "%s/early.wav", f->mc.recording_dir);
	/* The first chunk is handed over after one second: look well before. */
	assert_true(run_until(f, file_has_header, path, 500));
	fp = fopen(path, "rb");
	assert_non_null(fp);
	assert_int_equal(fread(hdr, 1, sizeof(hdr), fp), sizeof(hdr));
	fclose(fp);
	assert_memory_equal(hdr, "RIFF", 4);
	assert_int_equal(hdr[4] | hdr[5] << 8 | hdr[6] << 16 | (uint32_t)hdr[7] << 24, 36);
	assert_memory_equal(hdr + 36, "data", 4);
	assert_int_equal(hdr[40] | hdr[41] << 8 | hdr[42] << 16 | (uint32_t)hdr[43] << 24, 0);
	/* What a session closed after a restart asks before its record names the file: a
	 * kill between the store noting the name and the recorder creating the file left a
	 * record linking nothing (found by the chaos test). */
	assert_true(media_record_recover(f->m, "early.wav"));
	assert_false(media_record_recover(f->m, "never.wav"));
	snprintf(path, sizeof(path), "%s/empty.wav", f->mc.recording_dir);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	fclose(fp);
	assert_false(media_record_recover(f->m, "empty.wav"));
	/* A kill between sf_open's first header (RIFF size 8) and its rewrite, and one between
	 * a chunk's samples and the header update after it: the sizes are set from the file
	 * (whole stereo frames of 4 bytes; found by the chaos test). */
	{
		static const uint8_t fmt[36] = {
			'R', 'I', 'F', 'F', 8, 0, 0, 0, 'W', 'A', 'V', 'E', 'f', 'm', 't', ' ',
			16, 0, 0, 0, 1, 0, 2, 0, 0x40, 0x1f, 0, 0, 0, 0x7d, 0, 0, 4, 0, 16, 0};
		static const uint8_t data[8] = {'d', 'a', 't', 'a', 0, 0, 0, 0};
		uint8_t samples[403] = {0};
		uint8_t h[44];

		for (int audio = 0; audio < 2; audio++) {
			snprintf(path, sizeof(path), "%s/cut%d.wav", f->mc.recording_dir, audio);
			fp = fopen(path, "wb");
			assert_non_null(fp);
			fwrite(fmt, 1, sizeof(fmt), fp);
			fwrite(data, 1, sizeof(data), fp);
			if (audio)
				fwrite(samples, 1, sizeof(samples), fp);
			fclose(fp);
			snprintf(path, sizeof(path), "cut%d.wav", audio);
			assert_true(media_record_recover(f->m, path));
			snprintf(path, sizeof(path), "%s/cut%d.wav", f->mc.recording_dir, audio);
			fp = fopen(path, "rb");
			assert_non_null(fp);
			assert_int_equal(fread(h, 1, sizeof(h), fp), sizeof(h));
			fclose(fp);
			assert_int_equal(h[4] | h[5] << 8, audio ? 400 + 36 : 36);
			assert_int_equal(h[40] | h[41] << 8, audio ? 400 : 0);
		}
	}
	assert_int_equal(media_record_stop(f->ms, MEDIA_REC_CALL), 0);
	assert_true(wait_events(f, MEDIA_EV_RECORD_DONE, 1, 3000));
}

/* A spoken answer: the caller's silence after speaking is reported, and RECORD_DONE
 * carries the closed file's bytes (read by the recorder thread, for a recogniser), which
 * no other recording does; an answer that cannot be written carries none, and says why. */
static void test_record_answer(void **state)
{
	struct fixture *f = *state;
	struct pacer pc = {.f = f, .left = 25};
	const struct media_event *done;
	char path[600], cmd[700];
	uint8_t *file;
	FILE *fp;
	long size;

	assert_int_equal(media_open(f, 0), 0);
	stream_up(f, TELEV_PT);
	assert_int_equal(media_record_answer(f->ms, "9/answer.wav", 0), EINVAL);
	assert_int_equal(media_record_answer(f->ms, "9/answer.wav", 300), 0);
	assert_int_equal(media_record_start(f->ms, MEDIA_REC_CALL, "9/call.wav"), 0);
	/* Half a second of a 1 kHz tone, then nothing: silence. */
	tone(pc.frame, MEDIA_FRAME, 1000, 8000);
	tmr_init(&pc.tmr);
	tmr_start(&pc.tmr, 0, pacer_tick, &pc);
	assert_true(wait_events(f, MEDIA_EV_SILENCE, 1, 3000));
	tmr_cancel(&pc.tmr);
	assert_int_equal(media_record_stop(f->ms, MEDIA_REC_MESSAGE), 0);
	assert_true(wait_events(f, MEDIA_EV_RECORD_DONE, 1, 3000));
	done = find_event(&f->evs, MEDIA_EV_RECORD_DONE);
	assert_int_equal(done->rec, MEDIA_REC_MESSAGE);
	assert_null(done->why);
	assert_non_null(done->answer);
	assert_ptr_equal(done->answer, f->evs.answer);

	/* The bytes are the file, whole: a mono WAV with the tone in it. */
	snprintf(path, sizeof(path), "%s/9/answer.wav", f->mc.recording_dir);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	size = ftell(fp);
	rewind(fp);
	assert_true(size > 44 + 2 * 4000);
	assert_int_equal(done->answer_len, (size_t)size);
	file = malloc((size_t)size);
	assert_int_equal(fread(file, 1, (size_t)size, fp), (size_t)size);
	fclose(fp);
	assert_memory_equal(done->answer, file, (size_t)size);
	assert_memory_equal(done->answer, "RIFF", 4);
	assert_int_equal(done->answer[22], 1); /* channels */
	free(file);

	/* The call recording's RECORD_DONE carries nothing. */
	f->evs.n = 0;
	assert_int_equal(media_record_stop(f->ms, MEDIA_REC_CALL), 0);
	assert_true(wait_events(f, MEDIA_EV_RECORD_DONE, 1, 3000));
	done = find_event(&f->evs, MEDIA_EV_RECORD_DONE);
	assert_int_equal(done->rec, MEDIA_REC_CALL);
	assert_null(done->answer);

	/* Where the answer cannot be written (its directory is a file): the reason, no bytes. */
	f->evs.n = 0;
	f->evs.answer = mem_deref(f->evs.answer);
	snprintf(cmd, sizeof(cmd), "touch %s/10", f->mc.recording_dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(media_record_answer(f->ms, "10/answer.wav", 300), 0);
	assert_int_equal(media_record_stop(f->ms, MEDIA_REC_MESSAGE), 0);
	assert_true(wait_events(f, MEDIA_EV_RECORD_DONE, 1, 3000));
	done = find_event(&f->evs, MEDIA_EV_RECORD_DONE);
	assert_non_null(done->why);
	assert_non_null(strstr(done->why, "10/answer.wav"));
	assert_null(done->answer);
	assert_null(f->evs.answer);
}

/* ---- listening ------------------------------------------------------------------------ */

/* A listener's state: the frames it heard, on the worker; freed there. */
struct ear {
	unsigned frames;
	unsigned short_frames;
	uint32_t level_sum;
};

static atomic_int ears_freed;

static void ear_destructor(void *arg)
{
	(void)arg;
	atomic_fetch_add(&ears_freed, 1);
}

/* Reports every 10th frame: how much it heard, and the mean level of the last frame. */
static bool ear_frame(void *state, const int16_t *pcm, size_t n, struct media_heard *heard)
{
	struct ear *e = state;
	uint32_t sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += (uint32_t)abs(pcm[i]);
	e->short_frames += n != MEDIA_FRAME;
	if (++e->frames % 10)
		return false;
	heard->what = (int)e->short_frames;
	heard->at_ms = e->frames * 20;
	heard->value = sum / (uint32_t)n;
	return true;
}

/* The peer's audio reaches a listener as 8 kHz frames of 20 ms; what it reports arrives as
 * MEDIA_EV_HEARD with its slot; a stopped or replaced listener's state is freed and hears
 * no more. */
static void test_listen(void **state)
{
	struct fixture *f = *state;
	struct pacer pc = {.f = f, .left = 30};
	const struct media_event *ev;
	struct ear *e1, *e2;

	atomic_store(&ears_freed, 0);
	assert_int_equal(media_open(f, 0), 0);
	stream_up(f, TELEV_PT);
	e1 = mem_zalloc(sizeof(*e1), ear_destructor);
	e2 = mem_zalloc(sizeof(*e2), ear_destructor);
	assert_int_equal(media_listen(f->ms, MEDIA_LISTEN_SLOTS, ear_frame, e1), EINVAL);
	assert_int_equal(media_listen(f->ms, MEDIA_LISTEN_EARLY, ear_frame, NULL), EINVAL);
	assert_int_equal(media_listen(f->ms, MEDIA_LISTEN_ANSWER, ear_frame, e1), 0);
	e1 = mem_deref(e1); /* the stream holds it now */

	tone(pc.frame, MEDIA_FRAME, 1000, 8000);
	tmr_init(&pc.tmr);
	tmr_start(&pc.tmr, 0, pacer_tick, &pc);
	assert_true(wait_events(f, MEDIA_EV_HEARD, 2, 3000));
	ev = find_event(&f->evs, MEDIA_EV_HEARD);
	assert_int_equal(ev->heard.slot, MEDIA_LISTEN_ANSWER);
	assert_int_equal(ev->heard.what, 0);        /* every frame was whole */
	assert_int_equal(ev->heard.at_ms, 200);
	/* a 1 kHz sine of amplitude 8000 sampled at 8 kHz, through µ-law: mean |x| is about
	 * (0 + 0.707 + 1 + 0.707) / 4 * 8000 = 4828 */
	assert_true(ev->heard.value > 4600 && ev->heard.value < 5000);

	/* Replaced: the first state is freed on the worker; the second hears in its slot. */
	assert_int_equal(media_listen(f->ms, MEDIA_LISTEN_EARLY, ear_frame, e2), 0);
	assert_int_equal(media_listen(f->ms, MEDIA_LISTEN_ANSWER, NULL, NULL), 0);
	e2 = mem_deref(e2);
	f->evs.n = 0;
	assert_true(wait_events(f, MEDIA_EV_HEARD, 1, 3000));
	assert_int_equal(find_event(&f->evs, MEDIA_EV_HEARD)->heard.slot, MEDIA_LISTEN_EARLY);
	assert_int_equal(atomic_load(&ears_freed), 1);
	tmr_cancel(&pc.tmr);

	/* The stream's end frees the one still listening. */
	f->ms = mem_deref(f->ms);
	run_until(f, NULL, NULL, 200);
	assert_int_equal(atomic_load(&ears_freed), 2);
}

/* ---- RTP timeout, hold ---------------------------------------------------------------- */

static void test_rtp_timeout(void **state)
{
	struct fixture *f = *state;
	struct media_params hold = {.remote = &f->peer.addr[0], .codec = MEDIA_PCMU,
				    .telev_pt = TELEV_PT, .hold = true};
	int16_t silence[MEDIA_FRAME] = {0};
	struct pacer pc = {.f = f, .left = 60};
	int sent;

	assert_int_equal(media_open(f, 300), 0);
	stream_up(f, TELEV_PT);
	/* A peer that talks (a packet every 20 ms, read on the stream's own tick) is never
	 * timed out, for longer than the timeout. */
	tmr_init(&pc.tmr);
	pacer_tick(&pc);
	run_until(f, NULL, NULL, 1100);
	tmr_cancel(&pc.tmr);
	assert_int_equal(count_events(&f->evs, MEDIA_EV_RTP_TIMEOUT), 0);
	/* Then silence: one timeout. */
	assert_true(wait_events(f, MEDIA_EV_RTP_TIMEOUT, 1, 3000));
	run_until(f, NULL, NULL, 500);
	assert_int_equal(count_events(&f->evs, MEDIA_EV_RTP_TIMEOUT), 1); /* once */

	/* RTP again, then silence again: a new timeout. */
	peer_send_pcm(f, 0, MEDIA_PCMU, silence);
	run_until(f, NULL, NULL, 100);
	assert_int_equal(count_events(&f->evs, MEDIA_EV_RTP_TIMEOUT), 1);
	assert_true(wait_events(f, MEDIA_EV_RTP_TIMEOUT, 2, 3000));

	/* On hold nothing is sent and silence from the peer is expected. */
	assert_int_equal(media_stream_start(f->ms, &hold), 0);
	run_until(f, NULL, NULL, 100);
	sent = f->peer.npkts;
	run_until(f, NULL, NULL, 600);
	assert_int_equal(f->peer.npkts, sent);
	assert_int_equal(count_events(&f->evs, MEDIA_EV_RTP_TIMEOUT), 2);
}

/* ---- text to speech through the stream ---------------------------------------------- */

static void test_tts_play(void **state)
{
	struct fixture *f = *state;
	const struct media_event *e;
	uint32_t id, id2, id3;

	snprintf(f->mc.tts_command, sizeof(f->mc.tts_command), "false");
	assert_int_equal(media_open(f, 0), 0);
	stream_up(f, TELEV_PT);

	assert_int_equal(media_play_text(f->ms, "Welcome to the demo.", "en", 1, true, &id), 0);
	assert_true(wait_events(f, MEDIA_EV_PLAY_DONE, 1, 10000));
	assert_int_equal(f->evs.ev[0].type, MEDIA_EV_TTS_READY);
	assert_int_equal(f->evs.ev[0].play_id, id);
	e = find_event(&f->evs, MEDIA_EV_PLAY_DONE);
	assert_int_equal(e->play_id, id);
	assert_false(e->stopped);
	/* About a second of speech went out as audio (not silence). */
	{
		int loud = 0;

		for (int i = 0; i < f->peer.npkts; i++) {
			for (int j = 0; j < MEDIA_FRAME; j++) {
				if (abs(media_g711_ulaw_decode(f->peer.pkts[i].payload[j])) > 1000) {
					loud++;
					break;
				}
			}
		}
		assert_true(loud > 20);
	}

	/* The external program fails: an error with its reason, no PLAY_DONE. */
	f->evs.n = 0;
	assert_int_equal(media_play_text(f->ms, "Bonjour", "fr", 1, true, &id2), 0);
	assert_true(wait_events(f, MEDIA_EV_ERROR, 1, 10000));
	e = find_event(&f->evs, MEDIA_EV_ERROR);
	assert_int_equal(e->play_id, id2);
	assert_non_null(strstr(e->why, "false exited with status 1"));
	run_until(f, NULL, NULL, 100);
	assert_int_equal(count_events(&f->evs, MEDIA_EV_PLAY_DONE), 0);

	/* A key stops an interruptible text, ready or not: the key, then its PLAY_DONE. */
	f->evs.n = 0;
	assert_int_equal(media_play_text(f->ms, "Press any key to skip this message, which is long.",
					 "en", 1, true, &id2), 0);
	peer_key(f, '4', 123456);
	assert_true(wait_events(f, MEDIA_EV_PLAY_DONE, 1, 10000));
	assert_int_equal(f->evs.ev[count_events(&f->evs, MEDIA_EV_TTS_READY)].type, MEDIA_EV_DTMF);
	e = find_event(&f->evs, MEDIA_EV_PLAY_DONE);
	assert_int_equal(e->play_id, id2);
	assert_true(e->stopped);
	run_until(f, NULL, NULL, 1500); /* nothing more: a late synthesis is dropped */
	assert_int_equal(count_events(&f->evs, MEDIA_EV_PLAY_DONE), 1);

	/* Stopped before it is ready: one PLAY_DONE (stopped), and it never plays. */
	f->evs.n = 0;
	assert_int_equal(media_play_text(f->ms, "This will not be heard.", NULL, 1, true, &id3), 0);
	media_stop(f->ms);
	assert_true(wait_events(f, MEDIA_EV_PLAY_DONE, 1, 2000));
	run_until(f, NULL, NULL, 1500);
	assert_int_equal(count_events(&f->evs, MEDIA_EV_PLAY_DONE), 1);
	assert_int_equal(count_events(&f->evs, MEDIA_EV_TTS_READY), 0);
	assert_int_equal(find_event(&f->evs, MEDIA_EV_PLAY_DONE)->play_id, id3);
	assert_true(find_event(&f->evs, MEDIA_EV_PLAY_DONE)->stopped);
}

/* ---- packetisation ------------------------------------------------------------------ */

static void test_ptime(void **state)
{
	struct fixture *f = *state;
	struct media_params p = {.remote = &f->peer.addr[0], .codec = MEDIA_PCMA, .telev_pt = -1,
				 .ptime_ms = 40};
	int from, seen = 0;

	assert_int_equal(media_open(f, 0), 0);
	stream_up(f, TELEV_PT);
	assert_true(wait_pkts(f, 0, 2, 2000));
	/* A re-INVITE to PCMA at 40 ms: 320 bytes a packet, A-law silence, timestamps 320
	 * apart, the same SSRC and sequence going on. */
	assert_int_equal(media_stream_start(f->ms, &p), 0);
	run_until(f, NULL, NULL, 100);
	from = f->peer.npkts;
	run_until(f, NULL, NULL, 300);
	for (int i = from + 1; i < f->peer.npkts; i++) {
		struct media_rtp *a = &f->peer.pkts[i - 1].h, *b = &f->peer.pkts[i].h;

		assert_int_equal(b->pt, MEDIA_PCMA);
		assert_int_equal(b->plen, 320);
		assert_int_equal(b->ts - a->ts, 320);
		assert_int_equal((uint16_t)(a->seq + 1), b->seq);
		assert_int_equal(a->ssrc, f->peer.pkts[0].h.ssrc);
		assert_int_equal(f->peer.pkts[i].payload[0], 0xD5);
		seen++;
	}
	assert_true(seen >= 3);
}

/* ---- the port range ------------------------------------------------------------------ */

static bool alloc_ok(struct fixture *f, void *arg)
{
	struct media_stream **msp = arg;

	return *msp || media_stream_alloc(msp, f->m, on_event, &f->evs) == 0;
}

static void test_ports(void **state)
{
	struct fixture *f = *state;
	struct media_stream *a = NULL, *b = NULL, *c = NULL;
	struct sa la, lb;

	f->mc.port_min = 21201; /* rounded up to 21202: pairs 21202/3 and 21204/5 */
	f->mc.port_max = 21205;
	assert_int_equal(media_open(f, 0), 0);
	assert_int_equal(media_stream_alloc(&a, f->m, on_event, &f->evs), 0);
	assert_int_equal(media_stream_alloc(&b, f->m, on_event, &f->evs), 0);
	media_stream_local(a, &la);
	media_stream_local(b, &lb);
	assert_true(sa_port(&la) == 21202 || sa_port(&la) == 21204);
	assert_true(sa_port(&lb) == 21202 || sa_port(&lb) == 21204);
	assert_int_not_equal(sa_port(&la), sa_port(&lb));
	assert_int_equal(media_stream_alloc(&c, f->m, on_event, &f->evs), ENOSPC);
	assert_null(c);
	/* A released pair comes back once its worker has closed it. */
	mem_deref(a);
	assert_true(run_until(f, alloc_ok, &c, 2000));
	media_stream_local(c, &lb);
	assert_int_equal(sa_port(&lb), sa_port(&la));
	mem_deref(b);
	mem_deref(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stream_audio, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream_source, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream_latch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dtmf_rfc4733, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dtmf_inband, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dtmf_send, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recording, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recording_header_at_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rtp_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tts_play, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ptime, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ports, setup, teardown),
	};
	int rc;

	libre_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	libre_close();
	return rc;
}
