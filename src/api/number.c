/* number: phone numbers as API callers write them → the form cccd stores and dials. */
#include <errno.h>
#include <string.h>
#include "api/api_int.h"

/* Digits after any international prefix: 3..20 keeps every E.164 number (at most 15)
 * and national numbers with their trunk prefix, and fits the store's 32 characters. */
enum { NUMBER_MIN_DIGITS = 3, NUMBER_MAX_DIGITS = 20 };

int api_number_normalise(const char *raw, char *out, size_t outsz)
{
	char in[64];
	const char *digits = in;
	bool intl = false;
	size_t n = 0;

	/* Separators people write ("+86 138-0013-8000", "(010) 8888.6666") go first, as the
	 * calling rules' normalisation does (callout-rules.md §3.2 step 1). */
	for (const char *c = raw; *c; c++) {
		if (strchr(" -.()", *c))
			continue;
		if (n + 1 >= sizeof(in))
			return EINVAL;
		in[n++] = *c;
	}
	in[n] = '\0';

	if (in[0] == '+') {
		digits = in + 1, intl = true;
	}
	else if (in[0] == '0' && in[1] == '0') {
		digits = in + 2, intl = true;
	}
	n = strlen(digits);
	if (n < NUMBER_MIN_DIGITS || n > NUMBER_MAX_DIGITS || strspn(digits, "0123456789") != n)
		return EINVAL;
	/* Country codes never start with 0: "+0..." or "000..." is a typo, not a number. */
	if (intl && digits[0] == '0')
		return EINVAL;
	if ((intl ? 2 : 0) + n + 1 > outsz)
		return ENOSPC;
	if (intl) {
		memcpy(out, "00", 2);
		out += 2;
	}
	memcpy(out, digits, n + 1);
	return 0;
}
