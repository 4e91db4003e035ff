/* Unit tests of the records module: the TelCdrInfo builder (every field, its JSON type and
 * its value), recording files, signed links and their checks, push bodies, retention. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "conf/conf.h"
#include <re_types.h>
#include <re_mem.h>
#include <re_fmt.h>
#include <jansson.h>
#include "call/call.h"
#include "records/records.h"
#include "store/store.h"

/* Every TelCdrInfo field of the SDK model with its JSON type. */
static const struct {
	const char *name;
	json_type type;
} fields[] = {
	{"Caller", JSON_STRING}, {"Callee", JSON_STRING}, {"Time", JSON_INTEGER},
	{"Direction", JSON_INTEGER}, {"CallType", JSON_INTEGER}, {"Duration", JSON_INTEGER},
	{"RecordURL", JSON_STRING}, {"RecordId", JSON_STRING}, {"SeatUser", JSON_OBJECT},
	{"EndStatus", JSON_INTEGER}, {"SkillGroup", JSON_STRING}, {"CallerLocation", JSON_STRING},
	{"IVRDuration", JSON_INTEGER}, {"RingTimestamp", JSON_INTEGER},
	{"AcceptTimestamp", JSON_INTEGER}, {"EndedTimestamp", JSON_INTEGER},
	{"IVRKeyPressed", JSON_ARRAY}, {"HungUpSide", JSON_STRING},
	{"ServeParticipants", JSON_ARRAY}, {"SkillGroupId", JSON_INTEGER},
	{"EndStatusString", JSON_STRING}, {"StartTimestamp", JSON_INTEGER},
	{"QueuedTimestamp", JSON_INTEGER}, {"PostIVRKeyPressed", JSON_ARRAY},
	{"QueuedSkillGroupId", JSON_INTEGER}, {"SessionId", JSON_STRING},
	{"ProtectedCaller", JSON_STRING}, {"ProtectedCallee", JSON_STRING}, {"Uui", JSON_STRING},
	{"UUI", JSON_STRING}, {"IVRKeyPressedEx", JSON_ARRAY}, {"AsrUrl", JSON_STRING},
	{"AsrStatus", JSON_STRING}, {"CustomRecordURL", JSON_STRING}, {"Remark", JSON_STRING},
	{"QueuedSkillGroupName", JSON_STRING}, {"VoicemailRecordURL", JSON_ARRAY},
	{"VoicemailAsrURL", JSON_ARRAY}, {"AIAgentId", JSON_INTEGER},
	{"AIAgentName", JSON_STRING}, {"SysHangupReason", JSON_INTEGER},
	{"SysHangupReasonString", JSON_STRING},
	{"CccdEvidence", JSON_OBJECT}, /* cccd's addition: the call's evidence */
};

static struct store_session *answered_session(void)
{
	struct store_session *s;

	assert_int_equal(store_session_alloc(&s, "order-7", "[]"), 0);
	strcpy(s->id, "0123456789abcdef0123456789abcdef");
	s->sdkappid = 1400000000;
	s->direction = 1;
	strcpy(s->caller, "008675512345678");
	strcpy(s->callee, "008612300000000");
	s->start_ts = 1000;
	s->ring_ts = 1002;
	s->accept_ts = 1010;
	s->ended_ts = 1070;
	s->end_status = 1;
	strcpy(s->hungup_side, "user");
	s->status = STORE_STATUS_FINISHED;
	return s;
}

