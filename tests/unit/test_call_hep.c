/* HEPv3 export: the packet's chunks (as a Homer collector decodes them), the Call-ID taken
 * from raw messages, and the [sip] hep_* keys, malformed values refused by line. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>
#include <re.h>
#include "conf/conf.h"
#include "call/call.h"
#include "call/call_int.h"

static unsigned rd16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) << 16 | rd16(p + 2);
}

/* The chunk of `type` in a HEPv3 packet: its data and length, or NULL. */
static const uint8_t *chunk_of(const uint8_t *buf, size_t n, unsigned type, size_t *lenp)
{
	for (size_t off = 6; off + 6 <= n;) {
		size_t l = rd16(buf + off + 4);

		assert_true(l >= 6 && off + l <= n);
		assert_int_equal(rd16(buf + off), 0); /* vendor: generic */
		if (rd16(buf + off + 2) == type) {
			*lenp = l - 6;
			return buf + off + 6;
		}
		off += l;
	}
	return NULL;
}

static const char MSG[] = "INVITE sip:1@b SIP/2.0\r\nVia: SIP/2.0/UDP a\r\n"
	"call-id:  abc123@host \r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";

static void test_encode(void **state)
{
	struct sa src, dst;
	struct call_hep_msg m = {.src = &src, .dst = &dst, .ts_us = 1700000000123456ull,
				 .agent_id = 2001, .password = "secret", .call_id = "abc123@host",
				 .pkt = (const uint8_t *)MSG, .len = sizeof(MSG) - 1};
	uint8_t buf[2048];
	const uint8_t *c;
	size_t n, l;

	(void)state;
	sa_set_str(&src, "10.0.0.1", 5060);
	sa_set_str(&dst, "192.168.1.2", 5070);
	n = call_hep_encode(buf, sizeof(buf), &m);
	assert_true(n > 0);
	assert_memory_equal(buf, "HEP3", 4);
	assert_int_equal(rd16(buf + 4), n);
	c = chunk_of(buf, n, 1, &l);
	assert_true(c && l == 1 && c[0] == 2);                  /* IPv4 */
	c = chunk_of(buf, n, 2, &l);
	assert_true(c && l == 1 && c[0] == 17);                 /* UDP */
	c = chunk_of(buf, n, 3, &l);
	assert_true(c && l == 4 && !memcmp(c, "\x0a\x00\x00\x01", 4));
	c = chunk_of(buf, n, 4, &l);
	assert_true(c && l == 4 && !memcmp(c, "\xc0\xa8\x01\x02", 4));
	c = chunk_of(buf, n, 7, &l);
	assert_true(c && l == 2 && rd16(c) == 5060);
	c = chunk_of(buf, n, 8, &l);
	assert_true(c && l == 2 && rd16(c) == 5070);
	c = chunk_of(buf, n, 9, &l);
	assert_true(c && l == 4 && rd32(c) == 1700000000u);
	c = chunk_of(buf, n, 10, &l);
	assert_true(c && l == 4 && rd32(c) == 123456u);
	c = chunk_of(buf, n, 11, &l);
	assert_true(c && l == 1 && c[0] == 1);                  /* SIP */
	c = chunk_of(buf, n, 12, &l);
	assert_true(c && l == 4 && rd32(c) == 2001);
	c = chunk_of(buf, n, 14, &l);
	assert_true(c && l == 6 && !memcmp(c, "secret", 6));
	c = chunk_of(buf, n, 17, &l);
	assert_true(c && l == 11 && !memcmp(c, "abc123@host", 11));
	c = chunk_of(buf, n, 15, &l);
	assert_true(c && l == sizeof(MSG) - 1 && !memcmp(c, MSG, l));

	/* no password, no correlation id: no such chunks; TCP; IPv6 */
	m.password = "";
	m.call_id = NULL;
	m.tcp = true;
	sa_set_str(&src, "::1", 5060);
	sa_set_str(&dst, "2001:db8::2", 5060);
	n = call_hep_encode(buf, sizeof(buf), &m);
	assert_true(n > 0);
	assert_null(chunk_of(buf, n, 14, &l));
	assert_null(chunk_of(buf, n, 17, &l));
	c = chunk_of(buf, n, 1, &l);
	assert_true(c && c[0] == 10);
	c = chunk_of(buf, n, 2, &l);
	assert_true(c && c[0] == 6);
	c = chunk_of(buf, n, 6, &l);
	assert_true(c && l == 16);
	/* too small a buffer, mixed families */
	assert_int_equal(call_hep_encode(buf, 40, &m), 0);
	sa_set_str(&dst, "10.0.0.1", 1);
	assert_int_equal(call_hep_encode(buf, sizeof(buf), &m), 0);
}

