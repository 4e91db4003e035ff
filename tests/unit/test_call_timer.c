/* Unit tests of the carrier-facing SIP headers: Session-Expires and Min-SE read and
 * negotiated (RFC 4028) both ways, Allow/Supported tokens, Reason (RFC 3326), tel: numbers,
 * and the [sip]/[trunk] keys that drive them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <re.h>
#include "conf/conf.h"
#include "call/call.h"
#include "call/call_int.h"

static struct sip_msg *decode(const char *text)
{
	struct mbuf *mb = mbuf_alloc(strlen(text) + 1);
	struct sip_msg *msg = NULL;

	assert_non_null(mb);
	mbuf_write_str(mb, text);
	mb->pos = 0;
	assert_int_equal(sip_msg_decode(&msg, mb), 0);
	mem_deref(mb);
	return msg;
}

/* An INVITE from a carrier with the given extra header lines ("" for none). */
static struct sip_msg *invite(const char *ruri, const char *hdrs)
{
	char text[1024];

	snprintf(text, sizeof(text),
		 "INVITE %s SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK1\r\n"
		 "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\n"
		 "CSeq: 1 INVITE\r\nMax-Forwards: 70\r\n%sContent-Length: 0\r\n\r\n", ruri, hdrs);
	return decode(text);
}

static int se_of(const char *v, uint32_t *se, enum call_refresher *ref)
{
	struct pl pl;

	pl_set_str(&pl, v);
	return call_se_decode(&pl, se, ref);
}

static void test_se_decode(void **state)
{
	enum call_refresher ref;
	uint32_t se;

	(void)state;
	assert_int_equal(se_of("1800", &se, &ref), 0);
	assert_int_equal(se, 1800);
	assert_int_equal(ref, CALL_REFRESHER_NONE);
	assert_int_equal(se_of("90;refresher=uac", &se, &ref), 0);
	assert_int_equal(se, 90);
	assert_int_equal(ref, CALL_REFRESHER_UAC);
	assert_int_equal(se_of(" 120 ; refresher=UAS;x=1", &se, &ref), 0);
	assert_int_equal(se, 120);
	assert_int_equal(ref, CALL_REFRESHER_UAS);
	assert_int_equal(se_of("0", &se, &ref), EINVAL);
	assert_int_equal(se_of("", &se, &ref), EINVAL);
	assert_int_equal(se_of("abc", &se, &ref), EINVAL);
	assert_int_equal(se_of("12a", &se, &ref), EINVAL);
	assert_int_equal(se_of("9999999999", &se, &ref), EINVAL);
	assert_int_equal(se_of("90;refresher=both", &se, &ref), EINVAL);
	assert_int_equal(call_se_decode(NULL, &se, &ref), EINVAL);
}

static void test_tokens_min_se(void **state)
{
	struct sip_msg *m = invite("sip:1@h", "Allow: INVITE, ACK,BYE , UPDATE\r\n"
				   "Supported: 100rel\r\nSupported: timer, replaces\r\n"
				   "Min-SE: 120\r\n");

	(void)state;
	assert_true(call_hdr_token(m, SIP_HDR_ALLOW, "UPDATE"));
	assert_true(call_hdr_token(m, SIP_HDR_ALLOW, "bye"));
	assert_false(call_hdr_token(m, SIP_HDR_ALLOW, "INFO"));
	assert_true(call_hdr_token(m, SIP_HDR_SUPPORTED, "timer"));
	assert_false(call_hdr_token(m, SIP_HDR_SUPPORTED, "time"));
	assert_false(call_hdr_token(m, SIP_HDR_REQUIRE, "timer"));
	assert_int_equal(call_min_se(m), 120);
	mem_deref(m);
	m = invite("sip:1@h", "Min-SE: lots\r\n");
	assert_int_equal(call_min_se(m), 0);
	mem_deref(m);
	assert_int_equal(call_min_se(NULL), 0);
}

static const char *reason_of(const char *hdr, char *out, size_t sz, int *err)
{
	struct sip_msg *m = invite("sip:1@h", hdr);

	*err = call_reason_text(m, out, sz);
	mem_deref(m);
	return out;
}