static void test_cdr_fields(void **state)
{
	struct store_session *s = answered_session();
	struct store_key_press keys[2] = {
		{.key = "1", .label = "confirm", .ts_ms = 1012345, .node_label = "menu",
		 .tts_prompt = "Press 1"},
		{.key = "1234", .ts_ms = 1020000, .node_label = "collect"},
	};
	json_t *cdr = records_cdr(s, keys, 2, false), *ex;

	(void)state;
	assert_non_null(cdr);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		json_t *v = json_object_get(cdr, fields[i].name);

		if (!v || json_typeof(v) != fields[i].type)
			fail_msg("field %s missing or of the wrong type", fields[i].name);
	}
	assert_int_equal(json_object_size(cdr), sizeof(fields) / sizeof(fields[0]));
	assert_null(json_object_get(cdr, "SdkAppId"));
	assert_int_equal(json_integer_value(json_object_get(cdr, "Duration")), 60);
	assert_int_equal(json_integer_value(json_object_get(cdr, "CallType")), 1);
	assert_string_equal(json_string_value(json_object_get(cdr, "EndStatusString")), "ok");
	assert_string_equal(json_string_value(json_object_get(cdr, "UUI")), "order-7");
	assert_string_equal(json_string_value(json_object_get(cdr, "AsrStatus")), "NotExists");
	assert_string_equal(json_string_value(json_array_get(json_object_get(cdr, "IVRKeyPressed"), 1)), "1234");
	ex = json_array_get(json_object_get(cdr, "IVRKeyPressedEx"), 0);
	assert_string_equal(json_string_value(json_object_get(ex, "Label")), "confirm");
	assert_int_equal(json_integer_value(json_object_get(ex, "Timestamp")), 1012345);
	assert_string_equal(json_string_value(json_object_get(ex, "TTSPrompt")), "Press 1");
	json_decref(cdr);

	/* Push body: the same plus SdkAppId; unanswered call: Duration 0. */
	s->accept_ts = 0;
	s->end_status = 202;
	cdr = records_cdr(s, NULL, 0, true);
	assert_int_equal(json_integer_value(json_object_get(cdr, "SdkAppId")), 1400000000);
	assert_int_equal(json_integer_value(json_object_get(cdr, "Duration")), 0);
	assert_string_equal(json_string_value(json_object_get(cdr, "EndStatusString")), "notAnswer");
	assert_int_equal(json_array_size(json_object_get(cdr, "IVRKeyPressed")), 0);
	json_decref(cdr);
	mem_deref(s);
}

static void test_end_status_strings(void **state)
{
	(void)state;
	assert_string_equal(records_end_status_string(206), "busy");
	assert_string_equal(records_end_status_string(107), "ivrEnd");
	assert_string_equal(records_end_status_string(0), "error");
	assert_string_equal(records_end_status_string(214), "");
}

static const char SID[] = "0123456789abcdef0123456789abcdef";
static const uint8_t KEY[RECORDS_KEY_LEN] = {1, 2, 3, 4};

static void test_files(void **state)
{
	char f[128];

	(void)state;
	assert_int_equal(records_file_call(f, sizeof(f), 1400000000, SID), 0);
	assert_string_equal(f, "1400000000/0123456789abcdef0123456789abcdef.wav");
	assert_true(records_file_ok(f, 1400000000));
	assert_false(records_file_ok(f, 1400000001));
	assert_int_equal(records_file_voicemail(f, sizeof(f), 7, SID, 2), 0);
	assert_string_equal(f, "7/0123456789abcdef0123456789abcdef-vm2.wav");
	assert_true(records_file_ok(f, 7));
	assert_int_equal(records_file_voicemail(f, sizeof(f), 7, SID, 0), EINVAL);
	assert_int_equal(records_file_voicemail(f, sizeof(f), 7, SID, 1000), EINVAL);
	assert_int_equal(records_file_call(f, sizeof(f), 7, "0123"), EINVAL);
	assert_int_equal(records_file_call(f, sizeof(f), 7, "0123456789ABCDEF0123456789abcdef"),
			 EINVAL);
	assert_int_equal(records_file_call(f, 10, 7, SID), ENOSPC);
	assert_false(records_file_ok("7/../0123456789abcdef0123456789abcdef.wav", 7));
	assert_false(records_file_ok("07/0123456789abcdef0123456789abcdef.wav", 7));
	assert_false(records_file_ok("7/0123456789abcdef0123456789abcdef-vm0.wav", 7));
	assert_false(records_file_ok("7/0123456789abcdef0123456789abcdef.wav/x", 7));
	assert_false(records_file_ok("7/0123456789abcdef0123456789abcdef.mp3", 7));
	assert_false(records_file_ok("/etc/passwd", 7));
}

