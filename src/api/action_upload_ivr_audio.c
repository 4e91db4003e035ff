/* UploadIvrAudio: prompts by URL (ccc-actions §8). Each file is fetched (fetch.h: http or
 * https, ≤ 5 MB, the SSRF guard on every connection), told WAV or MP3 by its bytes,
 * converted once to the prompt format under <prompt folder>/uploads/<SdkAppId>/ and
 * recorded; flows then name it by FileId or CustomFileName.
 *
 * The fetches run inside the request, on its API thread, one after the other, all of them
 * within [api] upload_timeout: TCCC answers with SuccessFileList and FailedFileList, so the
 * answer waits for them. That holds one API thread at most upload_timeout per request.
 * TCCC's limit is 1 request/s per instance (an account with several instances may upload
 * to each in the same second), which does not bound the threads uploads hold: at most half
 * of the node's API threads fetch at once (api_upload_begin), the rest are refused with
 * RequestLimitExceeded, so the other actions always have a thread. A file
 * that fails — too big, wrong type, timeout, a refused address, an HTTP status, content
 * the instance already holds — goes to FailedFileList with the reason; the others are
 * kept. cccd does not review prompts: a new file is approved (Status 1) at once.
 *
 * cccd adds a second way to give a file, for the web console (a browser holds the file,
 * not a URL the server could fetch): an entry with `CccdAudioData`, the file's bytes in
 * base64, and optionally `CccdFileName` (its AudioFileName), instead of `AudioUrl`. The
 * body limit of a request (1 MB) bounds such a file to about 750 KB; it is then told WAV
 * or MP3 by its bytes, converted and recorded as a fetched one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <re_types.h>
#include <re_fmt.h>
#include <re_base64.h>
#include "api/api_int.h"
#include "base/base.h"
#include "fetch/fetch.h"
#include "media/media.h"
#include "sign/sign.h"
#include "store/store.h"

enum {
	UPLOAD_MAX_BYTES = 5 * 1024 * 1024,
	UPLOAD_PER_DAY = 50,          /* files per instance per UTC day */
	UPLOAD_PER_SECOND = 1,        /* requests per instance per second */
	UPLOAD_MAX_REDIRECTS = 3,
	UPLOAD_MIN_FETCH_MS = 200,    /* less left of the budget: the file is not tried */
	UPLOAD_STATUS_APPROVED = 1,
};

static const struct api_field audio_fields[] = {
	{"CustomFileName", API_T_STRING, false, true, 1, 255, 0, NULL, NULL},
	{"AudioUrl", API_T_STRING, false, false, 1, 2048, 0, NULL, NULL},
	{"CccdAudioData", API_T_STRING, false, false, 1, 2 * 1024 * 1024, 0, NULL, NULL},
	{"CccdFileName", API_T_STRING, false, false, 1, 255, 0, NULL, NULL},
	{NULL},
};

static const struct api_field fields[] = {
	{"SdkAppId", API_T_INT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"AudioList", API_T_STRUCT, true, true, 0, 0, UPLOAD_PER_DAY, audio_fields, NULL},
	{NULL},
};

/* The URL's last path segment, without query or fragment: AudioFileName. */
static void url_file_name(const char *url, char *out, size_t sz)
{
	const char *p = strstr(url, "://"), *end, *slash;

	p = p ? p + 3 : url;
	end = p + strcspn(p, "?#");
	slash = NULL;
	for (const char *q = p; q < end; q++) {
		if (*q == '/')
			slash = q;
	}
	if (!slash || slash + 1 >= end)
		snprintf(out, sz, "audio");
	else
		snprintf(out, sz, "%.*s", (int)(end - slash - 1), slash + 1);
}

static int dir_make(const char *path)
{
	return mkdir(path, 0750) && errno != EEXIST ? errno : 0;
}

struct upload {
	const struct api_ctx *ctx;
	uint64_t sdkappid;
	uint64_t deadline_ms;         /* monotonic */
	char dir[64];                 /* uploads/<sdkappid>, relative to the prompt folder */
	char base[512];               /* the prompt folder ("." when none) */
};

