/* DescribeTelCdr: finished sessions' call records in a time range (ccc-actions §3), built
 * by the same records_cdr as the CDR push, so both always agree. TCCC has no outcome
 * filter; cccd adds CccdEndStatus, a list of EndStatus codes (the console's Outcome). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <re_types.h>
#include <re_mem.h>
#include <re_mbuf.h>
#include "api/api_int.h"
#include "policy/policy.h"
#include "records/records.h"
#include "store/store.h"

enum {
	CDR_PAGE_MAX = 100,
	CDR_FILTER_MAX = 100,
	CDR_STATUS_MAX = 32,
	CDR_RANGE_MAX_S = 90 * 86400,     /* End − Start */
	CDR_LOOKBACK_MAX_S = 180 * 86400, /* Start at most this far back */
};

/* Every code of CccdEndStatus one TCCC publishes: another could match nothing, and is
 * more likely a mistake than a question. */
static enum api_code check_statuses(const json_t *v, const char *path, struct api_error *e)
{
	size_t i;
	json_t *c;

	json_array_foreach(v, i, c) {
		json_int_t code = json_integer_value(c);

		if (!records_end_status_string((int)code)[0])
			return api_fail(e, API_INVALID_PARAMETER_VALUE, "`%s.%zu` (%lld) is not "
					"an EndStatus code.", path, i, (long long)code);
	}
	return API_OK;
}

static const struct api_field fields[] = {
	{"StartTimeStamp", API_T_INT64, false, true, 0, INT64_MAX, 0, NULL, NULL},
	{"EndTimeStamp", API_T_INT64, false, true, 0, INT64_MAX, 0, NULL, NULL},
	{"SdkAppId", API_T_INT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"PageSize", API_T_INT64, false, true, 1, CDR_PAGE_MAX, 0, NULL, NULL},
	{"PageNumber", API_T_INT64, false, true, 0, INT64_MAX / CDR_PAGE_MAX, 0, NULL, NULL},
	{"InstanceId", API_T_INT64, false, false, 0, INT64_MAX, 0, NULL, NULL},
	{"Limit", API_T_INT64, false, false, 0, INT64_MAX, 0, NULL, NULL},
	{"Offset", API_T_INT64, false, false, 0, INT64_MAX, 0, NULL, NULL},
	{"Phones", API_T_STRING, true, false, 1, 32, CDR_FILTER_MAX, NULL, NULL},
	{"SessionIds", API_T_STRING, true, false, 1, 64, CDR_FILTER_MAX, NULL, NULL},
	{"CccdEndStatus", API_T_INT64, true, false, 0, 999, CDR_STATUS_MAX, NULL, check_statuses},
	{NULL},
};

/* A page of records: its rows as the store hands them, then their key presses in one
 * read (store_sessions_keys), then the records built in the page's order. */
struct cdr_page {
	struct store *st;
	const struct records_links *links;
	int64_t now_s;
	struct store_session *rows[CDR_PAGE_MAX];
	size_t n;
	struct mbuf *keys;                /* the page's key presses, grouped by row */
	size_t first[CDR_PAGE_MAX], n_keys[CDR_PAGE_MAX]; /* each row's, in keys */
	size_t last;                      /* the row of the previous key press */
	json_t *list;
};

static int row_add(struct store_session *s, void *arg)
{
	struct cdr_page *pg = arg;

	if (pg->n >= CDR_PAGE_MAX)
		return EOVERFLOW;
	pg->rows[pg->n++] = mem_ref(s);
	return 0;
}

/* The store hands a session's key presses together: each goes after its row's others. */
static int key_add(const char *session_id, const struct store_key_press *kp, void *arg)
{
	struct cdr_page *pg = arg;
	size_t r = pg->last;

	if (r >= pg->n || strcmp(pg->rows[r]->id, session_id)) {
		for (r = 0; r < pg->n && strcmp(pg->rows[r]->id, session_id); r++)
			;
		if (r == pg->n)
			return 0;
		pg->last = r;
		pg->first[r] = pg->keys->end / sizeof(*kp);
	}
	pg->n_keys[r]++;
	return mbuf_write_mem(pg->keys, (const uint8_t *)kp, sizeof(*kp));
}

static int page_build(struct cdr_page *pg)
{
	const char *ids[CDR_PAGE_MAX];
	const struct store_key_press *kp;
	json_t *cdr;
	int err;

	for (size_t i = 0; i < pg->n; i++)
		ids[i] = pg->rows[i]->id;
	pg->last = pg->n;
	err = store_sessions_keys(pg->st, ids, pg->n, key_add, pg);
	kp = (const struct store_key_press *)pg->keys->buf;
	for (size_t i = 0; i < pg->n && !err; i++) {
		cdr = records_cdr(pg->rows[i], pg->n_keys[i] ? kp + pg->first[i] : NULL,
				  pg->n_keys[i], false);
		/* Links are made now: one stored with the record would expire. */
		err = !cdr ? ENOMEM : records_links_apply(pg->links, cdr, pg->now_s);
		if (!err && json_array_append(pg->list, cdr))
			err = ENOMEM;
		json_decref(cdr);
	}
	return err;
}

