/* media: RTP audio for calls — a few worker threads, each with ONE periodic timer for all
 * of its streams; G.711 µ-law/A-law, RFC 4733 telephone-events, in-band DTMF detection,
 * prompt playback from a cache of pre-encoded audio, stereo recording.
 *
 * Threading contract. Streams are created, changed and destroyed on the control loop (the
 * libre re_main thread) only; the workers do the packet work and post events back to the
 * control loop through a libre mqueue, so media_event_h always runs on the control loop.
 * No function here blocks the control loop: prompt conversion and text-to-speech run on a
 * worker and report completion as an event. */
#ifndef CCCD_MEDIA_H
#define CCCD_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conf;
struct conf_err;
struct sa;
struct media;
struct media_stream;
struct media_prompt;

/* The voice codecs. G.711 and G.722 are named by their static RTP payload type; Opus has
 * none (its type is dynamic, settled in SDP), so its value is only a name. */
enum media_codec { MEDIA_PCMU = 0, MEDIA_PCMA = 8, MEDIA_G722 = 9, MEDIA_OPUS = 1000 };
enum { MEDIA_CODECS_MAX = 4 };

/* Symmetric RTP (worker.c, source_ok): a stream sends where its peer's media comes from
 * once that source has proven itself. Which sources may: */
enum media_latch {
	MEDIA_LATCH_HOST = 0,  /* "yes": a source on the host of the SDP or of the peer's SIP */
	MEDIA_LATCH_ANY,       /* "any": any source (the first to prove itself) */
	MEDIA_LATCH_OFF,       /* "no": the SDP's address only */
};

struct media_conf {
	char rtp_ip[64];             /* address RTP binds to (advertised unless external_ip) */
	char external_ip[64];        /* address advertised in SDP (1:1 NAT), "" = rtp_ip */
	enum media_latch latch;      /* symmetric_rtp: whom a stream may latch to */
	uint16_t port_min, port_max; /* RTP port range (even ports; RTCP = RTP + 1) */
	unsigned workers;            /* 0 = one per core */
	unsigned rtp_timeout_ms;     /* no packet for this long → MEDIA_EV_RTP_TIMEOUT */
	enum media_codec prefer[MEDIA_CODECS_MAX]; /* offer/answer preference, best first */
	unsigned ncodecs;            /* how many of prefer[] are offered (1..4) */
	size_t prompt_cache_bytes;   /* bound of the decoded-prompt cache */
	char tts_voice[32];          /* flite voice for English text */
	char tts_command[256];       /* external TTS program for other languages ("" = none) */
	char recording_dir[512];     /* recordings are written here */
	unsigned rtcp_interval_ms;   /* RTCP report interval (RFC 3550: 5000) */
	unsigned rt_priority;        /* SCHED_FIFO priority of the workers; 0 = normal */
};

int media_conf_read(const struct conf *cf, struct media_conf *mc, struct conf_err *err);

/* Starts the workers. Called on the control loop (the event queue listens there).
 * Creates recording_dir if absent (disk, at start only). mem_deref() stops everything;
 * streams must be released before. */
int media_alloc(struct media **mp, const struct media_conf *mc);

/* "PCMU", "PCMA", "G722", "opus": the SDP encoding name of a codec. */
const char *media_codec_name(enum media_codec codec);
/* A codec list as in the config ("opus, g722, PCMU"): 1 to MEDIA_CODECS_MAX known names,
 * case-insensitive, no repeats. 0 or EINVAL. */
int media_codecs_parse(const char *s, enum media_codec *list, unsigned *np);
/* The RTP clock rate of a codec: 8000, or 48000 for Opus (G.722 is 8000 by RFC 3551's
 * historical error although it samples at 16 kHz). */
unsigned media_codec_clock(enum media_codec codec);

/* ---- prompts -------------------------------------------------------------------- */

