/* worker: a media thread — its streams' sockets on one epoll, ONE periodic timer for all of
 * them, packet pacing in phase slots, RTP/RTCP in and out, DTMF, prompt playback.
 *
 * Pacing. The timer (timerfd) fires every 2 ms: ten phase slots per 20 ms frame. A stream
 * is placed in the least loaded of the next three slots when it starts and is served once
 * per 20 ms in that slot, so a worker with 1000 calls sends ~100 packets every 2 ms instead of 1000 in one
 * burst: the receive side of the peer and the NIC queue see an even rate, and a tick's
 * work stays short. Missed expirations (the thread was descheduled) are caught up, a
 * bounded number of them, so a stream's timestamps stay in step with real time; beyond
 * that (a stall: the process was stopped, the machine starved) they are skipped, and a
 * recording gets the skipped frames as silence, so it stays as long as the call.
 *
 * Batching. Every packet of a tick for one socket goes out in one sendmmsg, and a socket is
 * drained by recvmmsg (one call returns all queued packets and says by its count that the
 * socket is empty, where read() needs an extra call that fails with EAGAIN). A stream owns
 * its RTP port (it is in the SDP and symmetric RTP needs the same port both ways), so
 * batches never span streams; bench/calls/floor.sh measures what that costs.
 *
 * Receiving on the tick. A stream's RTP socket is not on the epoll: the worker drains it
 * in the stream's slot, just before sending the stream's frame. A peer sends one packet per
 * 20 ms, so that read finds the one packet that arrived since the last, and the worker
 * wakes 500 times a second (its timer) instead of once per arriving packet: the wake-ups,
 * epoll bookkeeping and cross-CPU signalling of per-packet readiness cost cccd about as
 * much as the reads themselves (bench/calls). What it costs: a received packet waits up to
 * 20 ms before cccd sees it, which keys (their own timestamps), recordings (a ring) and
 * bridges (primed with 40 ms) absorb. RTCP (a packet every few seconds) stays on the epoll.
 *
 * Ownership. The worker owns its struct wstream objects, their sockets and what they play;
 * the control loop holds only a pointer it hands back in commands, and frees nothing.
 *
 * Bridges. Two streams of one worker may be bridged (a transfer): the audio each receives
 * goes into the other's bridge buffer as it arrives and leaves with the other's own 20 ms
 * frames, under its own SSRC, sequence and timestamps — so a bridged stream is paced like
 * any other and its RTP session stays continuous from the IVR's prompts into the
 * conversation. What one receives is decoded to 8 kHz linear and encoded again in the
 * other's codec (G.711's round trip through linear is exact, so a PCMU-PCMU bridge still
 * passes the bytes unchanged; a G.722 leg and a PCMU leg meet in linear audio). RFC 4733
 * keys are re-generated on
 * the other side (as events, or as tones when it has no telephone-event). Both streams
 * live on one worker (media_stream_alloc_near), so the bridge needs no lock.
 *
 * Codecs. G.711 prompts go out as the bytes the prompt cache encoded once; the codecs with
 * state (G.722, Opus: codec.c) have an encoder and a decoder per stream, made on this thread
 * when the stream starts, fed with the same 8 kHz frames. Their decoder sees every packet
 * received (its state runs on), so recordings, in-band DTMF and bridges get linear audio
 * as with G.711. Timestamps count the codec's RTP clock (`tsmul` units of 8 kHz: 6 for
 * Opus's 48 kHz), RFC 4733 events included. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <spandsp.h>
#include "base/base.h"
#include "media/media_int.h"

enum {
	RX_BATCH = 16,
	RX_MAX = 1500,
	RXRING = 8 * MEDIA_FRAME,     /* received audio waiting for the recorder */
	CATCH_UP_MAX = 2 * MEDIA_SLOTS,
	SLOT_CHOICE = 3,              /* a new stream's slot: one of the next three */
	DTMF_GAP_FRAMES = 3,          /* 60 ms between sent keys */
	PKT_MAX = 12 + 3 * MEDIA_FRAME,
	BRING = 6 * MEDIA_FRAME,      /* bridged audio waiting to go out (120 ms at most) */
	BRIDGE_PRIME = 2 * MEDIA_FRAME, /* start sending after 40 ms: absorbs arrival jitter */
	BRIDGE_LAG_MAX = 4 * MEDIA_FRAME, /* above this, a frame is dropped to catch up */
	BRIDGE_KEY_MS = 100,          /* duration of a re-generated key */
};

/* What an epoll event points at. */
struct wtag {
	struct wstream *ws; /* NULL for the worker's own fds */
	int kind;           /* 1 RTCP, 2 timer, 3 commands */
};

/* One stream's media state; owned by its worker. */
struct wstream {
	struct le le;              /* in w->streams */
	struct le le_slot;         /* in w->slots[slot] once started */
	struct le le_dead;         /* in w->dead once deleted, until freed */
	struct media_worker *w;
	uint32_t id;
	int fd_rtp, fd_rtcp;
	uint16_t port;
	struct wtag tag_rtcp;
	bool started, dead;
	unsigned slot;
	struct wstream_start p;
	struct media_srtp_ctx srtp; /* owned; plain RTP while its contexts are NULL */
	struct sa remote_rtcp;

	/* sending */
	uint32_t ssrc, ts, pkts, octets;
	uint16_t seq;
	bool marker;
	uint8_t pkt[PKT_MAX + MEDIA_SRTP_ROOM];
	unsigned pkt_frames;
	size_t pkt_len;            /* payload bytes of pkt_frames */
	struct media_coder *coder; /* owned; NULL for G.711 */
	enum media_codec coder_codec;
	unsigned tsmul;            /* RTP clock / 8000 */

	/* the prompt playing: owned reference */
	struct media_audio *audio;
	size_t pos;
	unsigned loops_left;       /* 0 with audio set: forever */
	bool interruptible;
	uint32_t play_id;

	/* DTMF out */
	char txq[MEDIA_DTMF_QUEUE];
	uint16_t txdur[MEDIA_DTMF_QUEUE];
	unsigned txh, txn, gap;
	bool tev_on;
	uint8_t tev_event;
	uint32_t tev_ts;
	unsigned tev_frames, tev_total, tev_ends;
	dtmf_tx_state_t *dtx;      /* owned; in-band tones when no telephone-event */

	/* receiving */
	struct media_telev_rx trx;
	dtmf_rx_state_t *drx;      /* owned; in-band detection when no telephone-event */
	bool have_peer;
	/* symmetric RTP: the source the stream takes media from (rx_rtp) */
	bool latched;              /* the source is fixed: p.remote, nothing else */
	struct sa sdp_remote;      /* the SDP's address: p.remote until a latch moves it */
	struct sa cand;            /* a source other than p.remote on probation */
	uint32_t cand_ssrc;
	uint16_t cand_seq;
	unsigned cand_n;           /* its packets in sequence so far */
	uint32_t peer_ssrc, base_seq, max_ext, received, exp_prior, rec_prior, jitter;
	int64_t transit;
	uint64_t last_rx_ms;
	bool timed_out;
	uint32_t last_sr_mid;
	uint64_t last_sr_ms;
	uint64_t next_rtcp_ms;

	/* bridge: the other stream (same worker) and what it received, 8 kHz linear */
	struct wstream *peer;
	int16_t bring[BRING];
	unsigned br_rd, br_n;
	bool br_primed;
	atomic_uint st_bridged;    /* frames of bridged audio sent */

	/* recordings by kind (call, message): owned, finished when the stream goes */
	struct media_rec *rec[2];
	bool recording;            /* either is set */
	int16_t rxring[RXRING];
	unsigned rx_rd, rx_n;
	/* the message recording's silence limit (0 = none): spoken yet, quiet since */
	unsigned silence_ms, quiet_ms;
	bool spoke;

