/* records: TCCC's call record (TelCdrInfo) as JSON, built from the store's rows — the one
 * builder behind DescribeTelCdr and the CDR data push, so both always agree — and the
 * recordings it points to: their files, the expiring signed links that serve them, the
 * recording and voicemail push bodies, and their retention. */
#ifndef CCCD_RECORDS_H
#define CCCD_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conf;
struct conf_err;
struct json_t; /* jansson's json_t (not included here: it clashes with libre's re.h) */
struct store_session;
struct store_key_press;
struct call_evidence;

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
	const struct call_evidence *evidence; /* the leg's CccdEvidence, NULL = none */
};
struct json_t *records_participant(const struct records_leg *leg);

/* A leg's CccdEvidence object (evidence.c; docs/api-compatibility.md): Call-ID, trunk,
 * final SIP status and reason, remote media address, and its media quality when it had
 * media. NULL for lack of memory. _text: the same as compact JSON text (free()). */
struct json_t *records_evidence(const struct call_evidence *e);
char *records_evidence_text(const struct call_evidence *e);

/* What answering-machine detection found on a call, for CccdEvidence.Amd. */
struct records_amd {
	const char *verdict;        /* "human" "machine" "unsure", "pending" if none came */
	uint32_t decision_ms;       /* the callee's audio heard at the verdict; 0 = none */
	uint32_t beep_ms, beep_hz;  /* the beep's end and frequency; 0 = no beep heard */
};
/* records_evidence_text with an `Amd` object added when amd is not NULL. */
char *records_evidence_text_amd(const struct call_evidence *e, const struct records_amd *amd);

/* The TelCdrInfo object of a finished (or any) session, every field with its JSON type.
 * Inputs with `post` set are the post-call survey's (PostIVRKeyPressed). The transfer
 * fields come from s->participants (ServeParticipants): SkillGroupId and
 * QueuedSkillGroupId, QueuedTimestamp (a skill group's first leg started) and IVRDuration
 * (up to the queue, or to the start of the leg that answered).
 * with_sdkappid adds `SdkAppId` (the push body). RecordURL and VoicemailRecordURL hold the
 * recording FILES (relative, as stored): records_links_apply turns them into links when
 * the record is read or sent. NULL on ENOMEM. */
struct json_t *records_cdr(const struct store_session *s, const struct store_key_press *keys,
		    size_t n_keys, bool with_sdkappid);

/* The recording push (action "record", records-and-push.md §3.5) and the voicemail push
 * (action "voicemail", §3.6) of a session: JSON text owned by the caller (free()), with
 * the file in RecordURL (linked when sent); NULL on ENOMEM. endpoint is the recorded
 * party's number. */
char *records_record_push(uint64_t sdkappid, const char *session_id, const char *record_id,
			  int64_t ts, const char *endpoint, const char *file);
char *records_voicemail_push(uint64_t sdkappid, const char *session_id, int64_t ts,
			     const char *endpoint, const char *file);

/* ---- [records]: links and retention ------------------------------------------------ */

enum {
	RECORDS_URL_BASE_MAX = 256,
	RECORDS_KEY_LEN = 32,
	RECORDS_VOICEMAIL_MAX = 999,   /* voicemails of one session */
};

struct records_conf {
	char public_url[RECORDS_URL_BASE_MAX]; /* base of links; "" = http://[api] listen */
	uint32_t link_ttl_s;         /* a link works this long after it is made */
	uint32_t retention_days;     /* recordings older than this are deleted; 0 = kept */
	uint32_t sip_trace_days;     /* SIP messages of calls kept this long; 0 = not kept */
	uint32_t sip_trace_bytes;    /* at most this many bytes of them per call */
};

int records_conf_read(const struct conf *cf, struct records_conf *rc, struct conf_err *err);

/* Recording files, relative to recording_dir: "<SdkAppId>/<SessionId>.wav" for the call,
 * "<SdkAppId>/<SessionId>-vm<n>.wav" for its n-th voicemail (1..RECORDS_VOICEMAIL_MAX).
 * EINVAL for a session id that is not 32 lower-case hex digits, ENOSPC if sz is short. */
int records_file_call(char *buf, size_t sz, uint64_t sdkappid, const char *session_id);
int records_file_voicemail(char *buf, size_t sz, uint64_t sdkappid, const char *session_id,
			   unsigned n);
/* A file of that form, in the directory of `sdkappid`. */
bool records_file_ok(const char *file, uint64_t sdkappid);
bool records_session_id_ok(const char *id);

/* The link maker and checker: immutable once made, so any thread may use it. Owned by
 * whoever made it (cccd main), released after every user stopped. base_url is where the
 * API listener is reached from outside; dir is recording_dir; key signs the links. */
struct records_links;
int records_links_alloc(struct records_links **lp, const char *base_url, uint32_t ttl_s,
			const char *dir, const uint8_t key[RECORDS_KEY_LEN]);
const char *records_links_dir(const struct records_links *l);

/* <base>/records/<file>?Expires=<now_s + ttl>&Signature=<hex HMAC-SHA256>; EINVAL when
 * file is not a recording file, ENOSPC when out is short. */
int records_link(const struct records_links *l, const char *file, int64_t now_s, char *out,
		 size_t sz);

/* Turns the recording files of a TelCdrInfo or push object (RecordURL,
 * VoicemailRecordURL[]) into links made now; other values stay. With l NULL (no API to
 * serve them) the fields are emptied instead. */
int records_links_apply(const struct records_links *l, struct json_t *obj, int64_t now_s);
/* The same on JSON text: *outp is a new string (free()). EINVAL if body is not a JSON
 * object. */
int records_links_body(const struct records_links *l, const char *body, int64_t now_s,
		       char **outp);

/* A download request: the path ("/records/<SdkAppId>/<name>", no query) and the Expires
 * and Signature parameters (NULL when absent). NOT_FOUND: the path names no recording;
 * FORBIDDEN: the signature is missing, wrong or expired; OK: abs gets the file's path
 * (which may still not exist). */
enum records_access { RECORDS_OK = 0, RECORDS_NOT_FOUND, RECORDS_FORBIDDEN };
enum records_access records_link_check(const struct records_links *l, const char *path,
				       const char *expires, const char *sig, int64_t now_s,
				       char *abs, size_t sz);

/* Deletes the recordings (files of the records_file_* form) under dir whose last change is
 * before `before_s` (Unix s); *countp gets how many. Blocking (disk). */
int records_sweep(const char *dir, int64_t before_s, unsigned *countp);

/* Deletes a deleted session's recording files (store_erased_session: the call's file and
 * the JSON array of its voicemails', relative to dir; names not of the records_file_* form
 * of that instance are left alone); *countp is increased by how many went. Blocking. */
int records_session_files_delete(const char *dir, uint64_t sdkappid, const char *record_file,
				 const char *voicemail_files, unsigned *countp);

/* A thread that, at start and then every hour, deletes what is past its retention
 * period. Without st: recordings older than retention_days (records_sweep). With st:
 * per instance, with the instance's own period (0 = kept for ever) or else
 * retention_days, its recordings by age and its finished sessions with every row about
 * them and their recording files (store_sessions_expire, in small batches); and the SIP
 * traces older than sip_trace_days (store_sip_trace_purge). No thread without st and
 * retention_days. mem_deref stops it at once, even mid-wait. */
struct records_cleaner;
struct store;
int records_cleaner_alloc(struct records_cleaner **cp, struct store *st, uint32_t sip_trace_days,
			  const char *dir,
			  uint32_t retention_days);

#endif
