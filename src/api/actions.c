/* actions: the table of ccc actions cccd serves; each lives in its own action_*.c file. */
#include <errno.h>
#include <string.h>
#include <re_types.h>
#include <re_mem.h>
#include "api/api_int.h"
#include "metrics/metrics.h"
#include "store/store.h"
#include "tenant/tenant.h"

static const struct api_action *const actions[] = {
	&api_action_create_ivr_session,
	&api_action_describe_tel_session,
	&api_action_describe_tel_cdr,
	&api_action_describe_pstn_active_session_list,
	&api_action_hang_up_call,
	&api_action_describe_numbers,
	&api_action_describe_tel_call_info,
	&api_action_describe_call_in_metrics,
	&api_action_upload_ivr_audio,
	&api_action_describe_ivr_audio_list,
	&api_action_cccd_delete_ivr_audio,
	&api_action_create_auto_callout_task,
	&api_action_describe_auto_callout_task,
	&api_action_describe_auto_callout_tasks,
	&api_action_stop_auto_callout_task,
	&api_action_pause_auto_callout_task,
	&api_action_resume_auto_callout_task,
	&api_action_cccd_put_ivr_flow,
	&api_action_cccd_describe_ivr_flows,
	&api_action_cccd_describe_ivr_flow,
	&api_action_cccd_describe_callout_rules,
	&api_action_cccd_modify_callout_rules,
	&api_action_cccd_describe_blacklist,
	&api_action_cccd_modify_blacklist,
	&api_action_cccd_modify_number,
	&api_action_cccd_describe_numbers,
	&api_action_cccd_describe_instance,
	&api_action_cccd_modify_instance,
	&api_action_cccd_create_tenant,
	&api_action_cccd_describe_sip_trace,
	&api_action_cccd_create_console_user,
	&api_action_cccd_describe_console_users,
	&api_action_cccd_delete_console_user,
	&api_action_cccd_modify_console_user,
	&api_action_cccd_create_console_login_url,
	&api_action_cccd_describe_console_audit,
	&api_action_cccd_describe_session_path,
	&api_action_cccd_create_credential,
	&api_action_cccd_describe_credentials,
	&api_action_cccd_disable_credential,
	&api_action_cccd_drain_node,
	&api_action_cccd_erase_phone_number,
};

enum { N_ACTIONS = sizeof(actions) / sizeof(actions[0]) };

static const char *action_names[N_ACTIONS];

unsigned api_action_index(const struct api_action *act)
{
	for (unsigned i = 0; i < N_ACTIONS; i++) {
		if (actions[i] == act)
			return i;
	}
	return metrics_api_unknown_action();
}

static const char *code_label(unsigned code)
{
	return api_code_name((enum api_code)code);
}

void api_actions_metrics_labels(void)
{
	_Static_assert((int)N_ACTIONS < (int)METRICS_API_ACTIONS, "every action has its metrics slot");
	_Static_assert((int)API_CODE_COUNT <= (int)METRICS_API_CODES, "every code has its metrics slot");
	for (unsigned i = 0; i < N_ACTIONS; i++)
		action_names[i] = actions[i]->name;
	metrics_api_labels(action_names, N_ACTIONS, code_label, API_CODE_COUNT);
}

const struct api_action *api_action_at(size_t i)
{
	return i < N_ACTIONS ? actions[i] : NULL;
}

const struct api_action *api_action_find(const char *name)
{
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		if (!strcmp(actions[i]->name, name))
			return actions[i];
	}
	return NULL;
}

/* An instance read's result as the caller is answered: no such instance (or another
 * account's) or the database's failure. */
static enum api_code instance_result(int err, uint64_t sdkappid, struct api_error *e)
{
	if (err == ENOENT)
		return api_fail(e, API_INVALID_PARAMETER_VALUE_INSTANCE_NOT_EXIST, "The SdkAppId "
				"%llu does not exist.", (unsigned long long)sdkappid);
	if (err)
		return api_fail(e, API_INTERNAL_ERROR, "The database is unavailable.");
	return API_OK;
}

enum api_code api_instance(const struct api_ctx *ctx, uint64_t sdkappid,
			   struct store_instance *inst, struct api_error *e)
{
	return instance_result(tenant_instance(ctx->t, ctx->account_id, sdkappid, inst),
			       sdkappid, e);
}

enum api_code api_instance_rules(const struct api_ctx *ctx, uint64_t sdkappid,
				 uint64_t ivr_id, struct store_instance *inst, char **rulesp,
				 struct store_ivr *ivr, struct api_error *e)
{
	int err = store_instance_get_rules(ctx->st, sdkappid, ivr_id, inst, rulesp, ivr);

	if (!err && inst->account_id != ctx->account_id) {
		*rulesp = mem_deref(*rulesp);
		err = ENOENT;
	}
	return instance_result(err, sdkappid, e);
}

enum api_code api_operator(const struct api_ctx *ctx, struct api_error *e)
{
	bool op = false;
	int err = ctx->console_user ? 0 :
		  store_account_is_operator(ctx->st, ctx->account_id, &op);

	if (err && err != ENOENT)
		return api_fail(e, API_INTERNAL_ERROR, "The database is unavailable.");
	if (!op)
		return api_fail(e, API_UNAUTHORIZED_OPERATION, "This action needs an operator "
				"credential.");
	return API_OK;
}