	/* listeners by slot (media_listen): handler and state (owned reference) */
	media_listen_h *listen_h[MEDIA_LISTEN_SLOTS];
	void *listen_state[MEDIA_LISTEN_SLOTS];
	bool listening;            /* any slot is set */
	bool heard;                /* a frame reached the listeners since the last tick */
	unsigned gap_ticks;        /* ticks in a row without one */

	/* published counters (read by media_stream_stats on the control loop) */
	atomic_uint st_rtp_sent, st_rtp_recv, st_rtcp_sent, st_rtcp_recv, st_bad;
	/* published quality: cccd's view of the peer's RTP, and the peer's last report */
	atomic_uint st_expected, st_jitter, st_peer_reports, st_peer_fraction, st_peer_jitter;
	atomic_int st_lost, st_peer_lost, st_rtt_ms;
};

/* A media thread; owned by struct media. */
struct media_worker {
	struct media *m;
	unsigned idx;
	pthread_t thread;
	bool running;
	int epfd, tfd, evfd;
	struct wtag tag_timer, tag_cmd;
	pthread_mutex_t lock;
	struct list cmds;          /* struct wcmd, under lock */
	bool stop;                 /* under lock */
	struct list streams;       /* struct wstream */
	struct list dead;          /* deleted streams, freed after the event batch */
	struct list slots[MEDIA_SLOTS];
	unsigned slot_load[MEDIA_SLOTS];
	uint64_t tick;
	atomic_uint nstreams;
	/* For /metrics (media_worker_figures): written by this worker only, read by scrapes.
	 * Each packet adds to its stream's counter and to these, on the worker's own cache
	 * lines: no other thread writes them, so the adds never contend. */
	_Atomic uint64_t m_rtp_sent, m_rtp_recv, m_rtp_lost, m_late, m_skipped, m_busy_us;
	_Atomic uint64_t m_tick_ms;  /* clock_mono_ms of the last tick */
	/* receive buffers, reused */
	struct mmsghdr rmsg[RX_BATCH];
	struct iovec riov[RX_BATCH];
	struct sockaddr_storage rfrom[RX_BATCH];
	uint8_t rbuf[RX_BATCH][RX_MAX];
};

static void post(struct wstream *ws, enum media_event_type type, char key,
		 enum media_dtmf_source src, int64_t ts_ms, uint32_t play_id, bool stopped)
{
	struct media_event ev = {.type = type, .key = key, .source = src, .ts_ms = ts_ms,
				 .play_id = play_id, .stopped = stopped};

	media_post_event(ws->w->m, ws->id, &ev, NULL);
}

/* The end of a spoken answer: a frame whose mean level is above SPEECH_LEVEL counts as
 * speech (about -36 dBFS: line noise and comfort noise stay below, a voice does not);
 * after the first one, silence_ms of frames below it end the answer (one event). */
enum { SPEECH_LEVEL = 500 };

static void silence_check(struct wstream *ws, const int16_t *pcm)
{
	uint32_t sum = 0;

	for (unsigned i = 0; i < MEDIA_FRAME; i++)
		sum += (uint32_t)(pcm[i] < 0 ? -(int32_t)pcm[i] : pcm[i]);
	if (sum / MEDIA_FRAME > SPEECH_LEVEL) {
		ws->spoke = true;
		ws->quiet_ms = 0;
		return;
	}
	if (!ws->spoke)
		return;
	ws->quiet_ms += MEDIA_FRAME / (MEDIA_RATE / 1000);
	if (ws->quiet_ms >= ws->silence_ms) {
		ws->silence_ms = 0;
		post(ws, MEDIA_EV_SILENCE, 0, 0, 0, 0, false);
	}
}

static void listen_set(struct wstream *ws, enum media_listen_slot slot, media_listen_h *h,
		       void *state)
{
	mem_deref(ws->listen_state[slot]);
	ws->listen_h[slot] = h;
	ws->listen_state[slot] = state;
	ws->listening = false;
	for (unsigned k = 0; k < MEDIA_LISTEN_SLOTS; k++)
		ws->listening |= ws->listen_h[k] != NULL;
}

/* A packet of 40 or 60 ms is heard as 2 or 3 frames. */
static void listen_frame(struct wstream *ws, const int16_t *pcm, size_t n)
{
	ws->heard = true;
	for (size_t off = 0; off < n; off += MEDIA_FRAME) {
		size_t len = n - off < MEDIA_FRAME ? n - off : MEDIA_FRAME;

		for (unsigned k = 0; k < MEDIA_LISTEN_SLOTS; k++) {
			struct media_event ev = {.type = MEDIA_EV_HEARD};

			if (!ws->listen_h[k] ||
			    !ws->listen_h[k](ws->listen_state[k], pcm + off, len, &ev.heard))
				continue;
			ev.heard.slot = (enum media_listen_slot)k;
			media_post_event(ws->w->m, ws->id, &ev, NULL);
		}
	}
}

/* A peer that sends nothing is heard as silence: a phone with silence suppression stops
 * its RTP after "Hello?", and that silence is what tells a person from a greeting that
 * goes on. Once three ticks (60 ms: a jitter's worth, so that a late packet is not
 * doubled) passed without a packet, each tick without one gives the listeners a silent
 * frame. RFC 4733 events carry no audio and count as nothing received. */
enum { LISTEN_GAP_TICKS = 3 };

static void listen_gap(struct wstream *ws)
{
	static const int16_t quiet[MEDIA_FRAME];

	if (ws->heard) {
		ws->heard = false;
		ws->gap_ticks = 0;
		return;
	}
	if (++ws->gap_ticks < LISTEN_GAP_TICKS)
		return;
	listen_frame(ws, quiet, MEDIA_FRAME);
	ws->heard = false;
}

static void play_end(struct wstream *ws, bool stopped)
{
	if (!ws->audio)
		return;
	media_audio_release(ws->audio);
	ws->audio = NULL;
	post(ws, MEDIA_EV_PLAY_DONE, 0, 0, 0, ws->play_id, stopped);
}

/* A key was received: report it, then stop an interruptible prompt (barge-in). */
static void key_received(struct wstream *ws, char key, enum media_dtmf_source src,
			 int64_t ts_ms)
{
	post(ws, MEDIA_EV_DTMF, key, src, ts_ms, 0, false);
	if (ws->audio && ws->interruptible)
		play_end(ws, true);
}

static void inband_digits(void *arg, const char *digits, int len)
{
	struct wstream *ws = arg;
	/* spandsp confirms a tone after about 40 ms of it */
	int64_t ts = clock_unix_ms() - 40;

	for (int i = 0; i < len; i++)
		key_received(ws, digits[i], MEDIA_DTMF_INBAND, ts);
}

/* Queues a key to send (RFC 4733 or a tone, see dtmf_next). */
static void dtmf_queue(struct wstream *ws, char key, unsigned duration_ms)
{
	if (ws->txn == MEDIA_DTMF_QUEUE) {
		log_warn("media", "stream %u: DTMF queue full, key %c dropped", ws->id, key);
		return;
	}
	ws->txq[(ws->txh + ws->txn) % MEDIA_DTMF_QUEUE] = key;
	ws->txdur[(ws->txh + ws->txn) % MEDIA_DTMF_QUEUE] = (uint16_t)duration_ms;
	ws->txn++;
}

