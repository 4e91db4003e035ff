/* ivr: IVR flow documents (parse, validate) and the event-driven flow interpreter.
 *
 * A flow is one JSON document per IVR (docs/flows.md). ivr_flow_load() parses and validates
 * it completely — every error names its node and field, and all of them are reported — and
 * returns an immutable, reference-counted flow that any number of runs share.
 *
 * A run interprets a flow for one call on the control loop (libre re_main thread). It never
 * blocks: it asks for I/O through an operations table (commands out) and is told about
 * completions through the ivr_on_* functions (completions in). HTTP nodes run on a libcurl
 * multi handle driven by the libre loop (fd_listen + a wheel timer). */
#ifndef CCCD_IVR_H
#define CCCD_IVR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ivr_flow;
struct ivr_run;

struct asr;
struct asr_conf;

/* ---- flow documents ----------------------------------------------------------- */

enum ivr_flow_type {
	IVR_FLOW_INBOUND = 1,      /* "inbound" */
	IVR_FLOW_AUTO_OUTBOUND = 2, /* "autoOutbound" */
	IVR_FLOW_SURVEY = 3,       /* "survey": inputs go to PostIVRKeyPressed */
};

/* A prompt uploaded with UploadIvrAudio, by id (file_id ≠ 0) or by alias (custom_name,
 * the newest file of that name): its path relative to the prompt folder into path.
 * ENOENT when the instance has no such file. Blocking (the store). */
typedef int (ivr_audio_h)(uint64_t file_id, const char *custom_name, char *path, size_t sz,
			  void *arg);

struct ivr_flow_opts {
	const char *prompt_dir;  /* prompt files (relative paths, no "..") live here; NULL = cwd */
	bool allow_plain_http;   /* http nodes may use http:// to any host (else https://, or
				  * http:// to 127.0.0.0/8, [::1] and localhost only) */
	ivr_audio_h *audio;      /* NULL: prompts may not name uploaded files */
	void *audio_arg;
	const struct asr_conf *asr; /* local speech nodes' phrases are checked against this
				     * engine's dictionary; NULL = the default engine and model */
};

/* One validation finding. `node` is the node id ("" for the document itself), `field`
 * the JSON path inside it ("params.keys.1.next"). */
struct ivr_issue {
	char node[64];
	char field[96];
	char msg[256];
};

/* All the findings of one load, in document order. Owner: the caller (mem_deref). */
struct ivr_diag {
	size_t n;
	bool truncated;          /* more than IVR_DIAG_MAX findings; the rest were dropped */
	struct ivr_issue v[];
};

#define IVR_DIAG_MAX 256

/* Parses and validates a flow document. Blocking (disk): prompt files are opened with
 * libsndfile and time zones are loaded, so call it when a flow is saved or loaded, never on
 * the control loop during calls. Returns 0 and *flowp, or EINVAL with every finding in
 * *diagp (when diagp is not NULL; then the caller mem_derefs it), or ENOMEM. A flow with
 * any finding is refused whole. The flow is reference-counted (mem_ref/mem_deref). */
int ivr_flow_load(struct ivr_flow **flowp, const char *json, size_t len,
		  const struct ivr_flow_opts *opts, struct ivr_diag **diagp);

enum ivr_flow_type ivr_flow_type(const struct ivr_flow *flow);
const char *ivr_flow_type_name(enum ivr_flow_type type);
const char *ivr_flow_name(const struct ivr_flow *flow);
uint64_t ivr_flow_id(const struct ivr_flow *flow);
size_t ivr_flow_node_count(const struct ivr_flow *flow);
/* The flow asks for its calls to be recorded ("record": true). */
bool ivr_flow_records(const struct ivr_flow *flow);
/* The flow asks for answering-machine detection on its calls ("amd": {"enabled": true});
 * a call's CccdAmd variable overrides it (the session decides: docs/flows.md §2). */
bool ivr_flow_amd(const struct ivr_flow *flow);

/* Post-call surveys: the survey IVRs the flow's transfer nodes name (surveyIvrId), each
 * once, into ids (at most max; returns how many there are). Their flows are loaded by the
 * owner, off the control loop, and attached to this flow, so that a call that reaches a
 * transfer has its survey at hand: attach takes a reference (EINVAL unless `survey` is a
 * survey flow and `ivr_id` is one the flow names); ivr_flow_survey gives it back, or NULL
 * when it was not attached (it did not load). */
enum { IVR_SURVEYS_MAX = 8 }; /* the most distinct survey IVRs one flow may name */
size_t ivr_flow_survey_ids(const struct ivr_flow *flow, uint64_t *ids, size_t max);
int ivr_flow_survey_attach(struct ivr_flow *flow, uint64_t ivr_id, struct ivr_flow *survey);
struct ivr_flow *ivr_flow_survey(const struct ivr_flow *flow, uint64_t ivr_id);

