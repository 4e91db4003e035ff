/* counters: the fixed slots behind metrics.h and the families they are written as. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include "metrics/metrics.h"
#include "metrics/metrics_int.h"

enum {
	SIP_CODE_MIN = 100,
	SIP_CODES = 600,         /* 100..699 */
	API_BUCKETS = 13,
	COMMIT_BUCKETS = 11,
	GROUP_BUCKETS = 10,
};

typedef _Atomic uint64_t counter;

/* Upper bounds of the histograms' buckets, in the unit they are counted in (µs, jobs);
 * the +Inf bucket is the slot after the last. */
static const uint64_t api_bounds_us[API_BUCKETS] = {
	1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000,
	5000000, 10000000,
};
static const uint64_t commit_bounds_us[COMMIT_BUCKETS] = {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000,
};
static const uint64_t group_bounds[GROUP_BUCKETS] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};

struct hist {
	counter bucket[14];      /* the largest histogram's buckets and +Inf */
	counter sum;             /* in the counted unit */
};

static struct {
	const char *const *actions;
	unsigned n_actions;
	const char *(*code_name)(unsigned);
	unsigned n_codes;
	counter api[METRICS_API_ACTIONS][METRICS_API_CODES];
	struct hist api_latency[METRICS_API_ACTIONS];
	counter api_limited[METRICS_API_ACTIONS];
	counter sessions[METRICS_SESSION_STATES];
	counter dialq_depth, dialq_oldest_ms;
	_Atomic int64_t calls_active;
	counter ended[2][METRICS_END_STATUS];        /* [inbound][EndStatus] */
	counter sip_req[2][METRICS_SIP_METHODS];     /* [out][method] */
	counter sip_resp[2][METRICS_SIP_METHODS][SIP_CODES];
	counter invite_retrans[2];
	counter sip_malformed;
	counter libre_timers_wheel;
	counter push[2];                             /* [delivered] */
	counter push_pending, push_oldest_s;
	counter store_round_trips[2];                /* [reader] */
	struct hist commit, group;
} m;

/* The trunks' snapshot: written once a second by the loop, copied out by scrapes; each
 * holds the lock for one small copy. */
static pthread_mutex_t trunks_lock = PTHREAD_MUTEX_INITIALIZER;
static struct metrics_trunk trunks[METRICS_TRUNKS_MAX];
static unsigned n_trunks;

static const char *const sip_methods[METRICS_SIP_METHODS] = {
	"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "INFO", "PRACK", "UPDATE",
	"REFER", "NOTIFY", "SUBSCRIBE", "MESSAGE", "other",
};

static const char *const session_states[METRICS_SESSION_STATES] = {
	"handover", "queued", "dialling", "ringing", "answered",
};