/* Ends a bridge from either side; what was waiting to go out is dropped. */
static void bridge_cut(struct wstream *ws)
{
	struct wstream *p = ws->peer;

	if (p) {
		BASE_ASSERT(p->peer == ws && p->w == ws->w,
			    "bridged streams point at each other on one worker");
		p->peer = NULL;
		p->br_n = 0;
		p->br_primed = false;
	}
	ws->peer = NULL;
	ws->br_n = 0;
	ws->br_primed = false;
}

/* Audio received by ws's peer, to go out on ws: appended to its bridge buffer (the
 * oldest bytes give way when it is full: the peer sends faster than we do). */
static void bridge_push(struct wstream *ws, const int16_t *pcm, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (ws->br_n == BRING) {
			ws->br_rd = (ws->br_rd + 1) % BRING;
			ws->br_n--;
		}
		ws->bring[(ws->br_rd + ws->br_n) % BRING] = pcm[i];
		ws->br_n++;
	}
}

/* One frame of bridged audio for ws, or silence while the buffer fills (again after it
 * ran dry: a late packet then finds room instead of a gap each frame). */
static void bridge_frame(struct wstream *ws, int16_t *out)
{
	if (!ws->br_primed && ws->br_n >= BRIDGE_PRIME)
		ws->br_primed = true;
	if (!ws->br_primed || ws->br_n < MEDIA_FRAME) {
		ws->br_primed = false;
		memset(out, 0, MEDIA_FRAME * sizeof(*out));
		return;
	}
	if (ws->br_n > BRIDGE_LAG_MAX) { /* the sender's clock runs fast: catch up */
		ws->br_rd = (ws->br_rd + MEDIA_FRAME) % BRING;
		ws->br_n -= MEDIA_FRAME;
	}
	for (unsigned i = 0; i < MEDIA_FRAME; i++)
		out[i] = ws->bring[(ws->br_rd + i) % BRING];
	ws->br_rd = (ws->br_rd + MEDIA_FRAME) % BRING;
	ws->br_n -= MEDIA_FRAME;
	atomic_fetch_add_explicit(&ws->st_bridged, 1, memory_order_relaxed);
}

/* ---- sending ------------------------------------------------------------------------ */

static void send_batch(struct wstream *ws, int fd, const struct sa *to, struct iovec *iov,
		       unsigned n)
{
	struct mmsghdr msg[4];
	int sent;

	memset(msg, 0, sizeof(msg));
	for (unsigned i = 0; i < n; i++) {
		msg[i].msg_hdr.msg_name = (void *)&to->u.sa;
		msg[i].msg_hdr.msg_namelen = to->len;
		msg[i].msg_hdr.msg_iov = &iov[i];
		msg[i].msg_hdr.msg_iovlen = 1;
	}
	sent = sendmmsg(fd, msg, n, MSG_DONTWAIT);
	if (sent < 0)
		sent = 0;
	if (fd == ws->fd_rtp) {
		atomic_fetch_add_explicit(&ws->st_rtp_sent, (unsigned)sent, memory_order_relaxed);
		atomic_fetch_add_explicit(&ws->w->m_rtp_sent, (unsigned)sent,
					  memory_order_relaxed);
	}
	else
		atomic_fetch_add_explicit(&ws->st_rtcp_sent, (unsigned)sent, memory_order_relaxed);
}

/* One RTP packet from the stream's packet buffer (header written here). */
static void rtp_out(struct wstream *ws, uint8_t pt, uint32_t ts, size_t plen)
{
	size_t len = 12 + plen;
	struct iovec iov = {ws->pkt, 0};

	media_rtp_header(ws->pkt, ws->marker, pt, ws->seq++, ts, ws->ssrc);
	ws->marker = false;
	ws->pkts++;
	ws->octets += (uint32_t)plen;
	if (media_srtp_protect(&ws->srtp, false, ws->pkt, &len, sizeof(ws->pkt)))
		return; /* no SRTP context: never sent in clear */
	iov.iov_len = len;
	send_batch(ws, ws->fd_rtp, &ws->p.remote, &iov, 1);
}

/* Fills `out` (MEDIA_FRAME bytes, the stream's codec) from the prompt, looping as asked;
 * the prompt ending mid-frame is padded with silence and reported done. */
static void prompt_frame(struct wstream *ws, uint8_t *out)
{
	enum media_codec c = ws->p.codec;
	size_t filled = 0;

	while (ws->audio && filled < MEDIA_FRAME) {
		size_t n = ws->audio->nsamples - ws->pos;

		if (n > MEDIA_FRAME - filled)
			n = MEDIA_FRAME - filled;
		memcpy(out + filled, media_audio_data(ws->audio, c) + ws->pos, n);
		filled += n;
		ws->pos += n;
		if (ws->pos < ws->audio->nsamples)
			continue;
		ws->pos = 0;
		if (ws->loops_left && --ws->loops_left == 0)
			play_end(ws, false);
	}
	memset(out + filled, media_g711_silence(c), MEDIA_FRAME - filled);
}

/* The same as linear samples, for the codecs with state and for bridges. */
static void prompt_pcm(struct wstream *ws, int16_t *out)
{
	size_t filled = 0;

	while (ws->audio && filled < MEDIA_FRAME) {
		size_t n = ws->audio->nsamples - ws->pos;

		if (n > MEDIA_FRAME - filled)
			n = MEDIA_FRAME - filled;
		memcpy(out + filled, ws->audio->pcm + ws->pos, n * sizeof(*out));
		filled += n;
		ws->pos += n;
		if (ws->pos < ws->audio->nsamples)
			continue;
		ws->pos = 0;
		if (ws->loops_left && --ws->loops_left == 0)
			play_end(ws, false);
	}
	memset(out + filled, 0, (MEDIA_FRAME - filled) * sizeof(*out));
}

/* RFC 4733 out: a packet per frame with the growing duration, then the end packet three
 * times (one per frame, as updates go), all with the event's start timestamp. */
static bool telev_frame(struct wstream *ws)
{
	struct media_telev t = {.event = ws->tev_event, .volume = 10};

	if (!ws->tev_on)
		return false;
	if (ws->tev_frames < ws->tev_total)
		ws->tev_frames++;
	t.duration = (uint16_t)(ws->tev_frames * MEDIA_FRAME * ws->tsmul);
	t.end = ws->tev_frames >= ws->tev_total;
	media_telev_write(ws->pkt + 12, &t);
	if (!ws->p.hold)
		rtp_out(ws, (uint8_t)ws->p.telev_pt, ws->tev_ts, 4);
	if (t.end && --ws->tev_ends == 0) {
		ws->tev_on = false;
		ws->gap = DTMF_GAP_FRAMES;
		ws->marker = true; /* audio resumes: a new talkspurt */
	}
	return true;
}

/* Starts the next queued key, if any and if the gap after the last one has passed. */
static void dtmf_next(struct wstream *ws)
{
	char key;
	unsigned dur;

	if (ws->gap) {
		ws->gap--;
		return;
	}
	if (!ws->txn || ws->tev_on)
		return;
	key = ws->txq[ws->txh];
	dur = ws->txdur[ws->txh];
	ws->txh = (ws->txh + 1) % MEDIA_DTMF_QUEUE;
	ws->txn--;
	if (ws->p.telev_pt >= 0) {
		ws->tev_on = true;
		ws->tev_event = (uint8_t)media_telev_event(key);
		ws->tev_ts = ws->ts;
		ws->tev_frames = 0;
		/* The duration field is 16 bits of the codec's clock: 1.36 s at Opus's 48 kHz
		 * (RFC 4733 2.5.1.5 would split a longer event; no key needs that long). */
		ws->tev_total = (dur + 19) / 20;
		if (ws->tev_total > 0xFFFFu / (MEDIA_FRAME * ws->tsmul))
			ws->tev_total = 0xFFFFu / (MEDIA_FRAME * ws->tsmul);
		ws->tev_ends = 3;
		ws->marker = true;
		return;
	}
	if (!ws->dtx && !(ws->dtx = dtmf_tx_init(NULL))) {
		log_warn("media", "stream %u: no memory for a DTMF tone, key %c dropped", ws->id,
			 key);
		return;
	}
	dtmf_tx_set_timing(ws->dtx, (int)dur, 0);
	dtmf_tx_put(ws->dtx, &key, 1);
	ws->gap = DTMF_GAP_FRAMES + (dur + 19) / 20;
}

