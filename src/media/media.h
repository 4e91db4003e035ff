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

enum media_codec { MEDIA_PCMU = 0, MEDIA_PCMA = 8 };

struct media_conf {
	char rtp_ip[64];             /* address RTP binds to and advertises */
	uint16_t port_min, port_max; /* RTP port range (even ports; RTCP = RTP + 1) */
	unsigned workers;            /* 0 = one per core */
	unsigned rtp_timeout_ms;     /* no packet for this long → MEDIA_EV_RTP_TIMEOUT */
	enum media_codec prefer[2];  /* offer/answer preference */
	size_t prompt_cache_bytes;   /* bound of the decoded-prompt cache */
	char tts_voice[32];          /* flite voice for English text */
	char tts_command[256];       /* external TTS program for other languages ("" = none) */
	char recording_dir[512];
};

int media_conf_read(const struct conf *cf, struct media_conf *mc, struct conf_err *err);

/* Starts the workers. mem_deref() stops them. */
int media_alloc(struct media **mp, const struct media_conf *mc);

/* ---- prompts -------------------------------------------------------------------- */

/* Loads a WAV file (any rate, any channel count), converts it to 8 kHz mono and encodes it
 * for both codecs, through the bounded cache. Blocking (disk): called when a flow is
 * loaded, never on the control loop during calls. A missing or unreadable file is an error
 * with a message in `why`. The prompt is reference-counted (mem_ref/mem_deref). */
int media_prompt_file(struct media *m, const char *path, struct media_prompt **pp,
		      char *why, size_t whysz);

/* ---- streams -------------------------------------------------------------------- */

enum media_event_type {
	MEDIA_EV_DTMF,        /* a key, reported once: key, ts_ms, source */
	MEDIA_EV_PLAY_DONE,   /* the current prompt finished or was stopped: play_id */
	MEDIA_EV_RTP_TIMEOUT, /* no RTP for rtp_timeout_ms */
	MEDIA_EV_TTS_READY,   /* a media_play_text() prompt is synthesised and playing */
	MEDIA_EV_ERROR,       /* e.g. text-to-speech failed: play_id, why */
};

enum media_dtmf_source { MEDIA_DTMF_RFC4733, MEDIA_DTMF_INBAND };

struct media_event {
	enum media_event_type type;
	char key;               /* '0'-'9', '*', '#', 'A'-'D' */
	int64_t ts_ms;          /* Unix ms when the key started */
	enum media_dtmf_source source;
	uint32_t play_id;
	bool stopped;           /* PLAY_DONE: stopped early (barge-in or media_stop) */
	const char *why;
};

typedef void (media_event_h)(struct media_stream *ms, const struct media_event *ev, void *arg);

/* Allocates a stream with a local RTP/RTCP port pair from the range; ENOSPC when the range
 * is exhausted. It sends nothing until media_stream_start(). */
int media_stream_alloc(struct media_stream **msp, struct media *m, media_event_h *eh,
		       void *arg);
/* The local RTP address to put in SDP. */
void media_stream_local(const struct media_stream *ms, struct sa *rtp);

struct media_params {
	const struct sa *remote;   /* remote RTP address (symmetric RTP may update it) */
	enum media_codec codec;
	int telev_pt;              /* telephone-event payload type, -1 = not negotiated */
	unsigned ptime_ms;         /* 20 */
	bool hold;                 /* sendonly/inactive from the peer: stop sending audio */
};

/* Starts or changes (re-INVITE) the stream. */
int media_stream_start(struct media_stream *ms, const struct media_params *p);

/* Plays a prompt `loops` times; a later play replaces the current one. If interruptible,
 * a DTMF key stops it (the DTMF event is still reported). *play_idp identifies the
 * MEDIA_EV_PLAY_DONE that ends it. */
int media_play(struct media_stream *ms, struct media_prompt *p, unsigned loops,
	       bool interruptible, uint32_t *play_idp);
/* Synthesises text (English with flite, other languages through tts_command) on a worker
 * and plays it; completion as for media_play. */
int media_play_text(struct media_stream *ms, const char *text, const char *lang,
		    unsigned loops, bool interruptible, uint32_t *play_idp);
/* Stops the current prompt (a PLAY_DONE with stopped = true follows). */
void media_stop(struct media_stream *ms);

/* Stereo WAV recording: callee (received) left, cccd (sent) right. */
int media_record_start(struct media_stream *ms, const char *path);
int media_record_stop(struct media_stream *ms);

#endif
