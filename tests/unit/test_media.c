/* Unit tests of the media module's parts that need no network: G.711, the RTP/RTCP/RFC 4733
 * formats, the [media] config, prompt loading and conversion, the prompt cache, TTS. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <sndfile.h>
#include <re.h>
#include "conf/conf.h"
#include "media/media_int.h"

/* ---- G.711 ----------------------------------------------------------------------- */

static void test_g711_known_values(void **state)
{
	(void)state;
	/* Values from the G.711 formulas (and the tables every implementation agrees on). */
	assert_int_equal(media_g711_ulaw_encode(0), 0xFF);
	assert_int_equal(media_g711_ulaw_encode(32767), 0x80);
	assert_int_equal(media_g711_ulaw_encode(-32768), 0x00);
	assert_int_equal(media_g711_ulaw_encode(1000), 0xCE);
	assert_int_equal(media_g711_ulaw_decode(0xCE), 988);
	assert_int_equal(media_g711_ulaw_decode(0x00), -32124);
	assert_int_equal(media_g711_ulaw_decode(0x80), 32124);
	assert_int_equal(media_g711_ulaw_decode(0xFF), 0);
	assert_int_equal(media_g711_ulaw_decode(0x7F), 0);

	assert_int_equal(media_g711_alaw_encode(0), 0xD5);
	assert_int_equal(media_g711_alaw_encode(-1), 0x55);
	assert_int_equal(media_g711_alaw_encode(32767), 0xAA);
	assert_int_equal(media_g711_alaw_encode(-32768), 0x2A);
	assert_int_equal(media_g711_alaw_encode(1000), 0xFA);
	assert_int_equal(media_g711_alaw_decode(0xFA), 1008);
	assert_int_equal(media_g711_alaw_decode(0xD5), 8);
	assert_int_equal(media_g711_alaw_decode(0x55), -8);
	assert_int_equal(media_g711_alaw_decode(0xAA), 32256);
	assert_int_equal(media_g711_alaw_decode(0x2A), -32256);
	assert_int_equal(media_g711_silence(MEDIA_PCMU), 0xFF);
	assert_int_equal(media_g711_silence(MEDIA_PCMA), 0xD5);
}

static void test_g711_round_trip(void **state)
{
	int16_t pcm[8000], back[8000];
	uint8_t enc[8000];
	double sig = 0, noise = 0;

	(void)state;
	/* Every code decodes to a value that encodes back to it (µ-law's two zeros aside). */
	for (int c = 0; c < 256; c++) {
		if (c != 0x7F)
			assert_int_equal(media_g711_ulaw_encode(media_g711_ulaw_decode((uint8_t)c)), c);
		assert_int_equal(media_g711_alaw_encode(media_g711_alaw_decode((uint8_t)c)), c);
	}
	/* A speech-level sine keeps G.711's ~38 dB signal-to-noise ratio in both laws. */
	for (int law = 0; law < 2; law++) {
		enum media_codec c = law ? MEDIA_PCMA : MEDIA_PCMU;

		for (int i = 0; i < 8000; i++)
			pcm[i] = (int16_t)(8000 * sin(2 * M_PI * 440 * i / 8000.0));
		media_g711_encode(c, enc, pcm, 8000);
		media_g711_decode(c, back, enc, 8000);
		sig = noise = 0;
		for (int i = 0; i < 8000; i++) {
			sig += (double)pcm[i] * pcm[i];
			noise += (double)(pcm[i] - back[i]) * (pcm[i] - back[i]);
		}
		assert_true(10 * log10(sig / noise) > 30);
	}
}

/* ---- RTP, RTCP, RFC 4733 ----------------------------------------------------------- */

