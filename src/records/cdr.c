/* cdr: the TelCdrInfo object of a session, with TCCC's field names, types and semantics
 * (records-and-push.md §2 for an IVR-only session). */
#include <string.h>
#include <jansson.h>
#include "records/records.h"
#include "store/store.h"

/* EndStatus ↔ EndStatusString, as TCCC publishes them (ccc-actions.md §11). */
static const struct {
	int code;
	const char *name;
} end_statuses[] = {
	{0, "error"}, {1, "ok"}, {2, "unconnected"}, {17, "seatGiveUp"}, {100, "blackList"},
	{102, "ivrGiveUp"}, {103, "waitingGiveUp"}, {104, "ringingGiveUp"},
	{105, "noSeatOnline"}, {106, "notWorkTime"}, {107, "ivrEnd"},
	{108, "restrictedCallee"}, {109, "tooManyRequest"}, {110, "restrictedArea"},
	{111, "restrictedTime"}, {201, "unknown"}, {202, "notAnswer"}, {203, "userReject"},
	{204, "powerOff"}, {205, "numberNotExist"}, {206, "busy"}, {207, "outOfCredit"},
	{208, "operatorError"}, {209, "callerCancel"}, {210, "notInService"},
	{211, "clientError"}, {212, "carrierBlocked"}, {213, "callReminder"},
	{215, "numberInvalid"}, {216, "callRestricted"}, {217, "calleeRestricted"},
	{218, "areaRestricted"}, {219, "promptCallForwarding"}, {220, "callerCancelWhileRing"},
	{221, "callerCancelWithoutRing"}, {222, "voiceMailReached"}, {225, "asrError"},
	{226, "llmasrError"}, {227, "ttsError"}, {228, "functionCallHangup"},
	{229, "maxCallDurationReached"}, {230, "userInactivity"}, {231, "callTerminatedByAPI"},
	{232, "userHangupDuringAiCall"}, {233, "aiAgentEndCall"}, {501, "callConflict"},
	{502, "clientTimeout"}, {503, "voipClientError"},
};

const char *records_end_status_string(int end_status)
{
	for (size_t i = 0; i < sizeof(end_statuses) / sizeof(end_statuses[0]); i++) {
		if (end_statuses[i].code == end_status)
			return end_statuses[i].name;
	}
	return "";
}

static json_t *key_presses(const struct store_key_press *keys, size_t n, bool ex, bool post)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++) {
		const struct store_key_press *k = &keys[i];
		json_t *v;

		if (k->post != post)
			continue;
		v = ex ? json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}", "Key", k->key,
					   "Label", k->label, "Timestamp", (json_int_t)k->ts_ms,
					   "NodeLabel", k->node_label, "OriginalContent", k->original,
					   "TTSPrompt", k->tts_prompt)
			       : json_string(k->key);

		if (!v || json_array_append_new(a, v)) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* The stored voicemail list (a JSON array of file names); [] when absent or unreadable. */
static json_t *voicemails(const char *stored)
{
	json_t *a = stored ? json_loads(stored, 0, NULL) : NULL;
	json_t *v;
	size_t i;

	if (!json_is_array(a)) {
		json_decref(a);
		return json_array();
	}
	json_array_foreach(a, i, v) {
		if (!json_is_string(v)) {
			json_decref(a);
			return json_array();
		}
	}
	return a;
}

json_t *records_participant(const struct records_leg *l)
{
	json_t *p = json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s}",
			      "Mail", "", "Phone", l->phone ? l->phone : "",
			      "RingTimestamp", (json_int_t)l->ring_ts,
			      "AcceptTimestamp", (json_int_t)l->accept_ts,
			      "EndedTimestamp", (json_int_t)l->ended_ts, "RecordId", "",
			      "Type", l->type ? l->type : "", "TransferFrom", "",
			      "TransferFromType", "", "TransferTo", "", "TransferToType", "");

	if (p && (json_object_update_new(p, json_pack(
		    "{s:I, s:s, s:s, s:I, s:I, s:s, s:s}",
		    "SkillGroupId", (json_int_t)l->skill_group_id,
		    "EndStatusString", l->end_status ? l->end_status : "", "RecordURL", "",
		    "Sequence", (json_int_t)l->sequence, "StartTimestamp", (json_int_t)l->start_ts,
		    "SkillGroupName", "", "CustomRecordURL", "")) ||
	    (l->evidence && json_object_set_new(p, "CccdEvidence", records_evidence(l->evidence))))) {
		json_decref(p);
		return NULL;
	}
	return p;
}

/* The first leg's evidence as stored (an object); {} when none was kept (a session that
 * never had a call, or one finished before cccd kept evidence). */
static json_t *evidence(const char *text)
{
	json_t *o = text ? json_loads(text, 0, NULL) : NULL;

	if (json_is_object(o))
		return o;
	json_decref(o);
	return json_object();
}

/* What the CDR derives from the legs. */
struct transfer_view {
	json_int_t queued_ts, connected_start, skill_group, queued_group;
};