static void test_callid(void **state)
{
	char out[64];
	const char compact[] = "SIP/2.0 200 OK\r\ni: x@y\r\n\r\nCall-ID: body";
	const char none[] = "SIP/2.0 200 OK\r\nVia: a\r\n\r\nCall-ID: in-the-body";
	const char empty[] = "BYE sip:a SIP/2.0\r\nCall-ID:   \r\n\r\n";

	(void)state;
	assert_int_equal(call_sip_callid((const uint8_t *)MSG, sizeof(MSG) - 1, out, sizeof(out)), 0);
	assert_string_equal(out, "abc123@host");
	assert_int_equal(call_sip_callid((const uint8_t *)compact, sizeof(compact) - 1, out,
					 sizeof(out)), 0);
	assert_string_equal(out, "x@y");
	assert_int_equal(call_sip_callid((const uint8_t *)none, sizeof(none) - 1, out,
					 sizeof(out)), ENOENT);
	assert_int_equal(call_sip_callid((const uint8_t *)empty, sizeof(empty) - 1, out,
					 sizeof(out)), EINVAL);
	assert_int_equal(call_sip_callid((const uint8_t *)MSG, sizeof(MSG) - 1, out, 5), EINVAL);
	assert_int_equal(call_sip_callid(NULL, 0, out, sizeof(out)), EINVAL);
}

static int read_conf(const char *text, struct call_conf *cc, struct conf_err *err)
{
	struct conf *cf = NULL;
	int rc = conf_parse(&cf, text, strlen(text), err);

	rc = rc ? rc : call_conf_read(cf, cc, err);
	mem_deref(cf);
	return rc;
}

static void test_conf(void **state)
{
	struct call_conf cc;
	struct conf_err err = {0};

	(void)state;
	assert_int_equal(read_conf("[sip]\n", &cc, &err), 0);
	assert_false(cc.hep);
	assert_int_equal(read_conf("[sip]\nhep_server = udp 127.0.0.1:9060\nhep_id = 7\n"
				   "hep_password = pw\n", &cc, &err), 0);
	assert_true(cc.hep);
	assert_string_equal(cc.hep_server, "127.0.0.1:9060");
	assert_int_equal(cc.hep_id, 7);
	assert_string_equal(cc.hep_password, "pw");
	assert_int_equal(read_conf("[sip]\nhep_server = [::1]:9060\n", &cc, &err), 0);
	assert_int_equal(cc.hep_id, 2001);
	assert_int_equal(read_conf("[sip]\n\nhep_server = udp homer.example:9060\n", &cc, &err),
			 EINVAL);
	assert_int_equal(err.line, 3);
	assert_non_null(strstr(err.msg, "hep_server"));
	assert_int_equal(read_conf("[sip]\nhep_server = 127.0.0.1\n", &cc, &err), EINVAL);
	assert_int_equal(read_conf("[sip]\nhep_server = 127.0.0.1:9060\nhep_id = -1\n", &cc,
				   &err), EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_callid),
		cmocka_unit_test(test_conf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
