/* libFuzzer harness for what push reads from the network and the operator: receiver
 * replies, OAuth2 token replies, bodies turned into dedupe keys, schedules and events. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "push/push.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	char why[256], token[4096], key[256];
	struct push_schedule sched;
	unsigned events;
	int64_t exp;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	(void)push_reply_ok(200, text, size, why, sizeof(why));
	(void)push_token_parse(text, size, token, sizeof(token), &exp, why, sizeof(why));
	push_dedupe_key("s", "record", text, key, sizeof(key));
	push_dedupe_key("s", "event", text, key, sizeof(key));
	if (!push_schedule_parse(text, &sched))
		push_schedule_format(&sched, why, sizeof(why));
	(void)push_events_parse(text, &events);
	free(text);
	return 0;
}