/* Encodes one linear frame into payload in the stream's codec; its length, 0 if it could
 * not be encoded (a coder that failed to start sends nothing). */
static size_t frame_encode(struct wstream *ws, const int16_t *pcm, uint8_t *payload)
{
	if (ws->p.codec == MEDIA_PCMU || ws->p.codec == MEDIA_PCMA) {
		media_g711_encode(ws->p.codec, payload, pcm, MEDIA_FRAME);
		return MEDIA_FRAME;
	}
	if (!ws->coder)
		return 0;
	return media_coder_encode(ws->coder, pcm, payload,
				  (size_t)(ws->pkt + PKT_MAX - payload));
}

/* The 20 ms frame of one stream, in its slot. */
static void stream_frame(struct wstream *ws, uint64_t now)
{
	uint8_t *payload = ws->pkt + 12 + ws->pkt_len;
	int16_t sent_pcm[MEDIA_FRAME], left[MEDIA_FRAME];
	size_t plen = 0;
	uint32_t frame_ts = MEDIA_FRAME * ws->tsmul;

	dtmf_next(ws);
	if (telev_frame(ws)) {
		memset(sent_pcm, 0, sizeof(sent_pcm));
	} else {
		int n = ws->dtx ? dtmf_tx(ws->dtx, sent_pcm, MEDIA_FRAME) : 0;

		if (n > 0) {
			memset(sent_pcm + n, 0, sizeof(int16_t) * (size_t)(MEDIA_FRAME - n));
			plen = frame_encode(ws, sent_pcm, payload);
		} else if (ws->peer && !ws->audio) {
			/* A prompt played on a bridged stream (an announcement) goes first. */
			bridge_frame(ws, sent_pcm);
			plen = frame_encode(ws, sent_pcm, payload);
		} else if (ws->coder || (ws->p.codec != MEDIA_PCMU && ws->p.codec != MEDIA_PCMA)) {
			prompt_pcm(ws, sent_pcm);
			plen = frame_encode(ws, sent_pcm, payload);
		} else {
			prompt_frame(ws, payload);
			plen = MEDIA_FRAME;
			if (ws->recording)
				media_g711_decode(ws->p.codec, sent_pcm, payload, MEDIA_FRAME);
		}
	}
	if (plen && !ws->p.hold) {
		ws->pkt_len += plen;
		/* A packet's timestamp is that of its first frame. */
		if (++ws->pkt_frames >= ws->p.frames_per_pkt) {
			uint32_t ts = ws->ts - (ws->pkt_frames - 1) * frame_ts;

			rtp_out(ws, ws->p.pt, ts, ws->pkt_len);
			ws->pkt_frames = 0;
			ws->pkt_len = 0;
		}
	} else {
		ws->pkt_frames = 0;
		ws->pkt_len = 0;
	}
	if (ws->p.hold)
		memset(sent_pcm, 0, sizeof(sent_pcm));
	ws->ts += frame_ts;

	if (ws->recording) {
		unsigned n = ws->rx_n < MEDIA_FRAME ? ws->rx_n : MEDIA_FRAME;

		for (unsigned i = 0; i < n; i++)
			left[i] = ws->rxring[(ws->rx_rd + i) % RXRING];
		memset(left + n, 0, sizeof(int16_t) * (MEDIA_FRAME - n));
		ws->rx_rd = (ws->rx_rd + n) % RXRING;
		ws->rx_n -= n;
		for (unsigned k = 0; k < 2; k++) {
			if (ws->rec[k])
				media_rec_write(ws->rec[k], left, sent_pcm, MEDIA_FRAME);
		}
		if (ws->silence_ms && ws->rec[MEDIA_REC_MESSAGE])
			silence_check(ws, left);
	}

	if (ws->w->m->conf.rtp_timeout_ms && !ws->p.hold && !ws->timed_out &&
	    now >= ws->last_rx_ms + ws->w->m->conf.rtp_timeout_ms) {
		ws->timed_out = true;
		post(ws, MEDIA_EV_RTP_TIMEOUT, 0, 0, 0, 0, false);
	}
}

static uint64_t ntp_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return ((uint64_t)t.tv_sec + 2208988800u) << 32 |
	       (uint64_t)(((uint64_t)t.tv_nsec << 32) / 1000000000u);
}

/* An SR when we sent RTP since the start, else an RR; with a report block once the peer
 * has sent, and the SDES CNAME RFC 3550 requires in every compound packet. */
static void rtcp_send(struct wstream *ws, uint64_t now, bool bye)
{
	struct media_rtcp_report r = {.ssrc = ws->ssrc, .sender = ws->pkts > 0, .ntp = ntp_now(),
				.rtp_ts = ws->ts, .pkts = ws->pkts, .octets = ws->octets,
				.cname = "cccd", .bye = bye};
	uint8_t buf[128 + MEDIA_SRTP_ROOM];
	struct iovec iov;
	size_t len;

	if (ws->have_peer) {
		uint32_t expected = ws->max_ext - ws->base_seq + 1;
		uint32_t exp_int = expected - ws->exp_prior, rec_int = ws->received - ws->rec_prior;
		int32_t lost_int = (int32_t)(exp_int - rec_int);

		r.has_block = true;
		r.peer_ssrc = ws->peer_ssrc;
		r.lost = (int32_t)(expected - ws->received);
		r.fraction = exp_int && lost_int > 0 ? (uint8_t)(((uint32_t)lost_int << 8) / exp_int) : 0;
		r.ext_seq = ws->max_ext;
		r.jitter = ws->jitter >> 4;
		if (ws->last_sr_ms) {
			r.lsr = ws->last_sr_mid;
			r.dlsr = (uint32_t)((now - ws->last_sr_ms) * 65536 / 1000);
		}
		ws->exp_prior = expected;
		ws->rec_prior = ws->received;
	}
	len = media_rtcp_write(buf, sizeof(buf) - MEDIA_SRTP_ROOM, &r);
	if (!len || media_srtp_protect(&ws->srtp, true, buf, &len, sizeof(buf)))
		return;
	iov.iov_base = buf;
	iov.iov_len = len;
	send_batch(ws, ws->fd_rtcp, &ws->remote_rtcp, &iov, 1);
}

static void rtcp_schedule(struct wstream *ws, uint64_t now)
{
	unsigned iv = ws->w->m->conf.rtcp_interval_ms;
	uint32_t r = 0;

	/* RFC 3550 6.3.1: randomised over [0.5, 1.5] of the interval so calls started together
	 * do not report together. */
	ids_random(&r, sizeof(r));
	ws->next_rtcp_ms = now + iv / 2 + r % (iv ? iv : 1);
}

static void rx_socket(struct media_worker *w, struct wstream *ws, bool rtcp, uint64_t now);

/* Ticks that will not run (a stall): each recording stream gets the frames its slot
 * would have written in them as silence. */
