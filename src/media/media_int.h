/* media internals shared by the module's files; other modules use media.h only. */
#ifndef CCCD_MEDIA_INT_H
#define CCCD_MEDIA_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <re.h>
#include "media/media.h"

enum {
	MEDIA_RATE = 8000,        /* every stream and prompt is 8 kHz */
	MEDIA_FRAME = 160,        /* samples in the 20 ms frame the workers tick on */
	MEDIA_SLOTS = 10,         /* phase slots per 20 ms: the timer fires every 2 ms */
	MEDIA_TICK_US = 20000 / MEDIA_SLOTS,
	MEDIA_DTMF_QUEUE = 32,
};

/* ---- g711.c ------------------------------------------------------------------------ */
uint8_t media_g711_ulaw_encode(int16_t s);
int16_t media_g711_ulaw_decode(uint8_t u);
uint8_t media_g711_alaw_encode(int16_t s);
int16_t media_g711_alaw_decode(uint8_t a);
void media_g711_encode(enum media_codec c, uint8_t *dst, const int16_t *src, size_t n);
void media_g711_decode(enum media_codec c, int16_t *dst, const uint8_t *src, size_t n);
uint8_t media_g711_silence(enum media_codec c);

/* ---- codec.c, g722.c, opus.c: the codecs with state ------------------------------- */

/* A stream's encoder and decoder for one codec; owned by the stream (its worker). Both
 * work on 8 kHz linear audio, MEDIA_FRAME samples a frame (see codec.c). */
struct media_coder {
	/* One frame in, the payload out: its length, 0 on failure. */
	size_t (*encode)(struct media_coder *c, const int16_t *pcm, uint8_t *out, size_t sz);
	/* One payload in, samples out (at most max): their count, or -1. */
	int (*decode)(struct media_coder *c, const uint8_t *in, size_t len, int16_t *pcm,
		      size_t max);
	void (*free)(struct media_coder *c);
};

bool media_codec_known(enum media_codec codec);
/* The coder of a codec, or NULL in *cp for G.711 (tables, no state). 0 or ENOMEM. */
int media_coder_alloc(struct media_coder **cp, enum media_codec codec);
void media_coder_free(struct media_coder *c);
size_t media_coder_encode(struct media_coder *c, const int16_t *pcm, uint8_t *out, size_t sz);
int media_coder_decode(struct media_coder *c, const uint8_t *in, size_t len, int16_t *pcm,
		       size_t max);
int media_g722_alloc(struct media_coder **cp);
int media_opus_alloc(struct media_coder **cp);

/* ---- rtp.c: RTP, RTCP and RFC 4733 wire formats (fuzzed by fuzz/fuzz_rtp.c) ------- */
struct media_rtp {
	bool marker;
	uint8_t pt;
	uint16_t seq;
	uint32_t ts, ssrc;
	const uint8_t *payload; /* points into the parsed buffer */
	size_t plen;
};

/* 0 or EBADMSG (not RTP version 2, truncated, bad padding or extension). */
int media_rtp_parse(const uint8_t *buf, size_t len, struct media_rtp *p);
/* Writes the 12-byte header (no CSRC, no extension); returns 12. */
size_t media_rtp_header(uint8_t *buf, bool marker, uint8_t pt, uint16_t seq, uint32_t ts,
			uint32_t ssrc);

struct media_telev {
	uint8_t event;     /* 0-9, 10 '*', 11 '#', 12-15 'A'-'D' */
	bool end;
	uint8_t volume;    /* -dBm0, 0..63 */
	uint16_t duration; /* in timestamp units (1/8 ms) */
};

/* 0, or EBADMSG when shorter than 4 bytes. */
int media_telev_parse(const uint8_t *buf, size_t len, struct media_telev *t);
void media_telev_write(uint8_t out[4], const struct media_telev *t);
/* The DTMF key of an event, 0 for the non-DTMF events (> 15). */
char media_telev_key(uint8_t event);
/* The event of a key, -1 if it is not a DTMF key. */
int media_telev_event(char key);

/* Receive side of RFC 4733: one event is many packets with the same RTP timestamp (its
 * start), the last one repeated three times with the end bit. A key is new when its
 * timestamp is newer than the last event's. */
