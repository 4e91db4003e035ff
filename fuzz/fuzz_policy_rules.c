/* libFuzzer harness for the callout rule set's JSON parser and the number normaliser.
 * The first byte picks the target. A rule set that parses must serialise to JSON that
 * parses to the same text again; a number that normalises must be a fixed point. */
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <re_types.h>
#include <re_mem.h>
#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_rules(const char *text, size_t len)
{
	struct policy_rules *r = NULL, *r2 = NULL;
	char why[256], *a = NULL, *b = NULL;

	if (policy_rules_parse(&r, text, len, why, sizeof(why)) != 0)
		return;
	if (policy_rules_json(r, &a) != 0)
		abort();
	if (policy_rules_parse(&r2, a, strlen(a), why, sizeof(why)) != 0)
		abort();
	if (policy_rules_json(r2, &b) != 0 || strcmp(a, b) != 0)
		abort();
	mem_deref(a);
	mem_deref(b);
	mem_deref(r);
	mem_deref(r2);
}

static void fuzz_number(const char *text, const char *cc)
{
	char out[33], again[33], why[160];

	if (policy_number_normalise(text, cc, out, why, sizeof(why)) != 0)
		return;
	if (policy_number_normalise(out, cc, again, why, sizeof(why)) != 0 ||
	    strcmp(out, again) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const ccs[] = {"86", "44", "1", "852"};
	char *text;

	if (size < 1 || size > 1 << 16)
		return 0;
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	if (data[0] & 0x80)
		fuzz_number(text, ccs[data[0] & 3]);
	else
		fuzz_rules(text, size - 1);
	free(text);
	return 0;
}