static void test_rtp_parse(void **state)
{
	uint8_t b[64] = {0};
	struct media_rtp p;

	(void)state;
	assert_int_equal(media_rtp_header(b, true, 0, 0x1234, 0xdeadbeef, 0x01020304), 12);
	memset(b + 12, 0xFF, 20);
	assert_int_equal(media_rtp_parse(b, 12 + 20, &p), 0);
	assert_true(p.marker);
	assert_int_equal(p.pt, 0);
	assert_int_equal(p.seq, 0x1234);
	assert_int_equal(p.ts, 0xdeadbeef);
	assert_int_equal(p.ssrc, 0x01020304);
	assert_int_equal(p.plen, 20);
	assert_ptr_equal(p.payload, b + 12);

	/* Two CSRCs and a one-word extension. */
	b[0] = 0x80 | 0x10 | 2;
	b[20] = 0xBE; b[21] = 0xDE; b[22] = 0; b[23] = 1;
	assert_int_equal(media_rtp_parse(b, 40, &p), 0);
	assert_int_equal(p.plen, 40 - 12 - 8 - 8);
	assert_int_equal(media_rtp_parse(b, 27, &p), EBADMSG); /* extension cut */
	b[23] = 200;
	assert_int_equal(media_rtp_parse(b, 40, &p), EBADMSG); /* extension past the end */

	/* Padding: counted by the last byte, itself included. */
	media_rtp_header(b, false, 8, 1, 2, 3);
	b[0] |= 0x20;
	b[31] = 4;
	assert_int_equal(media_rtp_parse(b, 32, &p), 0);
	assert_int_equal(p.plen, 16);
	b[31] = 0;
	assert_int_equal(media_rtp_parse(b, 32, &p), EBADMSG);
	b[31] = 30;
	assert_int_equal(media_rtp_parse(b, 32, &p), EBADMSG);

	assert_int_equal(media_rtp_parse(b, 11, &p), EBADMSG);
	b[0] = 0x40;
	assert_int_equal(media_rtp_parse(b, 32, &p), EBADMSG); /* version 1 */
	media_rtp_header(b, false, 72, 1, 2, 3);
	assert_int_equal(media_rtp_parse(b, 32, &p), EBADMSG); /* RTCP SR on the RTP port */
}

static void test_telev(void **state)
{
	struct media_telev t = {.event = 11, .end = true, .volume = 10, .duration = 800}, r;
	struct media_telev_rx rx = {0};
	uint8_t b[4];
	char key = 0;
	int reported = 0;

	(void)state;
	media_telev_write(b, &t);
	assert_int_equal(media_telev_parse(b, 4, &r), 0);
	assert_int_equal(r.event, 11);
	assert_true(r.end);
	assert_int_equal(r.volume, 10);
	assert_int_equal(r.duration, 800);
	assert_int_equal(media_telev_parse(b, 3, &r), EBADMSG);
	assert_int_equal(media_telev_key(10), '*');
	assert_int_equal(media_telev_key(15), 'D');
	assert_int_equal(media_telev_key(16), 0);
	assert_int_equal(media_telev_event('#'), 11);
	assert_int_equal(media_telev_event('b'), 13);
	assert_int_equal(media_telev_event('x'), -1);
	assert_int_equal(media_telev_event(0), -1);

	/* Key 7: five updates and the end three times, all at timestamp 1000: once. Then the
	 * same key again at a later timestamp: once more. A late packet of the first: never. */
	for (int round = 0; round < 2; round++) {
		uint32_t ts = round ? 5000 : 1000;

		for (int i = 1; i <= 8; i++) {
			struct media_telev p = {.event = 7, .end = i > 5, .duration = (uint16_t)(160 * (i > 5 ? 5 : i))};

			if (media_telev_rx(&rx, ts, &p, &key)) {
				reported++;
				assert_int_equal(key, '7');
			}
		}
	}
	assert_int_equal(reported, 2);
	t.event = 7;
	assert_false(media_telev_rx(&rx, 1000, &t, &key));
	t.event = 20; /* not DTMF (a tone event) */
	assert_false(media_telev_rx(&rx, 9000, &t, &key));
	/* Timestamps wrap. */
	rx.ts = 0xFFFFFF00u;
	t.event = 1;
	assert_true(media_telev_rx(&rx, 0x10, &t, &key));
}

