/* prompt_files: the audio files a flow plays, so its owner can load them before calls. */
#include <errno.h>
#include "ivr/ivr_int.h"

static int each_prompt(const struct prompt_def *p, ivr_prompt_file_h *h, void *arg)
{
	return p->set && p->file ? h(p->file, arg) : 0;
}

int ivr_flow_prompt_files(const struct ivr_flow *flow, ivr_prompt_file_h *h, void *arg)
{
	int err = 0;

	if (!flow || !h)
		return EINVAL;
	for (size_t i = 0; !err && i < flow->n_nodes; i++) {
		const struct node *n = &flow->nodes[i];

		err = each_prompt(&n->prompt, h, arg);
		err = err ? err : each_prompt(&n->timeout_prompt, h, arg);
		err = err ? err : each_prompt(&n->invalid_prompt, h, arg);
		err = err ? err : each_prompt(&n->confirm_prompt, h, arg);
	}
	return err;
}
