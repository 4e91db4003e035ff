/* call/frame.c: the raw SIP checks, one case per fault they name, and the stateless answer
 * built from a raw request. Bugs pinned: a datagram whose Content-Length exceeded it (9999)
 * or was negative was taken whole as the body; two Content-Length headers, <> around the
 * Request-URI, headers in it and broken addresses were accepted; SIP/7.0 was not answered. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <re.h>
#include "call/call_int.h"

#define HDRS \
	"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n" \
	"From: <sip:a@example.com>;tag=1\r\n" \
	"To: <sip:b@example.com>\r\n" \
	"Call-ID: frame-test\r\n" \
	"CSeq: 1 OPTIONS\r\n" \
	"Max-Forwards: 70\r\n"

static struct call_frame judge(const char *msg, bool datagram)
{
	struct call_frame f;

	assert_int_equal(call_frame_check(msg, strlen(msg), datagram, &f), 0);
	return f;
}

static void refused(const char *msg, bool datagram, uint16_t scode, const char *reason)
{
	struct call_frame f = judge(msg, datagram);

	assert_int_equal(f.scode, scode);
	assert_string_equal(f.reason, reason);
}

static void test_sound(void **state)
{
	const char *m = "OPTIONS sip:b@example.com SIP/2.0\r\n" HDRS
			"Content-Length: 4\r\n\r\nabcdNOISE";
	struct call_frame f = judge(m, true);

	(void)state;
	assert_int_equal(f.scode, 0);
	assert_true(f.req);
	assert_int_equal(f.body_len, 4); /* what follows the body is discarded (RFC 3261 §18.3) */
	assert_int_equal(f.hdr_len, strlen(m) - strlen("abcdNOISE"));
	/* without Content-Length a datagram's body is the rest of it */
	f = judge("OPTIONS sip:b@example.com SIP/2.0\r\n" HDRS "\r\nxy", true);
	assert_int_equal(f.scode, 0);
	assert_int_equal(f.body_len, 2);
}

static void test_content_length(void **state)
{
	(void)state;
	refused("OPTIONS sip:b@example.com SIP/2.0\r\n" HDRS "Content-Length: 9999\r\n\r\nab",
		true, 400, "Content-Length Larger Than Datagram");
	refused("OPTIONS sip:b@example.com SIP/2.0\r\n" HDRS "Content-Length: -2\r\n\r\nab",
		true, 400, "Negative Content-Length");
	refused("OPTIONS sip:b@example.com SIP/2.0\r\n" HDRS "l: -2\r\n\r\nab",
		false, 400, "Negative Content-Length");
	refused("OPTIONS sip:b@example.com SIP/2.0\r\n" HDRS "Content-Length: 0x2\r\n\r\nab",
		true, 400, "Bad Content-Length");
	refused("OPTIONS sip:b@example.com SIP/2.0\r\n" HDRS
		"Content-Length: 2\r\nl: 2\r\n\r\nab", true, 400, "Multiple Content-Length");
	refused("OPTIONS sip:b@example.com SIP/2.0\r\n" HDRS
		"Content-Length:\r\n 2\r\n\r\nab", true, 400, "Folded Content-Length");
	refused("OPTIONS sip:b@example.com SIP/2.0\r\n" HDRS "\r\n", false, 400,
		"Missing Content-Length");
	assert_true(judge("OPTIONS sip:b@example.com SIP/2.0\r\n" HDRS
			  "Content-Length: -2\r\n\r\n", false).desync);
}

