/* CccdErasePhoneNumber: a tenant erases everything its instance keeps about one phone
 * number (docs/admin-api.md, docs/operations.md §Erasure) — every session where the
 * number is caller or callee, with its key presses, IVR path, variables, evidence, SIP
 * messages and pushes (delivered or not), and its recording files — and learns how much
 * of each went. The number is normalised as CreateIVRSession stores it (the instance's
 * default country).
 *
 * A session of that number still in progress, or ended less than 30 s ago (its SIP
 * messages are written a few seconds after the end), refuses the whole request
 * (FailedOperation.SessionsInProgress) and nothing is erased: a privacy officer gets a
 * complete erasure or a clear "not yet", never a partial one that leaves the live call's
 * records behind after it ends; the request is repeated once the calls are over.
 *
 * The sessions go in batches (store_number_erase): each is one short write, so a number
 * with years of calls never holds the writer for long. */
#include <errno.h>
#include <string.h>
#include <re_types.h>
#include <re_mem.h>
#include "api/api_int.h"
#include "api/api.h"
#include "base/base.h"
#include "policy/policy.h"
#include "records/records.h"
#include "store/store.h"

enum { ERASE_BATCH = 200 };

static const struct api_field fields[] = {
	{"SdkAppId", API_T_UINT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"PhoneNumber", API_T_STRING, false, true, 1, 64, 0, NULL, NULL},
	{NULL},
};

struct erase_files {
	const char *dir;   /* NULL: no recordings served, none to delete */
	unsigned count;
};

static void erased_files(uint64_t sdkappid, const struct store_erased_session *s, void *arg)
{
	struct erase_files *f = arg;

	if (f->dir)
		records_session_files_delete(f->dir, sdkappid, s->record_file,
					     s->voicemail_files, &f->count);
}

static int number_normalise(const struct api_ctx *ctx, uint64_t sdkappid, const char *given,
			    char number[33], char *why, size_t whysz)
{
	struct policy_rules *rules = NULL;
	char *text = NULL;
	int err;

	err = store_instance_rules_get(ctx->st, sdkappid, &text);
	if (!err)
		err = text[0] ? policy_rules_parse(&rules, text, strlen(text), why, whysz)
			      : policy_rules_default(&rules);
	mem_deref(text);
	if (err)
		return EIO;
	err = policy_number_normalise(given, policy_rules_default_cc(rules), number, why, whysz);
	mem_deref(rules);
	return err;
}

static enum api_code run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			 struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	const char *given = json_string_value(json_object_get(p, "PhoneNumber"));
	const struct records_links *links = ctx->hooks ? ctx->hooks->links : NULL;
	struct erase_files f = {links ? records_links_dir(links) : NULL, 0};
	struct store_erased sum = {0}, b;
	struct store_instance inst;
	char number[33], why[128] = "";
	enum api_code rc;
	int err;

	rc = api_instance(ctx, sdkappid, &inst, e);
	if (rc != API_OK)
		return rc;
	err = number_normalise(ctx, sdkappid, given, number, why, sizeof(why));
	if (err == EIO)
		return api_fail(e, API_INTERNAL_ERROR, "The calling rules do not load.");
	if (err)
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `PhoneNumber`: %s",
				why);
	do {
		memset(&b, 0, sizeof(b));
		err = store_number_erase(ctx->st, sdkappid, number, ERASE_BATCH, &b, erased_files,
					 &f);
		sum.sessions += b.sessions;
		sum.key_presses += b.key_presses;
		sum.path_steps += b.path_steps;
		sum.sip_messages += b.sip_messages;
		sum.pushes += b.pushes;
	} while (!err && b.sessions == ERASE_BATCH);
	if (err == EINPROGRESS && !sum.sessions)
		return api_fail(e, API_FAILED_OPERATION_SESSIONS_IN_PROGRESS, "The number %s has "
				"sessions in progress or ended less than 30 seconds ago: nothing was "
				"erased. Repeat the request once they have ended.", number);
	if (err == EINPROGRESS)
		return api_fail(e, API_FAILED_OPERATION_SESSIONS_IN_PROGRESS, "The number %s has a "
				"session that started during the erasure: %llu sessions were "
				"erased, the rest remains. Repeat the request once it has ended.",
				number, (unsigned long long)sum.sessions);
	if (err)
		return api_fail(e, API_INTERNAL_ERROR_DB_ERROR, "The erasure stopped: %s (%llu "
				"sessions erased so far; repeat the request).", strerror(err),
				(unsigned long long)sum.sessions);
	log_info("api", "erasure: instance %llu, a number: %llu sessions, %llu key presses, "
		 "%llu path steps, %llu SIP messages, %llu pushes, %u recordings",
		 (unsigned long long)sdkappid, (unsigned long long)sum.sessions,
		 (unsigned long long)sum.key_presses, (unsigned long long)sum.path_steps,
		 (unsigned long long)sum.sip_messages, (unsigned long long)sum.pushes, f.count);
	if (json_object_set_new(out, "SdkAppId", json_integer((json_int_t)sdkappid)) ||
	    json_object_set_new(out, "PhoneNumber", json_string(number)) ||
	    json_object_set_new(out, "Sessions", json_integer((json_int_t)sum.sessions)) ||
	    json_object_set_new(out, "KeyPresses", json_integer((json_int_t)sum.key_presses)) ||
	    json_object_set_new(out, "PathSteps", json_integer((json_int_t)sum.path_steps)) ||
	    json_object_set_new(out, "SipMessages", json_integer((json_int_t)sum.sip_messages)) ||
	    json_object_set_new(out, "Pushes", json_integer((json_int_t)sum.pushes)) ||
	    json_object_set_new(out, "Recordings", json_integer(f.count)))
		return api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	return API_OK;
}

const struct api_action api_action_cccd_erase_phone_number = {
	"CccdErasePhoneNumber", fields, API_RATE_DEFAULT, run,
	"erase a phone number from the instance's records",
};