/* Loads a WAV file (any rate, any channel count), converts it to 8 kHz mono and encodes it
 * for both G.711 laws (kept linear too, for the codecs a stream encodes itself), through
 * the bounded cache. Blocking (disk): called when a flow is
 * loaded, never on the control loop during calls. A missing or unreadable file is an error
 * with a message in `why`. The prompt is reference-counted (mem_ref/mem_deref). */
int media_prompt_file(struct media *m, const char *path, struct media_prompt **pp,
		      char *why, size_t whysz);
/* An uploaded file (WAV or MP3, told by its first bytes) converted once to the prompt
 * format, 8 kHz mono 16-bit WAV, written to `path` (through `path`.part and a rename).
 * EPROTO: neither WAV nor MP3; EINVAL: it does not decode; EFBIG: longer than a prompt
 * may be; EIO: the file cannot be written. `why` says which. Blocking (disk, CPU): never
 * on the control loop. */
int media_prompt_convert(const void *buf, size_t len, const char *path, char *why,
			 size_t whysz);
/* An audio file (any rate, any channel count) read whole as 8 kHz mono linear PCM: *pcmp
 * is a mem object of *np samples. For analysers that keep their own form of a recording
 * (early media references). Blocking (disk): never on the control loop. */
int media_pcm_file(const char *path, int16_t **pcmp, size_t *np, char *why, size_t whysz);
/* Length of a prompt in 8 kHz samples. */
size_t media_prompt_samples(const struct media_prompt *p);
/* The prompt cache's state: bytes held, entries held, evictions so far. Thread-safe. */
/* Any thread: every worker with streams has ticked within max_age_ms (an idle worker's
 * timer is off, so it counts as ticking). For /readyz. */
bool media_ticking(struct media *m, uint64_t max_age_ms);

void media_cache_stats(struct media *m, size_t *bytesp, size_t *entriesp, size_t *evictedp);

/* ---- streams -------------------------------------------------------------------- */

enum media_event_type {
	MEDIA_EV_DTMF,        /* a key, reported once: key, ts_ms, source */
	MEDIA_EV_PLAY_DONE,   /* the current prompt finished or was stopped: play_id */
	MEDIA_EV_RTP_TIMEOUT, /* no RTP for rtp_timeout_ms */
	MEDIA_EV_TTS_READY,   /* a media_play_text() prompt is synthesised and playing */
	MEDIA_EV_ERROR,       /* e.g. text-to-speech failed: play_id, why (no PLAY_DONE) */
	MEDIA_EV_RECORD_DONE, /* the recording file is complete and closed: rec says which;
				 why != NULL if it could not be written */
	MEDIA_EV_SILENCE,     /* a message recording started with a silence limit: the peer
				 spoke, then was silent that long (reported once; the
				 recording goes on until stopped) */
	MEDIA_EV_HEARD,       /* a listener (media_listen) reported a finding: heard */
};

/* The two recordings a stream can make at the same time. */
enum media_rec_kind {
	MEDIA_REC_CALL = 0,    /* the whole call: stereo, callee left, cccd right */
	MEDIA_REC_MESSAGE = 1, /* a message (voicemail): mono, the callee's audio only */
};

enum media_dtmf_source { MEDIA_DTMF_RFC4733, MEDIA_DTMF_INBAND };

/* ---- listening to the peer ---------------------------------------------------------
 * An analyser of what the peer sends: the carrier's early media before the answer (tones,
 * announcements), the callee's first seconds after it (who answered). The stream's worker
 * hands it every 20 ms frame it receives, as 8 kHz linear audio whatever the codec, and
 * posts what it reports to the control loop as a MEDIA_EV_HEARD event. Frames come as
 * packets arrive; a peer that sends nothing (silence suppression, a pause in early media)
 * is heard as silence, a silent frame per 20 ms once 60 ms passed without a packet. A
 * listener's time limits still belong on the control loop (a stream whose worker is
 * stalled hears nothing). One listener per slot per stream. */
enum media_listen_slot {
	MEDIA_LISTEN_EARLY = 0,    /* before the answer */
	MEDIA_LISTEN_ANSWER = 1,   /* after it */
	MEDIA_LISTEN_SLOTS
};