/* The query parameter `name` of a link (a copy in buf). */
static const char *param(const char *url, const char *name, char *buf, size_t sz)
{
	char key[32];
	const char *p, *e;

	snprintf(key, sizeof(key), "%s=", name);
	p = strstr(url, key);
	if (!p)
		return NULL;
	p += strlen(key);
	e = strchr(p, '&');
	snprintf(buf, sz, "%.*s", (int)(e ? (size_t)(e - p) : strlen(p)), p);
	return buf;
}

static void test_links(void **state)
{
	struct records_links *l = NULL, *other = NULL;
	uint8_t key2[RECORDS_KEY_LEN] = {9};
	char file[128], url[512], path[256], exp[32], sig[80], abs[600], bad[80];
	const int64_t now = 1700000000;

	(void)state;
	assert_int_equal(records_links_alloc(&l, "http://127.0.0.1:8080/", 3600, "/var/rec", KEY),
			 0);
	assert_int_equal(records_links_alloc(&other, "http://127.0.0.1:8080", 3600, "/var/rec",
					     key2), 0);
	assert_int_equal(records_file_call(file, sizeof(file), 1400000000, SID), 0);
	assert_int_equal(records_link(l, file, now, url, sizeof(url)), 0);
	assert_non_null(strstr(url, "http://127.0.0.1:8080/records/1400000000/"
				    "0123456789abcdef0123456789abcdef.wav?Expires=1700003600&"
				    "Signature="));
	assert_int_equal(records_link(l, "../x.wav", now, url, sizeof(url)), EINVAL);
	assert_int_equal(records_link(l, file, now, url, 40), ENOSPC);
	assert_int_equal(records_link(l, file, now, url, sizeof(url)), 0);
	snprintf(path, sizeof(path), "/records/%s", file);
	param(url, "Expires", exp, sizeof(exp));
	param(url, "Signature", sig, sizeof(sig));
	assert_int_equal(strlen(sig), 64);

	/* The good link, until it expires. */
	assert_int_equal(records_link_check(l, path, exp, sig, now, abs, sizeof(abs)), RECORDS_OK);
	assert_string_equal(abs, "/var/rec/1400000000/0123456789abcdef0123456789abcdef.wav");
	assert_int_equal(records_link_check(l, path, exp, sig, now + 3600, NULL, 0), RECORDS_OK);
	assert_int_equal(records_link_check(l, path, exp, sig, now + 3601, NULL, 0),
			 RECORDS_FORBIDDEN);
	/* Tampered: the signature, a later expiry, another file or instance, another key. */
	snprintf(bad, sizeof(bad), "%s", sig);
	bad[0] = bad[0] == '0' ? '1' : '0';
	assert_int_equal(records_link_check(l, path, exp, bad, now, NULL, 0), RECORDS_FORBIDDEN);
	assert_int_equal(records_link_check(l, path, "1800000000", sig, now, NULL, 0),
			 RECORDS_FORBIDDEN);
	assert_int_equal(records_link_check(l, "/records/1400000001/"
					    "0123456789abcdef0123456789abcdef.wav", exp, sig, now,
					    NULL, 0), RECORDS_FORBIDDEN);
	assert_int_equal(records_link_check(l, "/records/1400000000/"
					    "0123456789abcdef0123456789abcdef-vm1.wav", exp, sig,
					    now, NULL, 0), RECORDS_FORBIDDEN);
	assert_int_equal(records_link_check(other, path, exp, sig, now, NULL, 0),
			 RECORDS_FORBIDDEN);
	assert_int_equal(records_link_check(l, path, NULL, sig, now, NULL, 0), RECORDS_FORBIDDEN);
	assert_int_equal(records_link_check(l, path, exp, NULL, now, NULL, 0), RECORDS_FORBIDDEN);
	assert_int_equal(records_link_check(l, path, "-1", sig, now, NULL, 0), RECORDS_FORBIDDEN);
	/* Paths that name no recording. */
	assert_int_equal(records_link_check(l, "/records/1400000000/../../etc/passwd", exp, sig,
					    now, NULL, 0), RECORDS_NOT_FOUND);
	assert_int_equal(records_link_check(l, "/other/x", exp, sig, now, NULL, 0),
			 RECORDS_NOT_FOUND);
	assert_int_equal(records_link_check(l, "/records/", exp, sig, now, NULL, 0),
			 RECORDS_NOT_FOUND);
	mem_deref(other);
	mem_deref(l);
	assert_int_equal(records_links_alloc(&l, "", 3600, "/d", KEY), EINVAL);
	assert_int_equal(records_links_alloc(&l, "http://x", 0, "/d", KEY), EINVAL);
}

