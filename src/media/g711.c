/* g711: ITU-T G.711 µ-law and A-law, through lookup tables.
 *
 * Why our own: the codec is two short formulas and four tables (24 KiB, built once on
 * first use); a library would add a dependency and a call per sample for what is a single
 * array index here. Encoding uses the top 14 (µ-law) or 13 (A-law) bits of the sample,
 * exactly the precision G.711 defines, so a table over those bits is the codec itself. */
#include <pthread.h>
#include "media/media_int.h"

static int16_t ulaw_dec[256], alaw_dec[256];
static uint8_t ulaw_enc[1 << 14], alaw_enc[1 << 13];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

/* The segment (exponent) of a magnitude: the first end point it does not exceed. */
static int segment(int v, const int *ends)
{
	for (int i = 0; i < 8; i++) {
		if (v <= ends[i])
			return i;
	}
	return 8;
}

/* µ-law of a 14-bit sample (G.711 clause 2; bias 33, clip 8159). */
static uint8_t ulaw_of14(int v)
{
	static const int ends[8] = {0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF};
	int mask = 0xFF, seg;

	if (v < 0) {
		v = -v;
		mask = 0x7F;
	}
	if (v > 8159)
		v = 8159;
	v += 0x21;
	seg = segment(v, ends);
	if (seg >= 8)
		return (uint8_t)(0x7F ^ mask);
	return (uint8_t)(((seg << 4) | ((v >> (seg + 1)) & 0xF)) ^ mask);
}

/* A-law of a 13-bit sample (G.711 clause 3; even bits inverted with 0x55). */
static uint8_t alaw_of13(int v)
{
	static const int ends[8] = {0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF};
	int mask, seg, a;

	if (v >= 0) {
		mask = 0xD5;
	} else {
		mask = 0x55;
		v = -v - 1;
	}
	seg = segment(v, ends);
	if (seg >= 8)
		return (uint8_t)(0x7F ^ mask);
	a = seg << 4;
	a |= seg < 2 ? (v >> 1) & 0xF : (v >> seg) & 0xF;
	return (uint8_t)(a ^ mask);
}

static int16_t ulaw_value(uint8_t u)
{
	int t;

	u = (uint8_t)~u;
	t = ((u & 0x0F) << 3) + 0x84;
	t <<= (u & 0x70) >> 4;
	return (int16_t)((u & 0x80) ? 0x84 - t : t - 0x84);
}

static int16_t alaw_value(uint8_t a)
{
	int t, seg;

	a ^= 0x55;
	t = (a & 0x0F) << 4;
	seg = (a & 0x70) >> 4;
	if (seg == 0)
		t += 8;
	else
		t = (t + 0x108) << (seg - 1);
	return (int16_t)((a & 0x80) ? t : -t);
}

static void tables_build(void)
{
	for (int i = 0; i < 256; i++) {
		ulaw_dec[i] = ulaw_value((uint8_t)i);
		alaw_dec[i] = alaw_value((uint8_t)i);
	}
	/* Indexed by the sample's top bits as an unsigned pattern: the sign lands in the top
	 * half of the table. */
	for (int i = 0; i < (1 << 14); i++)
		ulaw_enc[i] = ulaw_of14(i < (1 << 13) ? i : i - (1 << 14));
	for (int i = 0; i < (1 << 13); i++)
		alaw_enc[i] = alaw_of13(i < (1 << 12) ? i : i - (1 << 13));
}

static inline void tables(void)
{
	pthread_once(&tables_once, tables_build);
}

uint8_t media_g711_ulaw_encode(int16_t s)
{
	tables();
	return ulaw_enc[(uint16_t)s >> 2];
}

int16_t media_g711_ulaw_decode(uint8_t u)
{
	tables();
	return ulaw_dec[u];
}

uint8_t media_g711_alaw_encode(int16_t s)
{
	tables();
	return alaw_enc[(uint16_t)s >> 3];
}

int16_t media_g711_alaw_decode(uint8_t a)
{
	tables();
	return alaw_dec[a];
}

void media_g711_encode(enum media_codec c, uint8_t *dst, const int16_t *src, size_t n)
{
	tables();
	if (c == MEDIA_PCMA) {
		for (size_t i = 0; i < n; i++)
			dst[i] = alaw_enc[(uint16_t)src[i] >> 3];
	} else {
		for (size_t i = 0; i < n; i++)
			dst[i] = ulaw_enc[(uint16_t)src[i] >> 2];
	}
}

void media_g711_decode(enum media_codec c, int16_t *dst, const uint8_t *src, size_t n)
{
	const int16_t *t;

	tables();
	t = c == MEDIA_PCMA ? alaw_dec : ulaw_dec;
	for (size_t i = 0; i < n; i++)
		dst[i] = t[src[i]];
}

uint8_t media_g711_silence(enum media_codec c)
{
	return c == MEDIA_PCMA ? 0xD5 : 0xFF;
}