static json_t *participants(const struct store_session *s, struct transfer_view *v)
{
	json_t *a = s->participants ? json_loads(s->participants, 0, NULL) : NULL;
	json_t *leg;
	size_t i;

	memset(v, 0, sizeof(*v));
	if (!json_is_array(a)) { /* "[]" when none; anything else was never written by us */
		json_decref(a);
		return json_array();
	}
	json_array_foreach(a, i, leg) {
		const char *type = json_string_value(json_object_get(leg, "Type"));
		json_int_t start = json_integer_value(json_object_get(leg, "StartTimestamp"));
		json_int_t group = json_integer_value(json_object_get(leg, "SkillGroupId"));
		bool answered = json_integer_value(json_object_get(leg, "AcceptTimestamp")) > 0;
		bool queued = type && strcmp(type, "outboundSeat");

		if (queued && !v->queued_ts) {
			v->queued_ts = start;
			v->queued_group = group;
		}
		if (answered && !v->connected_start) {
			v->connected_start = start;
			v->skill_group = queued ? group : 0;
		}
	}
	return a;
}

json_t *records_cdr(const struct store_session *s, const struct store_key_press *keys,
		    size_t n_keys, bool with_sdkappid)
{
	json_int_t accept = s->accept_ts, ended = s->ended_ts;
	json_int_t duration = accept && ended >= accept ? ended - accept : 0;
	json_int_t ivr_duration = duration;
	struct transfer_view tv;
	json_t *cdr, *seat, *legs;

	seat = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:[], s:I, s:s}", "Name", "", "Mail", "",
			 "StaffNumber", "", "Phone", "", "Nick", "", "UserId", "",
			 "SkillGroupNameList", "Role", (json_int_t)0, "ExtensionNumber", "");
	if (!seat)
		return NULL;
	legs = participants(s, &tv);
	if (!legs) {
		json_decref(seat);
		return NULL;
	}
	/* The IVR stage ends when the call is queued for a skill group or, for an external
	 * line, when the leg that answered started ringing. */
	if (accept && (tv.queued_ts || tv.connected_start)) {
		json_int_t end = tv.queued_ts ? tv.queued_ts : tv.connected_start;

		ivr_duration = end >= accept ? end - accept : 0;
	}
	cdr = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:s, s:s, s:o, s:I, s:s, s:s, s:I}",
			"Caller", s->caller, "Callee", s->callee, "Time", (json_int_t)s->start_ts,
			"Direction", (json_int_t)s->direction,
			"CallType", (json_int_t)(s->direction ? 1 : 2), "Duration", duration,
			"RecordURL", s->record_url, "RecordId", s->record_id, "SeatUser", seat,
			"EndStatus", (json_int_t)s->end_status, "SkillGroup", "",
			"CallerLocation", "", "IVRDuration", ivr_duration);
	if (!cdr) {
		json_decref(legs);
		return NULL;
	}
	if (json_object_update_new(cdr, json_pack(
		    "{s:I, s:I, s:I, s:o, s:s, s:o, s:I, s:s, s:I, s:I, s:o, s:I, s:s}",
		    "RingTimestamp", (json_int_t)s->ring_ts, "AcceptTimestamp", accept,
		    "EndedTimestamp", ended,
		    "IVRKeyPressed", key_presses(keys, n_keys, false, false),
		    "HungUpSide", s->hungup_side, "ServeParticipants", legs,
		    "SkillGroupId", tv.skill_group,
		    "EndStatusString", records_end_status_string(s->end_status),
		    "StartTimestamp", (json_int_t)s->start_ts, "QueuedTimestamp", tv.queued_ts,
		    "PostIVRKeyPressed", key_presses(keys, n_keys, true, true),
		    "QueuedSkillGroupId", tv.queued_group,
		    "SessionId", s->id)) ||
	    json_object_update_new(cdr, json_pack(
		    "{s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:s, s:s, s:s, s:o, s:[], s:I, s:s, s:I, s:s}",
		    "ProtectedCaller", "", "ProtectedCallee", "", "Uui", s->uui, "UUI", s->uui,
		    "IVRKeyPressedEx", key_presses(keys, n_keys, true, false), "AsrUrl", "",
		    "AsrStatus", "NotExists", "CustomRecordURL", "", "Remark", "",
		    "QueuedSkillGroupName", "", "VoicemailRecordURL", voicemails(s->voicemail_urls),
		    "VoicemailAsrURL",
		    "AIAgentId", (json_int_t)0, "AIAgentName", "",
		    "SysHangupReason", (json_int_t)0, "SysHangupReasonString", ""))) {
		json_decref(cdr);
		return NULL;
	}
	if (json_object_set_new(cdr, "CccdEvidence", evidence(s->evidence)) ||
	    (with_sdkappid &&
	     json_object_set_new(cdr, "SdkAppId", json_integer((json_int_t)s->sdkappid)))) {
		json_decref(cdr);
		return NULL;
	}
	return cdr;
}

char *records_record_push(uint64_t sdkappid, const char *session_id, const char *record_id,
			  int64_t ts, const char *endpoint, const char *file)
{
	json_t *o = json_pack("{s:I, s:s, s:s, s:I, s:s, s:s, s:s}",
			      "SdkAppId", (json_int_t)sdkappid, "RecordId", record_id,
			      "SessionId", session_id, "Timestamp", (json_int_t)ts,
			      "EndpointUser", endpoint, "RecordURL", file, "CustomRecordURL", "");
	char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return body;
}

char *records_voicemail_push(uint64_t sdkappid, const char *session_id, int64_t ts,
			     const char *endpoint, const char *file)
{
	json_t *o = json_pack("{s:I, s:s, s:I, s:s, s:s}", "SdkAppId", (json_int_t)sdkappid,
			      "SessionId", session_id, "Timestamp", (json_int_t)ts,
			      "RecordURL", file, "EndpointUser", endpoint);
	char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return body;
}