static void test_rtcp(void **state)
{
	struct media_rtcp_report r = {.ssrc = 0x11223344, .sender = true, .ntp = 0x0102030405060708ull,
				      .rtp_ts = 160, .pkts = 50, .octets = 8000, .has_block = true,
				      .peer_ssrc = 7, .lost = -3, .ext_seq = 100, .cname = "cccd"};
	struct media_rtcp_info info;
	uint8_t b[128];
	size_t n = media_rtcp_write(b, sizeof(b), &r);

	(void)state;
	assert_true(n > 0 && n % 4 == 0);
	assert_int_equal(media_rtcp_parse(b, n, &info), 0);
	assert_int_equal(info.packets, 2); /* SR + SDES */
	assert_true(info.sr);
	assert_int_equal(info.sr_ssrc, 0x11223344);
	assert_int_equal(info.sr_ntp_mid, 0x03040506);
	assert_false(info.bye);
	assert_int_equal(b[0] & 0x1F, 1);
	assert_int_equal(b[1], 200);

	assert_int_equal(media_rtcp_write(b, 40, &r), 0); /* too small */
	r.sender = false;
	n = media_rtcp_write(b, sizeof(b), &r);
	assert_int_equal(b[1], 201);
	assert_int_equal(media_rtcp_parse(b, n, &info), 0);
	assert_false(info.sr);
	assert_false(info.bye);
	r.bye = true;
	n = media_rtcp_write(b, sizeof(b), &r);
	assert_int_equal(media_rtcp_parse(b, n, &info), 0);
	assert_int_equal(info.packets, 3);
	assert_true(info.bye);
	r.bye = false;
	n = media_rtcp_write(b, sizeof(b), &r);

	assert_int_equal(media_rtcp_parse(b, n - 4, &info), EBADMSG); /* SDES cut */
	assert_int_equal(media_rtcp_parse(b, 3, &info), EBADMSG);
	b[0] = 0x81; b[1] = 200; b[2] = 0; b[3] = 1; /* SR of 8 bytes with a block */
	assert_int_equal(media_rtcp_parse(b, 8, &info), EBADMSG);
	b[1] = 100; /* not an RTCP type */
	assert_int_equal(media_rtcp_parse(b, 8, &info), EBADMSG);
	b[0] = 0x81; b[1] = 203; /* BYE with one SSRC */
	assert_int_equal(media_rtcp_parse(b, 8, &info), 0);
	assert_true(info.bye);
}

/* ---- config ------------------------------------------------------------------------ */

static int conf_of(const char *text, struct media_conf *mc, struct conf_err *err)
{
	struct conf *cf = NULL;
	int rc;

	assert_int_equal(conf_parse(&cf, text, strlen(text), err), 0);
	rc = media_conf_read(cf, mc, err);
	if (!rc)
		rc = conf_unused(cf, err);
	mem_deref(cf);
	return rc;
}

static void conf_fails(const char *text, const char *needle)
{
	struct media_conf mc;
	struct conf_err err = {0};

	assert_int_equal(conf_of(text, &mc, &err), EINVAL);
	if (!strstr(err.msg, needle))
		fail_msg("'%s' not in '%s'", needle, err.msg);
}