struct media_telev_rx {
	bool seen;
	uint32_t ts;
};
/* true when this packet starts a new key (reported once); *keyp is the key. */
bool media_telev_rx(struct media_telev_rx *rx, uint32_t rtp_ts, const struct media_telev *t,
		     char *keyp);

struct media_rtcp_info {
	unsigned packets;   /* packets in the compound */
	bool sr;            /* a sender report was found */
	uint32_t sr_ssrc;
	uint32_t sr_ntp_mid; /* middle 32 bits of its NTP time (for LSR) */
	bool bye;
};
/* Walks a compound RTCP packet. 0 or EBADMSG (bad version, length beyond the buffer, a
 * report count that does not fit, an SR too short). */
int media_rtcp_parse(const uint8_t *buf, size_t len, struct media_rtcp_info *info);

struct media_rtcp_report {
	uint32_t ssrc;
	bool sender;              /* SR (we sent RTP) or RR */
	uint64_t ntp;             /* NTP time, 32.32 */
	uint32_t rtp_ts;
	uint32_t pkts, octets;
	bool has_block;           /* a reception report about the peer */
	uint32_t peer_ssrc;
	uint8_t fraction;
	int32_t lost;
	uint32_t ext_seq, jitter, lsr, dlsr;
	const char *cname;
	bool bye;                 /* append a BYE: the stream is ending */
};
/* Builds SR or RR + SDES CNAME (+ BYE); returns the length, 0 if sz is too small. */
size_t media_rtcp_write(uint8_t *buf, size_t sz, const struct media_rtcp_report *r);

/* ---- rtcp.c: what the peer's reports say of the stream we send ----------------------- */
struct media_rtcp_block {
	uint32_t ssrc;            /* the source reported on (ours) */
	uint8_t fraction;         /* lost since the last report, /256 */
	int32_t lost;             /* cumulative, signed 24-bit */
	uint32_t ext_seq, jitter; /* jitter in timestamp units */
	uint32_t lsr, dlsr;       /* for the round trip (RFC 3550 6.4.1) */
};
/* The last report block about `ssrc` in a compound RTCP packet (SR or RR). 0, ENOENT when
 * no block names it, EBADMSG for a malformed compound. */
int media_rtcp_block_find(const uint8_t *buf, size_t len, uint32_t ssrc,
			  struct media_rtcp_block *b);

/* ---- prompt.c: decoded audio, shared read-only by all streams ---------------------- */

/* Prompt audio: 8 kHz, encoded once per codec. Immutable once built, shared between
 * threads, so its count is atomic (libre's mem refcount is not). Owned by whoever holds a
 * reference: the cache, prompt handles, streams playing it. */
struct media_audio {
	atomic_uint refs;
	size_t nsamples;
	uint8_t *enc[2];     /* [0] PCMU, [1] PCMA; nsamples bytes each */
	int16_t *pcm;        /* linear, for the codecs with state; nsamples */
	/* the cache's part (under cache lock) */
	struct le le;
	char *key;
	size_t bytes;
	bool cached;
};

/* What media_prompt_file hands out: one libre object per holder around shared audio. */
struct media_prompt {
	struct media_audio *a; /* owned reference */
};

struct media_audio *media_audio_ref(struct media_audio *a);
void media_audio_release(struct media_audio *a);
static inline const uint8_t *media_audio_data(const struct media_audio *a, enum media_codec c)
{
	return a->enc[c == MEDIA_PCMA];
}
/* Builds audio from 16-bit interleaved PCM of any rate and channel count. */
int media_audio_from_pcm(struct media_audio **ap, const int16_t *pcm, size_t frames,
		   unsigned channels, unsigned rate, char *why, size_t whysz);
/* Builds audio from a WAV (or any libsndfile format) held in memory. */
int media_audio_from_memory(struct media_audio **ap, const void *buf, size_t len, char *why,
		      size_t whysz);
int media_prompt_handle(struct media_prompt **pp, struct media_audio *a);

