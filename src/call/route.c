/* call: which trunks carry a number and in what order (dial rules, priority, weight), and
 * when a failed attempt may move on to the next trunk, and how long a 503 asks us to stay
 * away. Pure: no state, no clock. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "call/call_int.h"

/* splitmix64: a small, well-mixed generator, so that one seed gives one order (the unit
 * tests replay orders by seed; the user agent seeds with rand_u64). */
static uint64_t draw(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The number as the trunk's first matching rule dials it: 0, ENOENT (no rule matches) or
 * EINVAL (the rule would make it something other than a number). */
static int trunk_rewrite(const struct call_trunk_conf *tc, const char *number, char *out,
			 size_t outsz)
{
	for (unsigned j = 0; j < tc->nrules; j++) {
		const struct call_rule *r = &tc->rules[j];

		if (strncmp(number, r->match, strlen(r->match)))
			continue;
		if (r->strip > strlen(number))
			return EINVAL;
		if ((size_t)snprintf(out, outsz, "%s%s", r->prefix, number + r->strip) >= outsz ||
		    !call_number_ok(out))
			return EINVAL;
		return 0;
	}
	return ENOENT;
}

/* Orders steps[from, to) — trunks of one priority — by weighted draws without replacement:
 * each place goes to one of the trunks left with a chance of its weight over theirs. */
static void weigh(const struct call_conf *cc, struct call_plan_step *steps, unsigned from,
		  unsigned to, uint64_t *seed)
{
	for (unsigned i = from; i + 1 < to; i++) {
		uint64_t sum = 0, pick;
		unsigned j;

		for (j = i; j < to; j++)
			sum += cc->trunks[steps[j].trunk].weight;
		pick = draw(seed) % sum;
		for (j = i; j < to; j++) {
			uint64_t w = cc->trunks[steps[j].trunk].weight;

			if (pick < w)
				break;
			pick -= w;
		}
		if (j != i) {
			struct call_plan_step t = steps[i];

			steps[i] = steps[j];
			steps[j] = t;
		}
	}
}

int call_route_plan(const struct call_conf *cc, const char *number,
		    bool (*skip)(unsigned trunk, void *arg), void *arg, uint64_t seed,
		    struct call_plan *plan)
{
	bool bad_rule = false;
	unsigned n = 0;

	if (!cc || !call_number_ok(number) || !plan)
		return EINVAL;
	for (unsigned i = 0; i < cc->ntrunks; i++) {
		struct call_plan_step *st = &plan->steps[n];
		int err;

		if (skip && skip(i, arg))
			continue;
		err = trunk_rewrite(&cc->trunks[i], number, st->number, sizeof(st->number));
		if (err == EINVAL)
			bad_rule = true;
		if (err)
			continue;
		/* insertion by priority; file order among equals until weigh() */
		st->trunk = i;
		for (unsigned k = n; k > 0 && cc->trunks[plan->steps[k - 1].trunk].priority >
					    cc->trunks[i].priority; k--) {
			struct call_plan_step t = plan->steps[k - 1];

			plan->steps[k - 1] = plan->steps[k];
			plan->steps[k] = t;
		}
		n++;
	}
	for (unsigned from = 0, to; from < n; from = to) {
		unsigned prio = cc->trunks[plan->steps[from].trunk].priority;

		for (to = from + 1; to < n && cc->trunks[plan->steps[to].trunk].priority == prio;
		     to++)
			;
		weigh(cc, plan->steps, from, to, &seed);
	}
	plan->n = n;
	if (!n)
		return bad_rule ? EINVAL : ENOENT;
	return 0;
}

/* Moving on is safe only while the callee cannot have been reached: before any 18x (a
 * ringing phone: a second INVITE would ring it twice) and only for failures of the path —
 * no response or a transport error, 408 (the trunk timed out towards the callee), 5xx (the
 * trunk's own failure). Every other final response is the callee's or the network's
 * answer about the callee (486/600 busy, 603 declined, 404/604 no such number, 484
 * incomplete, 480 unavailable, 403 barred, 401/407 our credentials): asking another trunk
 * would dial the same person again or be refused the same way. */
bool call_failover_ok(uint16_t sip_code, int err, bool rang)
{
	if (rang)
		return false;
	if (!sip_code)
		return err != 0;
	return sip_code == 408 || (sip_code >= 500 && sip_code <= 599);
}

uint32_t call_retry_after(const struct sip_msg *msg)
{
	const struct sip_hdr *h = msg ? sip_msg_hdr(msg, SIP_HDR_RETRY_AFTER) : NULL;
	struct pl secs;
	uint32_t n;

	/* Retry-After: delta-seconds [ "(" comment ")" ] *( ";" param ) (RFC 3261 §20.33) */
	if (!h || re_regex(h->val.p, h->val.l, "[0-9]+", &secs) || secs.p != h->val.p ||
	    secs.l > 9)
		return 0;
	n = pl_u32(&secs);
	return n > CALL_RETRY_AFTER_MAX ? CALL_RETRY_AFTER_MAX : n;
}
