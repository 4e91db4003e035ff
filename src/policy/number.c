/* policy: phone number normalisation to "00" + country code + NSN (callout-rules.md §3.2).
 *
 * China's numbers follow TCCC's own rules, kept here as written (the "0086 0" and "86"
 * forms, 12x test numbers as mobiles, national 400/800 refused): libphonenumber would
 * refuse some numbers Tencent's documented requests dial. Every other country's numbers
 * are read and validated by src/numbering (libphonenumber's maintained plans), so that
 * the UK's trunk 0 is dropped, Italy's leading 0 kept and NANP's trunk 1 understood. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "policy/policy.h"
#include "policy/policy_int.h"
#include "numbering/numbering.h"

/* Longest input we look at: real numbers with separators are far shorter. */
enum { NUMBER_IN_MAX = 64, NUMBER_DIGITS_MIN = 3, NUMBER_DIGITS_MAX = 20 };

/* E.164: a country code and NSN have at most 15 digits together; NSNs at least 4. */
enum { E164_MAX = 15, NSN_MIN = 4 };

int policy_why(char *why, size_t whysz, const char *fmt, ...)
{
	va_list ap;

	if (why && whysz) {
		va_start(ap, fmt);
		vsnprintf(why, whysz, fmt, ap);
		va_end(ap);
	}
	return EINVAL;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
	}
	return true;
}

/* Step 1-2: drop separators, check the alphabet, "+" -> "00". `clean` gets digits only. */
static int clean_number(const char *in, char *clean, size_t cleansz, bool allow_star,
			bool *starp, char *why, size_t whysz)
{
	size_t n = 0, len;
	const char *p;
	bool plus = false;

	len = strlen(in);
	if (len > NUMBER_IN_MAX)
		return policy_why(why, whysz, "longer than %d characters", NUMBER_IN_MAX);
	while (len && (in[len - 1] == ' ' || in[len - 1] == '\t'))
		len--;
	p = in;
	while (len && (*p == ' ' || *p == '\t')) {
		p++;
		len--;
	}
	if (starp)
		*starp = false;
	if (allow_star && len && p[len - 1] == '*') {
		*starp = true;
		len--;
	}

	for (size_t i = 0; i < len; i++) {
		char c = p[i];

		if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')')
			continue;
		if (c == '+' && i == 0) {
			plus = true;
			continue;
		}
		if (c < '0' || c > '9')
			return policy_why(why, whysz, "'%s' has a character other than digits, separators "
				    "(space - . ( )) and one leading '+'", in);
		if (n + 3 >= cleansz)
			return policy_why(why, whysz, "'%s' has too many digits", in);
		if (n == 0 && plus) {
			if (c == '0')
				return policy_why(why, whysz, "'%s': no country code starts with 0", in);
			clean[n++] = '0';
			clean[n++] = '0';
		}
		clean[n++] = c;
	}
	clean[n] = '\0';
	if (n == 0)
		return policy_why(why, whysz, "'%s' has no digits", in);
	return 0;
}

/* Step 5: a Chinese NSN (one trunk 0 already or still in front). */
static int cn_nsn(const char *nsn, const char *in, char out[33], char *why, size_t whysz)
{
	size_t len;

	if (nsn[0] == '0')
		nsn++;
	len = strlen(nsn);

	/* Mobile: 11 digits starting with 1. Live ranges are 13x-19x, but Tencent's own
	 * documented requests dial 12x numbers (008612300000000, the CreateIVRSession
	 * example), so any second digit is accepted for them to work as written. */
	if (nsn[0] == '1' && len == 11)
		goto ok;
	if ((strncmp(nsn, "400", 3) == 0 || strncmp(nsn, "800", 3) == 0) && len == 10)
		goto ok;  /* service numbers: accepted, never in a blind area */
	if (nsn[0] == '1' && nsn[1] != '0')
		return policy_why(why, whysz, "'%s' is not a Chinese mobile (1 + 10 digits) or "
			    "fixed-line number", in);
	/* Fixed line: 2-digit area code 10 or 2x, else 3 digits 3xx-9xx; 7-8 digit subscriber. */
	if (nsn[0] == '1' || nsn[0] == '2') {
		if (len < 9 || len > 10)
			return policy_why(why, whysz, "'%s': a fixed-line number with a 2-digit area code "
				    "has 9 or 10 digits", in);
	}
	else if (nsn[0] >= '3' && nsn[0] <= '9') {
		if (len < 10 || len > 11)
			return policy_why(why, whysz, "'%s': a fixed-line number with a 3-digit area code "
				    "has 10 or 11 digits", in);
	}
	else {
		return policy_why(why, whysz, "'%s' is not a valid Chinese number", in);
	}
ok:
	snprintf(out, 33, "0086%s", nsn);
	return 0;
}

/* A number of another country than China, by its country's plan (src/numbering). A
 * national number read there may still turn out Chinese ("011 86..." in NANP). */