static void test_reason(void **state)
{
	char out[64];
	int err;

	(void)state;
	assert_string_equal(reason_of("Reason: Q.850;cause=16;text=\"Normal call clearing\"\r\n",
				      out, sizeof(out), &err), "Q.850 cause 16 (Normal call clearing)");
	assert_int_equal(err, 0);
	assert_string_equal(reason_of("Reason: SIP ;cause=487\r\n", out, sizeof(out), &err),
			    "SIP cause 487");
	assert_int_equal(err, 0);
	reason_of("Reason: Q.850;text=\"x\"\r\n", out, sizeof(out), &err);
	assert_int_equal(err, EINVAL);
	reason_of("Reason: Q.850;cause=1a\r\n", out, sizeof(out), &err);
	assert_int_equal(err, EINVAL);
	reason_of("Reason: Q.850;cause=16;text=\"unterminated\r\n", out, sizeof(out), &err);
	assert_int_equal(err, 0);
	assert_string_equal(out, "Q.850 cause 16");
	reason_of("", out, sizeof(out), &err);
	assert_int_equal(err, ENOENT);
	/* a long text is cut, never overrun */
	reason_of("Reason: Q.850;cause=16;text=\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\r\n", out, 20, &err);
	assert_int_equal(err, 0);
	assert_true(strlen(out) < 20);
}

static void test_tel_numbers(void **state)
{
	char num[CALL_NUMBER_MAX + 1];
	struct sip_msg *m;

	(void)state;
	m = invite("tel:+86-755-1234-5678", "");
	assert_int_equal(call_uri_number(&m->uri, num, sizeof(num)), 0);
	assert_string_equal(num, "+8675512345678");
	mem_deref(m);
	m = invite("tel:+8675512345678;phone-context=+86", "");
	assert_int_equal(call_uri_number(&m->uri, num, sizeof(num)), 0);
	assert_string_equal(num, "+8675512345678");
	mem_deref(m);
	m = invite("sip:+8675512345678@10.0.0.1;user=phone", "");
	assert_int_equal(call_uri_number(&m->uri, num, sizeof(num)), 0);
	assert_string_equal(num, "+8675512345678");
	mem_deref(m);
	m = invite("tel:abc", "");
	assert_int_equal(call_uri_number(&m->uri, num, sizeof(num)), EINVAL);
	mem_deref(m);
}

static void conf_of(const char *text, struct call_conf *cc)
{
	struct conf *cf = NULL;
	struct conf_err err = {0};

	assert_int_equal(conf_parse(&cf, text, strlen(text), &err), 0);
	assert_int_equal(call_conf_read(cf, cc, &err), 0);
	mem_deref(cf);
}

static int conf_err_of(const char *text, struct conf_err *err)
{
	struct conf *cf = NULL;
	struct call_conf cc;
	int rc = conf_parse(&cf, text, strlen(text), err);

	rc = rc ? rc : call_conf_read(cf, &cc, err);
	mem_deref(cf);
	return rc;
}

static void test_conf(void **state)
{
	struct call_conf cc;
	struct conf_err err = {0};

	(void)state;
	conf_of("[sip]\n", &cc);
	assert_int_equal(cc.session_expires, 1800);
	assert_int_equal(cc.min_se, 90);
	conf_of("[sip]\nsession_expires = 0\n[trunk a]\nhost = 1.2.3.4\nroute = *\n"
		"user_phone = yes\nanonymous = yes\n", &cc);
	assert_int_equal(cc.session_expires, 0);
	assert_true(cc.trunks[0].user_phone);
	assert_true(cc.trunks[0].anonymous);
	assert_true(cc.trunks[0].pai);
	assert_int_equal(conf_err_of("[sip]\nsession_expires = 60\n", &err), EINVAL);
	assert_non_null(strstr(err.msg, "at least min_se"));
	assert_int_equal(conf_err_of("[sip]\nmin_se = 1\n", &err), EINVAL);
	assert_int_equal(conf_err_of("[trunk a]\nhost = 1.2.3.4\nroute = *\nsend_pai = no\n"
				     "anonymous = yes\n", &err), EINVAL);
	assert_non_null(strstr(err.msg, "P-Asserted-Identity"));
}

