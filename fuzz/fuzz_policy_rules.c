/* libFuzzer harness for the callout rule set's JSON parser: a rule set that parses must
 * serialise to JSON that parses to the same text again (numbers: fuzz_number.c). */
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size > 1 << 16)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	fuzz_rules(text, size);
	free(text);
	return 0;
}