/* Files in a record become links when it is read or sent; other values stay. */
static void test_links_apply(void **state)
{
	struct store_session *s = answered_session();
	struct records_links *l = NULL;
	char *body, *out = NULL;
	json_t *cdr, *vm;

	(void)state;
	assert_int_equal(records_links_alloc(&l, "https://ccc.example.com", 60, "/r", KEY), 0);
	assert_int_equal(records_file_call(s->record_url, sizeof(s->record_url), 1400000000, SID),
			 0);
	mem_deref(s->voicemail_urls);
	s->voicemail_urls = NULL;
	assert_int_equal(str_dup(&s->voicemail_urls,
				 "[\"1400000000/0123456789abcdef0123456789abcdef-vm1.wav\"]"), 0);
	cdr = records_cdr(s, NULL, 0, true);
	assert_string_equal(json_string_value(json_object_get(cdr, "RecordURL")),
			    "1400000000/0123456789abcdef0123456789abcdef.wav");
	body = json_dumps(cdr, JSON_COMPACT);
	assert_int_equal(records_links_apply(l, cdr, 1000), 0);
	assert_non_null(strstr(json_string_value(json_object_get(cdr, "RecordURL")),
			       "https://ccc.example.com/records/1400000000/0123456789abcdef0123456789"
			       "abcdef.wav?Expires=1060&Signature="));
	vm = json_object_get(cdr, "VoicemailRecordURL");
	assert_int_equal(json_array_size(vm), 1);
	assert_non_null(strstr(json_string_value(json_array_get(vm, 0)), "-vm1.wav?Expires=1060"));
	json_decref(cdr);

	/* The same on the stored push body, as the push thread does it. */
	assert_int_equal(records_links_body(l, body, 1000, &out), 0);
	assert_non_null(strstr(out, "\"RecordURL\":\"https://ccc.example.com/records/"));
	assert_non_null(strstr(out, "\"SessionId\":\"0123456789abcdef0123456789abcdef\""));
	free(out);
	assert_int_equal(records_links_body(l, "[1]", 1000, &out), EINVAL);
	assert_int_equal(records_links_body(l, "{", 1000, &out), EINVAL);
	/* Without links, no bare file names are shown. */
	cdr = json_loads(body, 0, NULL);
	assert_int_equal(records_links_apply(NULL, cdr, 1000), 0);
	assert_string_equal(json_string_value(json_object_get(cdr, "RecordURL")), "");
	assert_int_equal(json_array_size(json_object_get(cdr, "VoicemailRecordURL")), 0);
	json_decref(cdr);
	free(body);

	/* A record without recordings: "" and []. */
	s->record_url[0] = '\0';
	mem_deref(s->voicemail_urls);
	s->voicemail_urls = NULL;
	cdr = records_cdr(s, NULL, 0, false);
	assert_int_equal(records_links_apply(l, cdr, 1000), 0);
	assert_string_equal(json_string_value(json_object_get(cdr, "RecordURL")), "");
	assert_int_equal(json_array_size(json_object_get(cdr, "VoicemailRecordURL")), 0);
	json_decref(cdr);
	mem_deref(s);
	mem_deref(l);
}