static int plan_number(const char *d, const char *cc, const char *in, char out[33],
		       char *why, size_t whysz)
{
	char nwhy[128] = "";
	int err;

	err = numbering_parse(d, cc, out, 33, nwhy, sizeof(nwhy));
	if (err == ENOSPC)
		return policy_why(why, whysz, "'%s' is longer than any number", in);
	if (err)
		return err == EINVAL ? policy_why(why, whysz, "'%s' %s", in, nwhy) : err;
	/* Some plans' data allow more (Germany's long fixed-line extensions); E.164, which
	 * every carrier on the way enforces, does not. */
	if (strlen(out) - 2 > E164_MAX)
		return policy_why(why, whysz, "'%s': an international number has 4 to 15 digits "
			    "after the country code", in);
	if (strncmp(out, "0086", 4) == 0) {
		char nsn[33];

		snprintf(nsn, sizeof(nsn), "%s", out + 4);
		return cn_nsn(nsn, in, out, why, whysz);
	}
	return 0;
}

int policy_number_syntax(const char *in, char out[33], char *why, size_t whysz)
{
	char d[NUMBER_DIGITS_MAX + 3];
	bool intl;
	int err;

	if (!in || !out)
		return policy_why(why, whysz, "no number");
	err = clean_number(in, d, sizeof(d), false, NULL, why, whysz);
	if (err)
		return err;
	intl = d[0] == '0' && d[1] == '0';
	if (intl && d[2] == '0')
		return policy_why(why, whysz, "'%s': no country code starts with 0", in);
	if (strlen(d) - (intl ? 2 : 0) < NUMBER_DIGITS_MIN)
		return policy_why(why, whysz, "'%s' has fewer than %d digits", in,
				  NUMBER_DIGITS_MIN);
	memcpy(out, d, strlen(d) + 1);
	return 0;
}

static bool cc_ok(const char *cc)
{
	size_t len = strlen(cc);

	return len >= 1 && len <= 3 && all_digits(cc) && numbering_cc_len(cc) == len;
}

int policy_number_normalise(const char *in, const char *default_cc, char out[33],
			    char *why, size_t whysz)
{
	char d[NUMBER_DIGITS_MAX + 3];
	size_t len, cl;
	int err;

	if (!in || !out)
		return policy_why(why, whysz, "no number");
	if (!default_cc || !*default_cc)
		default_cc = "86";
	if (!cc_ok(default_cc))
		return policy_why(why, whysz, "'%s' is not a country code", default_cc);

	err = clean_number(in, d, sizeof(d), false, NULL, why, whysz);
	if (err)
		return err;
	len = strlen(d);

	/* Step 3: international. */
	if (len >= 2 && d[0] == '0' && d[1] == '0') {
		cl = numbering_cc_len(d + 2);
		if (cl == 0)
			return policy_why(why, whysz, "'%s' has no known country code", in);
		if (cl == 2 && strncmp(d + 2, "86", 2) == 0) {
			if (!d[4])
				return policy_why(why, whysz, "'%s' has no number after the country code", in);
			return cn_nsn(d + 4, in, out, why, whysz);
		}
		if (len - 2 > E164_MAX || len - 2 - cl < NSN_MIN)
			return policy_why(why, whysz, "'%s': an international number has 4 to 15 digits "
				    "after the country code", in);
		return plan_number(d, default_cc, in, out, why, whysz);
	}

	/* Step 4: national, in the instance's country. */
	if (strcmp(default_cc, "86") == 0) {
		if (len == 11 && d[0] == '1')
			return cn_nsn(d, in, out, why, whysz);
		if (d[0] == '0')
			return cn_nsn(d + 1, in, out, why, whysz);
		if (len == 13 && d[0] == '8' && d[1] == '6' && d[2] == '1')
			return cn_nsn(d + 2, in, out, why, whysz);
		return policy_why(why, whysz, "'%s' is not a number cccd can call (short codes and "
			    "service numbers need the international form)", in);
	}

	/* Another default country: its plan says what a trunk prefix is. The bounds first,
	 * whatever the plan: with one trunk digit dropped, 4 to 15 digits with the code. */
	{
		size_t nl = len - (d[0] == '0'), ccl = strlen(default_cc);

		if (nl < NSN_MIN || nl + ccl > E164_MAX + 1)
			return policy_why(why, whysz, "'%s': a national number has 4 to 15 digits with "
				    "the country code", in);
	}
	return plan_number(d, default_cc, in, out, why, whysz);
}

/* NANP regions a call from the United States or Canada reaches at a domestic rate: the
 * two countries and the US territories. Every other NANP region (the Caribbean's) bills
 * as international although dialled like a domestic number. */
static bool nanp_domestic(const char *number)
{
	static const char *const domestic[] = {"US", "CA", "PR", "VI", "GU", "MP", "AS"};
	char region[4];

	if (numbering_region(number, region, sizeof(region)))
		return false;
	for (size_t i = 0; i < sizeof(domestic) / sizeof(domestic[0]); i++) {
		if (!strcmp(region, domestic[i]))
			return true;
	}
	return false;
}