static void test_conf(void **state)
{
	struct media_conf mc;
	struct conf_err err = {0};

	(void)state;
	assert_int_equal(conf_of("[log]\n", &mc, &err), EINVAL); /* [log] unused here */
	assert_int_equal(conf_of("", &mc, &err), 0);
	assert_string_equal(mc.rtp_ip, "127.0.0.1");
	assert_int_equal(mc.port_min, 20000);
	assert_int_equal(mc.port_max, 29999);
	assert_int_equal(mc.workers, 0);
	assert_int_equal(mc.rtp_timeout_ms, 30000);
	assert_int_equal(mc.ncodecs, 2);
	assert_int_equal(mc.prefer[0], MEDIA_PCMU);
	assert_int_equal(mc.prefer[1], MEDIA_PCMA);
	assert_int_equal(mc.prompt_cache_bytes, 64u << 20);
	assert_string_equal(mc.tts_voice, "kal");
	assert_string_equal(mc.tts_command, "");
	assert_string_equal(mc.recording_dir, "var/recordings");
	assert_int_equal(mc.rtcp_interval_ms, 5000);
	assert_int_equal(mc.rt_priority, 10);

	assert_int_equal(conf_of("[media]\nrtp_ip = ::1\nport_min = 21001\nport_max = 21003\n"
				 "workers = 2\nrtp_timeout_ms = 0\ncodecs = pcma\n"
				 "prompt_cache_bytes = 1000\ntts_command = sh -c x\n"
				 "recording_dir = /tmp/r\nrtcp_interval_ms = 200\n"
				 "rt_priority = 0\n", &mc, &err), 0);
	assert_int_equal(mc.rt_priority, 0);
	assert_string_equal(mc.rtp_ip, "::1");
	assert_int_equal(mc.port_min, 21002);
	assert_int_equal(mc.ncodecs, 1);
	assert_int_equal(mc.prefer[0], MEDIA_PCMA);
	assert_int_equal(mc.rtp_timeout_ms, 0);
	assert_string_equal(mc.tts_command, "sh -c x");
	assert_int_equal(conf_of("[media]\ncodecs = PCMA, PCMU\n", &mc, &err), 0);
	assert_int_equal(mc.prefer[0], MEDIA_PCMA);
	assert_int_equal(mc.prefer[1], MEDIA_PCMU);
	assert_string_equal(media_codec_name(MEDIA_PCMA), "PCMA");
	assert_string_equal(media_codec_name(MEDIA_PCMU), "PCMU");
	assert_int_equal(conf_of("[media]\ncodecs = opus, G722,pcmu , PCMA\n", &mc, &err), 0);
	assert_int_equal(mc.ncodecs, 4);
	assert_int_equal(mc.prefer[0], MEDIA_OPUS);
	assert_int_equal(mc.prefer[1], MEDIA_G722);
	assert_int_equal(mc.prefer[2], MEDIA_PCMU);
	assert_int_equal(mc.prefer[3], MEDIA_PCMA);
	assert_string_equal(media_codec_name(MEDIA_G722), "G722");
	assert_string_equal(media_codec_name(MEDIA_OPUS), "opus");
	assert_int_equal(media_codec_clock(MEDIA_G722), 8000);
	assert_int_equal(media_codec_clock(MEDIA_OPUS), 48000);

	conf_fails("[media]\nrtp_ip = 0.0.0.0\n", "not 0.0.0.0");
	conf_fails("[media]\nrtp_ip = example.com\n", "numeric IP");
	conf_fails("[media]\nport_min = 30000\nport_max = 30000\n", "port_max");
	conf_fails("[media]\nport_min = 80\n", "between");
	conf_fails("[media]\ncodecs = G729\n", "PCMU, PCMA, G722 and opus");
	conf_fails("[media]\ncodecs = opus, g722, pcmu, pcma, pcmu\n", "codecs");
	conf_fails("[media]\ncodecs = PCMU,PCMU\n", "codecs");
	conf_fails("[media]\ncodecs =\n", "codecs");
	conf_fails("[media]\nrtp_timeout_ms = 50\n", "at least 100");
	conf_fails("[media]\ntts_voice = slt\n", "tts_voice");
	conf_fails("[media]\ntts_command = no-such-tts-program --stdout\n",
		   "'no-such-tts-program' not found");
	conf_fails("[media]\nworkers = 65\n", "between");
	conf_fails("[media]\nrt_priority = 100\n", "rt_priority");
	conf_fails("[media]\ncodec = PCMU\n", "codec");
}

/* ---- prompts ----------------------------------------------------------------------- */

struct fixture {
	char dir[64];
	struct media *m;
};

