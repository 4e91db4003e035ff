/* earlyaudio: one call's listener — the hops, their classes, and the announcement matcher.
 *
 * The matcher counts, for each reference, how many of the live landmarks (print.c) find
 * the same hash in the reference at the same time offset (live hop - reference hop): a
 * recording that plays the reference gives one offset that keeps collecting votes, while
 * chance hash matches scatter over offsets. Each reference has EA_SLOTS offset counters;
 * a new offset takes a free slot, else one that got no vote for EA_SLOT_STALE hops, else
 * the weakest: memory stays fixed however long the call rings, and only the last seconds
 * count. An announcement is recognised when one offset (with its neighbours, as a hop
 * boundary may fall either side) holds EA_MATCH_VOTES votes, EA_MATCH_RATIO times the next
 * best offset's, gathered over EA_MATCH_SPAN hops at least (or half the reference, if it
 * is shorter): a burst of votes from one moment is not a recording playing along.
 *
 * The figures come from tests/unit/test_earlyaudio.c: a 5 s espeak-ng announcement played
 * through µ-law, 6 dB down, with white noise at 20 dB SNR, collects 150 votes 0.8 s into its
 * speech and 588 by its end; a different announcement that shares three words with it
 * ("you have dialled") collects at most 57 at one offset, and ring-back and silence none.
 * EA_MATCH_VOTES sits at twice the false figure, which costs under a second of audio. */
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "earlyaudio/earlyaudio_int.h"
#include "media/media.h"

enum {
	EA_SLOTS = 32, EA_SLOT_STALE = 250, EA_MATCH_VOTES = 120, EA_MATCH_RATIO = 4,
	EA_MATCH_SPAN = 25,
};

struct ea_slot {
	int32_t off;
	uint32_t votes, first, last;   /* live hops of its first and last votes */
};

struct ea_votes {
	struct ea_slot slot[EA_SLOTS];
	bool said;
};

struct earlyaudio {
	int16_t win[EA_WIN];
	unsigned fill;                 /* samples of the current hop in win's tail */
	uint32_t hops;
	struct ea_print print;
	struct ea_class cls;
	const struct earlyaudio_ref *refs[EARLYAUDIO_REFS_MAX];
	struct ea_votes votes[EARLYAUDIO_REFS_MAX];
	unsigned nref;
	/* findings not yet handed out: a hop may find two things (speech and a match), a
	 * long frame several; one is handed out a frame, and each class is found once, so
	 * the queue never holds more than the classes there are */
	struct earlyaudio_finding queue[EARLYAUDIO_ANNOUNCEMENT + EARLYAUDIO_REFS_MAX];
	unsigned nqueue;
};

int earlyaudio_alloc(struct earlyaudio **eap, const struct earlyaudio_ref *const *refs,
		     unsigned nref)
{
	struct earlyaudio *ea;

	if (!eap || nref > EARLYAUDIO_REFS_MAX || (nref && !refs))
		return EINVAL;
	ea = mem_zalloc(sizeof(*ea), NULL);
	if (!ea)
		return ENOMEM;
	earlyaudio_class_init(&ea->cls);
	for (unsigned i = 0; i < nref; i++) {
		if (refs[i])
			ea->refs[ea->nref++] = refs[i];
	}
	*eap = ea;
	return 0;
}

static void vote(struct ea_votes *v, int32_t off, uint32_t now)
{
	struct ea_slot *pick = NULL;

	for (unsigned i = 0; i < EA_SLOTS; i++) {
		struct ea_slot *s = &v->slot[i];

		if (s->votes && s->off == off) {
			s->votes++;
			s->last = now;
			return;
		}
		if (!pick || !s->votes || (pick->votes && now - s->last > EA_SLOT_STALE) ||
		    (pick->votes && now - pick->last <= EA_SLOT_STALE && s->votes < pick->votes))
			pick = s;
	}
	pick->off = off;
	pick->votes = 1;
	pick->first = now;
	pick->last = now;
}

