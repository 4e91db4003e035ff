/* Unit tests of the metrics: a counted request, its histogram and code appear in the
 * exposition with the names the api gave its slots; histograms are cumulative and their
 * _count is their +Inf bucket; a collector's families appear while it is registered and
 * not after; label values are escaped; SIP messages are counted by method and code (a
 * response by its CSeq's method) and a repeated INVITE branch is a retransmission. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <re.h>
#include "call/call.h"
#include "call/call_int.h"
#include "metrics/metrics.h"

static const char *const actions[] = {"Alpha", "Beta"};

static const char *code_name(unsigned c)
{
	static const char *const names[] = {"", "Bad.Thing", "Worse"};

	return c < 3 ? names[c] : "";
}

static char *render(void)
{
	char *text = NULL;
	size_t len = 0;

	assert_int_equal(metrics_render(&text, &len), 0);
	assert_int_equal(strlen(text), len);
	assert_true(len > 0 && text[len - 1] == '\n');
	return text;
}

/* The value of the series written exactly as `series` ("name{labels}"), or -1. */
static double value_of(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (!strncmp(p, series, n) && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	}
	return -1;
}

static void test_api_slots(void **state)
{
	char *t;

	(void)state;
	metrics_api_labels(actions, 2, code_name, 3);
	metrics_api_request(0, 0, 1500);        /* Alpha OK, 1.5 ms */
	metrics_api_request(0, 0, 20000);       /* Alpha OK, 20 ms */
	metrics_api_request(1, 1, 100);         /* Beta Bad.Thing */
	metrics_api_request(metrics_api_unknown_action(), 2, 100);
	metrics_api_rate_limited(1);
	t = render();
	assert_true(value_of(t, "cccd_api_requests_total{action=\"Alpha\",code=\"OK\"}") == 2);
	assert_true(value_of(t, "cccd_api_requests_total{action=\"Beta\",code=\"Bad.Thing\"}") == 1);
	assert_true(value_of(t, "cccd_api_requests_total{action=\"unknown\",code=\"Worse\"}") == 1);
	assert_true(value_of(t, "cccd_api_request_duration_seconds_bucket{action=\"Alpha\",le=\"0.001\"}") == 0);
	assert_true(value_of(t, "cccd_api_request_duration_seconds_bucket{action=\"Alpha\",le=\"0.0025\"}") == 1);
	assert_true(value_of(t, "cccd_api_request_duration_seconds_bucket{action=\"Alpha\",le=\"0.025\"}") == 2);
	assert_true(value_of(t, "cccd_api_request_duration_seconds_bucket{action=\"Alpha\",le=\"+Inf\"}") == 2);
	assert_true(value_of(t, "cccd_api_request_duration_seconds_count{action=\"Alpha\"}") == 2);
	assert_true(value_of(t, "cccd_api_request_duration_seconds_sum{action=\"Alpha\"}") > 0.0214);
	assert_true(value_of(t, "cccd_api_rate_limited_total{action=\"Beta\"}") == 1);
	assert_non_null(strstr(t, "# TYPE cccd_api_request_duration_seconds histogram\n"));
	free(t);
}

static void collect(struct metrics_out *o, void *arg)
{
	char lb[64], v[32];

	metrics_label_escape(v, sizeof(v), arg);
	snprintf(lb, sizeof(lb), "name=\"%s\"", v);
	metrics_family(o, "test_thing", "gauge", "A test gauge.");
	metrics_sample(o, "test_thing", lb, 0.5);
}

static void test_collector(void **state)
{
	struct metrics_collector *c = NULL;
	char *t;

	(void)state;
	assert_int_equal(metrics_collector_add(&c, collect, "a\"b\\c\nd"), 0);
	t = render();
	assert_true(value_of(t, "test_thing{name=\"a\\\"b\\\\c\\nd\"}") == 0.5);
	free(t);
	mem_deref(c);
	t = render();
	assert_null(strstr(t, "test_thing"));
	free(t);
}

static void test_sip_counting(void **state)
{
	static const char invite[] =
		"INVITE sip:1@127.0.0.1 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 127.0.0.1:5060;rport;branch=z9hG4bKabc123\r\n"
		"CSeq: 1 INVITE\r\n\r\n";
	static const char invite2[] =
		"INVITE sip:1@127.0.0.1 SIP/2.0\r\n"
		"v: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKother\r\n"
		"CSeq: 1 INVITE\r\n\r\n";
	static const char ringing[] =
		"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKabc123\r\n"
		"CSeq: 1 INVITE\r\n\r\n";
	static const char bye_ok[] = "SIP/2.0 200 OK\r\ncseq:   2   BYE  \r\n\r\n";
	char *t;

	(void)state;
	call_count_msg(true, (const uint8_t *)invite, strlen(invite));
	call_count_msg(true, (const uint8_t *)invite, strlen(invite));  /* Timer A */
	call_count_msg(true, (const uint8_t *)invite2, strlen(invite2));
	call_count_msg(false, (const uint8_t *)invite, strlen(invite));  /* other direction */
	call_count_msg(false, (const uint8_t *)ringing, strlen(ringing));
	call_count_msg(false, (const uint8_t *)bye_ok, strlen(bye_ok));
	t = render();
	assert_true(value_of(t, "cccd_sip_requests_total{method=\"INVITE\",direction=\"out\"}") == 3);
	assert_true(value_of(t, "cccd_sip_requests_total{method=\"INVITE\",direction=\"in\"}") == 1);
	assert_true(value_of(t, "cccd_sip_invite_retransmissions_total{direction=\"out\"}") == 1);
	assert_true(value_of(t, "cccd_sip_invite_retransmissions_total{direction=\"in\"}") == 0);
	assert_true(value_of(t, "cccd_sip_responses_total{method=\"INVITE\",code=\"180\",direction=\"in\"}") == 1);
	assert_true(value_of(t, "cccd_sip_responses_total{method=\"BYE\",code=\"200\",direction=\"in\"}") == 1);
	free(t);
}

static void test_calls_and_trunks(void **state)
{
	struct metrics_trunk tr[2] = {{"up\"one", true}, {"down", false}};
	char *t;

	(void)state;
	metrics_call_ended(1, false);
	metrics_call_ended(1, false);
	metrics_call_ended(102, true);
	metrics_call_ended(9999, true);
	metrics_trunks_set(tr, 2);
	t = render();
	assert_true(value_of(t, "cccd_calls_ended_total{end_status=\"1\",direction=\"outbound\"}") == 2);
	assert_true(value_of(t, "cccd_calls_ended_total{end_status=\"102\",direction=\"inbound\"}") == 1);
	assert_true(value_of(t, "cccd_calls_ended_total{end_status=\"255\",direction=\"inbound\"}") == 1);
	assert_true(value_of(t, "cccd_trunk_up{trunk=\"up\\\"one\"}") == 1);
	assert_true(value_of(t, "cccd_trunk_up{trunk=\"down\"}") == 0);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_api_slots),
		cmocka_unit_test(test_collector),
		cmocka_unit_test(test_sip_counting),
		cmocka_unit_test(test_calls_and_trunks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
