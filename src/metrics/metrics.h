/* metrics: cccd's counters, gauges and histograms, and their Prometheus text exposition.
 *
 * Every value lives in a fixed slot — an array indexed by an action id, an error code id,
 * a SIP method, an EndStatus — and is a C11 atomic moved with relaxed order, so counting
 * costs the hot path one uncontended atomic add: no lock, no lookup, no allocation. The
 * label text of a slot is looked up only when /metrics is scraped. Relaxed order is
 * enough: each value is a count on its own, and a scrape that reads one a moment before
 * another only shows two figures a moment apart.
 *
 * Values a module keeps in its own atomics (the media workers' packet counts, the trunks'
 * health) are not copied here: the module registers a collector that writes them when a
 * scrape asks, on the scrape's thread, reading atomics only. Anything the control loop
 * owns is published by the loop into gauges here at a low rate (once a second), so a
 * scrape never waits on the loop. docs/operations.md lists every metric. */
#ifndef CCCD_METRICS_H
#define CCCD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	METRICS_API_ACTIONS = 48,   /* action ids; the last slot is "unknown" */
	METRICS_API_CODES = 48,     /* api_code values; 0 = OK */
	METRICS_END_STATUS = 256,   /* EndStatus 0..254; 255 collects anything above */
};

/* API requests. The api module names its actions and codes once, before serving
 * (the arrays must outlive the scrapes: static tables). */
void metrics_api_labels(const char *const *actions, unsigned n_actions,
			const char *(*code_name)(unsigned code), unsigned n_codes);
unsigned metrics_api_unknown_action(void);
void metrics_api_request(unsigned action, unsigned code, uint64_t duration_us);
void metrics_api_rate_limited(unsigned action);

/* Sessions by state and calls: gauges the control loop sets once a second. */
enum metrics_session_state {
	METRICS_SESSION_HANDOVER = 0,  /* committed, on its way to the control loop */
	METRICS_SESSION_QUEUED,        /* in the dial queue */
	METRICS_SESSION_DIALLING,      /* INVITE out, no 18x yet */
	METRICS_SESSION_RINGING,
	METRICS_SESSION_ANSWERED,
	METRICS_SESSION_STATES
};
void metrics_sessions_set(enum metrics_session_state s, uint64_t n);
void metrics_dial_queue_set(uint64_t depth, uint64_t oldest_wait_ms);
void metrics_calls_active_add(int delta);
void metrics_call_ended(int end_status, bool inbound);

/* SIP messages, counted by the control loop as libre sends and receives them. */
enum metrics_sip_method {
	METRICS_SIP_INVITE = 0, METRICS_SIP_ACK, METRICS_SIP_BYE, METRICS_SIP_CANCEL,
	METRICS_SIP_OPTIONS, METRICS_SIP_REGISTER, METRICS_SIP_INFO, METRICS_SIP_PRACK,
	METRICS_SIP_UPDATE, METRICS_SIP_REFER, METRICS_SIP_NOTIFY, METRICS_SIP_SUBSCRIBE,
	METRICS_SIP_MESSAGE, METRICS_SIP_OTHER,
	METRICS_SIP_METHODS
};
enum metrics_sip_method metrics_sip_method(const char *name, size_t len);
void metrics_sip_request(bool out, enum metrics_sip_method m);
void metrics_sip_response(bool out, enum metrics_sip_method m, unsigned code);
void metrics_sip_invite_retransmit(bool out);
/* A malformed message refused before libre's parser (call/screen.c): not in the above. */
void metrics_sip_malformed(void);
/* Where libre's own timers wait (wheel/libre_tmr.c): set once at start. */
void metrics_libre_timers_set(bool wheel);

/* Trunks: the control loop publishes their names and health once a second (a trunk
 * reload may rename them, so the scrape never reads the loop's table). */
enum { METRICS_TRUNKS_MAX = 16 };
struct metrics_trunk {
	char name[64];
	bool up;          /* usable: not known down, no 503 Retry-After running */
};
void metrics_trunks_set(const struct metrics_trunk *v, unsigned n);

/* Push and store. */
void metrics_push_result(bool delivered);
void metrics_push_queue_set(uint64_t pending, uint64_t oldest_age_s);
/* A group committed: its time, its writes, the writer's round trips to the server. */
void metrics_store_commit(uint64_t duration_us, unsigned group_size, uint64_t round_trips);
/* A read connection's round trips since it was last handed back to the pool. */
void metrics_store_read_round_trips(uint64_t round_trips);

/* The scrape. A collector writes whole families (metrics_family, then its samples) from
 * values it reads without waiting: atomics or data fixed before serving. */
struct metrics_out;
struct metrics_collector;
typedef void (metrics_collect_h)(struct metrics_out *o, void *arg);

void metrics_family(struct metrics_out *o, const char *name, const char *type,
		    const char *help);
/* One sample; labels is the text between the braces ("trunk=\"a\"") or NULL. Label
 * values a collector passes must be escaped with metrics_label_escape. */
void metrics_sample(struct metrics_out *o, const char *name, const char *labels,
		    double value);
void metrics_label_escape(char *out, size_t size, const char *value);

/* Registers h until the returned object is released (mem_deref); called before the admin
 * listener starts or while it runs (a lock guards the list, taken by scrapes only). */
int metrics_collector_add(struct metrics_collector **cp, metrics_collect_h *h, void *arg);

/* The whole exposition (format 0.0.4) as a NUL-terminated malloc'd string: *textp
 * (free it), its length in *lenp. Runs on the scrape's thread. */
int metrics_render(char **textp, size_t *lenp);

#endif
