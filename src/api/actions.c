/* actions: the table of ccc actions cccd serves; each lives in its own action_*.c file. */
#include <errno.h>
#include <string.h>
#include "api/api_int.h"
#include "tenant/tenant.h"

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

enum api_code api_instance(const struct api_ctx *ctx, uint64_t sdkappid,
			   struct store_instance *inst, struct api_error *e)
{
	int err = tenant_instance(ctx->t, ctx->account_id, sdkappid, inst);

	if (err == ENOENT)
		return api_fail(e, API_INVALID_PARAMETER_VALUE_INSTANCE_NOT_EXIST, "The SdkAppId "
				"%llu does not exist.", (unsigned long long)sdkappid);
	if (err)
		return api_fail(e, API_INTERNAL_ERROR, "The database is unavailable.");
	return API_OK;
}