/* The strings of a JSON array (validated: every element is a string); with norm, each
 * normalised as CreateIVRSession stored it, in the instance's country cc. */
static size_t strings_of(const json_t *a, const char **out, char (*norm)[33], const char *cc)
{
	size_t n = 0, i;
	json_t *v;

	json_array_foreach(a, i, v) {
		const char *s = json_string_value(v);

		if (norm) {
			/* A number that does not normalise can match nothing; keep it as given. */
			if (policy_number_normalise(s, cc, norm[n], NULL, 0))
				snprintf(norm[n], sizeof(norm[n]), "%s", s);
			out[n] = norm[n];
		}
		else
			out[n] = s;
		n++;
	}
	return n;
}

static enum api_code run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			 struct api_error *e)
{
	int64_t start = json_integer_value(json_object_get(p, "StartTimeStamp"));
	int64_t end = json_integer_value(json_object_get(p, "EndTimeStamp"));
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	int64_t size = json_integer_value(json_object_get(p, "PageSize"));
	int64_t page = json_integer_value(json_object_get(p, "PageNumber"));
	const char *ids[CDR_FILTER_MAX], *phones[CDR_FILTER_MAX];
	char norm[CDR_FILTER_MAX][33];
	int statuses[CDR_STATUS_MAX];
	struct store_cdr_query q = {.sdkappid = sdkappid, .since = start, .until = end,
				    .session_ids = ids, .phones = phones, .end_statuses = statuses,
				    .offset = (uint64_t)(page * size), .limit = (uint64_t)size};
	struct store_instance inst;
	enum api_code rc;
	struct cdr_page pg = {.st = ctx->st, .links = ctx->hooks->links,
			      .now_s = ctx->now_ms / 1000};
	uint64_t total = 0;
	int err;

	if (end < start)
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "`EndTimeStamp` (%lld) is before "
				"`StartTimeStamp` (%lld).", (long long)end, (long long)start);
	if (end - start >= CDR_RANGE_MAX_S)
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "The range from `StartTimeStamp` "
				"to `EndTimeStamp` must be shorter than 90 days.");
	if (start < ctx->now_ms / 1000 - CDR_LOOKBACK_MAX_S)
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "`StartTimeStamp` must be within "
				"the last 180 days.");
	rc = api_instance(ctx, sdkappid, &inst, e);
	if (rc != API_OK)
		return rc;

	q.n_session_ids = strings_of(json_object_get(p, "SessionIds"), ids, NULL, NULL);
	for (size_t i = 0; i < json_array_size(json_object_get(p, "CccdEndStatus")); i++)
		statuses[q.n_end_statuses++] = (int)json_integer_value(
			json_array_get(json_object_get(p, "CccdEndStatus"), i));
	if (json_array_size(json_object_get(p, "Phones"))) {
		struct policy_rules *rules = NULL;
		char *text = NULL;

		/* National numbers in Phones mean what they meant to CreateIVRSession. */
		err = store_instance_rules_get(ctx->st, sdkappid, &text);
		if (err)
			return api_fail(e, API_INTERNAL_ERROR, "The database is unavailable.");
		err = text[0] ? policy_rules_parse(&rules, text, strlen(text), NULL, 0)
			      : policy_rules_default(&rules);
		mem_deref(text);
		if (err)
			return api_fail(e, API_INTERNAL_ERROR, "The calling rules of instance %llu "
					"do not load.", (unsigned long long)sdkappid);
		q.n_phones = strings_of(json_object_get(p, "Phones"), phones, norm,
					policy_rules_default_cc(rules));
		mem_deref(rules);
	}
	pg.list = json_array();
	pg.keys = mbuf_alloc(4 * sizeof(struct store_key_press));
	if (!pg.list || !pg.keys) {
		json_decref(pg.list);
		mem_deref(pg.keys);
		return api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	}
	err = store_cdr_list(ctx->st, &q, row_add, &pg, &total);
	if (!err)
		err = page_build(&pg);
	for (size_t i = 0; i < pg.n; i++)
		mem_deref(pg.rows[i]);
	mem_deref(pg.keys);
	if (err) {
		json_decref(pg.list);
		return api_fail(e, API_INTERNAL_ERROR, "The database is unavailable.");
	}
	/* TelCdrs is the deprecated twin of TelCdrList: the same records. */
	if (json_object_set_new(out, "TotalCount", json_integer((json_int_t)total)) ||
	    json_object_set(out, "TelCdrs", pg.list) ||
	    json_object_set_new(out, "TelCdrList", pg.list))
		return api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	return API_OK;
}

const struct api_action api_action_describe_tel_cdr = {
	"DescribeTelCdr", fields, API_RATE_DEFAULT, run,
	"call records in a time range",
};
