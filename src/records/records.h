/* records: TCCC's call record (TelCdrInfo) as JSON, built from the store's rows — the one
 * builder behind DescribeTelCdr and the CDR data push, so both always agree. */
#ifndef CCCD_RECORDS_H
#define CCCD_RECORDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store_session;
struct store_key_press;

/* EndStatus → EndStatusString (TCCC's enumeration); "" for an unknown code. */
const char *records_end_status_string(int end_status);

/* One leg of a transfer as TCCC's ServeParticipant (docs/flows.md, "Transfers in the
 * records"). Types: "outboundSeat" for an external line, "staffPhoneSeat" for a skill
 * group destination reached by number, "staffSeat" for one reached by SIP URI. */
struct records_leg {
	const char *phone;          /* the number or SIP URI called */
	const char *type;
	uint64_t skill_group_id;    /* 0 for an external line */
	int64_t start_ts, ring_ts, accept_ts, ended_ts;  /* Unix s, 0 = did not happen */
	const char *end_status;     /* the leg's EndStatusString: "ok" if it was answered */
	unsigned sequence;          /* 0-based order of the legs */
};
json_t *records_participant(const struct records_leg *leg);

/* The TelCdrInfo object of a finished (or any) session, every field with its JSON type.
 * Inputs with `post` set are the post-call survey's (PostIVRKeyPressed). The transfer
 * fields come from s->participants (ServeParticipants): SkillGroupId and
 * QueuedSkillGroupId, QueuedTimestamp (a skill group's first leg started) and IVRDuration
 * (up to the queue, or to the start of the leg that answered).
 * with_sdkappid adds `SdkAppId` (the push body). NULL on ENOMEM. */
json_t *records_cdr(const struct store_session *s, const struct store_key_press *keys,
		    size_t n_keys, bool with_sdkappid);

#endif
