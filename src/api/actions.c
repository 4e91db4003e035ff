/* actions: the table of ccc actions cccd serves; each lives in its own action_*.c file. */
#include <string.h>
#include "api/api_int.h"

static const struct api_action *const actions[] = {
	&api_action_create_ivr_session,
	&api_action_describe_tel_session,
	&api_action_describe_tel_cdr,
	&api_action_describe_pstn_active_session_list,
	&api_action_hang_up_call,
};

const struct api_action *api_action_find(const char *name)
{
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		if (!strcmp(actions[i]->name, name))
			return actions[i];
	}
	return NULL;
}