static void test_lines(void **state)
{
	(void)state;
	refused("OPTIONS sip:b@example.com SIP/7.0\r\n" HDRS "\r\n", true, 505,
		"Version Not Supported");
	refused("OPTIONS <sip:b@example.com> SIP/2.0\r\n" HDRS "\r\n", true, 400,
		"Request-URI in Angle Brackets");
	refused("OPTIONS sip:b@example.com?Route=x SIP/2.0\r\n" HDRS "\r\n", true, 400,
		"Headers Not Allowed in Request-URI");
	refused("OPTIONS  sip:b@example.com SIP/2.0\r\n" HDRS "\r\n", true, 400,
		"Malformed Request-Line");
	refused("OPTIONS sip:b@example.com SIP/2.0 \r\n" HDRS "\r\n", true, 400,
		"Malformed Request-Line");
	refused("OPTIONS sip:b@example.com SIP/2.0\r\n" HDRS, true, 400, "Missing Empty Line");
	refused("OPTIONS sip:b@example.com SIP/2.0\r\n" HDRS "X: a\nY: b\r\n\r\n", true, 400,
		"Bare LF");
	refused("OPTIONS sip:b@example.com SIP/2.0\r\n" HDRS "X: a\rb\r\n\r\n", true, 400,
		"Bare CR");
	refused("OPTIONS sip:b@example.com SIP/2.0\r\n" HDRS "no colon\r\n\r\n", true, 400,
		"Malformed Header Line");
	refused("SIP/2.0 4294967301 big\r\n" HDRS "\r\n", true, 400, "Malformed Status-Line");
	/* '?' in the user part is no header (RFC 4475 §3.1.1.2) */
	assert_int_equal(judge("OPTIONS sip:a?b@example.com SIP/2.0\r\n" HDRS "\r\n", true).scode,
			 0);
}

#define REQ(hdr) "OPTIONS sip:b@example.com SIP/2.0\r\n" hdr "Call-ID: x\r\nl: 0\r\n\r\n"

static void test_headers(void **state)
{
	static const char via[] = "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n";
	static const char from[] = "From: <sip:a@example.com>;tag=1\r\n";
	static const char to[] = "To: sip:b@example.com\r\n";
	static const char cseq[] = "CSeq: 1 OPTIONS\r\n";
	char m[1024];

	(void)state;
	/* each fault in one header, the others sound */
	re_snprintf(m, sizeof(m), REQ("%s%s%s%s"), "Via: SIP/2.0/UDP 192.0.2.1;;,;,,\r\n", from,
		    to, cseq);
	refused(m, true, 400, "Malformed Via");
	re_snprintf(m, sizeof(m), REQ("%s%s%s%s"), "Via: SIP/2.0/UDP 192.0.2.1\r\n", from, to,
		    cseq);
	refused(m, true, 400, "Via Without Branch");
	re_snprintf(m, sizeof(m), REQ("%s%s%s%s"), via, "From: \"Mr. J <sip:a@example.com>\r\n",
		    to, cseq);
	refused(m, true, 400, "Malformed From");
	re_snprintf(m, sizeof(m), REQ("%s%s%s%s"), via, from,
		    "To: Watson, Thomas <sip:b@example.com>\r\n", cseq);
	refused(m, true, 400, "Malformed To");
	re_snprintf(m, sizeof(m), REQ("%s%s%s%s"), via, from,
		    "To: \"W\" < sip:b@example.com >\r\n", cseq);
	refused(m, true, 400, "Malformed To");
	re_snprintf(m, sizeof(m), REQ("%s%s%s%s%s"), via, from, to, cseq,
		    "Contact: sip:a@example.com?Route=x\r\n");
	refused(m, true, 400, "Malformed Contact");
	re_snprintf(m, sizeof(m), REQ("%s%s%s%s"), via, from, to,
		    "CSeq: 36893488147419103232 OPTIONS\r\n");
	refused(m, true, 400, "CSeq Out of Range");
	re_snprintf(m, sizeof(m), REQ("%s%s%s%s"), via, from, to, "CSeq: 1 INVITE\r\n");
	refused(m, true, 400, "CSeq Method Mismatch");
	re_snprintf(m, sizeof(m), REQ("%s%s%s%s%s"), via, from, to, cseq, "Max-Forwards: 300\r\n");
	refused(m, true, 400, "Max-Forwards Out of Range");
	/* RFC 4475 §3.1.1.1's spellings are sound: folding, spaces, escaped quotes */
	re_snprintf(m, sizeof(m), REQ("%s%s%s%s%s"),
		    "Via  : SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw\r\n",
		    "from   : \"J Rosenberg \\\\\\\"\"       <sip:j@example.com>\r\n  ;\r\n  tag = 9\r\n",
		    "TO :\r\n sip:b@example.com ;   tag    = 1918181833n\r\n",
		    "cseq: 0009\r\n  OPTIONS\r\n",
		    "m:\"Quoted string \\\"\\\"\" <sip:j@example.com> ; newparam =\r\n  newvalue ;\r\n"
		    "  secondparam ; q = 0.33\r\n");
	assert_int_equal(judge(m, true).scode, 0);
}