static void test_push_bodies(void **state)
{
	char *b;
	json_t *o;

	(void)state;
	b = records_record_push(1400000000, SID, SID, 1234, "008612300000000",
				"1400000000/0123456789abcdef0123456789abcdef.wav");
	o = json_loads(b, 0, NULL);
	assert_int_equal(json_integer_value(json_object_get(o, "SdkAppId")), 1400000000);
	assert_string_equal(json_string_value(json_object_get(o, "RecordId")), SID);
	assert_string_equal(json_string_value(json_object_get(o, "SessionId")), SID);
	assert_int_equal(json_integer_value(json_object_get(o, "Timestamp")), 1234);
	assert_string_equal(json_string_value(json_object_get(o, "EndpointUser")),
			    "008612300000000");
	assert_true(json_is_string(json_object_get(o, "RecordURL")));
	assert_string_equal(json_string_value(json_object_get(o, "CustomRecordURL")), "");
	json_decref(o);
	free(b);
	b = records_voicemail_push(7, SID, 99, "0086123", "7/x");
	o = json_loads(b, 0, NULL);
	assert_int_equal(json_object_size(o), 5);
	assert_string_equal(json_string_value(json_object_get(o, "EndpointUser")), "0086123");
	assert_string_equal(json_string_value(json_object_get(o, "RecordURL")), "7/x");
	json_decref(o);
	free(b);
}

static void test_conf(void **state)
{
	struct records_conf rc;
	struct conf_err err = {0};
	struct conf *cf = NULL;
	static const char good[] = "[records]\npublic_url = https://ccc.example.com/\n"
				   "link_ttl = 600\nretention_days = 90\n";
	static const char bad[] = "[records]\npublic_url = ftp://x\n";

	(void)state;
	assert_int_equal(conf_parse(&cf, "", 0, &err), 0);
	assert_int_equal(records_conf_read(cf, &rc, &err), 0);
	assert_string_equal(rc.public_url, "");
	assert_int_equal(rc.link_ttl_s, 86400);
	assert_int_equal(rc.retention_days, 0);
	cf = mem_deref(cf);
	assert_int_equal(conf_parse(&cf, good, sizeof(good) - 1, &err), 0);
	assert_int_equal(records_conf_read(cf, &rc, &err), 0);
	assert_string_equal(rc.public_url, "https://ccc.example.com/");
	assert_int_equal(rc.link_ttl_s, 600);
	assert_int_equal(rc.retention_days, 90);
	cf = mem_deref(cf);
	assert_int_equal(conf_parse(&cf, bad, sizeof(bad) - 1, &err), 0);
	assert_int_equal(records_conf_read(cf, &rc, &err), EINVAL);
	assert_int_equal(err.line, 2);
	mem_deref(cf);
}

/* Old recordings go, new ones and files that are not recordings stay. */
static void test_sweep(void **state)
{
	char dir[] = "/tmp/cccd-test-records-XXXXXX", p[256];
	struct timespec old[2] = {{.tv_sec = 1000}, {.tv_sec = 1000}};
	static const char *const files[] = {
		"7/0123456789abcdef0123456789abcdef.wav",      /* old: deleted */
		"7/0123456789abcdef0123456789abcdef-vm1.wav",  /* old: deleted */
		"7/notes.txt",                                 /* old, not a recording */
		"8/0123456789abcdef0123456789abcdef.wav",      /* new */
		"x/0123456789abcdef0123456789abcdef.wav",      /* not an instance directory */
	};
	struct records_cleaner *c = NULL;
	unsigned n = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		int fd;

		snprintf(p, sizeof(p), "%s/%.1s", dir, files[i]);
		mkdir(p, 0700);
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		fd = open(p, O_CREAT | O_WRONLY, 0600);
		assert_true(fd >= 0);
		close(fd);
		if (files[i][0] != '8')
			assert_int_equal(utimensat(AT_FDCWD, p, old, 0), 0);
	}
	assert_int_equal(records_sweep(dir, 2000, &n), 0);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		assert_int_equal(access(p, F_OK) == 0, i >= 2);
	}
	assert_int_equal(records_sweep("/nonexistent-cccd", 2000, &n), ENOENT);
	/* No retention: no thread. With one, it starts and stops at once. */
	assert_int_equal(records_cleaner_alloc(&c, NULL, 7, dir, 0), 0);
	assert_null(c);
	assert_int_equal(records_cleaner_alloc(&c, NULL, 0, dir, 30), 0);
	assert_non_null(c);
	mem_deref(c);
	snprintf(p, sizeof(p), "rm -rf %s", dir);
	assert_int_equal(system(p), 0);
}

