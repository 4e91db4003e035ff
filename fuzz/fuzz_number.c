/* libFuzzer harness for number normalisation in every country (src/policy/number.c over
 * src/numbering's libphonenumber). The first byte picks the instance's country. A number
 * that normalises is "00" + digits, at most E.164's 15 of them, passes the API's syntax,
 * has a kind, and is a fixed point; nothing crashes on prefixes or types of any input. */
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include "policy/policy.h"
#include "policy/policy_int.h"
#include "numbering/numbering.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_number(const char *text, const char *cc)
{
	char out[33], again[33], digits[33], why[160];
	struct policy_number_kind kind;
	size_t len;

	if (policy_number_normalise(text, cc, out, why, sizeof(why)) != 0) {
		if (!why[0])
			abort();  /* every refusal says why */
		return;
	}
	len = strlen(out);
	if (len < 6 || len > 17 || out[0] != '0' || out[1] != '0' ||
	    strspn(out, "0123456789") != len)
		abort();
	if (policy_number_syntax(text, digits, why, sizeof(why)) != 0)
		abort();
	if (policy_number_kind(out, cc, &kind) != 0)
		abort();
	if (policy_number_normalise(out, cc, again, why, sizeof(why)) != 0 ||
	    strcmp(out, again) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const ccs[] = {"86", "1", "39", "44", "49", "91", "55", "7",
					  "852", "800", "33", "61", "", "999", "0", "x"};
	char *text, out[33], why[160];
	const char *cc;

	if (size < 1 || size > 256)
		return 0;
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	cc = ccs[data[0] & 15];
	check_number(text, cc);
	(void)policy_prefix_normalise(text, cc, out, why, sizeof(why));
	if (strspn(text, "0123456789") == strlen(text))
		(void)numbering_type(text);
	free(text);
	return 0;
}