/* A file given in the request (CccdAudioData): its bytes, malloc'd as fetch_get's. */
static int data_decode(const char *b64, uint8_t **bodyp, size_t *lenp, char *why, size_t whysz)
{
	size_t n = strlen(b64) / 4 * 3 + 3;
	uint8_t *body = malloc(n);

	if (!body)
		return ENOMEM;
	if (base64_decode(b64, strlen(b64), body, &n)) {
		free(body);
		snprintf(why, whysz, "`CccdAudioData` is not base64");
		return EINVAL;
	}
	*bodyp = body;
	*lenp = n;
	return 0;
}

/* One file, start to end: 0 with a filled in, or an error with the reason in why. The file
 * is fetched from url, or decoded from data (then named `name`, else "audio"). */
static int upload_one(struct upload *u, const char *custom, const char *url, const char *data,
		      const char *name, struct store_audio *a, char *why, size_t whysz)
{
	uint64_t now = clock_mono_ms();
	struct fetch_limits lim = {.max_bytes = UPLOAD_MAX_BYTES,
				   .max_redirects = UPLOAD_MAX_REDIRECTS,
				   .allow = u->ctx->conf->upload_allow};
	char sha[SIGN_SHA256_HEX], full[768];
	uint8_t *body = NULL;
	size_t len = 0;
	int err;

	if (data) {
		err = data_decode(data, &body, &len, why, whysz);
	}
	else if (now + UPLOAD_MIN_FETCH_MS > u->deadline_ms) {
		snprintf(why, whysz, "timeout: the request's %u s for fetching are spent",
			 u->ctx->conf->upload_timeout_ms / 1000);
		return ETIMEDOUT;
	}
	else {
		lim.timeout_ms = (unsigned)(u->deadline_ms - now);
		err = fetch_get(url, &lim, &body, &len, NULL, why, whysz);
	}
	if (err)
		return err;
	memset(a, 0, sizeof(*a));
	sign_sha256_hex(body, len, sha);
	a->sdkappid = u->sdkappid;
	a->status = UPLOAD_STATUS_APPROVED;
	a->created_at = u->ctx->now_ms / 1000;
	snprintf(a->custom_name, sizeof(a->custom_name), "%s", custom);
	if (url)
		url_file_name(url, a->file_name, sizeof(a->file_name));
	else
		snprintf(a->file_name, sizeof(a->file_name), "%s", name ? name : "audio");
	snprintf(a->sha256, sizeof(a->sha256), "%s", sha);
	snprintf(a->path, sizeof(a->path), "%s/%.64s.wav", u->dir, sha);
	snprintf(full, sizeof(full), "%s/%s", u->base, a->path);
	err = media_prompt_convert(body, len, full, why, whysz);
	free(body);
	if (err == EPROTO)
		snprintf(why, whysz, "wrong type: not a WAV or MP3 file");
	if (err)
		return err;
	err = store_audio_add(u->ctx->st, a);
	/* The same content has the same path: the file stays for the row that has it. */
	if (err == EEXIST) {
		snprintf(why, whysz, "duplicate: the instance already holds this audio");
		return err;
	}
	if (err) {
		unlink(full);
		snprintf(why, whysz, "the file could not be recorded: %s", strerror(err));
	}
	return err;
}

static json_t *audio_info(const struct store_audio *a)
{
	return json_pack("{s:I, s:s, s:s, s:i}", "FileId", (json_int_t)a->file_id,
			 "CustomFileName", a->custom_name, "AudioFileName", a->file_name,
			 "Status", a->status);
}