/* The best offset's votes (with its neighbours') and the best of the others. */
static void tally(const struct ea_votes *v, uint32_t *bestp, uint32_t *nextp, uint32_t *spanp)
{
	uint32_t best = 0, next = 0, span = 0;
	int32_t boff = 0;

	for (unsigned i = 0; i < EA_SLOTS; i++) {
		uint32_t n = 0;

		for (unsigned j = 0; j < EA_SLOTS; j++) {
			if (v->slot[j].votes && v->slot[i].votes &&
			    abs(v->slot[j].off - v->slot[i].off) <= 1)
				n += v->slot[j].votes;
		}
		if (n > best) {
			best = n;
			boff = v->slot[i].off;
			span = v->slot[i].last - v->slot[i].first;
		}
	}
	for (unsigned i = 0; i < EA_SLOTS; i++) {
		if (v->slot[i].votes && abs(v->slot[i].off - boff) > 1 && v->slot[i].votes > next)
			next = v->slot[i].votes;
	}
	*bestp = best;
	*nextp = next;
	*spanp = span;
}

static bool match_hop(struct earlyaudio *ea, const struct ea_spec *s,
		      struct earlyaudio_finding *f)
{
	struct ea_hash out[EA_HASH_OUT_MAX];
	unsigned n = earlyaudio_print_hop(&ea->print, s, out, EA_HASH_OUT_MAX);
	bool found = false;

	for (unsigned r = 0; r < ea->nref; r++) {
		struct ea_votes *v = &ea->votes[r];
		uint32_t best, next, span;

		if (v->said)
			continue;
		for (unsigned i = 0; i < n; i++) {
			const struct ea_hash *h;
			size_t k = earlyaudio_ref_lookup(ea->refs[r], out[i].hash, &h);

			for (size_t j = 0; j < k; j++)
				vote(v, (int32_t)(out[i].t - h[j].t), ea->hops);
		}
		if (found || !n)
			continue;
		tally(v, &best, &next, &span);
		if (best >= EA_MATCH_VOTES && best >= EA_MATCH_RATIO * next &&
		    span >= (ea->refs[r]->hops / 2 < EA_MATCH_SPAN ? ea->refs[r]->hops / 2 :
			     EA_MATCH_SPAN)) {
			v->said = true;
			f->heard = EARLYAUDIO_ANNOUNCEMENT;
			f->ref = r;
			found = true;
		}
	}
	return found;
}

static void push(struct earlyaudio *ea, const struct earlyaudio_finding *f)
{
	if (ea->nqueue < sizeof(ea->queue) / sizeof(ea->queue[0]))
		ea->queue[ea->nqueue++] = *f;
}

static void hop(struct earlyaudio *ea)
{
	struct earlyaudio_finding f = {0};
	struct ea_spec s;

	earlyaudio_spectrum(ea->win, ea->win + EA_WIN - EA_HOP, &s);
	ea->hops++;
	f.at_ms = ea->hops * 20;
	if (match_hop(ea, &s, &f))
		push(ea, &f);
	if (earlyaudio_class_hop(&ea->cls, ea->win + EA_WIN - EA_HOP, &s, ea->hops, &f))
		push(ea, &f);
}

bool earlyaudio_frame(struct earlyaudio *ea, const int16_t *pcm, size_t n,
		      struct earlyaudio_finding *f)
{
	if (!ea || !f || (!pcm && n))
		return false;
	while (n) {
		size_t take = EA_HOP - ea->fill < n ? EA_HOP - ea->fill : n;

		memcpy(ea->win + EA_WIN - EA_HOP + ea->fill, pcm, take * sizeof(*pcm));
		ea->fill += (unsigned)take;
		pcm += take;
		n -= take;
		if (ea->fill < EA_HOP)
			break;
		hop(ea);
		memmove(ea->win, ea->win + EA_HOP, sizeof(int16_t) * (EA_WIN - EA_HOP));
		ea->fill = 0;
	}
	if (!ea->nqueue)
		return false;
	*f = ea->queue[0];
	memmove(ea->queue, ea->queue + 1, sizeof(ea->queue[0]) * --ea->nqueue);
	return true;
}

bool earlyaudio_listen_h(void *state, const int16_t *pcm, size_t n, struct media_heard *heard)
{
	struct earlyaudio_finding f = {0};

	if (!earlyaudio_frame(state, pcm, n, &f))
		return false;
	heard->what = (int)f.heard;
	heard->at_ms = f.at_ms;
	heard->value = f.heard == EARLYAUDIO_SIT ? (uint32_t)f.sit :
		       f.heard == EARLYAUDIO_ANNOUNCEMENT ? f.ref : 0;
	return true;
}