static void worker_skip(struct media_worker *w, uint64_t ticks)
{
	for (unsigned s = 0; s < MEDIA_SLOTS; s++) {
		/* Ticks w->tick .. w->tick + ticks - 1 that fall on slot s. */
		unsigned first = (unsigned)((s + MEDIA_SLOTS - w->tick % MEDIA_SLOTS) % MEDIA_SLOTS);
		uint64_t frames = ticks / MEDIA_SLOTS + (first < ticks % MEDIA_SLOTS);

		for (struct le *le = list_head(&w->slots[s]); frames && le; le = le->next) {
			struct wstream *ws = le->data;

			for (unsigned k = 0; !ws->dead && ws->recording && k < 2; k++) {
				if (ws->rec[k])
					media_rec_gap(ws->rec[k], frames * MEDIA_FRAME);
			}
		}
	}
	w->tick += ticks;
}

static void worker_tick(struct media_worker *w, uint64_t now)
{
	struct le *le = list_head(&w->slots[w->tick % MEDIA_SLOTS]);

	while (le) {
		struct wstream *ws = le->data;

		le = le->next;
		if (ws->dead)
			continue;
		rx_socket(w, ws, false, now);
		if (ws->dead)
			continue;
		if (ws->listening)
			listen_gap(ws);
		stream_frame(ws, now);
		if (now >= ws->next_rtcp_ms) {
			rtcp_send(ws, now, false);
			rtcp_schedule(ws, now);
		}
	}
	w->tick++;
}

/* ---- receiving ---------------------------------------------------------------------- */

static void rxring_push(struct wstream *ws, const int16_t *pcm, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (ws->rx_n == RXRING) { /* the recorder fell behind: drop the oldest */
			ws->rx_rd = (ws->rx_rd + 1) % RXRING;
			ws->rx_n--;
		}
		ws->rxring[(ws->rx_rd + ws->rx_n) % RXRING] = pcm[i];
		ws->rx_n++;
	}
}

/* What the record's quality figures read (media_stream_quality), kept current per
 * packet: a few relaxed stores, so the last snapshot before the stream goes is the call's. */
static void quality_publish(struct wstream *ws)
{
	uint32_t expected = ws->max_ext - ws->base_seq + 1;

	atomic_store_explicit(&ws->st_expected, expected, memory_order_relaxed);
	atomic_store_explicit(&ws->st_lost, (int32_t)(expected - ws->received),
			      memory_order_relaxed);
	atomic_store_explicit(&ws->st_jitter, ws->jitter >> 4, memory_order_relaxed);
}

/* Sequence and jitter bookkeeping for the reception report (RFC 3550 A.1, A.8). */
static void rx_stats(struct wstream *ws, const struct media_rtp *rp, uint64_t now_us)
{
	uint32_t arrival = (uint32_t)(now_us * MEDIA_RATE * ws->tsmul / 1000000);
	int64_t transit = (int64_t)(int32_t)(arrival - rp->ts), d;

	if (!ws->have_peer || rp->ssrc != ws->peer_ssrc) {
		ws->have_peer = true;
		ws->peer_ssrc = rp->ssrc;
		ws->base_seq = rp->seq;
		ws->max_ext = rp->seq;
		ws->received = ws->exp_prior = ws->rec_prior = 0;
		ws->jitter = 0;
		ws->transit = transit;
		ws->trx.seen = false;
	} else {
		uint16_t max16 = (uint16_t)ws->max_ext;
		int16_t delta = (int16_t)(rp->seq - max16);

		if (delta > 0) {
			if (rp->seq < max16)
				ws->max_ext += 0x10000;
			ws->max_ext = (ws->max_ext & 0xFFFF0000u) | rp->seq;
		}
	}
	ws->received++;
	d = transit - ws->transit;
	ws->transit = transit;
	if (d < 0)
		d = -d;
	ws->jitter += (uint32_t)d - ((ws->jitter + 8) >> 4);
	quality_publish(ws);
}

/* Symmetric RTP without hijacking. We send to where the peer's RTP comes from (behind a
 * NAT that is not the SDP's address), RTCP beside it (the latched port + 1), but anyone can
 * send packets to a stream's port: moving to every new source let a packet spray over the
 * port range take over live calls' audio and inject audio and keys. So a stream takes media
 * from one source only. Packets from the SDP's address fix it there at once; another
 * source must first send PROBATION packets of the negotiated types in sequence with one
 * SSRC (as Asterisk's strictrtp learns) before the stream moves to it, and only while
 * nothing fixed the source yet. Which sources may try is the trunk's symmetric_rtp
 * (enum media_latch): by default only those on the SDP's host (a NAT that changed the
 * port) or on the host the peer's SIP comes from (a phone behind a NAT announcing its
 * private address sends its media from its NAT's public one, as its SIP), so an attacker
 * elsewhere on the internet cannot win the race even when its packets come first.
 * Everything else is dropped unread and uncounted. A new offer/answer that changes the
 * SDP's address learns again (stream_start); one that keeps it keeps the latch. */
enum { PROBATION = 4 };

static bool source_may_latch(const struct wstream *ws, const struct sa *from)
{
	switch (ws->p.latch) {
	case MEDIA_LATCH_ANY:
		return true;
	case MEDIA_LATCH_HOST:
		return sa_cmp(from, &ws->sdp_remote, SA_ADDR) ||
		       (sa_isset(&ws->p.sig, SA_ADDR) && sa_cmp(from, &ws->p.sig, SA_ADDR));
	default:
		return false;
	}
}

static bool source_ok(struct wstream *ws, const struct media_rtp *rp, const struct sa *from)
{
	bool media = rp->pt == ws->p.pt || (ws->p.telev_pt >= 0 && rp->pt == ws->p.telev_pt);

	if (sa_cmp(from, &ws->p.remote, SA_ALL)) {
		ws->latched = true;
		return true;
	}
	if (ws->latched || !media || !source_may_latch(ws, from))
		return false;
	if (ws->cand_n && sa_cmp(from, &ws->cand, SA_ALL) && rp->ssrc == ws->cand_ssrc &&
	    rp->seq == (uint16_t)(ws->cand_seq + 1))
		ws->cand_n++;
	else {
		ws->cand = *from;
		ws->cand_ssrc = rp->ssrc;
		ws->cand_n = 1;
	}
	ws->cand_seq = rp->seq;
	if (ws->cand_n < PROBATION)
		return false;
	ws->p.remote = *from;
	ws->remote_rtcp = *from;
	sa_set_port(&ws->remote_rtcp, (uint16_t)(sa_port(from) + 1));
	ws->latched = true;
	ws->cand_n = 0;
	return true;
}

static void rx_rtp(struct wstream *ws, const uint8_t *buf, size_t len, const struct sa *from,
		   uint64_t now)
{
	struct media_rtp rp;
	int16_t pcm[RX_MAX];
	int n;

	if (media_rtp_parse(buf, len, &rp) || !ws->started) {
		atomic_fetch_add_explicit(&ws->st_bad, 1, memory_order_relaxed);
		return;
	}
	if (!source_ok(ws, &rp, from))
		return; /* not from our peer: not counted either, it says nothing of the call */
	atomic_fetch_add_explicit(&ws->st_rtp_recv, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&ws->w->m_rtp_recv, 1, memory_order_relaxed);
	rx_stats(ws, &rp, clock_mono_us());
	ws->last_rx_ms = now;
	ws->timed_out = false;

	if (ws->p.telev_pt >= 0 && rp.pt == ws->p.telev_pt) {
		struct media_telev t;
		char key;

		if (media_telev_parse(rp.payload, rp.plen, &t) == 0 && media_telev_rx(&ws->trx, rp.ts, &t, &key)) {
			key_received(ws, key, MEDIA_DTMF_RFC4733,
				     clock_unix_ms() - t.duration / (8 * ws->tsmul));
			if (ws->peer && ws->peer->started)
				dtmf_queue(ws->peer, key, BRIDGE_KEY_MS);
		}
		return;
	}
	if (rp.pt != ws->p.pt || !rp.plen)
		return;
	if (ws->coder) {
		n = media_coder_decode(ws->coder, rp.payload, rp.plen, pcm, RX_MAX);
		if (n <= 0)
			return;
	} else if (ws->p.codec == MEDIA_PCMU || ws->p.codec == MEDIA_PCMA) {
		if (!ws->recording && !ws->drx && !ws->listening &&
		    !(ws->peer && ws->peer->started))
			return; /* nobody listens: G.711 has no state to keep */
		n = (int)rp.plen;
		media_g711_decode(ws->p.codec, pcm, rp.payload, rp.plen);
	} else {
		return;
	}
	if (ws->peer && ws->peer->started)
		bridge_push(ws->peer, pcm, (size_t)n);
	if (ws->recording)
		rxring_push(ws, pcm, (size_t)n);
	if (ws->drx)
		dtmf_rx(ws->drx, pcm, n);
	if (ws->listening)
		listen_frame(ws, pcm, (size_t)n);
}

