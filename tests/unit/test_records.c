/* Unit tests of the TelCdrInfo builder: every field, its JSON type and its value. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <re_types.h>
#include <re_mem.h>
#include <re_fmt.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cdr_fields),
		cmocka_unit_test(test_cdr_transfer),
		cmocka_unit_test(test_end_status_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