struct media_cache {
	pthread_mutex_t lock;
	struct list lru;   /* struct media_audio, most recently used first */
	size_t bytes, max, evicted;
};
void media_cache_init(struct media_cache *c, size_t max);
void media_cache_close(struct media_cache *c);
/* A referenced hit or NULL. */
struct media_audio *media_cache_get(struct media_cache *c, const char *key);
/* Inserts (taking its own reference), evicting the least recently used entries. */
void media_cache_put(struct media_cache *c, const char *key, struct media_audio *a);

/* ---- tts.c ------------------------------------------------------------------------- */
struct media_tts;
int media_tts_alloc(struct media_tts **tp, struct media *m);
/* Queues a synthesis; the result comes back to the control loop as a message with
 * MEDIA_EV_TTS_READY (and the audio) or MEDIA_EV_ERROR. */
int media_tts_submit(struct media_tts *t, uint32_t stream_id, uint32_t play_id, const char *text,
	       const char *lang);
/* Blocking synthesis, used by the TTS thread. */
int media_tts_synth(struct media *m, const char *text, const char *lang, struct media_audio **ap,
	      char *why, size_t whysz);

/* ---- record.c ---------------------------------------------------------------------- */
struct media_recorder;
struct media_rec;
int media_recorder_alloc(struct media_recorder **rp, struct media *m);
/* A recording's writer state, created on the control loop, then fed by one worker. A
 * MEDIA_REC_CALL recording is stereo, a MEDIA_REC_MESSAGE one mono (left only). answer:
 * once closed, the writer reads the file back into its RECORD_DONE (media_record_answer). */
int media_rec_alloc(struct media_rec **rp, struct media_recorder *r, uint32_t stream_id,
	      const char *path, enum media_rec_kind kind, bool subdir, bool answer);
/* Worker side: appends frames (left, right; right is ignored by a mono recording); hands
 * full chunks to the writer. */
void media_rec_write(struct media_rec *rec, const int16_t *left, const int16_t *right, size_t n);
/* Worker side: n frames of silence after those written, for time the worker could not
 * hear (it was stalled): the recording stays aligned with the call. The writer makes the
 * silence, so nothing here grows with n. */
void media_rec_gap(struct media_rec *rec, uint64_t n);
/* Worker side: flushes, closes (on the writer) and frees; RECORD_DONE follows. */
void media_rec_finish(struct media_rec *rec);

/* ---- worker.c ---------------------------------------------------------------------- */
struct media_worker;
struct wstream;

int media_worker_alloc(struct media_worker **wp, struct media *m, unsigned idx);

/* A worker's figures for /metrics, read on any thread (its relaxed atomics). */
struct media_worker_fig {
	unsigned streams;
	uint64_t rtp_sent, rtp_received, rtp_lost;  /* lost: of the streams that ended */
	uint64_t late_ticks, skipped_ticks;         /* expirations caught up / skipped */
	uint64_t busy_us;                           /* time spent in ticks */
	uint64_t tick_ms;                           /* clock_mono_ms of the last tick; 0 none */
};
void media_worker_figures(struct media_worker *w, struct media_worker_fig *f);

/* ---- metrics.c: the workers' figures on /metrics ----------------------------------- */
int media_metrics_register(struct media *m);

struct wstream_start {
	struct sa remote;
	struct sa sig;              /* the peer's SIP address, unset when unknown */
	enum media_latch latch;
	enum media_codec codec;
	uint8_t pt;                 /* the codec's payload type */
	int telev_pt;
	unsigned frames_per_pkt;
	bool hold;
	struct media_srtp srtp;     /* by value: the worker makes its own contexts */
};

/* ---- srtp.c: a stream's SRTP contexts, owned and used by its worker only ------------- */

enum { MEDIA_SRTP_ROOM = 32 }; /* bytes a buffer keeps free behind a packet for its tag */

struct media_srtp_ctx {
	struct srtp *tx, *rx;       /* owned; NULL for plain RTP */
	struct media_srtp keys;     /* what they were made from */
};