static enum api_code run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			 struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	const json_t *list = json_object_get(p, "AudioList");
	const char *pd = ctx->hooks->prompt_dir && *ctx->hooks->prompt_dir
			 ? ctx->hooks->prompt_dir : ".";
	struct upload u = {.ctx = ctx, .sdkappid = sdkappid};
	json_t *ok = json_array(), *failed = json_array(), *item;
	struct store_instance inst;
	uint64_t used = 0;
	char path[600];
	enum api_code rc;
	bool fetching = false;
	size_t i;

	if (!ok || !failed) {
		rc = api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
		goto out;
	}
	/* Each file by one way: TCCC's AudioUrl (required there) or cccd's CccdAudioData,
	 * checked first, as the validator checked a missing AudioUrl before. */
	json_array_foreach(list, i, item) {
		bool url = json_object_get(item, "AudioUrl"), data = json_object_get(item,
										       "CccdAudioData");

		if (!url && !data) {
			rc = api_fail(e, API_MISSING_PARAMETER, "The parameter `AudioList.%zu."
				      "AudioUrl` is missing.", i);
			goto out;
		}
		if (url && data) {
			rc = api_fail(e, API_INVALID_PARAMETER_VALUE, "`AudioList.%zu` has both "
				      "`AudioUrl` and `CccdAudioData`: give one.", i);
			goto out;
		}
	}
	rc = api_instance(ctx, sdkappid, &inst, e);
	if (rc != API_OK)
		goto out;
	if (!api_instance_rate_take(ctx, sdkappid, "UploadIvrAudio", UPLOAD_PER_SECOND)) {
		rc = api_fail(e, API_REQUEST_LIMIT_EXCEEDED, "UploadIvrAudio is limited to %d "
			      "request per second per instance; instance %llu had one in the "
			      "last second.", UPLOAD_PER_SECOND, (unsigned long long)sdkappid);
		goto out;
	}
	if (!json_array_size(list)) {
		rc = api_fail(e, API_INVALID_PARAMETER_VALUE, "`AudioList` must name at least "
			      "one file.");
		goto out;
	}
	if (store_audio_count_since(ctx->st, sdkappid, ctx->now_ms / 1000 -
				    ctx->now_ms / 1000 % 86400, &used)) {
		rc = api_fail(e, API_INTERNAL_ERROR_DB_ERROR, "The database is unavailable.");
		goto out;
	}
	if (used + json_array_size(list) > UPLOAD_PER_DAY) {
		rc = api_fail(e, API_FAILED_OPERATION_UPLOAD_FILE_OVERFLOW, "Instance %llu may "
			      "upload %d files a day (UTC); %llu are uploaded today, %zu more "
			      "asked.", (unsigned long long)sdkappid, UPLOAD_PER_DAY,
			      (unsigned long long)used, json_array_size(list));
		goto out;
	}
	snprintf(u.base, sizeof(u.base), "%s", pd);
	snprintf(u.dir, sizeof(u.dir), "uploads/%llu", (unsigned long long)sdkappid);
	snprintf(path, sizeof(path), "%s/uploads", u.base);
	if (dir_make(path) || (snprintf(path, sizeof(path), "%s/%s", u.base, u.dir),
			       dir_make(path))) {
		rc = api_fail(e, API_INTERNAL_ERROR, "The prompt folder cannot be written.");
		goto out;
	}
	if (!api_upload_begin(ctx)) {
		rc = api_fail(e, API_REQUEST_LIMIT_EXCEEDED, "This node is fetching as many "
			      "uploads at once as it allows (half its API threads); retry in a "
			      "few seconds.");
		goto out;
	}
	fetching = true;
	u.deadline_ms = clock_mono_ms() + ctx->conf->upload_timeout_ms;
	json_array_foreach(list, i, item) {
		const char *custom = json_string_value(json_object_get(item, "CustomFileName"));
		const char *url = json_string_value(json_object_get(item, "AudioUrl"));
		const char *data = json_string_value(json_object_get(item, "CccdAudioData"));
		const char *name = json_string_value(json_object_get(item, "CccdFileName"));
		struct store_audio a;
		char why[256] = "";
		int err = upload_one(&u, custom, url, data, name, &a, why, sizeof(why));

		if (!err)
			err = json_array_append_new(ok, audio_info(&a));
		else {
			log_info("api", "UploadIvrAudio %llu: %s: %s", (unsigned long long)sdkappid,
				 custom, why);
			err = json_array_append_new(failed, json_pack("{s:s, s:s}", "FileName",
								      custom, "FailedMsg", why));
		}
		if (err) {
			rc = api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
			goto out;
		}
	}
	if (json_object_set(out, "SuccessFileList", ok) ||
	    json_object_set(out, "FailedFileList", failed))
		rc = api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
out:
	if (fetching)
		api_upload_end(ctx);
	json_decref(ok);
	json_decref(failed);
	return rc;
}

const struct api_action api_action_upload_ivr_audio = {
	"UploadIvrAudio", fields, API_RATE_DEFAULT, run,
	"fetch prompt files by URL and convert them for flows",
};