/* True when the flow has a speech node with "engine": "local" (it needs the recogniser's
 * threads, ivr_run_opts.asr). */
bool ivr_flow_local_speech(const struct ivr_flow *flow);

/* True when the flow has an AI/speech node: each of its sessions takes one of the
 * instance's AI channels while live (docs/callout-rules.md, AI licences). A local speech
 * node ("engine": "local") is not AI: a grammar recogniser on the machine is not the
 * cloud recogniser the licences count (docs/speech.md). */
bool ivr_flow_uses_ai(const struct ivr_flow *flow);

/* The same for a stored document without validating it (the API's admission, where the
 * document was validated when it was saved): one JSON parse, no disk. EINVAL if the text is
 * not a JSON object. */
int ivr_doc_uses_ai(const char *json, size_t len, bool *aip);

/* Every audio file the flow may play (absolute paths, validated at load; a file used twice
 * is reported twice), so that its owner can decode them before any call needs them. */
typedef int (ivr_prompt_file_h)(const char *path, void *arg);
int ivr_flow_prompt_files(const struct ivr_flow *flow, ivr_prompt_file_h *h, void *arg);

/* ---- what a run asks for --------------------------------------------------------- */

/* A prompt to play: an audio file (prompt_dir + name, validated as a WAV at load) or text to
 * synthesise (templates already filled). Valid only during the ops call: copy what is kept. */
struct ivr_prompt {
	const char *file;        /* NULL for text */
	const char *text;        /* NULL for a file */
	const char *lang;        /* "en" unless the flow says otherwise */
};

enum ivr_transfer_kind {
	IVR_TRANSFER_EXTERNAL = 1, /* an outside number */
	IVR_TRANSFER_SKILL_GROUP,  /* a skill group: its destinations are tried in order */
	IVR_TRANSFER_AGENT,        /* one agent */
};

struct ivr_transfer {
	enum ivr_transfer_kind kind;
	const char *number;        /* EXTERNAL: the number (template filled); AGENT: agent */
	const char *caller;        /* EXTERNAL: caller id for the new leg; "" = the call's */
	uint64_t skill_group_id;   /* SKILL_GROUP */
	const char *const *destinations; /* SKILL_GROUP: SIP URIs or numbers, in order */
	size_t n_destinations;
	unsigned ring_timeout_s;   /* per destination */
	unsigned max_wait_s;       /* SKILL_GROUP: whole queue wait */
	const struct ivr_prompt *hold; /* hold music / queue prompt while ringing; may be NULL */
	uint64_t survey_ivr_id;    /* the survey IVR run when the transfer leg ends; 0 = none */
};

struct ivr_record {
	unsigned max_len_s;        /* the run stops the recording after this long */
	char end_key;              /* the run stops it on this key; 0 = none */
	bool beep;                 /* play a beep before recording */
	const char *node_id;       /* for the file name */
	bool speech;               /* a speech node's answer for the recogniser (not a
				    * voicemail): mono 8 kHz WAV of the caller's audio */
	unsigned silence_ms;       /* speech: the caller's silence that ends the answer; the
				    * answer's WAV comes back with ivr_on_record_done */
};

/* How the run ended the call; becomes the CDR's EndStatus / HungUpSide. */
struct ivr_end {
	int end_status;            /* 1 ok, 107 ivrEnd, 106 notWorkTime, 0 error ... */
	const char *end_status_string;
	const char *hungup_side;   /* always "system" (the IVR hung up) */
	const char *reason;        /* cccd's words for operators, e.g. "hangup node n7" */
};

/* One accepted input, as TCCC's IVRKeyPressedElement. */
struct ivr_key_press {
	const char *key;           /* the key, or the collected digits without terminator */
	const char *label;         /* the label configured for the key ("" if none) */
	int64_t ts_ms;             /* Unix ms of the (last) key */
	const char *node_label;    /* the node's label, else its id */
	const char *original;      /* the raw input, terminator included */
	const char *tts_prompt;    /* the prompt text played before the input */
	bool post;                 /* a survey flow: PostIVRKeyPressed */
};

/* The operations a run needs. Each command returns at once (0 or an errno value); its
 * completion comes back later, never from inside the command, through the ivr_on_* call
 * named next to it. `key`, `path` and `input` may be NULL. */
struct ivr_ops {
	int  (*play)(void *arg, const struct ivr_prompt *p, unsigned loops, bool barge_in,
		     uint32_t *play_id);                        /* → ivr_on_play_done */
	void (*stop)(void *arg);                                /* → ivr_on_play_done(stopped) */
	int  (*transfer)(void *arg, const struct ivr_transfer *t); /* → ivr_on_transfer_result;
								    * EACCES: every number refused
								    * by the destination allow-list */
	int  (*record)(void *arg, const struct ivr_record *r);  /* → ivr_on_record_done (for
								 * speech, with the answer's
								 * WAV once it is closed) */
	void (*record_stop)(void *arg);                         /* → ivr_on_record_done */
	void (*hangup)(void *arg, const struct ivr_end *end);   /* the run is finished */
	void (*key)(void *arg, const struct ivr_key_press *kp); /* an accepted input */
	void (*path)(void *arg, const char *node_id, const char *label, const char *result,
		     int64_t ts_ms);                            /* a node left, and how */
	void (*input)(void *arg, const char *node_id);          /* the run now waits for keys */
};