struct media_heard {
	enum media_listen_slot slot;
	int what;                  /* the finding, in the listener's own numbering */
	uint32_t at_ms;            /* audio time the listener had heard when it found it */
	uint32_t value;            /* the finding's figure (a frequency, an id), or 0 */
};

/* Runs on the stream's worker for each received 20 ms frame: n is 160 samples (a packet of
 * 40 or 60 ms comes as 2 or 3 frames; only a codec's odd packet is shorter). It fills *heard (slot is set by the caller) and returns true to have it
 * posted; false otherwise. It must not block: it runs between packets of many calls. */
typedef bool (media_listen_h)(void *state, const int16_t *pcm, size_t n,
			      struct media_heard *heard);

struct media_event {
	enum media_event_type type;
	char key;               /* '0'-'9', '*', '#', 'A'-'D' */
	int64_t ts_ms;          /* Unix ms when the key started */
	enum media_dtmf_source source;
	uint32_t play_id;
	bool stopped;           /* PLAY_DONE: stopped early (barge-in or media_stop) */
	enum media_rec_kind rec; /* RECORD_DONE, and ERROR with play_id 0: which recording */
	const char *why;        /* valid during the handler only */
	/* RECORD_DONE of a media_record_answer() recording without `why`: the whole WAV file,
	 * read back by the recorder thread once closed, so that the control loop never reads
	 * the disk. A mem object owned by the event's message: a handler that keeps it takes a
	 * reference (mem_ref); NULL otherwise. */
	uint8_t *answer;
	size_t answer_len;
	struct media_heard heard; /* HEARD: what a listener found */
};

typedef void (media_event_h)(struct media_stream *ms, const struct media_event *ev, void *arg);

/* Allocates a stream with a local RTP/RTCP port pair from the range; ENOSPC when the range
 * is exhausted. It sends nothing until media_stream_start(). */
int media_stream_alloc(struct media_stream **msp, struct media *m, media_event_h *eh,
		       void *arg);
/* The same, on the worker thread of `near` (NULL: the least loaded one), so that the two
 * streams can be bridged (media_bridge). */
int media_stream_alloc_near(struct media_stream **msp, struct media *m,
			    const struct media_stream *near, media_event_h *eh, void *arg);
/* The local RTP address to put in SDP. */
void media_stream_local(const struct media_stream *ms, struct sa *rtp);

/* SRTP (RFC 3711) with keys exchanged in SDP (SDES, RFC 4568; call/sdp.c). A key is the
 * master key then the master salt: 30 bytes for the AES-CM-128 suites. */
enum media_srtp_suite {
	MEDIA_SRTP_NONE = 0,                   /* plain RTP */
	MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80,
	MEDIA_SRTP_AES_CM_128_HMAC_SHA1_32,
};
enum { MEDIA_SRTP_KEY_LEN = 30 };
struct media_srtp {
	enum media_srtp_suite suite;
	uint8_t tx_key[MEDIA_SRTP_KEY_LEN];    /* cccd's: what it sends is protected with it */
	uint8_t rx_key[MEDIA_SRTP_KEY_LEN];    /* the peer's: what arrives must verify with it */
};

struct media_params {
	const struct sa *remote;   /* remote RTP address (symmetric RTP may update it) */
	enum media_codec codec;
	int pt;                    /* Opus: its dynamic payload type (96-127); ignored for the
				      codecs with a static one */
	int telev_pt;              /* telephone-event payload type at the codec's clock rate,
				      -1 = not negotiated */
	unsigned ptime_ms;         /* 20 */
	bool hold;                 /* sendonly/inactive from the peer: stop sending audio (a
				      prompt keeps its place in time; no RTP timeout) */
	enum media_latch latch;    /* symmetric RTP */
	const struct sa *sig;      /* where the peer's SIP comes from (MEDIA_LATCH_HOST), or
				      NULL */
	struct media_srtp srtp;    /* suite NONE: plain RTP. Otherwise every RTP and RTCP
				      packet is protected, and one that does not verify is
				      dropped (counted as bad); new keys on a re-INVITE
				      start new contexts, the same keys keep them */
};

