/* earlyaudio: the classes of early media, hop by hop: SIT, ring-back, speech, silence.
 *
 * SIT (Telcordia SR-2275 §6.21.2; ITU-T E.180 §6): three tones one after the other, the
 * first in 913.8 or 985.2 Hz, the second in 1370.6 or 1428.5 Hz, the third 1776.7 Hz,
 * each short (274 ms) or long (380 ms); which frequency and length the first two have
 * encodes the cause. spandsp's Goertzel filters measure the five frequencies over each
 * 20 ms hop; a hop is a SIT hop when one of them holds EA_SIT_SHARE of its power and it is
 * louder than EA_TONE_FLOOR_DB. Runs of SIT hops of one frequency are the tones; the hops
 * across a boundary hold two tones and count for neither, so a 274 ms tone counts 12 to 14
 * hops and a 380 ms one 17 to 19: EA_SIT_LONG (16 hops) parts them. Three runs in the
 * right bands, each EA_SIT_MIN to EA_SIT_MAX hops, with at most EA_SIT_GAP hops between,
 * are a SIT, reported when the third has lasted EA_SIT_MIN hops.
 *
 * Ring-back: any country's is a tone (one frequency, or two close ones: 440+480 Hz, 400+450
 * Hz) that goes on and off in a cadence. A hop is tonal when its two strongest spectral
 * peaks (with a bin either side) hold EA_TONE_SHARE of the power in 100..3500 Hz; a burst
 * is EA_ON_MIN..EA_ON_MAX tonal hops of one dominant bin (within EA_BIN_SLACK), then
 * EA_OFF_MIN..EA_OFF_MAX hops of quiet; a second burst at the same bin after that is a
 * cadence: ring-back, at the fourth hop of the second burst (Europe's 1 s on, 4 s off:
 * after about 5 s; the UK's 0.4-0.2-0.4-2.0: after 0.7 s; the US 2 s on 4 s off: 6 s).
 * Tones in the SIT bands are not ring-back.
 *
 * Speech: hops louder than EA_ACTIVE_DB that are neither tonal nor SIT, counted with a
 * leak (x 0.97 a hop, a level of about 33 when all are): speech once the count passes
 * EA_SPEECH_LEVEL, half a second of talk. Silence: EA_SILENCE_HOPS quiet hops in a row
 * (3 s) before anything else was heard. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "earlyaudio/earlyaudio_int.h"

#define EA_SIT_SHARE 0.6f
#define EA_TONE_FLOOR_DB -40.0f
#define EA_TONE_SHARE 0.8f
#define EA_ACTIVE_DB -45.0f
#define EA_SPEECH_LEVEL 12.0f
enum {
	EA_SIT_MIN = 10, EA_SIT_LONG = 16, EA_SIT_MAX = 24, EA_SIT_GAP = 2,
	EA_ON_MIN = 8, EA_ON_MAX = 150, EA_OFF_MIN = 8, EA_OFF_MAX = 300, EA_BIN_SLACK = 2,
	EA_SILENCE_HOPS = 150,
};

static const float sit_hz[5] = {913.8f, 985.2f, 1370.6f, 1428.5f, 1776.7f};

const char *earlyaudio_heard_name(enum earlyaudio_heard h)
{
	static const char *const names[] = {"", "silence", "ringback", "speech", "sit",
					    "announcement"};

	return (unsigned)h < sizeof(names) / sizeof(names[0]) ? names[h] : "";
}

const char *earlyaudio_sit_name(enum earlyaudio_sit s)
{
	static const char *const names[] = {"", "intercept", "vacant", "reorder",
					    "noCircuit", "ineffective", "other"};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "";
}

void earlyaudio_class_init(struct ea_class *c)
{
	memset(c, 0, sizeof(*c));
	for (unsigned i = 0; i < 5; i++)
		make_goertzel_descriptor(&c->sit_desc[i], sit_hz[i], EA_HOP);
	c->sit_run = -1;
	c->tone_bin = -1;
	c->ring_bin = -1;
}

/* The SIT tone of a hop (0..4), or -1. */
static int sit_tone(struct ea_class *c, const int16_t *hop, const struct ea_spec *s)
{
	double e = 0;
	float best = 0;
	int at = -1;

	if (s->db < EA_TONE_FLOOR_DB)
		return -1;
	for (unsigned i = 0; i < EA_HOP; i++)
		e += (double)hop[i] * hop[i];
	for (int i = 0; i < 5; i++) {
		goertzel_state_t g;
		float share;

		goertzel_init(&g, &c->sit_desc[i]);
		goertzel_update(&g, hop, EA_HOP);
		/* |X(f)|^2 of a sine of amplitude A is (A N / 2)^2; its energy is A^2 N / 2 */
		share = (float)(goertzel_result(&g) / (e * EA_HOP / 2.0 + 1e-9));
		if (share > best) {
			best = share;
			at = i;
		}
	}
	return best >= EA_SIT_SHARE ? at : -1;
}

static enum earlyaudio_sit sit_variant(int f1, int l1, int f2, int l2)
{
	bool lo1 = f1 == 0, lo2 = f2 == 2, long1 = l1 >= EA_SIT_LONG, long2 = l2 >= EA_SIT_LONG;

	if (lo1 && !long1 && lo2 && !long2)
		return EARLYAUDIO_SIT_INTERCEPT;
	if (!lo1 && long1 && lo2 && !long2)
		return EARLYAUDIO_SIT_VACANT;
	if ((lo1 && !long1 && !lo2 && long2) || (!lo1 && !long1 && lo2 && long2))
		return EARLYAUDIO_SIT_REORDER;
	if ((!lo1 && long1 && !lo2 && long2) || (lo1 && long1 && lo2 && long2))
		return EARLYAUDIO_SIT_NO_CIRCUIT;
	if (!lo1 && !long1 && !lo2 && !long2)
		return EARLYAUDIO_SIT_INEFFECTIVE;
	return EARLYAUDIO_SIT_OTHER;
}

