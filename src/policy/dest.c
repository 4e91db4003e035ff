/* dest: where a transfer, or any number a flow builds from what the caller keyed, may be
 * dialled — the per-instance allow-list and the international and premium-rate blocks
 * that stop toll fraud (a caller steering an IVR into dialling a number that bills per
 * minute to the fraudster). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "policy/policy.h"
#include "policy/policy_int.h"

/* Premium-rate and fraud-prone prefixes, as normalised numbers ("00" + country code + the
 * national number), per country the policy knows. cccd's choice, written down in
 * docs/callout-rules.md "Destinations"; an instance opens any of them with its allow-list.
 *  - China (86): 160 and 168 voice information services (billed per minute).
 *  - NANP (1): 900 and 976 (premium-rate), and the NPAs of NANP countries outside the
 *    United States and Canada (the Caribbean): dialled like domestic numbers but billed as
 *    international — the "one-ring" scams' favourite. Puerto Rico and the US Virgin
 *    Islands (787/939, 340) are domestic.
 *  - United Kingdom (44): 09 (premium), 087 (revenue-sharing), 070 (personal numbers).
 *  - Germany (49): 0900 (premium), 0137 (televoting), 118 (directory services). */
static const char *const premium[] = {
	"0086160", "0086168",
	"001900", "001976",
	"001242", "001246", "001264", "001268", "001284", "001345", "001441", "001473",
	"001649", "001658", "001664", "001721", "001758", "001767", "001784", "001809",
	"001829", "001849", "001868", "001869", "001876",
	"00449", "004487", "004470",
	"0049900", "0049137", "0049118",
};

bool policy_dest_premium(const char *number)
{
	for (size_t i = 0; i < sizeof(premium) / sizeof(premium[0]); i++) {
		if (!strncmp(number, premium[i], strlen(premium[i])))
			return true;
	}
	return false;
}

bool policy_dest_named_ok(const char *entry)
{
	size_t n = strlen(entry);

	return n && n <= POLICY_NUM_MAX && strspn(entry, "0123456789") == n;
}

int policy_dest_check(const struct policy_rules *r, const char *number, char *why,
		      size_t whysz)
{
	char norm[33], match[POLICY_NUM_MAX + 2];
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
	if (!r->dest.premium && policy_dest_premium(norm)) {
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