/* The peer's report block about our stream, kept beside our own view for the record; the
 * round trip (RFC 3550 6.4.1: arrival - LSR - DLSR, in 1/65536 s) once it echoes an SR. */
static void peer_report(struct wstream *ws, const uint8_t *buf, size_t len)
{
	struct media_rtcp_block b;

	if (media_rtcp_block_find(buf, len, ws->ssrc, &b))
		return;
	atomic_fetch_add_explicit(&ws->st_peer_reports, 1, memory_order_relaxed);
	atomic_store_explicit(&ws->st_peer_fraction, b.fraction, memory_order_relaxed);
	atomic_store_explicit(&ws->st_peer_lost, b.lost, memory_order_relaxed);
	atomic_store_explicit(&ws->st_peer_jitter, b.jitter, memory_order_relaxed);
	if (b.lsr) {
		uint32_t arrival = (uint32_t)(ntp_now() >> 16), rtt = arrival - b.lsr - b.dlsr;

		if (rtt < 10u * 65536) /* beyond 10 s is a clock step or a bogus echo */
			atomic_store_explicit(&ws->st_rtt_ms, (int32_t)((uint64_t)rtt * 1000 >> 16),
					      memory_order_relaxed);
	}
}

static void rx_rtcp(struct wstream *ws, const uint8_t *buf, size_t len, uint64_t now)
{
	struct media_rtcp_info info;

	if (media_rtcp_parse(buf, len, &info)) {
		atomic_fetch_add_explicit(&ws->st_bad, 1, memory_order_relaxed);
		return;
	}
	atomic_fetch_add_explicit(&ws->st_rtcp_recv, 1, memory_order_relaxed);
	if (info.sr) {
		ws->last_sr_mid = info.sr_ntp_mid;
		ws->last_sr_ms = now;
	}
	if (ws->started)
		peer_report(ws, buf, len);
}

static void rx_socket(struct media_worker *w, struct wstream *ws, bool rtcp, uint64_t now)
{
	int fd = rtcp ? ws->fd_rtcp : ws->fd_rtp;

	/* Bounded: a flood cannot keep the worker from its timer. */
	for (int round = 0; round < 4; round++) {
		int n;

		for (int i = 0; i < RX_BATCH; i++) /* the kernel shortened it to the sender's */
			w->rmsg[i].msg_hdr.msg_namelen = sizeof(w->rfrom[i]);
		n = recvmmsg(fd, w->rmsg, RX_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		for (int i = 0; i < n && !ws->dead; i++) {
			size_t len = w->rmsg[i].msg_len;
			struct sa from;

			if (sa_set_sa(&from, (struct sockaddr *)&w->rfrom[i]))
				continue;
			/* SRTP: what does not verify is not the peer's (or is a replay) */
			if (ws->started && media_srtp_unprotect(&ws->srtp, rtcp, w->rbuf[i], &len)) {
				atomic_fetch_add_explicit(&ws->st_bad, 1, memory_order_relaxed);
				continue;
			}
			if (rtcp)
				rx_rtcp(ws, w->rbuf[i], len, now);
			else
				rx_rtp(ws, w->rbuf[i], len, &from, now);
		}
		if (n < RX_BATCH)
			return;
	}
}

/* ---- commands ----------------------------------------------------------------------- */

static void timer_set(struct media_worker *w, bool on)
{
	struct itimerspec its = {0};

	if (on) {
		its.it_interval.tv_nsec = MEDIA_TICK_US * 1000;
		its.it_value.tv_nsec = MEDIA_TICK_US * 1000;
	}
	timerfd_settime(w->tfd, 0, &its, NULL);
}

/* The coder of the stream's codec: kept across a re-INVITE that keeps the codec (its
 * state runs on), made afresh for a new one. */
static void coder_start(struct wstream *ws)
{
	int err;

	if (ws->coder && ws->coder_codec == ws->p.codec)
		return;
	media_coder_free(ws->coder);
	ws->coder = NULL;
	err = media_coder_alloc(&ws->coder, ws->p.codec);
	ws->coder_codec = ws->p.codec;
	if (err)
		log_warn("media", "stream %u: cannot start the %s coder (%s): it sends no audio",
			 ws->id, media_codec_name(ws->p.codec), strerror(err));
}

static void stream_start(struct wstream *ws, const struct wstream_start *p)
{
	struct media_worker *w = ws->w;
	uint64_t now = clock_mono_ms();
	bool was_hold = ws->p.hold;
	/* a refresh or hold that keeps the SDP's address keeps the source it latched to */
	bool keep = ws->started && ws->latched && sa_cmp(&p->remote, &ws->sdp_remote, SA_ALL);
	struct sa latched = ws->p.remote, latched_rtcp = ws->remote_rtcp;

	ws->p = *p;
	if (media_srtp_set(&ws->srtp, &p->srtp)) {
		/* no contexts: nothing is sent (never in clear) and nothing received verifies */
		log_warn("media", "stream %u: cannot set up SRTP: it is silent", ws->id);
	}
	ws->sdp_remote = p->remote;
	ws->remote_rtcp = p->remote;
	sa_set_port(&ws->remote_rtcp, (uint16_t)(sa_port(&p->remote) + 1));
	ws->latched = false;
	ws->cand_n = 0;
	if (keep) {
		ws->p.remote = latched;
		ws->remote_rtcp = latched_rtcp;
		ws->latched = true;
	}
	ws->pkt_frames = 0;
	ws->pkt_len = 0;
	ws->tsmul = media_codec_clock(p->codec) / MEDIA_RATE;
	coder_start(ws);
	if (p->telev_pt < 0 && !ws->drx) {
		ws->drx = dtmf_rx_init(NULL, inband_digits, ws);
		if (!ws->drx)
			log_warn("media", "stream %u: no memory for in-band DTMF detection", ws->id);
	} else if (p->telev_pt >= 0 && ws->drx) {
		dtmf_rx_free(ws->drx);
		ws->drx = NULL;
	}
	if (was_hold && !p->hold) {
		ws->last_rx_ms = now; /* the timeout counts from the end of the hold */
		ws->timed_out = false;
	}
	if (ws->started)
		return;
	/* What arrived before the start (early media of an unanswered call) is not the
	 * call's: it is read and dropped here, as it was while the stream waited. */
	rx_socket(w, ws, false, now);
	ws->started = true;
	ws->marker = true;
	ids_random(&ws->ssrc, sizeof(ws->ssrc));
	ids_random(&ws->seq, sizeof(ws->seq));
	ids_random(&ws->ts, sizeof(ws->ts));
	ws->last_rx_ms = now;
	rtcp_schedule(ws, now);
	/* The least loaded of the next SLOT_CHOICE phase slots: the first packet leaves
	 * within 2 * SLOT_CHOICE ms (not up to a whole frame later), and since streams start
	 * at random phases the slots still fill evenly. */
	ws->slot = (unsigned)(w->tick % MEDIA_SLOTS);
	for (unsigned i = 1; i < SLOT_CHOICE; i++) {
		unsigned s = (unsigned)((w->tick + i) % MEDIA_SLOTS);

		if (w->slot_load[s] < w->slot_load[ws->slot])
			ws->slot = s;
	}
	w->slot_load[ws->slot]++;
	list_append(&w->slots[ws->slot], &ws->le_slot, ws);
}

static void stream_free(struct media_worker *w, struct wstream *ws)
{
	int lost = atomic_load_explicit(&ws->st_lost, memory_order_relaxed);

	if (ws->started) /* RFC 3550 6.6: say goodbye, so the peer's RTCP view ends cleanly */
		rtcp_send(ws, clock_mono_ms(), true);
	/* a stream's losses count when it ends (duplicates can make its running figure < 0) */
	if (lost > 0)
		atomic_fetch_add_explicit(&w->m_rtp_lost, (uint64_t)lost, memory_order_relaxed);
	bridge_cut(ws);
	BASE_ASSERT(ws->le.list == &w->streams, "a stream is freed from its own worker's list");
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, ws->fd_rtcp, NULL);
	close(ws->fd_rtp);
	close(ws->fd_rtcp);
	media_port_release(w->m, ws->port);
	list_unlink(&ws->le);
	list_unlink(&ws->le_dead);
	if (ws->started) {
		list_unlink(&ws->le_slot);
		w->slot_load[ws->slot]--;
	}
	media_audio_release(ws->audio);
	for (unsigned k = 0; k < 2; k++) {
		if (ws->rec[k])
			media_rec_finish(ws->rec[k]);
	}
	if (ws->dtx)
		dtmf_tx_free(ws->dtx);
	if (ws->drx)
		dtmf_rx_free(ws->drx);
	for (unsigned k = 0; k < MEDIA_LISTEN_SLOTS; k++)
		mem_deref(ws->listen_state[k]);
	media_coder_free(ws->coder);
	media_srtp_clear(&ws->srtp);
	free(ws);
	if (atomic_fetch_sub(&w->nstreams, 1) == 1)
		timer_set(w, false);
}

