/* Unit tests of media_prompt_convert: WAV (any rate and channels) and MP3 become 8 kHz
 * mono 16-bit WAV of the same length and sound; other bytes are refused by type, and
 * a file that claims a type but does not decode is refused without a file left behind. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sndfile.h>
#include "media/media.h"

enum { RATE = 16000, SECONDS = 2 };

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/cccd-convert-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

/* A chirp (200 Hz rising by 700 Hz/s) written by libsndfile in `format`, read back. */
static uint8_t *chirp_file(int format, int channels, size_t *lenp)
{
	SF_INFO info = {.samplerate = RATE, .channels = channels, .format = format};
	char path[128];
	short *pcm = calloc((size_t)RATE * SECONDS * (size_t)channels, sizeof(short));
	SNDFILE *sf;
	FILE *f;
	uint8_t *buf;
	long len;

	assert_non_null(pcm);
	for (int i = 0; i < RATE * SECONDS; i++) {
		double t = (double)i / RATE;

		for (int c = 0; c < channels; c++)
			pcm[i * channels + c] = (short)(12000 * sin(2 * M_PI * (200 * t + 350 * t * t)));
	}
	snprintf(path, sizeof(path), "%s/source", dir);
	sf = sf_open(path, SFM_WRITE, &info);
	assert_non_null(sf);
	assert_int_equal(sf_writef_short(sf, pcm, RATE * SECONDS), RATE * SECONDS);
	sf_close(sf);
	free(pcm);
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = malloc((size_t)len);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	*lenp = (size_t)len;
	return buf;
}

/* The converted file: 8 kHz mono 16-bit PCM WAV, about SECONDS long, and loud. */
static void check_prompt(const char *path, double min_s)
{
	SF_INFO info = {0};
	SNDFILE *sf = sf_open(path, SFM_READ, &info);
	short *pcm;
	double energy = 0;

	assert_non_null(sf);
	assert_int_equal(info.samplerate, 8000);
	assert_int_equal(info.channels, 1);
	assert_int_equal(info.format, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
	assert_true(info.frames >= (sf_count_t)(min_s * 8000));
	assert_true(info.frames <= (sf_count_t)(SECONDS * 8000 + 2000));
	pcm = malloc(sizeof(short) * (size_t)info.frames);
	assert_int_equal(sf_readf_short(sf, pcm, info.frames), info.frames);
	for (sf_count_t i = 0; i < info.frames; i++)
		energy += (double)pcm[i] * pcm[i];
	/* A 12000-peak sine has an RMS near 8500; resampling and MP3 keep most of it. */
	assert_true(sqrt(energy / (double)info.frames) > 5000);
	free(pcm);
	sf_close(sf);
}

static void test_wav_stereo_16k(void **state)
{
	size_t len;
	uint8_t *wav = chirp_file(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 2, &len);
	char out[128], why[128] = "";

	(void)state;
	snprintf(out, sizeof(out), "%s/wav.wav", dir);
	assert_int_equal(media_prompt_convert(wav, len, out, why, sizeof(why)), 0);
	check_prompt(out, SECONDS - 0.05);
	free(wav);
}

static void test_mp3(void **state)
{
	size_t len;
	uint8_t *mp3 = chirp_file(SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 1, &len);
	char out[128], why[128] = "";

	(void)state;
	snprintf(out, sizeof(out), "%s/mp3.wav", dir);
	assert_int_equal(media_prompt_convert(mp3, len, out, why, sizeof(why)), 0);
	/* An MP3 may lose a frame or two at its ends (encoder delay, the feed's last frame). */
	check_prompt(out, SECONDS - 0.2);
	free(mp3);
}

static void test_wrong_type(void **state)
{
	static const char text[] = "<html>not audio</html>";
	char out[128], why[128] = "";

	(void)state;
	snprintf(out, sizeof(out), "%s/text.wav", dir);
	assert_int_equal(media_prompt_convert(text, sizeof(text), out, why, sizeof(why)), EPROTO);
	assert_non_null(strstr(why, "not a WAV or MP3"));
	assert_int_equal(access(out, F_OK), -1);
}

static void test_broken_files(void **state)
{
	uint8_t wav[64] = "RIFF\x38\0\0\0WAVEjunkjunkjunk", mp3[256] = "ID3\x03\0\0\0\0\0\0";
	char out[128], why[128] = "";

	(void)state;
	snprintf(out, sizeof(out), "%s/broken.wav", dir);
	assert_int_equal(media_prompt_convert(wav, sizeof(wav), out, why, sizeof(why)), EINVAL);
	assert_int_equal(media_prompt_convert(mp3, sizeof(mp3), out, why, sizeof(why)), EINVAL);
	assert_int_equal(access(out, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wav_stereo_16k),
		cmocka_unit_test(test_mp3),
		cmocka_unit_test(test_wrong_type),
		cmocka_unit_test(test_broken_files),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
