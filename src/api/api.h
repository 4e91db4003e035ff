/* api: the Tencent Cloud API 3.0 front — an HTTP listener (libmicrohttpd, its own thread
 * pool) that authenticates requests (TC3-HMAC-SHA256, v1 HmacSHA1/HmacSHA256), limits
 * their rate, validates their parameters and runs the ccc actions against the store.
 *
 * Every answer is HTTP 200 with a JSON envelope {"Response":{...,"RequestId"}}; errors
 * carry TCCC's codes (docs/api-compatibility.md). Requests are handled on the API threads,
 * never on the control loop: a CreateIVRSession blocks its thread until the session is
 * durable, then hands it over through the session handler. */
#ifndef CCCD_API_H
#define CCCD_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "httptls/httptls.h"
#include "zonemap/zonemap.h"

struct api;
struct policy_data;
struct store;
struct store_session;
struct tenant;
struct conf;
struct conf_err;

/* [tasks] zone_prefix lines at most. */
enum { API_TASK_ZONES_MAX = 1024 };

/* [api] section; every key is documented in docs/configuration.md. */
struct api_conf {
	char listen_host[64];
	uint16_t listen_port;      /* listen = 127.0.0.1:8080 */
	unsigned threads;          /* threads = 4: HTTP worker threads */
	unsigned rate_limit;       /* rate_limit = 20: req/s per account+action; 0 = off */
	unsigned max_connections;  /* max_connections = 1024: open connections at most */
	unsigned timeout;          /* timeout = 30: seconds a connection may stay idle */
	unsigned replay_cache;     /* replay_cache = 1000000: v1 signatures remembered; 0 = off */
	struct http_tls_conf tls;  /* tls_cert, tls_key: HTTPS (httptls.h) */
	/* UploadIvrAudio: address classes its fetches may reach besides public ones
	 * (upload_allow_loopback, upload_allow_private: FETCH_ALLOW_* of fetch.h), and the
	 * time one request may spend fetching, all its files together (upload_timeout = 20 s). */
	unsigned upload_allow;
	unsigned upload_timeout_ms;
	/* [tasks]: the auto-callout scheduler (docs/tasks.md) */
	unsigned task_tick_ms;     /* tick_ms = 1000: how often it looks for due callees */
	unsigned task_max_calls;   /* max_calls = 100: concurrent task calls per instance */
	unsigned task_calls_per_s; /* calls_per_second = 10: new task calls per instance */
	unsigned task_test_retry_s; /* test_retry_interval = 0: TEST ONLY, replaces every new
				      task's RetryInterval (s); 0 = the task's own */
	/* zone_prefix = PREFIX ZONE, repeatable: the callees' own zones (zonemap.h), as
	 * checked (prefix "00...", a zone this server has), in file order. */
	struct api_task_zone {
		char prefix[ZONEMAP_PREFIX_MAX];
		char zone[ZONEMAP_ZONE_MAX];
	} task_zones[API_TASK_ZONES_MAX];
	unsigned task_zones_n;
	char node_id[64];          /* [cluster] node_id, written into claims (set by the
				      caller, not read here) */
};

int api_conf_read(const struct conf *cf, struct api_conf *ac, struct conf_err *err);

/* What the API asks of the rest of cccd, from its own threads (so: thread-safe). */
struct records_links;

struct api_hooks {
	/* A new session is durable: hand it to the control loop. s is the row as committed
	 * (the chosen caller included); the hook takes over the reference. record: the
	 * instance records its calls (as read by this request, so the loop never reads it). */
	void (*session_created)(struct store_session *s, bool record, void *arg);
	/* HangUpCall: ask the control loop to hang up a live session. */
	int (*session_hangup)(const char *session_id, uint64_t sdkappid, void *arg);
	/* Some trunk that is not known to be down can carry a call to this number. */
	bool (*route_ok)(const char *callee, void *arg);
	void *arg;
	/* System-wide calling-rule data (location tables, global blacklist); may be NULL. */
	const struct policy_data *policy;
	/* Recording links: DescribeTelCdr makes them, GET /records/... serves their files.
	 * NULL: no recordings are served and records show none. Not owned. */
	const struct records_links *links;
	/* How flows put through the admin API are validated, as the sessions load them:
	 * prompt files resolve under prompt_dir (NULL = the working folder). */
	const char *prompt_dir;
	bool allow_plain_http;
	/* Some trunk that carries this number takes a UUI (its `uui` is not refuse), or
	 * none carries it at all (the trunk check answers then). NULL: always. */
	bool (*uui_ok)(const char *callee, void *arg);
	/* How many nodes serve the API (cluster.h: live leases; NULL: one). A per-node limit
	 * is the action's limit shared among them (core.c, action_limit). */
	unsigned (*nodes_live)(void *arg);
};

/* ---- the command line's view of the actions (help.c) --------------------------------
 * Every answer is read from the action's parameter table, the one api_validate checks
 * requests against: the help, the man page and the API cannot disagree. */
struct json_t;

/* Whether cccd serves the action `name`. */
bool api_action_served(const char *name);
/* `ccc help ACTION`: its parameters, types, required or not and limits. ENOENT: no such
 * action. */
int api_help_action(FILE *out, const char *action);
/* One line per served action: name and summary. */
void api_help_actions(FILE *out);
/* The ACTIONS part and the rest of ccc(1), in roff. */
void api_help_man(FILE *out);
/* The JSON value of the command-line parameter `--name text` of action, typed by its
 * table: arrays and objects parsed as JSON, integers and booleans converted, other text a
 * string. ENOENT: no such action; EINVAL: no such parameter or not JSON (why says). */
int api_param_json(const char *action, const char *name, const char *text,
		   struct json_t **vp, char *why, size_t wsz);

/* Starts listening; st and t are not owned and must outlive the api object; hooks is
 * copied. mem_deref stops the listener (waiting for requests in progress). */
int api_start(struct api **ap, const struct api_conf *ac, struct store *st,
	      struct tenant *t, const struct api_hooks *hooks);

#endif