static void add(counter *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static uint64_t get(counter *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static void set(counter *c, uint64_t v)
{
	atomic_store_explicit(c, v, memory_order_relaxed);
}

static void hist_add(struct hist *h, const uint64_t *bounds, unsigned n, uint64_t v)
{
	unsigned i = 0;

	while (i < n && v > bounds[i])
		i++;
	add(&h->bucket[i], 1);
	add(&h->sum, v);
}

void metrics_api_labels(const char *const *actions, unsigned n_actions,
			const char *(*code_name)(unsigned code), unsigned n_codes)
{
	m.actions = actions;
	m.n_actions = n_actions < METRICS_API_ACTIONS - 1 ? n_actions : METRICS_API_ACTIONS - 1;
	m.code_name = code_name;
	m.n_codes = n_codes < METRICS_API_CODES ? n_codes : METRICS_API_CODES;
}

unsigned metrics_api_unknown_action(void)
{
	return METRICS_API_ACTIONS - 1;
}

void metrics_api_request(unsigned action, unsigned code, uint64_t duration_us)
{
	if (action >= METRICS_API_ACTIONS)
		action = METRICS_API_ACTIONS - 1;
	if (code >= METRICS_API_CODES)
		code = METRICS_API_CODES - 1;
	add(&m.api[action][code], 1);
	hist_add(&m.api_latency[action], api_bounds_us, API_BUCKETS, duration_us);
}

void metrics_api_rate_limited(unsigned action)
{
	add(&m.api_limited[action < METRICS_API_ACTIONS ? action : METRICS_API_ACTIONS - 1], 1);
}

void metrics_sessions_set(enum metrics_session_state s, uint64_t n)
{
	if (s < METRICS_SESSION_STATES)
		set(&m.sessions[s], n);
}

void metrics_dial_queue_set(uint64_t depth, uint64_t oldest_wait_ms)
{
	set(&m.dialq_depth, depth);
	set(&m.dialq_oldest_ms, oldest_wait_ms);
}

void metrics_calls_active_add(int delta)
{
	atomic_fetch_add_explicit(&m.calls_active, delta, memory_order_relaxed);
}

void metrics_call_ended(int end_status, bool inbound)
{
	unsigned slot = end_status < 0 || end_status >= METRICS_END_STATUS - 1 ?
		METRICS_END_STATUS - 1 : (unsigned)end_status;

	add(&m.ended[inbound][slot], 1);
}

enum metrics_sip_method metrics_sip_method(const char *name, size_t len)
{
	for (unsigned i = 0; i < METRICS_SIP_OTHER; i++) {
		if (strlen(sip_methods[i]) == len && !memcmp(sip_methods[i], name, len))
			return (enum metrics_sip_method)i;
	}
	return METRICS_SIP_OTHER;
}

void metrics_sip_request(bool out, enum metrics_sip_method meth)
{
	add(&m.sip_req[out][meth < METRICS_SIP_METHODS ? meth : METRICS_SIP_OTHER], 1);
}

void metrics_sip_response(bool out, enum metrics_sip_method meth, unsigned code)
{
	if (code < SIP_CODE_MIN || code >= SIP_CODE_MIN + SIP_CODES)
		return;
	add(&m.sip_resp[out][meth < METRICS_SIP_METHODS ? meth : METRICS_SIP_OTHER]
		       [code - SIP_CODE_MIN], 1);
}

void metrics_sip_invite_retransmit(bool out)
{
	add(&m.invite_retrans[out], 1);
}

void metrics_trunks_set(const struct metrics_trunk *v, unsigned n)
{
	if (n > METRICS_TRUNKS_MAX)
		n = METRICS_TRUNKS_MAX;
	pthread_mutex_lock(&trunks_lock);
	memcpy(trunks, v, n * sizeof(*v));
	n_trunks = n;
	pthread_mutex_unlock(&trunks_lock);
}

void metrics_sip_malformed(void)
{
	add(&m.sip_malformed, 1);
}

void metrics_libre_timers_set(bool wheel)
{
	set(&m.libre_timers_wheel, wheel);
}

void metrics_push_result(bool delivered)
{
	add(&m.push[delivered], 1);
}

void metrics_push_queue_set(uint64_t pending, uint64_t oldest_age_s)
{
	set(&m.push_pending, pending);
	set(&m.push_oldest_s, oldest_age_s);
}

void metrics_store_commit(uint64_t duration_us, unsigned group_size, uint64_t round_trips)
{
	hist_add(&m.commit, commit_bounds_us, COMMIT_BUCKETS, duration_us);
	hist_add(&m.group, group_bounds, GROUP_BUCKETS, group_size);
	add(&m.store_round_trips[0], round_trips);
}

void metrics_store_read_round_trips(uint64_t round_trips)
{
	add(&m.store_round_trips[1], round_trips);
}

/* A histogram's lines: cumulative buckets, then _sum (scaled to base units) and _count,
 * the count being the +Inf bucket as read here, so the two always agree. */
static void hist_write(struct metrics_out *o, const char *name, const char *labels,
		       struct hist *h, const uint64_t *bounds, unsigned n, double scale)
{
	char lb[256], metric[128];
	uint64_t cum = 0;

	snprintf(metric, sizeof(metric), "%s_bucket", name);
	for (unsigned i = 0; i <= n; i++) {
		char le[32];

		cum += get(&h->bucket[i]);
		if (i < n)
			snprintf(le, sizeof(le), "%g", (double)bounds[i] * scale);
		else
			snprintf(le, sizeof(le), "+Inf");
		snprintf(lb, sizeof(lb), "%s%sle=\"%s\"", labels ? labels : "", labels ? "," : "",
			 le);
		metrics_sample(o, metric, lb, (double)cum);
	}
	snprintf(metric, sizeof(metric), "%s_sum", name);
	metrics_sample(o, metric, labels, (double)get(&h->sum) * scale);
	snprintf(metric, sizeof(metric), "%s_count", name);
	metrics_sample(o, metric, labels, (double)cum);
}

static const char *action_label(unsigned a)
{
	return a < m.n_actions ? m.actions[a] : "unknown";
}

static bool action_used(unsigned a)
{
	return a < m.n_actions || a == METRICS_API_ACTIONS - 1;
}

static void api_write(struct metrics_out *o)
{
	char lb[256];

	metrics_family(o, "cccd_api_requests_total", "counter",
		       "API requests answered, by action and error code (OK: no error).");
	for (unsigned a = 0; a < METRICS_API_ACTIONS; a++) {
		for (unsigned c = 0; action_used(a) && c < METRICS_API_CODES; c++) {
			uint64_t v = get(&m.api[a][c]);
			const char *code = m.code_name && c < m.n_codes ? m.code_name(c) : "";

			if (!v)
				continue;
			snprintf(lb, sizeof(lb), "action=\"%s\",code=\"%s\"", action_label(a),
				 c == 0 ? "OK" : code[0] ? code : "InternalError");
			metrics_sample(o, "cccd_api_requests_total", lb, (double)v);
		}
	}
	metrics_family(o, "cccd_api_request_duration_seconds", "histogram",
		       "Time from a request's arrival to its answer, by action.");
	for (unsigned a = 0; a < METRICS_API_ACTIONS; a++) {
		if (!action_used(a))
			continue;
		snprintf(lb, sizeof(lb), "action=\"%s\"", action_label(a));
		hist_write(o, "cccd_api_request_duration_seconds", lb, &m.api_latency[a],
			   api_bounds_us, API_BUCKETS, 1e-6);
	}
	metrics_family(o, "cccd_api_rate_limited_total", "counter",
		       "API requests refused by the rate limit (RequestLimitExceeded), by action.");
	for (unsigned a = 0; a < METRICS_API_ACTIONS; a++) {
		if (!action_used(a))
			continue;
		snprintf(lb, sizeof(lb), "action=\"%s\"", action_label(a));
		metrics_sample(o, "cccd_api_rate_limited_total", lb, (double)get(&m.api_limited[a]));
	}
}

static void session_write(struct metrics_out *o)
{
	char lb[128];

	metrics_family(o, "cccd_sessions", "gauge",
		       "Live sessions by state (published by the control loop once a second).");
	for (unsigned s = 0; s < METRICS_SESSION_STATES; s++) {
		snprintf(lb, sizeof(lb), "state=\"%s\"", session_states[s]);
		metrics_sample(o, "cccd_sessions", lb, (double)get(&m.sessions[s]));
	}
	metrics_family(o, "cccd_dial_queue_depth", "gauge",
		       "Sessions waiting in the dial queue for a trunk's room.");
	metrics_sample(o, "cccd_dial_queue_depth", NULL, (double)get(&m.dialq_depth));
	metrics_family(o, "cccd_dial_queue_oldest_wait_seconds", "gauge",
		       "How long the oldest session in the dial queue has waited.");
	metrics_sample(o, "cccd_dial_queue_oldest_wait_seconds", NULL,
		       (double)get(&m.dialq_oldest_ms) / 1000);
	metrics_family(o, "cccd_calls_active", "gauge",
		       "SIP calls (dialogs cccd is a party to) alive now, transfer legs included.");
	metrics_sample(o, "cccd_calls_active", NULL,
		       (double)atomic_load_explicit(&m.calls_active, memory_order_relaxed));
	metrics_family(o, "cccd_calls_ended_total", "counter",
		       "Sessions ended, by EndStatus (255: any above 254) and direction.");
	for (unsigned d = 0; d < 2; d++) {
		for (unsigned s = 0; s < METRICS_END_STATUS; s++) {
			uint64_t v = get(&m.ended[d][s]);

			if (!v)
				continue;
			snprintf(lb, sizeof(lb), "end_status=\"%u\",direction=\"%s\"", s,
				 d ? "inbound" : "outbound");
			metrics_sample(o, "cccd_calls_ended_total", lb, (double)v);
		}
	}
}

static void sip_write(struct metrics_out *o)
{
	char lb[128];

	metrics_family(o, "cccd_sip_requests_total", "counter",
		       "SIP requests sent (out) and received (in), retransmissions included.");
	for (unsigned d = 0; d < 2; d++) {
		for (unsigned i = 0; i < METRICS_SIP_METHODS; i++) {
			uint64_t v = get(&m.sip_req[d][i]);

			if (!v)
				continue;
			snprintf(lb, sizeof(lb), "method=\"%s\",direction=\"%s\"", sip_methods[i],
				 d ? "out" : "in");
			metrics_sample(o, "cccd_sip_requests_total", lb, (double)v);
		}
	}
	metrics_family(o, "cccd_sip_responses_total", "counter",
		       "SIP responses sent (out) and received (in), by the CSeq's method and "
		       "status code.");
	for (unsigned d = 0; d < 2; d++) {
		for (unsigned i = 0; i < METRICS_SIP_METHODS; i++) {
			for (unsigned c = 0; c < SIP_CODES; c++) {
				uint64_t v = get(&m.sip_resp[d][i][c]);

				if (!v)
					continue;
				snprintf(lb, sizeof(lb), "method=\"%s\",code=\"%u\","
					 "direction=\"%s\"", sip_methods[i], c + SIP_CODE_MIN,
					 d ? "out" : "in");
				metrics_sample(o, "cccd_sip_responses_total", lb, (double)v);
			}
		}
	}
	metrics_family(o, "cccd_sip_invite_retransmissions_total", "counter",
		       "INVITEs sent again (out: no answer yet from the peer) or received again "
		       "(in: the peer did not hear cccd's answer).");
	metrics_sample(o, "cccd_sip_invite_retransmissions_total", "direction=\"in\"",
		       (double)get(&m.invite_retrans[0]));
	metrics_sample(o, "cccd_sip_invite_retransmissions_total", "direction=\"out\"",
		       (double)get(&m.invite_retrans[1]));
	metrics_family(o, "cccd_sip_malformed_total", "counter",
		       "Malformed SIP messages refused before parsing (not in the counts above).");
	metrics_sample(o, "cccd_sip_malformed_total", NULL, (double)get(&m.sip_malformed));
	metrics_family(o, "cccd_libre_timers_wheel", "gauge",
		       "1: libre's own timers wait on the control loop's timer wheel; 0: on "
		       "libre's sorted list.");
	metrics_sample(o, "cccd_libre_timers_wheel", NULL, (double)get(&m.libre_timers_wheel));
}

static void push_store_write(struct metrics_out *o)
{
	metrics_family(o, "cccd_push_deliveries_total", "counter",
		       "Data pushes the customer's receiver accepted.");
	metrics_sample(o, "cccd_push_deliveries_total", NULL, (double)get(&m.push[1]));
	metrics_family(o, "cccd_push_failures_total", "counter",
		       "Data push attempts that failed (each retry counts).");
	metrics_sample(o, "cccd_push_failures_total", NULL, (double)get(&m.push[0]));
	metrics_family(o, "cccd_push_queue_depth", "gauge",
		       "Outbox rows not yet delivered (read by the push thread, at most once a "
		       "second).");
	metrics_sample(o, "cccd_push_queue_depth", NULL, (double)get(&m.push_pending));
	metrics_family(o, "cccd_push_queue_oldest_age_seconds", "gauge",
		       "Age of the oldest outbox row not yet delivered (0: none).");
	metrics_sample(o, "cccd_push_queue_oldest_age_seconds", NULL,
		       (double)get(&m.push_oldest_s));
	metrics_family(o, "cccd_store_commit_duration_seconds", "histogram",
		       "Time the store's writer took to run and commit one group of writes.");
	hist_write(o, "cccd_store_commit_duration_seconds", NULL, &m.commit, commit_bounds_us,
		   COMMIT_BUCKETS, 1e-6);
	metrics_family(o, "cccd_store_commit_group_size", "histogram",
		       "Writes committed together in one transaction (group commit).");
	hist_write(o, "cccd_store_commit_group_size", NULL, &m.group, group_bounds,
		   GROUP_BUCKETS, 1);
	metrics_family(o, "cccd_store_round_trips_total", "counter",
		       "Round trips to the database server (PostgreSQL; none on SQLite, "
		       "in-process), by the writer and by the read connections.");
	metrics_sample(o, "cccd_store_round_trips_total", "connection=\"writer\"",
		       (double)get(&m.store_round_trips[0]));
	metrics_sample(o, "cccd_store_round_trips_total", "connection=\"reader\"",
		       (double)get(&m.store_round_trips[1]));
}

static void trunks_write(struct metrics_out *o)
{
	struct metrics_trunk v[METRICS_TRUNKS_MAX];
	char lb[200], name[140];
	unsigned n;

	pthread_mutex_lock(&trunks_lock);
	n = n_trunks;
	memcpy(v, trunks, n * sizeof(*v));
	pthread_mutex_unlock(&trunks_lock);
	metrics_family(o, "cccd_trunk_up", "gauge",
		       "1 while the trunk is usable, 0 while it is known down (OPTIONS or "
		       "registration failing) or a 503's Retry-After runs.");
	for (unsigned i = 0; i < n; i++) {
		metrics_label_escape(name, sizeof(name), v[i].name);
		snprintf(lb, sizeof(lb), "trunk=\"%s\"", name);
		metrics_sample(o, "cccd_trunk_up", lb, v[i].up);
	}
}

void metrics_counters_write(struct metrics_out *o)
{
	trunks_write(o);
	api_write(o);
	session_write(o);
	sip_write(o);
	push_store_write(o);
}
