/* policy: phone number normalisation to "00" + country code + NSN (callout-rules.md §3.2). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "policy/policy.h"
#include "policy/policy_int.h"

/* Longest input we look at: real numbers with separators are far shorter. */
enum { NUMBER_IN_MAX = 64, NUMBER_DIGITS_MAX = 20 };

/* ITU-T E.164 assigned country codes (list of ITU-T Operational Bulletin, as of 2024).
 * Country codes are prefix-free, so the first table hit is the split. */
static const char *const cc1[] = {"1", "7"};
static const char *const cc2[] = {
	"20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45",
	"46", "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61",
	"62", "63", "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94",
	"95", "98",
};
static const char *const cc3[] = {
	"211", "212", "213", "216", "218", "220", "221", "222", "223", "224", "225", "226",
	"227", "228", "229", "230", "231", "232", "233", "234", "235", "236", "237", "238",
	"239", "240", "241", "242", "243", "244", "245", "246", "247", "248", "249", "250",
	"251", "252", "253", "254", "255", "256", "257", "258", "260", "261", "262", "263",
	"264", "265", "266", "267", "268", "269", "290", "291", "297", "298", "299", "350",
	"351", "352", "353", "354", "355", "356", "357", "358", "359", "370", "371", "372",
	"373", "374", "375", "376", "377", "378", "379", "380", "381", "382", "383", "385",
	"386", "387", "389", "420", "421", "423", "500", "501", "502", "503", "504", "505",
	"506", "507", "508", "509", "590", "591", "592", "593", "594", "595", "596", "597",
	"598", "599", "670", "672", "673", "674", "675", "676", "677", "678", "679", "680",
	"681", "682", "683", "685", "686", "687", "688", "689", "690", "691", "692", "800",
	"808", "850", "852", "853", "855", "856", "870", "878", "880", "881", "882", "883",
	"886", "888", "960", "961", "962", "963", "964", "965", "966", "967", "968", "970",
	"971", "972", "973", "974", "975", "976", "977", "979", "992", "993", "994", "995",
	"996", "998",
};

static bool in_table(const char *const *t, size_t n, const char *digits, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strncmp(t[i], digits, len) == 0)
			return true;
	}
	return false;
}

size_t policy_cc_len(const char *digits)
{
	size_t len = strlen(digits);

	if (len >= 1 && in_table(cc1, sizeof(cc1) / sizeof(cc1[0]), digits, 1))
		return 1;
	if (len >= 2 && in_table(cc2, sizeof(cc2) / sizeof(cc2[0]), digits, 2))
		return 2;
	if (len >= 3 && in_table(cc3, sizeof(cc3) / sizeof(cc3[0]), digits, 3))
		return 3;
	return 0;
}

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

static bool cc_ok(const char *cc)
{
	size_t len = strlen(cc);

	return len >= 1 && len <= 3 && all_digits(cc) && policy_cc_len(cc) == len;
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
		cl = policy_cc_len(d + 2);
		if (cl == 0)
			return policy_why(why, whysz, "'%s' has no known country code", in);
		if (cl == 2 && strncmp(d + 2, "86", 2) == 0) {
			if (!d[4])
				return policy_why(why, whysz, "'%s' has no number after the country code", in);
			return cn_nsn(d + 4, in, out, why, whysz);
		}
		/* E.164: at most 15 digits with the country code; NSNs are at least 4. */
		if (len - 2 > 15 || len - 2 - cl < 4)
			return policy_why(why, whysz, "'%s': an international number has 4 to 15 digits "
				    "after the country code", in);
		memcpy(out, d, len + 1);
		return 0;
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

	/* Another default country: drop one trunk 0; what remains is the NSN (cccd has no
	 * national numbering plans but China's). */
	{
		const char *nsn = d[0] == '0' ? d + 1 : d;
		size_t nl = strlen(nsn), ccl = strlen(default_cc);

		if (nl < 4 || nl + ccl > 15)
			return policy_why(why, whysz, "'%s': a national number has 4 to 15 digits with "
				    "the country code", in);
		snprintf(out, 33, "00%.3s%s", default_cc, nsn);
	}
	return 0;
}

/* A prefix cannot be validated like a number (it is incomplete), only placed: "+86138",
 * "0086138" -> "0086138"; national "0991" -> "0086991", "138" -> "0086138". */
int policy_prefix_normalise(const char *in, const char *default_cc, char out[33], char *why,
			    size_t whysz)
{
	char d[NUMBER_DIGITS_MAX + 3];
	bool star;
	int err;

	if (!default_cc || !*default_cc)
		default_cc = "86";
	err = clean_number(in, d, sizeof(d), true, &star, why, whysz);
	if (err)
		return err;
	if (d[0] == '0' && d[1] == '0') {
		if (strncmp(d, "00860", 5) == 0)
			snprintf(out, 33, "0086%s", d + 5);  /* 0086 0 10... */
		else
			snprintf(out, 33, "%s", d);
	}
	else if (d[0] == '0') {
		snprintf(out, 33, "00%.3s%s", default_cc, d + 1);
	}
	else if (d[0] == '1' && strcmp(default_cc, "86") == 0) {
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
	if (policy_cc_len(out + 2) == 0)
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
