/* error: TCCC's error codes and the response envelope {"Response":{...,"RequestId"}}. */
#include <stdarg.h>
#include <stdio.h>
#include <jansson.h>
#include "api/api_int.h"

static const char *const code_names[API_CODE_COUNT] = {
	[API_OK] = "",
	[API_AUTH_INVALID_AUTHORIZATION] = "AuthFailure.InvalidAuthorization",
	[API_AUTH_INVALID_SECRET_ID] = "AuthFailure.InvalidSecretId",
	[API_AUTH_SECRET_ID_NOT_FOUND] = "AuthFailure.SecretIdNotFound",
	[API_AUTH_SIGNATURE_EXPIRE] = "AuthFailure.SignatureExpire",
	[API_AUTH_SIGNATURE_FAILURE] = "AuthFailure.SignatureFailure",
	[API_AUTH_TOKEN_FAILURE] = "AuthFailure.TokenFailure",
	[API_INTERNAL_ERROR] = "InternalError",
	[API_INTERNAL_ERROR_DB_ERROR] = "InternalError.DBError",
	[API_INVALID_ACTION] = "InvalidAction",
	[API_INVALID_PARAMETER] = "InvalidParameter",
	[API_INVALID_PARAMETER_VALUE] = "InvalidParameterValue",
	[API_INVALID_PARAMETER_VALUE_INSTANCE_NOT_EXIST] = "InvalidParameterValue.InstanceNotExist",
	[API_INVALID_REQUEST] = "InvalidRequest",
	[API_MISSING_PARAMETER] = "MissingParameter",
	[API_NO_SUCH_VERSION] = "NoSuchVersion",
	[API_REQUEST_LIMIT_EXCEEDED] = "RequestLimitExceeded",
	[API_REQUEST_SIZE_LIMIT_EXCEEDED] = "RequestSizeLimitExceeded",
	[API_UNKNOWN_PARAMETER] = "UnknownParameter",
	[API_UNSUPPORTED_PROTOCOL] = "UnsupportedProtocol",
	[API_UNAUTHORIZED_OPERATION] = "UnauthorizedOperation",
	[API_FAILED_OPERATION_NO_CALL_OUT_NUMBER] = "FailedOperation.NoCallOutNumber",
	[API_FAILED_OPERATION_PERMISSION_DENIED] = "FailedOperation.PermissionDenied",
	[API_FAILED_OPERATION_SESSION_NOT_EXISTS] = "FailedOperation.SessionNotExists",
	[API_LIMIT_EXCEEDED_BASE_PACKAGE_EXPIRED] = "LimitExceeded.BasePackageExpired",
	[API_LIMIT_EXCEEDED_OUT_OF_COUNT_LIMIT] = "LimitExceeded.OutOfCountLimit",
	[API_FAILED_OPERATION_CALLEE_IS_BLACK_USER] = "FailedOperation.CalleeIsBlackUser",
	[API_FAILED_OPERATION_CALLOUT_RULE_BLIND_AREA] = "FailedOperation.CalloutRuleBlindArea",
	[API_FAILED_OPERATION_CALLOUT_RULE_NOT_WORK_TIME] =
		"FailedOperation.CalloutRuleNotWorkTime",
	[API_FAILED_OPERATION_CALLOUT_RULE_INTERVAL] =
		"FailedOperation.CalloutRuleMaxCallCountCalleeIntervalTime",
	[API_FAILED_OPERATION_CALLOUT_RULE_DAILY] =
		"FailedOperation.CalloutRuleMaxCallCountCalleePerDayAppID",
	[API_FAILED_OPERATION_CALLER_OVER_FREQUENCY] = "FailedOperation.CallerOverFrequency",
	[API_FAILED_OPERATION_AI_CONCURRENT_NO_PACKAGE] = "FailedOperation.AIConcurrentNoPackage",
	[API_FAILED_OPERATION_AI_CONCURRENT_OVER_FREQUENCY] =
		"FailedOperation.AIConcurrentOverFrequency",
	[API_FAILED_OPERATION_CALL_OUT_FAILED] = "FailedOperation.CallOutFailed",
	[API_FAILED_OPERATION_SESSIONS_IN_PROGRESS] = "FailedOperation.SessionsInProgress",
	[API_FAILED_OPERATION_UPLOAD_FILE_OVERFLOW] = "FailedOperation.UploadFileOverflow",
	[API_FAILED_OPERATION_AUDIO_IN_USE] = "FailedOperation.AudioInUse",
	[API_LIMIT_EXCEEDED] = "LimitExceeded",
	[API_RESOURCE_UNAVAILABLE] = "ResourceUnavailable",
	[API_UNSUPPORTED_OPERATION] = "UnsupportedOperation",
};

const char *api_code_name(enum api_code c)
{
	return (unsigned)c < API_CODE_COUNT ? code_names[c] : "InternalError";
}

enum api_code api_fail(struct api_error *e, enum api_code c, const char *fmt, ...)
{
	va_list ap;

	e->code = c;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return c;
}

/* {"Response": inner} with RequestId last (dump.c); consumes inner. */
static char *envelope(json_t *inner, const char *request_id)
{
	char *out = NULL;

	if (inner && api_reply_dump(inner, request_id, &out))
		out = NULL;
	json_decref(inner);
	return out;
}

char *api_reply_error(const struct api_error *e, const char *request_id)
{
	json_t *err = json_pack("{s:s, s:s}", "Code", api_code_name(e->code), "Message",
				e->msg);
	json_t *inner = json_object();

	/* json_object_set_new releases err on every failure, inner NULL included. */
	if (json_object_set_new(inner, "Error", err)) {
		json_decref(inner);
		return NULL;
	}
	return envelope(inner, request_id);
}

char *api_reply_ok(json_t *fields, const char *request_id)
{
	return envelope(fields, request_id);
}