static void test_negotiation(void **state)
{
	struct call_conf cc;
	struct call_timer t;
	struct sip_msg *m;
	char hdrs[300];

	(void)state;
	conf_of("[sip]\nsession_expires = 600\nmin_se = 90\n", &cc);

	/* below our Min-SE: 422 */
	call_timer_init(&t, NULL);
	m = invite("sip:1@h", "Supported: timer\r\nSession-Expires: 60\r\n");
	assert_int_equal(call_timer_offered(&t, &cc, m), EPROTO);
	mem_deref(m);

	/* a carrier asking 1800 with itself as refresher: shortened to ours, it refreshes */
	call_timer_init(&t, NULL);
	m = invite("sip:1@h", "Supported: timer\r\nSession-Expires: 1800;refresher=uac\r\n");
	assert_int_equal(call_timer_offered(&t, &cc, m), 0);
	assert_int_equal(t.se, 600);
	assert_false(t.we_refresh);
	call_timer_reply_hdrs(&t, false, hdrs, sizeof(hdrs));
	assert_non_null(strstr(hdrs, "Session-Expires: 600;refresher=uac\r\n"));
	assert_non_null(strstr(hdrs, "Require: timer\r\n"));
	assert_non_null(strstr(hdrs, "UPDATE"));
	mem_deref(m);

	/* no Session-Expires, no timer support: cccd adds its own and refreshes */
	call_timer_init(&t, NULL);
	m = invite("sip:1@h", "Allow: INVITE, ACK, BYE\r\n");
	assert_int_equal(call_timer_offered(&t, &cc, m), 0);
	assert_int_equal(t.se, 600);
	assert_true(t.we_refresh);
	assert_false(t.peer_update);
	call_timer_reply_hdrs(&t, false, hdrs, sizeof(hdrs));
	assert_non_null(strstr(hdrs, "Session-Expires: 600;refresher=uas\r\n"));
	assert_null(strstr(hdrs, "Require"));
	mem_deref(m);

	/* a caller without timer support cannot be the refresher, whatever it names */
	call_timer_init(&t, NULL);
	m = invite("sip:1@h", "Session-Expires: 300;refresher=uac\r\n");
	assert_int_equal(call_timer_offered(&t, &cc, m), 0);
	assert_int_equal(t.se, 300);
	assert_true(t.we_refresh);
	mem_deref(m);

	/* the caller's Min-SE raises our interval */
	call_timer_init(&t, NULL);
	m = invite("sip:1@h", "Supported: timer\r\nMin-SE: 900\r\n");
	assert_int_equal(call_timer_offered(&t, &cc, m), 0);
	assert_int_equal(t.se, 900);
	assert_false(t.we_refresh);
	mem_deref(m);

	/* our INVITE's headers, and again after a 422 asking 1200 */
	call_timer_invite_hdrs(&cc, 0, NULL, hdrs, sizeof(hdrs));
	assert_non_null(strstr(hdrs, "Session-Expires: 600\r\nMin-SE: 90\r\n"));
	call_timer_invite_hdrs(&cc, 1200, NULL, hdrs, sizeof(hdrs));
	assert_non_null(strstr(hdrs, "Session-Expires: 1200\r\nMin-SE: 1200\r\n"));
	cc.session_expires = 0;
	call_timer_invite_hdrs(&cc, 0, NULL, hdrs, sizeof(hdrs));
	assert_null(strstr(hdrs, "Session-Expires"));
	assert_non_null(strstr(hdrs, "Supported: timer\r\n"));
	/* one Supported line with every option tag (a trunk's 100rel): strict parsers read
	 * only the first (both once went out as two lines) */
	call_timer_invite_hdrs(&cc, 0, "100rel", hdrs, sizeof(hdrs));
	assert_non_null(strstr(hdrs, "Supported: timer, 100rel\r\n"));
	assert_null(strstr(strstr(hdrs, "Supported:") + 1, "Supported:"));
}

static struct sip_msg *answer(const char *hdrs)
{
	char text[1024];

	snprintf(text, sizeof(text),
		 "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK1\r\n"
		 "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\n"
		 "CSeq: 1 INVITE\r\n%sContent-Length: 0\r\n\r\n", hdrs);
	return decode(text);
}

static void test_answered(void **state)
{
	struct call_timer t;
	struct sip_msg *m;

	(void)state;
	call_timer_init(&t, NULL);
	m = answer("Session-Expires: 90;refresher=uas\r\nAllow: INVITE, UPDATE\r\n");
	call_timer_answered(&t, m);
	assert_int_equal(t.se, 90);
	assert_false(t.we_refresh);
	assert_true(t.peer_update);
	mem_deref(m);
	call_timer_init(&t, NULL);
	m = answer("Session-Expires: 90\r\n");
	call_timer_answered(&t, m);
	assert_true(t.we_refresh);
	mem_deref(m);
	call_timer_init(&t, NULL);
	m = answer("Session-Expires: never\r\n");
	call_timer_answered(&t, m);
	assert_int_equal(t.se, 0);
	mem_deref(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_se_decode),
		cmocka_unit_test(test_tokens_min_se),
		cmocka_unit_test(test_reason),
		cmocka_unit_test(test_tel_numbers),
		cmocka_unit_test(test_conf),
		cmocka_unit_test(test_negotiation),
		cmocka_unit_test(test_answered),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