static void conf_default(struct media_conf *mc, const char *dir, size_t cache)
{
	memset(mc, 0, sizeof(*mc));
	snprintf(mc->rtp_ip, sizeof(mc->rtp_ip), "127.0.0.1");
	mc->port_min = 21800;
	mc->port_max = 21809;
	mc->workers = 1;
	mc->prompt_cache_bytes = cache;
	snprintf(mc->tts_voice, sizeof(mc->tts_voice), "kal");
	snprintf(mc->recording_dir, sizeof(mc->recording_dir), "%s/rec", dir);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct media_conf mc;

	strcpy(f->dir, "/tmp/cccd-test-media-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	conf_default(&mc, f->dir, 1 << 20);
	assert_int_equal(media_alloc(&f->m, &mc), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	mem_deref(f->m);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* A WAV of `seconds` of a `freq` Hz sine at `rate`, `channels` channels (each channel the
 * same sine; a second channel in antiphase when `antiphase`, to prove mixing). */
static void wav_write(const char *path, unsigned rate, unsigned channels, double seconds,
		      double freq, int format)
{
	SF_INFO info = {.samplerate = (int)rate, .channels = (int)channels,
			.format = SF_FORMAT_WAV | format};
	size_t frames = (size_t)(rate * seconds);
	int16_t *pcm = malloc(sizeof(int16_t) * frames * channels);
	SNDFILE *sf = sf_open(path, SFM_WRITE, &info);

	assert_non_null(sf);
	for (size_t i = 0; i < frames; i++) {
		for (unsigned c = 0; c < channels; c++)
			pcm[i * channels + c] = (int16_t)(10000 * sin(2 * M_PI * freq * (double)i / rate));
	}
	assert_int_equal(sf_writef_short(sf, pcm, (sf_count_t)frames), (sf_count_t)frames);
	sf_close(sf);
	free(pcm);
}

/* The dominant frequency of decoded audio, from its zero crossings. */
static double frequency_of(const struct media_audio *a, enum media_codec c)
{
	int16_t *pcm = malloc(sizeof(int16_t) * a->nsamples);
	size_t crossings = 0;

	media_g711_decode(c, pcm, media_audio_data(a, c), a->nsamples);
	for (size_t i = 1; i < a->nsamples; i++) {
		if ((pcm[i - 1] < 0) != (pcm[i] < 0))
			crossings++;
	}
	free(pcm);
	return crossings / 2.0 / ((double)a->nsamples / MEDIA_RATE);
}

static void test_prompt_rates(void **state)
{
	struct fixture *f = *state;
	static const unsigned rates[] = {8000, 16000, 44100, 48000};
	char path[128], why[256];

	for (size_t r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
		for (unsigned ch = 1; ch <= 2; ch++) {
			struct media_prompt *p = NULL;

			snprintf(path, sizeof(path), "%s/p%u_%u.wav", f->dir, rates[r], ch);
			wav_write(path, rates[r], ch, 0.5, 440, ch == 2 ? SF_FORMAT_FLOAT : SF_FORMAT_PCM_16);
			assert_int_equal(media_prompt_file(f->m, path, &p, why, sizeof(why)), 0);
			/* 0.5 s at 8 kHz, still a 440 Hz tone in both codecs */
			assert_true(media_prompt_samples(p) >= 3990 && media_prompt_samples(p) <= 4010);
			assert_true(fabs(frequency_of(p->a, MEDIA_PCMU) - 440) < 15);
			assert_true(fabs(frequency_of(p->a, MEDIA_PCMA) - 440) < 15);
			mem_deref(p);
		}
	}
}

/* The voicemail beep: a tone of the asked length and pitch in both codecs; bad asks refused. */
static void test_prompt_tone(void **state)
{
	struct media_prompt *p = NULL;

	(void)state;
	assert_int_equal(media_prompt_tone(&p, 1000, 400), 0);
	assert_int_equal(media_prompt_samples(p), 3200);
	assert_true(fabs(frequency_of(p->a, MEDIA_PCMU) - 1000) < 15);
	assert_true(fabs(frequency_of(p->a, MEDIA_PCMA) - 1000) < 15);
	mem_deref(p);
	p = NULL;
	assert_int_equal(media_prompt_tone(&p, 0, 400), EINVAL);
	assert_int_equal(media_prompt_tone(&p, 4000, 400), EINVAL);
	assert_int_equal(media_prompt_tone(&p, 1000, 0), EINVAL);
	assert_int_equal(media_prompt_tone(&p, 1000, 10001), EINVAL);
	assert_null(p);
}

static void prompt_fails(struct media *m, const char *path, int errcode, const char *needle)
{
	struct media_prompt *p = NULL;
	char why[256];

	assert_int_equal(media_prompt_file(m, path, &p, why, sizeof(why)), errcode);
	assert_null(p);
	if (!strstr(why, needle) || !strstr(why, path))
		fail_msg("'%s' (and the path) not in '%s'", needle, why);
}

static void test_prompt_errors(void **state)
{
	struct fixture *f = *state;
	char path[128];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/missing.wav", f->dir);
	prompt_fails(f->m, path, ENOENT, "No such file");
	prompt_fails(f->m, f->dir, EINVAL, "not a regular file");

	snprintf(path, sizeof(path), "%s/text.wav", f->dir);
	fp = fopen(path, "w");
	fputs("this is not audio, just text pretending\n", fp);
	fclose(fp);
	prompt_fails(f->m, path, EINVAL, "not a readable audio file");

	/* A WAV cut inside its header. */
	snprintf(path, sizeof(path), "%s/cut.wav", f->dir);
	wav_write(path, 8000, 1, 0.1, 440, SF_FORMAT_PCM_16);
	assert_int_equal(truncate(path, 30), 0);
	prompt_fails(f->m, path, EINVAL, "not a readable audio file");

	/* A WAV with no samples. */
	snprintf(path, sizeof(path), "%s/empty.wav", f->dir);
	wav_write(path, 8000, 1, 0, 440, SF_FORMAT_PCM_16);
	prompt_fails(f->m, path, EINVAL, "no audio");

	/* Unreadable: only meaningful when not root (root reads anything). */
	if (geteuid() != 0) {
		snprintf(path, sizeof(path), "%s/locked.wav", f->dir);
		wav_write(path, 8000, 1, 0.1, 440, SF_FORMAT_PCM_16);
		chmod(path, 0);
		prompt_fails(f->m, path, EINVAL, "not a readable audio file");
	}
}

static void test_prompt_cache(void **state)
{
	struct fixture *f = *state;
	struct media_conf mc;
	struct media *m = NULL;
	struct media_prompt *p[4] = {0}, *again = NULL, *a2 = NULL;
	size_t bytes, entries, evicted, one;
	char path[4][128], why[256];

	/* Each prompt is 1 s: 4 * 8000 bytes of audio (PCMU, PCMA, linear). The cache holds
	 * two. */
	one = sizeof(struct media_audio) + 4 * 8000;
	conf_default(&mc, f->dir, 2 * one + 100);
	assert_int_equal(media_alloc(&m, &mc), 0);
	for (int i = 0; i < 4; i++) {
		snprintf(path[i], sizeof(path[i]), "%s/c%d.wav", f->dir, i);
		wav_write(path[i], 16000, 1, 1.0, 300 + 200 * i, SF_FORMAT_PCM_16);
	}
	assert_int_equal(media_prompt_file(m, path[0], &p[0], why, sizeof(why)), 0);
	assert_int_equal(media_prompt_file(m, path[0], &again, why, sizeof(why)), 0);
	assert_ptr_equal(again->a, p[0]->a); /* a hit: the same audio, converted once */
	mem_deref(again);
	for (int i = 1; i < 4; i++)
		assert_int_equal(media_prompt_file(m, path[i], &p[i], why, sizeof(why)), 0);
	media_cache_stats(m, &bytes, &entries, &evicted);
	assert_true(bytes <= 2 * one + 100);
	assert_int_equal(entries, 2);
	assert_int_equal(evicted, 2);

	/* Evicted prompts still play what they are (their holders keep the audio)... */
	for (int i = 0; i < 4; i++)
		assert_true(fabs(frequency_of(p[i]->a, MEDIA_PCMU) - (300 + 200 * i)) < 15);
	/* ...and loading one again converts it again, correctly, evicting another. */
	assert_int_equal(media_prompt_file(m, path[0], &a2, why, sizeof(why)), 0);
	assert_ptr_not_equal(a2->a, p[0]->a);
	assert_true(fabs(frequency_of(a2->a, MEDIA_PCMA) - 300) < 15);
	media_cache_stats(m, &bytes, &entries, &evicted);
	assert_int_equal(entries, 2);
	assert_int_equal(evicted, 3);
	assert_true(bytes <= 2 * one + 100);

	/* An edited file is not served from the cache. */
	wav_write(path[0], 8000, 1, 0.5, 1000, SF_FORMAT_PCM_16);
	again = NULL;
	assert_int_equal(media_prompt_file(m, path[0], &again, why, sizeof(why)), 0);
	assert_true(media_prompt_samples(again) == 4000);
	mem_deref(again);

	mem_deref(a2);
	for (int i = 0; i < 4; i++)
		mem_deref(p[i]);
	mem_deref(m);
}

/* ---- text to speech ---------------------------------------------------------------- */

static void test_tts(void **state)
{
	struct fixture *f = *state;
	struct media_audio *a = NULL, *b = NULL;
	char why[256];
	double secs;

	assert_int_equal(media_tts_synth(f->m, "Hello, thank you for calling.", "en-US", &a, why,
					 sizeof(why)), 0);
	secs = (double)a->nsamples / MEDIA_RATE;
	assert_true(secs > 0.8 && secs < 5);
	/* The same text again is a cache hit. */
	assert_int_equal(media_tts_synth(f->m, "Hello, thank you for calling.", NULL, &b, why,
					 sizeof(why)), 0);
	assert_ptr_equal(a, b);
	media_audio_release(a);
	media_audio_release(b);

	assert_int_equal(media_tts_synth(f->m, "Bonjour", "fr", &a, why, sizeof(why)), ENOENT);
	assert_non_null(strstr(why, "tts_command is not set"));
	assert_int_equal(media_tts_synth(f->m, "Bonjour", "fr;rm", &a, why, sizeof(why)), EINVAL);
	assert_int_equal(media_tts_synth(f->m, "", "en", &a, why, sizeof(why)), EINVAL);
}

static void test_tts_command(void **state)
{
	struct fixture *f = *state;
	struct media_conf mc;
	struct media *m = NULL;
	struct media_audio *a = NULL;
	char why[256];

	/* A program that writes a WAV (0.5 s) whatever the text: the external path works. */
	conf_default(&mc, f->dir, 1 << 20);
	snprintf(mc.tts_command, sizeof(mc.tts_command),
		 "sox -q -n -r 22050 -t wav - synth 0.5 sine 440");
	assert_int_equal(media_alloc(&m, &mc), 0);
	assert_int_equal(media_tts_synth(m, "Bonjour", "fr", &a, why, sizeof(why)), 0);
	assert_true(a->nsamples >= 3990 && a->nsamples <= 4010);
	media_audio_release(a);
	mem_deref(m);

	/* A program that fails: its status and first stderr line are the reason. */
	snprintf(mc.tts_command, sizeof(mc.tts_command), "sh -c {lang}");
	assert_int_equal(media_alloc(&m, &mc), 0);
	assert_int_equal(media_tts_synth(m, "Hallo", "de", &a, why, sizeof(why)), EIO);
	assert_non_null(strstr(why, "exited with status 127"));
	assert_non_null(strstr(why, "de"));
	mem_deref(m);

	/* A program that succeeds but writes no audio. */
	snprintf(mc.tts_command, sizeof(mc.tts_command), "cat");
	assert_int_equal(media_alloc(&m, &mc), 0);
	assert_int_equal(media_tts_synth(m, "not a wav", "de", &a, why, sizeof(why)), EINVAL);
	assert_non_null(strstr(why, "cat output: not an audio file"));
	mem_deref(m);
}

/* SRTP (srtp.c): what one side protects the other unprotects, byte for byte; a changed
 * byte, a replay, the wrong key or a buffer without room for the tag are refused; a
 * stream asked for SRTP that has no contexts sends and accepts nothing. */
static void test_srtp(void **state)
{
	struct media_srtp ka = {.suite = MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80}, kb;
	struct media_srtp_ctx a = {0}, b = {0}, none = {0};
	uint8_t pkt[12 + 160 + MEDIA_SRTP_ROOM], saved[sizeof(pkt)], clear[12 + 160];
	uint8_t rtcp[64 + MEDIA_SRTP_ROOM];
	size_t len, rlen;

	(void)state;
	for (unsigned i = 0; i < MEDIA_SRTP_KEY_LEN; i++) {
		ka.tx_key[i] = (uint8_t)i;
		ka.rx_key[i] = (uint8_t)(100 + i);
	}
	kb = ka;
	memcpy(kb.tx_key, ka.rx_key, MEDIA_SRTP_KEY_LEN);
	memcpy(kb.rx_key, ka.tx_key, MEDIA_SRTP_KEY_LEN);
	assert_int_equal(media_srtp_set(&a, &ka), 0);
	assert_int_equal(media_srtp_set(&b, &kb), 0);

	media_rtp_header(clear, true, 0, 1000, 160, 0x12345678);
	memset(clear + 12, 0x55, 160);
	memcpy(pkt, clear, sizeof(clear));
	len = sizeof(clear);
	assert_int_equal(media_srtp_protect(&a, false, pkt, &len, sizeof(pkt)), 0);
	assert_int_equal(len, sizeof(clear) + 10); /* the 80-bit tag */
	assert_memory_not_equal(pkt + 12, clear + 12, 160);
	memcpy(saved, pkt, len);
	rlen = len;
	pkt[40] ^= 1; /* changed on the way (libre writes over the tag while it checks) */
	assert_int_not_equal(media_srtp_unprotect(&b, false, pkt, &rlen), 0);
	memcpy(pkt, saved, len);
	rlen = len;
	assert_int_equal(media_srtp_unprotect(&b, false, pkt, &rlen), 0);
	assert_int_equal(rlen, sizeof(clear));
	assert_memory_equal(pkt, clear, sizeof(clear));
	/* the same packet again is a replay */
	memcpy(pkt, saved, len);
	rlen = len;
	assert_int_not_equal(media_srtp_unprotect(&b, false, pkt, &rlen), 0);
	/* a sender's own key does not open what it sent */
	media_rtp_header(clear, false, 0, 1001, 320, 0x12345678);
	memcpy(pkt, clear, sizeof(clear));
	len = sizeof(clear);
	assert_int_equal(media_srtp_protect(&a, false, pkt, &len, sizeof(pkt)), 0);
	rlen = len;
	assert_int_not_equal(media_srtp_unprotect(&a, false, pkt, &rlen), 0);
	/* no room for the tag */
	len = sizeof(clear);
	assert_int_equal(media_srtp_protect(&a, false, pkt, &len, sizeof(clear) + 4), ENOSPC);

	/* RTCP: an RR */
	memset(rtcp, 0, sizeof(rtcp));
	rtcp[0] = 0x80;
	rtcp[1] = 201;
	rtcp[3] = 1;
	rtcp[4] = 0x12;
	len = 8;
	assert_int_equal(media_srtp_protect(&a, true, rtcp, &len, sizeof(rtcp)), 0);
	assert_true(len > 8);
	rlen = len;
	assert_int_equal(media_srtp_unprotect(&b, true, rtcp, &rlen), 0);
	assert_int_equal(rlen, 8);

	/* the same keys keep the contexts; new ones make new ones */
	{
		struct srtp *tx = a.tx;

		assert_int_equal(media_srtp_set(&a, &ka), 0);
		assert_ptr_equal(a.tx, tx);
	}
	/* plain RTP passes untouched; SRTP asked without contexts passes nothing */
	len = sizeof(clear);
	assert_int_equal(media_srtp_protect(&none, false, pkt, &len, sizeof(pkt)), 0);
	none.keys.suite = MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80;
	assert_int_equal(media_srtp_protect(&none, false, pkt, &len, sizeof(pkt)), EPERM);
	assert_int_equal(media_srtp_unprotect(&none, false, pkt, &len), EPERM);
	media_srtp_clear(&a);
	media_srtp_clear(&b);
	assert_null(a.tx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_g711_known_values),
		cmocka_unit_test(test_g711_round_trip),
		cmocka_unit_test(test_rtp_parse),
		cmocka_unit_test(test_telev),
		cmocka_unit_test(test_rtcp),
		cmocka_unit_test(test_srtp),
		cmocka_unit_test(test_conf),
		cmocka_unit_test_setup_teardown(test_prompt_rates, setup, teardown),
		cmocka_unit_test(test_prompt_tone),
		cmocka_unit_test_setup_teardown(test_prompt_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prompt_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tts_command, setup, teardown),
	};
	int rc;

	libre_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	libre_close();
	return rc;
}