/* A skill group transfer: the first destination did not answer, the second did. The legs
 * are ServeParticipants; the queue and the skill group show in their fields; survey inputs
 * are PostIVRKeyPressed only. */
static void test_cdr_transfer(void **state)
{
	struct store_session *s = answered_session();
	struct store_key_press keys[2] = {
		{.key = "2", .label = "agent", .ts_ms = 1015000},
		{.key = "5", .label = "very satisfied", .ts_ms = 1069000, .post = true},
	};
	const struct records_leg legs[2] = {
		{.phone = "sip:1001@10.0.0.5", .type = "staffSeat", .skill_group_id = 12,
		 .start_ts = 1020, .ring_ts = 1020, .ended_ts = 1025, .end_status = "notAnswer"},
		{.phone = "7002", .type = "staffPhoneSeat", .skill_group_id = 12, .start_ts = 1025,
		 .ring_ts = 1026, .accept_ts = 1030, .ended_ts = 1060, .end_status = "ok",
		 .sequence = 1},
	};
	json_t *a = json_array(), *cdr, *p;
	char *text;

	(void)state;
	for (int i = 0; i < 2; i++)
		assert_int_equal(json_array_append_new(a, records_participant(&legs[i])), 0);
	mem_deref(s->participants);
	s->participants = NULL;
	text = json_dumps(a, 0);
	assert_int_equal(str_dup(&s->participants, text), 0);
	free(text);
	cdr = records_cdr(s, keys, 2, false);
	assert_non_null(cdr);
	p = json_array_get(json_object_get(cdr, "ServeParticipants"), 1);
	assert_string_equal(json_string_value(json_object_get(p, "Phone")), "7002");
	assert_string_equal(json_string_value(json_object_get(p, "Type")), "staffPhoneSeat");
	assert_string_equal(json_string_value(json_object_get(p, "EndStatusString")), "ok");
	assert_int_equal(json_integer_value(json_object_get(p, "AcceptTimestamp")), 1030);
	assert_int_equal(json_integer_value(json_object_get(p, "Sequence")), 1);
	assert_int_equal(json_integer_value(json_object_get(cdr, "SkillGroupId")), 12);
	assert_int_equal(json_integer_value(json_object_get(cdr, "QueuedSkillGroupId")), 12);
	assert_int_equal(json_integer_value(json_object_get(cdr, "QueuedTimestamp")), 1020);
	assert_int_equal(json_integer_value(json_object_get(cdr, "IVRDuration")), 10);
	assert_int_equal(json_integer_value(json_object_get(cdr, "Duration")), 60);
	assert_int_equal(json_array_size(json_object_get(cdr, "IVRKeyPressed")), 1);
	assert_int_equal(json_array_size(json_object_get(cdr, "IVRKeyPressedEx")), 1);
	p = json_array_get(json_object_get(cdr, "PostIVRKeyPressed"), 0);
	assert_string_equal(json_string_value(json_object_get(p, "Key")), "5");
	assert_string_equal(json_string_value(json_object_get(p, "Label")), "very satisfied");
	json_decref(cdr);

	/* an external line: no queue, no skill group; the IVR ends when the leg starts */
	mem_deref(s->participants);
	s->participants = NULL;
	assert_int_equal(str_dup(&s->participants, "[{\"Type\":\"outboundSeat\","
			 "\"StartTimestamp\":1040,\"AcceptTimestamp\":1045}]"), 0);
	cdr = records_cdr(s, keys, 1, false);
	assert_int_equal(json_integer_value(json_object_get(cdr, "QueuedTimestamp")), 0);
	assert_int_equal(json_integer_value(json_object_get(cdr, "SkillGroupId")), 0);
	assert_int_equal(json_integer_value(json_object_get(cdr, "IVRDuration")), 30);
	json_decref(cdr);

	/* something that is not an array is no legs */
	mem_deref(s->participants);
	s->participants = NULL;
	assert_int_equal(str_dup(&s->participants, "{"), 0);
	cdr = records_cdr(s, keys, 1, false);
	assert_int_equal(json_array_size(json_object_get(cdr, "ServeParticipants")), 0);
	json_decref(cdr);
	json_decref(a);
	mem_deref(s);
}