/* ---- runs ---------------------------------------------------------------------------- */

/* What the run knows about its call: the system variables and the request's Variables. */
struct ivr_call_info {
	const char *caller;        /* SystemCallerNumber */
	const char *callee;        /* SystemCalleeNumber */
	const char *session_id;    /* SystemSessionId */
	uint64_t sdkappid;         /* SystemSdkAppId */
	int64_t start_ts;          /* SystemStartTime, Unix s */
	const char *uui;           /* SystemUUI */
	int64_t ring_ts;           /* Unix s of the first ring, 0 = none */
	int64_t accept_ts;         /* Unix s of the answer; SystemCallRingDuration = accept −
				    * ring, SystemCallAcceptDuration = now − accept */
	const char *variables;     /* JSON array [{"Key","Value"}] as stored; NULL = none */
	bool amd;                  /* answering-machine detection runs on the call: its
				    * verdict comes through ivr_on_amd */
};

struct ivr_run_opts {
	unsigned speed;            /* divides the caller-side timers (input timeouts, recording
				    * length, the call duration guard); 0 or 1 = real time. For
				    * the simulator. HTTP timeouts are never scaled. */
	struct asr *asr;           /* the local recogniser for "engine": "local" speech nodes
				    * (not owned; outlives the run); NULL: they leave by onFail */
};

/* A run of `flow` for one call; takes a reference to the flow. EINVAL if `variables` is
 * not a JSON array of {"Key","Value"} strings. The run is owned by the caller (mem_deref
 * cancels everything it has under way without calling any op). */
int ivr_run_alloc(struct ivr_run **runp, struct ivr_flow *flow, const struct ivr_call_info *ci,
		  const struct ivr_ops *ops, void *arg, const struct ivr_run_opts *opts);

/* Enters the start node. */
int ivr_run_start(struct ivr_run *run);

/* Answers an HTTP node whose rendered URL is exactly `url` with `status` and `body`
 * instead of calling it (the simulator's --http-stub). */
int ivr_run_http_stub(struct ivr_run *run, const char *url, int status, const char *body);

/* Completions and events, on the control loop. */
void ivr_on_digit(struct ivr_run *run, char key, int64_t ts_ms);
void ivr_on_play_done(struct ivr_run *run, uint32_t play_id, bool stopped);
void ivr_on_transfer_result(struct ivr_run *run, bool connected, const char *why);
/* The recording is closed (err: it could not be written or read back). For a speech node,
 * wav is the answer's WAV file as a mem object (wav_len bytes) that the run takes a
 * reference to and POSTs to the recogniser; NULL with err 0 means no audio (the
 * simulator: the recogniser gets an empty body). Other recordings pass NULL. */
void ivr_on_record_done(struct ivr_run *run, int err, uint8_t *wav, size_t wav_len);
void ivr_on_hangup(struct ivr_run *run);  /* the caller hung up */

/* Answering-machine detection (ivr_call_info.amd; docs/flows.md §Answering-machine
 * detection). The verdict, once: an amd node waiting for it branches, a later one branches
 * at once; without an amd node in the flow, MACHINE hangs up at once (EndStatus 222)
 * unless the flow says "onMachine": "continue". Otherwise a verdict interrupts nothing.
 * The beep, once: a waitBeep node waiting for it goes on, a later one at once. */
enum ivr_amd { IVR_AMD_PENDING = 0, IVR_AMD_HUMAN, IVR_AMD_MACHINE, IVR_AMD_UNSURE };
void ivr_on_amd(struct ivr_run *run, enum ivr_amd verdict);
void ivr_on_beep(struct ivr_run *run);
/* "human" "machine" "unsure", "pending" for IVR_AMD_PENDING. */
const char *ivr_amd_name(enum ivr_amd v);
/* True once the run took a machine branch (an amd node's machine exit, or the onMachine
 * hang-up): the call then ends because a machine answered, whoever hangs up (222). */
bool ivr_run_machine(const struct ivr_run *run);

/* True once the run has hung up, transferred the call, or seen the caller hang up. */
bool ivr_run_finished(const struct ivr_run *run);

/* The value of a variable now ("" if unset; system variables included). */
const char *ivr_run_var(struct ivr_run *run, const char *name);

/* The run's variables as a JSON array of {"Key","Value"}, sorted by name; the caller frees
 * it with free(). NULL on ENOMEM. */
char *ivr_run_vars_json(const struct ivr_run *run);

#endif