/* Starts or changes (re-INVITE) the stream: the SSRC, sequence and timestamps carry on
 * across changes. ptime_ms is 20, 40 or 60 (0 = 20). */
int media_stream_start(struct media_stream *ms, const struct media_params *p);

/* A tone prompt (the voicemail beep): `ms` (1-10000) of a sine at `hz` (1-3999) at about
 * -12 dBFS, for any stream. No disk. */
int media_prompt_tone(struct media_prompt **pp, unsigned hz, unsigned ms);

/* Plays a prompt `loops` times (0 = until stopped); a later play replaces the current one.
 * If interruptible, a DTMF key stops it (the DTMF event is still reported first).
 * *play_idp identifies the MEDIA_EV_PLAY_DONE that ends it: every play id gets exactly one
 * PLAY_DONE (or, for a text that could not be synthesised, one MEDIA_EV_ERROR). */
int media_play(struct media_stream *ms, struct media_prompt *p, unsigned loops,
	       bool interruptible, uint32_t *play_idp);
/* Synthesises text (English with flite, other languages through tts_command) on the
 * media module's TTS thread and plays it; completion as for media_play. lang is a language
 * tag ("en", "en-US", "fr", ...); NULL or "" is English. Synthesised texts are cached like
 * files. tts_command is run without a shell: its words, with "{lang}" replaced by lang, the
 * text on its standard input, a WAV expected on its standard output. */
int media_play_text(struct media_stream *ms, const char *text, const char *lang,
		    unsigned loops, bool interruptible, uint32_t *play_idp);
/* Stops the current prompt (a PLAY_DONE with stopped = true follows if one was playing). */
void media_stop(struct media_stream *ms);

/* Sends a DTMF key (RFC 4733 events if the peer negotiated telephone-event, else an in-band
 * tone) lasting duration_ms (40..2000, 0 = 100). Keys queue up (at most 32 pending) and go
 * out in order, 60 ms apart; the prompt pauses meanwhile. */
int media_send_dtmf(struct media_stream *ms, char key, unsigned duration_ms);

/* Recordings, 8 kHz 16-bit WAV. MEDIA_REC_CALL is stereo: left what the peer sent, right
 * what cccd sent, time-aligned on the stream's 20 ms clock (silence where nothing was
 * sent or received). MEDIA_REC_MESSAGE is mono: what the peer sent. Both kinds may run at
 * once; one of each kind per stream (EALREADY). `name` is a path relative to
 * recording_dir: one file name, or one directory and a file name ("1400000000/x.wav";
 * the directory is created if needed); no "." or ".." components (EINVAL). The file is
 * created and written by a background thread, its WAV header kept up to date after
 * every second written (a crash leaves a playable file); MEDIA_EV_RECORD_DONE reports
 * when it is closed (after media_record_stop, when the stream is released, or with an
 * error if it cannot be written). */
int media_record_start(struct media_stream *ms, enum media_rec_kind kind, const char *name);

/* Blocking (an open, a few small reads and writes; at start only): whether the recording
 * `name` (as for media_record_start) exists with its WAV header written, and if so its
 * header's sizes made to match the audio on disk. A recording noted in the store just
 * before cccd died may never have been created: a session closed after a restart names
 * its recording only when this holds. */
bool media_record_recover(const struct media *m, const char *name);
int media_record_stop(struct media_stream *ms, enum media_rec_kind kind);

/* The largest answer handed over in memory: 4 MiB (a 60 s answer is about 1 MB). */
enum { MEDIA_ANSWER_MAX = 4 * 1024 * 1024 };