static void test_evidence_json(void **state)
{
	struct call_evidence e = {.call_id = "abc@host", .trunk = "carrier", .sip_code = 486,
				  .sip_reason = "486 Busy Here"};
	json_t *o, *q;

	(void)state;
	/* a call that never had media: no Quality */
	o = records_evidence(&e);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "CallId")), "abc@host");
	assert_string_equal(json_string_value(json_object_get(o, "Trunk")), "carrier");
	assert_int_equal(json_integer_value(json_object_get(o, "SipStatus")), 486);
	assert_string_equal(json_string_value(json_object_get(o, "SipReason")), "486 Busy Here");
	assert_string_equal(json_string_value(json_object_get(o, "RemoteMediaAddress")), "");
	assert_string_equal(json_string_value(json_object_get(o, "Transport")), "");
	assert_true(json_is_false(json_object_get(o, "Srtp")));
	assert_null(json_object_get(o, "Quality"));
	json_decref(o);

	e.sip_code = 200;
	strcpy(e.remote_media, "127.0.0.1:6000");
	strcpy(e.transport, "TLS");
	e.srtp = true;
	e.has_media = true;
	e.quality.sent = 100;
	e.quality.received = 90;
	e.quality.expected = 100;
	e.quality.lost = 10;
	e.quality.rx.loss_pct = 10;
	e.quality.rx.mos = 3.4123;
	o = records_evidence(&e);
	q = json_object_get(o, "Quality");
	assert_string_equal(json_string_value(json_object_get(o, "Transport")), "TLS");
	assert_true(json_is_true(json_object_get(o, "Srtp")));
	assert_true(json_is_object(q));
	assert_int_equal(json_integer_value(json_object_get(q, "PacketsLost")), 10);
	assert_true(fabs(json_real_value(json_object_get(json_object_get(q, "Received"), "Mos")) - 3.41) < 1e-9);
	assert_null(json_object_get(q, "PeerReport"));
	json_decref(o);
}

/* CccdEvidence.Amd: only for a call that answering-machine detection listened to. */
static void test_evidence_amd(void **state)
{
	struct call_evidence e = {.call_id = "abc@host", .sip_code = 200};
	struct records_amd amd = {.verdict = "machine", .decision_ms = 2540, .beep_ms = 14560,
				  .beep_hz = 1000};
	char *text;
	json_t *o, *a;

	(void)state;
	text = records_evidence_text_amd(&e, &amd);
	o = json_loads(text, 0, NULL);
	a = json_object_get(o, "Amd");
	assert_string_equal(json_string_value(json_object_get(o, "CallId")), "abc@host");
	assert_string_equal(json_string_value(json_object_get(a, "Verdict")), "machine");
	assert_int_equal(json_integer_value(json_object_get(a, "DecisionMs")), 2540);
	assert_int_equal(json_integer_value(json_object_get(a, "BeepMs")), 14560);
	assert_int_equal(json_integer_value(json_object_get(a, "BeepHz")), 1000);
	json_decref(o);
	free(text);

	text = records_evidence_text(&e);
	o = json_loads(text, 0, NULL);
	assert_non_null(o);
	assert_null(json_object_get(o, "Amd"));
	json_decref(o);
	free(text);
	assert_null(records_evidence_text_amd(NULL, &amd));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cdr_fields),
		cmocka_unit_test(test_cdr_transfer),
		cmocka_unit_test(test_evidence_json),
		cmocka_unit_test(test_evidence_amd),
		cmocka_unit_test(test_end_status_strings),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_links_apply),
		cmocka_unit_test(test_push_bodies),
		cmocka_unit_test(test_conf),
		cmocka_unit_test(test_sweep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
