/* dest: where a transfer, or any number a flow builds from what the caller keyed, may be
 * dialled — the per-instance allow-list and the international and premium-rate blocks
 * that stop toll fraud (a caller steering an IVR into dialling a number that bills per
 * minute to the fraudster). What is premium-rate is decided in one place,
 * policy_number_kind (number.c): libphonenumber's number types, China's TCCC rules. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "policy/policy.h"
#include "policy/policy_int.h"

bool policy_dest_named_ok(const char *entry)
{
	size_t n = strlen(entry);

	return n && n <= POLICY_NUM_MAX && strspn(entry, "0123456789") == n;
}

int policy_dest_check(const struct policy_rules *r, const char *number, char *why,
		      size_t whysz)
{
	char norm[33], match[POLICY_NUM_MAX + 2];
	struct policy_number_kind kind;
	const char *cc;
	size_t cclen;

	if (!r || !number)
		return EINVAL;
	if (r->dest.allow_all)
		return 0;
	if (policy_number_normalise(number, r->default_cc, norm, why, whysz)) {
		/* An extension or a short code: no country, no tariff the policy can tell (a
		 * short code may well be premium), so only a name in the allow-list opens it. */
		if (!policy_dest_named_ok(number))
			return EINVAL;
		if (pset_find(&r->dest.named, number, strlen(number)))
			return 0;
		snprintf(why, whysz, "%s is a short code or an extension, not in the instance's "
			 "destination allow-list", number);
		return EACCES;
	}
	if (r->dest.allow_all || blist_match(&r->dest.allow, norm, match, sizeof(match)))
		return 0;
	cc = norm + 2;
	cclen = numbering_cc_len(cc);
	if (!r->dest.international &&
	    (cclen != strlen(r->default_cc) || strncmp(cc, r->default_cc, cclen))) {
		snprintf(why, whysz, "%s is international (country code %.*s, the instance's is "
			 "%s) and not in its destination allow-list", norm, (int)cclen, cc,
			 r->default_cc);
		return EACCES;
	}
	if (!r->dest.premium && (policy_number_kind(norm, r->default_cc, &kind) ||
				 kind.premium)) {
		snprintf(why, whysz, "%s is a premium-rate number and not in the instance's "
			 "destination allow-list", norm);
		return EACCES;
	}
	return 0;
}

uint32_t policy_caps_channels(const struct policy_rules *r)
{
	return r ? r->caps.channels : 0;
}

uint32_t policy_caps_minutes_daily(const struct policy_rules *r)
{
	return r ? r->caps.minutes_daily : 0;
}

void policy_rules_operator_caps(struct policy_rules *r, const struct policy_data *d)
{
	if (r)
		r->operator_caps = d ? d->operator_caps : (struct policy_caps){0};
}
