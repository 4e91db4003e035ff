/* libFuzzer harness: the flow parser and validator on arbitrary bytes — never a crash, a
 * hang or a leak; a refused flow always comes with at least one finding. */
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdlib.h>
#include <re_types.h>
#include <re_mem.h>
#include "ivr/ivr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ivr_flow_opts opts = {.prompt_dir = "/nonexistent-cccd-prompts"};
	struct ivr_flow *flow = NULL;
	struct ivr_diag *diag = NULL;
	int err;

	err = ivr_flow_load(&flow, (const char *)data, size, &opts, &diag);
	if (err == EINVAL && (!diag || (!diag->n && !diag->truncated)))
		abort();
	if (!err && (!flow || diag))
		abort();
	mem_deref(flow);
	mem_deref(diag);
	return 0;
}