/* A MEDIA_REC_MESSAGE recording (a spoken answer, for a recogniser) that also reports
 * MEDIA_EV_SILENCE once the peer has spoken (a 20 ms frame above about -36 dBFS) and then
 * stayed below that for silence_ms (> 0). Its MEDIA_EV_RECORD_DONE carries the file's
 * bytes (`answer`); a file that cannot be read back, or is larger than MEDIA_ANSWER_MAX,
 * is reported as a recording that failed (`why` names the file and the reason). */
int media_record_answer(struct media_stream *ms, const char *name, unsigned silence_ms);

/* Starts listening in `slot` with handler h and its state, a mem object the stream takes a
 * reference to: the worker owns it from then on, and releases it when the slot is
 * stopped (h NULL), given to another listener, or the stream is released. The state is
 * touched by the worker only, so it needs no lock; what the control loop learns comes
 * through MEDIA_EV_HEARD. EINVAL: a slot out of range, or h without state. */
int media_listen(struct media_stream *ms, enum media_listen_slot slot, media_listen_h *h,
		 void *state);

/* Bridges two streams (a transfer): from now on the audio each one receives is sent on
 * the other, transcoded when their codecs differ, and RFC 4733 keys received on one are
 * sent again on the other. A prompt played on a bridged stream is heard instead of the
 * bridged audio while it plays (stop the hold prompt when the bridge starts). Both streams
 * must be on one worker (media_stream_alloc_near): EXDEV otherwise. A stream is in at most
 * one bridge; a new one replaces it. The bridge ends with media_unbridge or when either
 * stream is released. */
int media_bridge(struct media_stream *a, struct media_stream *b);
void media_unbridge(struct media_stream *ms);

/* Counters of a stream, as last published by its worker (at most 20 ms old). */
struct media_stats {
	uint32_t rtp_sent, rtp_received, rtcp_sent, rtcp_received, bad_packets;
	uint32_t bridged_frames;   /* 20 ms frames of bridged audio sent */
	/* cccd's view of the peer's RTP (RFC 3550 A.3, A.8) */
	uint32_t expected;         /* packets the peer's sequence numbers span */
	int32_t lost;              /* expected - received (duplicates may make it < 0) */
	uint32_t jitter;           /* interarrival jitter, timestamp units (1/8 ms) */
	/* the peer's view of ours: its last RTCP report block about our SSRC */
	uint32_t peer_reports;     /* report blocks about us received */
	uint8_t peer_fraction;     /* lost in its last interval, /256 */
	int32_t peer_lost;         /* cumulative */
	uint32_t peer_jitter;      /* timestamp units */
	int32_t rtt_ms;            /* from its LSR/DLSR, 0 while unknown */
};
void media_stream_stats(const struct media_stream *ms, struct media_stats *st);

/* ---- media quality (quality.c) --------------------------------------------------- */

/* One direction's quality as a listener hears it. */
struct media_dir_quality {
	double loss_pct;           /* packets lost, % of those expected */
	double jitter_ms;
	double r;                  /* E-model rating, 0..100 */
	double mos;                /* 1..4.5 */
};

/* A leg's media quality: from cccd's counters (what cccd received: `rx`) and from the
 * peer's RTCP reports (what the peer received from cccd: `tx`, valid when peer_report). */
struct media_quality {
	uint32_t sent, received, expected;
	int32_t lost;
	struct media_dir_quality rx;
	bool peer_report;
	int32_t peer_lost;
	double peer_fraction_pct;  /* its last interval */
	struct media_dir_quality tx;
	int32_t rtt_ms;            /* 0 unknown */
};

/* The ITU-T G.107 E-model for G.711 (the constants and the reasoning are in quality.c):
 * the rating R of a call with `loss_pct` random packet loss and `delay_ms` one-way delay,
 * and the MOS of a rating. Pure. */
double media_emodel_r(double loss_pct, double delay_ms);
double media_emodel_mos(double r);
/* A leg's quality from its counters. Pure. */
void media_quality_from_stats(const struct media_stats *st, struct media_quality *q);
/* The same for a live stream (its counters as last published, at most 20 ms old). */
void media_stream_quality(const struct media_stream *ms, struct media_quality *q);

#endif
