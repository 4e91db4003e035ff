/* codec_pipe: cccd's own G.722 and Opus coders as a filter, for the integration tests' RTP
 * peers (Node has neither codec).
 *
 *   codec_pipe decode g722|opus   stdin: payloads, each a 2-byte big-endian length then the
 *                                 bytes; stdout: 8 kHz 16-bit little-endian samples (one
 *                                 20 ms frame per payload; a payload that does not decode
 *                                 gives a frame of silence, so timing is kept)
 *   codec_pipe encode g722|opus   stdin: 8 kHz 16-bit little-endian samples; stdout: one
 *                                 length-prefixed payload per 160-sample frame
 *
 * The tests' peer decodes with a fresh decoder per call, as a real phone would. */
#include <stdio.h>
#include <string.h>
#include "media/media_int.h"

static int decode(struct media_coder *c)
{
	uint8_t len[2], pay[1500];
	int16_t pcm[960];

	while (fread(len, 1, 2, stdin) == 2) {
		size_t n = (size_t)len[0] << 8 | len[1];
		int got;

		if (n > sizeof(pay) || fread(pay, 1, n, stdin) != n)
			return 1;
		got = media_coder_decode(c, pay, n, pcm, 960);
		if (got <= 0) {
			memset(pcm, 0, MEDIA_FRAME * sizeof(*pcm));
			got = MEDIA_FRAME;
		}
		fwrite(pcm, sizeof(*pcm), (size_t)got, stdout);
	}
	return 0;
}

static int encode(struct media_coder *c)
{
	int16_t pcm[MEDIA_FRAME];
	uint8_t pay[1500];

	while (fread(pcm, sizeof(*pcm), MEDIA_FRAME, stdin) == MEDIA_FRAME) {
		size_t n = media_coder_encode(c, pcm, pay, sizeof(pay));
		uint8_t len[2] = {(uint8_t)(n >> 8), (uint8_t)n};

		if (!n)
			return 1;
		fwrite(len, 1, 2, stdout);
		fwrite(pay, 1, n, stdout);
	}
	return 0;
}

int main(int argc, char **argv)
{
	enum media_codec codec;
	struct media_coder *c = NULL;
	int rc;

	if (argc != 3 || (strcmp(argv[1], "decode") && strcmp(argv[1], "encode"))) {
		fprintf(stderr, "usage: codec_pipe decode|encode g722|opus\n");
		return 2;
	}
	if (!strcmp(argv[2], "g722"))
		codec = MEDIA_G722;
	else if (!strcmp(argv[2], "opus"))
		codec = MEDIA_OPUS;
	else {
		fprintf(stderr, "codec_pipe: unknown codec %s\n", argv[2]);
		return 2;
	}
	if (media_coder_alloc(&c, codec) || !c) {
		fprintf(stderr, "codec_pipe: cannot make the %s coder\n", argv[2]);
		return 1;
	}
	rc = !strcmp(argv[1], "decode") ? decode(c) : encode(c);
	media_coder_free(c);
	return rc;
}