static bool sit_hop(struct ea_class *c, int tone, struct earlyaudio_finding *f)
{
	if (tone >= 0 && tone == c->sit_run) {
		c->sit_len++;
		c->sit_gap = 0;
	}
	else if (tone >= 0) {
		/* a new run: the one before counts if it was a tone's length and near */
		if (c->sit_run >= 0 && c->sit_len >= EA_SIT_MIN && c->sit_len <= EA_SIT_MAX &&
		    c->sit_gap <= EA_SIT_GAP) {
			c->sit_prev[0][0] = c->sit_prev[1][0];
			c->sit_prev[0][1] = c->sit_prev[1][1];
			c->sit_prev[1][0] = c->sit_run;
			c->sit_prev[1][1] = c->sit_len;
			c->sit_nprev = c->sit_nprev < 2 ? c->sit_nprev + 1 : 2;
		}
		else {
			c->sit_nprev = 0;
		}
		c->sit_run = tone;
		c->sit_len = 1;
		c->sit_gap = 0;
	}
	else if (++c->sit_gap > EA_SIT_GAP) {
		c->sit_run = -1;
		c->sit_nprev = 0;
	}
	if (c->sit_run != 4 || c->sit_len != EA_SIT_MIN || c->sit_nprev < 2 ||
	    c->sit_prev[0][0] > 1 || c->sit_prev[1][0] < 2 || c->sit_prev[1][0] > 3)
		return false;
	f->heard = EARLYAUDIO_SIT;
	f->sit = sit_variant(c->sit_prev[0][0], c->sit_prev[0][1], c->sit_prev[1][0],
			     c->sit_prev[1][1]);
	return true;
}

/* The dominant bin of a tonal hop, or -1. */
static int tonal_bin(const struct ea_spec *s)
{
	int b1 = -1, b2 = -1;
	float held = 0;

	if (s->db < EA_TONE_FLOOR_DB || s->band <= 0)
		return -1;
	for (int k = 3; k <= 112; k++) {
		if (b1 < 0 || s->pow[k] > s->pow[b1])
			b1 = k;
	}
	for (int k = 3; k <= 112; k++) {
		if (abs(k - b1) > 1 && (b2 < 0 || s->pow[k] > s->pow[b2]))
			b2 = k;
	}
	for (int k = 3; k <= 112; k++) {
		if (abs(k - b1) <= 1 || (b2 >= 0 && abs(k - b2) <= 1))
			held += s->pow[k];
	}
	return held >= EA_TONE_SHARE * s->band ? b1 : -1;
}

static bool ring_hop(struct ea_class *c, int bin, bool quiet)
{
	if (bin >= 0 && c->tone_bin >= 0 && abs(bin - c->tone_bin) <= EA_BIN_SLACK) {
		c->tone_len++;
		if (c->ring_bin >= 0 && abs(bin - c->ring_bin) <= EA_BIN_SLACK &&
		    c->tone_len == 4)
			return true;
		return false;
	}
	if (c->tone_bin >= 0 && c->tone_len >= EA_ON_MIN && c->tone_len <= EA_ON_MAX) {
		/* a burst just ended: it waits for its repeat */
		c->ring_bin = c->tone_bin;
		c->off_len = 0;
	}
	c->tone_bin = bin;
	c->tone_len = bin >= 0 ? 1 : 0;
	if (bin >= 0) {
		/* a new burst: a repeat only after a quiet long enough */
		if (c->ring_bin >= 0 && c->off_len < EA_OFF_MIN)
			c->ring_bin = -1;
		return false;
	}
	if (quiet)
		c->off_len++;
	else
		c->ring_bin = -1;
	if (c->off_len > EA_OFF_MAX)
		c->ring_bin = -1;
	return false;
}

static bool report(struct ea_class *c, enum earlyaudio_heard h, struct earlyaudio_finding *f)
{
	if (c->said[h])
		return false;
	c->said[h] = true;
	f->heard = h;
	return true;
}

bool earlyaudio_class_hop(struct ea_class *c, const int16_t *hop, const struct ea_spec *s,
			  uint32_t t, struct earlyaudio_finding *f)
{
	int tone = sit_tone(c, hop, s);
	int bin = tone < 0 ? tonal_bin(s) : -1;
	bool active = s->db >= EA_ACTIVE_DB;
	bool found = false;

	(void)t;
	if (sit_hop(c, tone, f))
		found = report(c, EARLYAUDIO_SIT, f);
	if (!found && ring_hop(c, bin, !active))
		found = report(c, EARLYAUDIO_RINGBACK, f);
	c->activity = c->activity * 0.97f + (active && tone < 0 && bin < 0 ? 1.0f : 0.0f);
	if (!found && c->activity >= EA_SPEECH_LEVEL)
		found = report(c, EARLYAUDIO_SPEECH, f);
	c->silent = active ? 0 : c->silent + 1;
	if (!found && c->silent >= EA_SILENCE_HOPS) {
		bool any = false;

		for (unsigned h = EARLYAUDIO_SILENCE + 1; h <= EARLYAUDIO_ANNOUNCEMENT; h++)
			any |= c->said[h];
		if (!any)
			found = report(c, EARLYAUDIO_SILENCE, f);
	}
	return found;
}