static void command_run(struct media_worker *w, struct wcmd *c)
{
	struct wstream *ws = c->ws;

	switch (c->type) {
	case WCMD_ADD: {
		struct epoll_event ev = {.events = EPOLLIN};

		BASE_ASSERT(ws->w == w && !ws->le.list, "a stream is on one worker's list");
		list_append(&w->streams, &ws->le, ws);
		ev.data.ptr = &ws->tag_rtcp;
		epoll_ctl(w->epfd, EPOLL_CTL_ADD, ws->fd_rtcp, &ev);
		if (atomic_fetch_add(&w->nstreams, 1) == 0) {
			/* its timer was off: the first tick is 2 ms away, not overdue */
			atomic_store_explicit(&w->m_tick_ms, clock_mono_ms(), memory_order_relaxed);
			timer_set(w, true);
		}
		break;
	}
	case WCMD_START:
		stream_start(ws, &c->start);
		break;
	case WCMD_PLAY:
		play_end(ws, true);
		ws->audio = c->audio;
		c->audio = NULL;
		ws->pos = 0;
		ws->loops_left = c->loops;
		ws->interruptible = c->interruptible;
		ws->play_id = c->play_id;
		break;
	case WCMD_STOP:
		play_end(ws, true);
		break;
	case WCMD_DTMF:
		dtmf_queue(ws, c->key, c->duration_ms);
		break;
	case WCMD_BRIDGE:
		/* The bridge buffers have no lock: both streams must be this worker's. */
		BASE_ASSERT(!c->peer || c->peer->w == w, "bridged streams share one worker");
		bridge_cut(ws);
		if (c->peer && c->peer != ws && !ws->dead && !c->peer->dead) {
			bridge_cut(c->peer);
			ws->peer = c->peer;
			c->peer->peer = ws;
		}
		break;
	case WCMD_UNBRIDGE:
		bridge_cut(ws);
		break;
	case WCMD_LISTEN:
		listen_set(ws, c->slot, c->listen_h, c->listen_state);
		c->listen_state = NULL;
		break;
	case WCMD_REC_START:
		if (ws->rec[c->rec_kind])
			media_rec_finish(ws->rec[c->rec_kind]);
		/* The first recording starts the received-audio ring afresh; a second one joins
		 * it where it is, so both stay aligned with the stream's clock. */
		if (!ws->recording)
			ws->rx_n = 0;
		ws->rec[c->rec_kind] = c->rec;
		c->rec = NULL;
		ws->recording = true;
		if (c->rec_kind == MEDIA_REC_MESSAGE) {
			ws->silence_ms = c->silence_ms;
			ws->quiet_ms = 0;
			ws->spoke = false;
		}
		break;
	case WCMD_REC_STOP:
		if (ws->rec[c->rec_kind])
			media_rec_finish(ws->rec[c->rec_kind]);
		ws->rec[c->rec_kind] = NULL;
		ws->recording = ws->rec[0] || ws->rec[1];
		if (c->rec_kind == MEDIA_REC_MESSAGE)
			ws->silence_ms = 0;
		break;
	case WCMD_DEL:
		BASE_ASSERT(!ws->dead, "a stream is deleted once");
		ws->dead = true;
		list_append(&w->dead, &ws->le_dead, ws);
		bridge_cut(ws);
		break;
	}
	media_audio_release(c->audio);
	if (c->rec)
		media_rec_finish(c->rec);
	mem_deref(c->listen_state);
	mem_deref(c);
}