int policy_number_kind(const char *number, const char *default_cc,
		       struct policy_number_kind *kind)
{
	size_t ccl;

	if (!number || !kind || strncmp(number, "00", 2) != 0 || !all_digits(number))
		return EINVAL;
	ccl = numbering_cc_len(number + 2);
	if (!ccl)
		return EINVAL;
	if (!default_cc || !*default_cc)
		default_cc = "86";
	kind->international = strlen(default_cc) != ccl || strncmp(number + 2, default_cc, ccl);
	if (strncmp(number, "0086", 4) != 0) {
		kind->type = numbering_type(number);
		kind->premium = kind->type == NUMBERING_PREMIUM ||
				kind->type == NUMBERING_PERSONAL ||
				(ccl == 1 && number[2] == '1' && kind->type != NUMBERING_UNKNOWN &&
				 !nanp_domestic(number));
		return 0;
	}
	/* China: the classes cn_nsn accepts, so that 12x test numbers are mobiles too; 160
	 * and 168 (voice information services billed per minute) look like mobiles there,
	 * and libphonenumber lists no premium range for China. */
	kind->premium = !strncmp(number + 4, "160", 3) || !strncmp(number + 4, "168", 3);
	if (kind->premium)
		kind->type = NUMBERING_PREMIUM;
	else if (number[4] == '1' && strlen(number + 4) == 11)
		kind->type = NUMBERING_MOBILE;
	else if (strncmp(number + 4, "400", 3) == 0)
		kind->type = NUMBERING_SHARED_COST;
	else if (strncmp(number + 4, "800", 3) == 0)
		kind->type = NUMBERING_TOLL_FREE;
	else
		kind->type = NUMBERING_FIXED;
	return 0;
}

/* A prefix cannot be validated like a number (it is incomplete), only placed: "+86138",
 * "0086138" -> "0086138"; national "0991" -> "0086991", "138" -> "0086138"; in another
 * country its plan's trunk prefix goes ("020" in the UK -> "004420", "1212" in NANP ->
 * "001212") and a plan without one keeps every digit ("06" in Italy -> "003906"). */
int policy_prefix_normalise(const char *in, const char *default_cc, char out[33], char *why,
			    size_t whysz)
{
	char d[NUMBER_DIGITS_MAX + 3], trunk[8] = "";
	bool star;
	int err;

	if (!default_cc || !*default_cc)
		default_cc = "86";
	err = clean_number(in, d, sizeof(d), true, &star, why, whysz);
	if (err)
		return err;
	if (strcmp(default_cc, "86") != 0 && !(d[0] == '0' && d[1] == '0') &&
	    numbering_trunk_prefix(default_cc, trunk, sizeof(trunk)))
		return policy_why(why, whysz, "'%s' is not a country code", default_cc);
	if (d[0] == '0' && d[1] == '0') {
		if (strncmp(d, "00860", 5) == 0)
			snprintf(out, 33, "0086%s", d + 5);  /* 0086 0 10... */
		else
			snprintf(out, 33, "%s", d);
	}
	else if (strcmp(default_cc, "86") != 0) {
		size_t tl = strlen(trunk);

		if (strncmp(d, trunk, tl) != 0)
			return policy_why(why, whysz, "'%s': a national prefix starts with the trunk "
				    "prefix '%s' of country %s, or write it with '+' or '00'", in,
				    trunk, default_cc);
		snprintf(out, 33, "00%.3s%s", default_cc, d + tl);
	}
	else if (d[0] == '0') {
		snprintf(out, 33, "0086%s", d + 1);
	}
	else if (d[0] == '1') {
		snprintf(out, 33, "0086%s", d);
	}
	else {
		return policy_why(why, whysz, "'%s': a prefix starts with '+', '00', the trunk '0' or "
			    "(in China) a mobile '1'", in);
	}
	/* A Chinese NSN never starts with 0 once the one trunk 0 is gone ("008600*"). */
	if (strncmp(out, "00860", 5) == 0)
		return policy_why(why, whysz, "'%s': no Chinese number starts with 0 after its "
			    "trunk 0", in);
	if (strlen(out) > POLICY_NUM_MAX)
		return policy_why(why, whysz, "'%s' is longer than any number", in);
	if (numbering_cc_len(out + 2) == 0)
		return policy_why(why, whysz, "'%s' has no known country code", in);
	return 0;
}

/* "CN-XJ", "CC-44": two capitals, '-', 1-8 capitals or digits (ISO 3166-2 style). */
bool policy_region_ok(const char *s)
{
	size_t i, len = strlen(s);

	if (len < 4 || len > 11)
		return false;
	if (s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' || s[2] != '-')
		return false;
	for (i = 3; i < len; i++) {
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
			return false;
	}
	return true;
}