static void test_reply(void **state)
{
	static const char req[] = "OPTIONS sip:b@example.com SIP/7.0\r\n" HDRS "\r\n";
	struct mbuf *mb = mbuf_alloc(512);
	char *text = NULL;

	(void)state;
	assert_int_equal(call_frame_reply(mb, req, strlen(req), 505, "Version Not Supported"), 0);
	mb->pos = 0;
	assert_int_equal(mbuf_strdup(mb, &text, mbuf_get_left(mb)), 0);
	assert_non_null(strstr(text, "SIP/2.0 505 Version Not Supported\r\n"));
	assert_non_null(strstr(text, "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"));
	assert_non_null(strstr(text, "To: <sip:b@example.com>;tag="));
	assert_non_null(strstr(text, "CSeq: 1 OPTIONS\r\n"));
	assert_null(strstr(text, "Max-Forwards"));
	mem_deref(text);
	/* nowhere to address it: no Via */
	mb->pos = mb->end = 0;
	assert_int_equal(call_frame_reply(mb, "OPTIONS sip:b@x SIP/7.0\r\nCall-ID: x\r\n\r\n", 37,
					  505, "Version Not Supported"), ENOENT);
	mem_deref(mb);
}

static void test_scheme(void **state)
{
	static const char m[] = "OPTIONS nobodyknowsthisscheme:totallyopaquecontent SIP/2.0\r\n"
				HDRS "l: 0\r\n\r\n";
	struct mbuf *mb = mbuf_alloc(sizeof(m));
	struct sip_msg *msg = NULL;
	const char *reason;
	uint16_t scode;

	(void)state;
	assert_int_equal(judge(m, true).scode, 0); /* framing is sound */
	(void)mbuf_write_str(mb, m);
	mb->pos = 0;
	if (!sip_msg_decode(&msg, mb)) {
		assert_int_equal(call_frame_request(msg, &scode, &reason), 0);
		assert_int_equal(scode, 416);
		mem_deref(msg);
	}
	mem_deref(mb);
}

/* tel: (RFC 3966) is served on INVITEs, the way carriers address numbers; not elsewhere. */
static uint16_t scheme_scode(const char *start)
{
	char m[512];
	struct mbuf *mb;
	struct sip_msg *msg = NULL;
	const char *reason;
	uint16_t scode = 0;

	snprintf(m, sizeof(m), "%s SIP/2.0\r\n" HDRS "l: 0\r\n\r\n", start);
	mb = mbuf_alloc(sizeof(m));
	(void)mbuf_write_str(mb, m);
	mb->pos = 0;
	assert_int_equal(sip_msg_decode(&msg, mb), 0);
	assert_int_equal(call_frame_request(msg, &scode, &reason), 0);
	mem_deref(msg);
	mem_deref(mb);
	return scode;
}

static void test_tel_scheme(void **state)
{
	(void)state;
	assert_int_equal(scheme_scode("INVITE tel:+8613800138000"), 0);
	assert_int_equal(scheme_scode("INVITE tel:+86-138;phone-context=+86"), 0);
	assert_int_equal(scheme_scode("OPTIONS tel:+8613800138000"), 416);
	assert_int_equal(scheme_scode("INVITE mailto:a@b"), 416);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sound),
		cmocka_unit_test(test_tel_scheme),
		cmocka_unit_test(test_content_length),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_scheme),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