static bool commands_run(struct media_worker *w)
{
	struct list todo = LIST_INIT;
	uint64_t v;
	bool stop;

	if (read(w->evfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_warn("media", "worker %u: command eventfd: %s", w->idx, strerror(errno));
	pthread_mutex_lock(&w->lock);
	todo = w->cmds;
	list_init(&w->cmds);
	stop = w->stop;
	pthread_mutex_unlock(&w->lock);
	/* The moved list's elements still point at the old list head: fix them up. */
	for (struct le *le = todo.head; le; le = le->next)
		le->list = &todo;
	while (!list_isempty(&todo)) {
		struct wcmd *c = list_ledata(list_head(&todo));

		list_unlink(&c->le);
		command_run(w, c);
	}
	return stop;
}

static void worker_wake(struct media_worker *w)
{
	uint64_t one = 1;

	if (write(w->evfd, &one, sizeof(one)) < 0)
		log_warn("media", "worker %u: command eventfd: %s", w->idx, strerror(errno));
}

void media_worker_command(struct media_worker *w, struct wcmd *cmd)
{
	pthread_mutex_lock(&w->lock);
	list_append(&w->cmds, &cmd->le, cmd);
	pthread_mutex_unlock(&w->lock);
	worker_wake(w);
}

/* ---- the thread --------------------------------------------------------------------- */

/* Real-time scheduling for the media thread: a worker that waits behind other runnable
 * threads sends late, and late packets are jitter the peer's buffer must absorb. A worker
 * runs a few hundred microseconds per 2 ms tick, so a fixed priority costs the rest of the
 * machine little (and the kernel keeps 5 % of each core for normal threads regardless).
 * Without the right (not root, no CAP_SYS_NICE or RLIMIT_RTPRIO) it says so and goes on. */
static void worker_priority(struct media_worker *w)
{
	struct sched_param sp = {.sched_priority = (int)w->m->conf.rt_priority};
	int err;

	if (!sp.sched_priority)
		return;
	err = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	if (err && w->idx == 0)
		log_warn("media", "cannot give the media workers real-time priority %d (%s): "
			 "they run with normal scheduling; packet timing suffers under load "
			 "(see [media] rt_priority)", sp.sched_priority, strerror(err));
}

static void *worker_main(void *arg)
{
	struct media_worker *w = arg;
	struct epoll_event evs[64];
	bool stop = false;

	worker_priority(w);

	while (!stop) {
		int n = epoll_wait(w->epfd, evs, 64, -1);

		if (n < 0 && errno != EINTR) {
			log_error("media", "worker %u: epoll_wait: %s", w->idx, strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			struct wtag *t = evs[i].data.ptr;

			if (t->kind == 2) {
				uint64_t exp = 0, now, t0;

				if (read(w->tfd, &exp, sizeof(exp)) != sizeof(exp))
					continue;
				/* more than one expiration: the ticks after the first are late */
				if (exp > 1)
					atomic_fetch_add_explicit(&w->m_late, exp - 1,
								  memory_order_relaxed);
				if (exp > CATCH_UP_MAX) {
					worker_skip(w, exp - CATCH_UP_MAX);
					atomic_fetch_add_explicit(&w->m_skipped, exp - CATCH_UP_MAX,
								  memory_order_relaxed);
					exp = CATCH_UP_MAX;
				}
				t0 = clock_mono_us();
				now = t0 / 1000;
				while (exp--)
					worker_tick(w, now);
				atomic_store_explicit(&w->m_tick_ms, now, memory_order_relaxed);
				atomic_fetch_add_explicit(&w->m_busy_us, clock_mono_us() - t0,
							  memory_order_relaxed);
			} else if (t->kind == 3) {
				stop = commands_run(w);
			} else if (!t->ws->dead) {
				rx_socket(w, t->ws, true, clock_mono_ms());
			}
		}
		/* Streams deleted during this batch are freed only now: later events of the same
		 * batch may still point at them. */
		while (!list_isempty(&w->dead))
			stream_free(w, list_ledata(list_head(&w->dead)));
	}
	return NULL;
}

static void worker_destructor(void *arg)
{
	struct media_worker *w = arg;

	if (w->running) {
		pthread_mutex_lock(&w->lock);
		w->stop = true;
		pthread_mutex_unlock(&w->lock);
		worker_wake(w);
		pthread_join(w->thread, NULL);
	}
	/* Commands that arrived after the stop, and streams the owner did not release. */
	while (!list_isempty(&w->cmds)) {
		struct wcmd *c = list_ledata(list_head(&w->cmds));

		list_unlink(&c->le);
		command_run(w, c);
	}
	while (!list_isempty(&w->streams))
		stream_free(w, list_ledata(list_head(&w->streams)));
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->tfd >= 0)
		close(w->tfd);
	if (w->evfd >= 0)
		close(w->evfd);
	pthread_mutex_destroy(&w->lock);
}

int media_worker_alloc(struct media_worker **wp, struct media *m, unsigned idx)
{
	struct media_worker *w = mem_zalloc(sizeof(*w), worker_destructor);
	struct epoll_event ev = {.events = EPOLLIN};
	int err = 0;

	if (!w)
		return ENOMEM;
	w->m = m;
	w->idx = idx;
	w->epfd = w->tfd = w->evfd = -1;
	pthread_mutex_init(&w->lock, NULL);
	w->tag_timer.kind = 2;
	w->tag_cmd.kind = 3;
	for (int i = 0; i < RX_BATCH; i++) {
		w->riov[i].iov_base = w->rbuf[i];
		w->riov[i].iov_len = RX_MAX;
		w->rmsg[i].msg_hdr.msg_iov = &w->riov[i];
		w->rmsg[i].msg_hdr.msg_iovlen = 1;
		w->rmsg[i].msg_hdr.msg_name = &w->rfrom[i];
	}
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	w->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->epfd < 0 || w->tfd < 0 || w->evfd < 0) {
		err = errno;
		goto out;
	}
	ev.data.ptr = &w->tag_timer;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->tfd, &ev)) {
		err = errno;
		goto out;
	}
	ev.data.ptr = &w->tag_cmd;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->evfd, &ev)) {
		err = errno;
		goto out;
	}
	err = pthread_create(&w->thread, NULL, worker_main, w);
	if (!err)
		w->running = true;
out:
	if (err)
		mem_deref(w);
	else
		*wp = w;
	return err;
}

int media_wstream_alloc(struct wstream **wsp, struct media_worker *w, uint32_t id, int fd_rtp,
		  int fd_rtcp, uint16_t port)
{
	struct wstream *ws = calloc(1, sizeof(*ws));

	if (!ws)
		return ENOMEM;
	ws->w = w;
	ws->id = id;
	ws->fd_rtp = fd_rtp;
	ws->fd_rtcp = fd_rtcp;
	ws->port = port;
	ws->tag_rtcp.ws = ws;
	ws->tag_rtcp.kind = 1;
	ws->p.telev_pt = -1;
	ws->p.frames_per_pkt = 1;
	ws->tsmul = 1;
	*wsp = ws;
	return 0;
}

void media_wstream_stats(const struct wstream *ws, struct media_stats *st)
{
	struct wstream *w = (struct wstream *)ws;

	st->rtp_sent = atomic_load_explicit(&w->st_rtp_sent, memory_order_relaxed);
	st->rtp_received = atomic_load_explicit(&w->st_rtp_recv, memory_order_relaxed);
	st->rtcp_sent = atomic_load_explicit(&w->st_rtcp_sent, memory_order_relaxed);
	st->rtcp_received = atomic_load_explicit(&w->st_rtcp_recv, memory_order_relaxed);
	st->bad_packets = atomic_load_explicit(&w->st_bad, memory_order_relaxed);
	st->bridged_frames = atomic_load_explicit(&w->st_bridged, memory_order_relaxed);
	st->expected = atomic_load_explicit(&w->st_expected, memory_order_relaxed);
	st->lost = atomic_load_explicit(&w->st_lost, memory_order_relaxed);
	st->jitter = atomic_load_explicit(&w->st_jitter, memory_order_relaxed);
	st->peer_reports = atomic_load_explicit(&w->st_peer_reports, memory_order_relaxed);
	st->peer_fraction = (uint8_t)atomic_load_explicit(&w->st_peer_fraction,
							  memory_order_relaxed);
	st->peer_lost = atomic_load_explicit(&w->st_peer_lost, memory_order_relaxed);
	st->peer_jitter = atomic_load_explicit(&w->st_peer_jitter, memory_order_relaxed);
	st->rtt_ms = atomic_load_explicit(&w->st_rtt_ms, memory_order_relaxed);
}

void media_worker_figures(struct media_worker *w, struct media_worker_fig *f)
{
	f->streams = atomic_load_explicit(&w->nstreams, memory_order_relaxed);
	f->rtp_sent = atomic_load_explicit(&w->m_rtp_sent, memory_order_relaxed);
	f->rtp_received = atomic_load_explicit(&w->m_rtp_recv, memory_order_relaxed);
	f->rtp_lost = atomic_load_explicit(&w->m_rtp_lost, memory_order_relaxed);
	f->late_ticks = atomic_load_explicit(&w->m_late, memory_order_relaxed);
	f->skipped_ticks = atomic_load_explicit(&w->m_skipped, memory_order_relaxed);
	f->busy_us = atomic_load_explicit(&w->m_busy_us, memory_order_relaxed);
	f->tick_ms = atomic_load_explicit(&w->m_tick_ms, memory_order_relaxed);
}