/* (Re)keys for p: the same keys keep the contexts; suite NONE frees them. */
int media_srtp_set(struct media_srtp_ctx *c, const struct media_srtp *p);
void media_srtp_clear(struct media_srtp_ctx *c);
/* In place; nothing done for plain RTP. protect: ENOSPC when cap has no room for the tag.
 * unprotect: an error (EAUTH, a replay) means the packet must be dropped. */
int media_srtp_protect(struct media_srtp_ctx *c, bool rtcp, uint8_t *pkt, size_t *len,
		       size_t cap);
int media_srtp_unprotect(struct media_srtp_ctx *c, bool rtcp, uint8_t *pkt, size_t *len);

int media_wstream_alloc(struct wstream **wsp, struct media_worker *w, uint32_t id, int fd_rtp,
		  int fd_rtcp, uint16_t port);
void media_wstream_stats(const struct wstream *ws, struct media_stats *st);

enum wcmd_type {
	WCMD_ADD, WCMD_START, WCMD_PLAY, WCMD_STOP, WCMD_DTMF, WCMD_REC_START, WCMD_REC_STOP,
	WCMD_BRIDGE, WCMD_UNBRIDGE, WCMD_LISTEN, WCMD_DEL,
};

/* A command from the control loop to a worker; the worker frees it. */
struct wcmd {
	struct le le;
	enum wcmd_type type;
	struct wstream *ws;
	struct wstream_start start;
	struct media_audio *audio;  /* PLAY: owned reference, handed to the stream */
	unsigned loops;
	bool interruptible;
	uint32_t play_id;
	char key;
	unsigned duration_ms;
	struct media_rec *rec;      /* REC_START: handed to the stream */
	enum media_rec_kind rec_kind; /* REC_START, REC_STOP */
	unsigned silence_ms;        /* REC_START of a message: MEDIA_EV_SILENCE after this */
	struct wstream *peer;       /* BRIDGE: the other stream (same worker) */
	enum media_listen_slot slot; /* LISTEN: which slot, its handler and state (owned
					reference, handed to the stream) */
	media_listen_h *listen_h;
	void *listen_state;
};

/* Takes ownership of cmd. */
void media_worker_command(struct media_worker *w, struct wcmd *cmd);

/* ---- media.c / stream.c: the control loop side --------------------------------------- */

enum { MEDIA_MSG_EVENT = 1 };

/* A message to the control loop (through media->mq), allocated by the sender, freed by
 * the control loop. */
struct media_msg {
	struct le le;              /* in media->inflight until handled */
	uint32_t stream_id;
	struct media_event ev;
	char why[400];
	struct media_audio *audio; /* TTS: owned reference or NULL */
	uint8_t *answer;           /* RECORD_DONE of an answer: the file's bytes (mem), owned */
	size_t answer_len;
};

/* The media engine; owned by its creator (cccd main or a test). */
struct media {
	struct media_conf conf;
	struct mqueue *mq;              /* workers, TTS and recorder → control loop */
	pthread_mutex_t inflight_lock;
	struct list inflight;           /* struct media_msg pushed and not yet handled */
	struct media_worker **workers;  /* owned */
	unsigned *load;                 /* control loop: streams assigned to each worker */
	unsigned nworkers;
	struct media_cache cache;
	struct hash *streams;           /* control loop: struct media_stream by id */
	uint32_t next_id;
	struct media_tts *tts;          /* owned */
	struct media_recorder *rec;     /* owned */
	pthread_mutex_t port_lock;      /* ports are released by workers */
	uint8_t *port_used;             /* one byte per pair, owned */
	unsigned npairs, port_next;
	uint32_t ssrc_seed;
	struct metrics_collector *metrics; /* owned: the workers' figures on /metrics */
};

/* Posts to the control loop (any thread). Takes ownership of msg. */
void media_post(struct media *m, struct media_msg *msg);
/* Any thread: an event message for a stream. */
void media_post_event(struct media *m, uint32_t stream_id, const struct media_event *ev,
		      const char *why);
int media_ports_take(struct media *m, int *fd_rtp, int *fd_rtcp, uint16_t *portp);
void media_port_release(struct media *m, uint16_t port);
unsigned media_worker_pick(struct media *m);
void media_msg_handle(struct media *m, struct media_msg *msg);

#endif
