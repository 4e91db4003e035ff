/* Unit tests of the signatures: every vector of api-protocol.md §8 (A1, A2, B1-B5, C1-C4). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <re.h>
#include "sign/sign.h"

#define EX_ID  "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
#define EX_KEY "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
#define M7_ID  "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******"
#define M7_KEY "Gu5t9xGARNpq86cd98joQYCN3*******"
#define M32_KEY "********************************"

#define A_BODY "{\"Limit\": 1, \"Filters\": [{\"Values\": [\"\\u672a\\u547d\\u540d\"], " \
	       "\"Name\": \"instance-name\"}]}"
#define C_BODY "{\"SdkAppId\":1400000000,\"Callee\":\"008613012345678\",\"IVRId\":4600," \
	       "\"Callers\":[\"008601012345678\"],\"Variables\":[{\"Key\":\"name\"," \
	       "\"Value\":\"Li Lei\"}],\"UUI\":\"foo bar\",\"MaxRingTimeoutSecond\":15}"
#define C_FORM "SdkAppId=1400000000&Callee=008613012345678&IVRId=4600&" \
	       "Callers.0=008601012345678&Variables.0.Key=name&Variables.0.Value=Li%20Lei&" \
	       "UUI=foo%20bar&MaxRingTimeoutSecond=15"

static void hex_of(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static void expect_canonical_hash(const struct sign_tc3 *in, const char *want)
{
	char *canon = NULL, h[SIGN_SHA256_HEX];

	assert_int_equal(sign_tc3_canonical(in, &canon), 0);
	sign_sha256_hex(canon, strlen(canon), h);
	assert_string_equal(h, want);
	mem_deref(canon);
}

static void expect_tc3(const struct sign_tc3 *in, const char *key, const char *want)
{
	char sig[SIGN_SHA256_HEX];

	assert_int_equal(sign_tc3(in, key, sig), 0);
	assert_string_equal(sig, want);
}

static void expect_ksigning(const char *key, const char *date, const char *service,
			    const char *want)
{
	uint8_t k[SIGN_KEY_LEN];
	char h[SIGN_SHA256_HEX];

	sign_tc3_key(key, date, service, k);
	hex_of(k, sizeof(k), h);
	assert_string_equal(h, want);
}

static void test_a1(void **state)
{
	const struct sign_header hdrs[] = {
		{"content-type", "application/json; charset=utf-8"},
		{"host", "cvm.tencentcloudapi.com"},
	};
	char hash[SIGN_SHA256_HEX], *canon = NULL, auth[400];
	struct sign_tc3 in = {"POST", "/", "", hdrs, 2, hash, 1551113065, "2019-02-25", "cvm"};
	uint8_t k[SIGN_KEY_LEN], kd[SIGN_KEY_LEN];
	char h[SIGN_SHA256_HEX], date[11];

	(void)state;
	assert_int_equal(strlen(A_BODY), 86);
	sign_sha256_hex(A_BODY, strlen(A_BODY), hash);
	assert_string_equal(hash, "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064");
	assert_int_equal(sign_tc3_canonical(&in, &canon), 0);
	assert_string_equal(canon, "POST\n/\n\ncontent-type:application/json; charset=utf-8\n"
			    "host:cvm.tencentcloudapi.com\n\ncontent-type;host\n"
			    "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064");
	mem_deref(canon);
	expect_canonical_hash(&in, "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031");
	assert_int_equal(sign_tc3_date(1551113065, date), 0);
	assert_string_equal(date, "2019-02-25");

	/* M7's intermediate keys: kDate and kService are steps of the same chain. */
	sign_tc3_key(M7_KEY, "2019-02-25", "cvm", k);
	hex_of(k, sizeof(k), h);
	assert_string_equal(h, "8aa8ab5755582f576e94bcfe383b8e29325b0ca90c3590d569221c6a63a091ed");
	{
		unsigned n = sizeof(kd);

		HMAC(EVP_sha256(), "TC3" M7_KEY, (int)strlen("TC3" M7_KEY),
		     (const uint8_t *)"2019-02-25", 10, kd, &n);
		hex_of(kd, sizeof(kd), h);
		assert_string_equal(h, "f1cb4d518a0eda9d5cbbfdb7850983f1e603eeae484edea76e4dd8d8deb5556e");
		HMAC(EVP_sha256(), kd, sizeof(kd), (const uint8_t *)"cvm", 3, kd, &n);
		hex_of(kd, sizeof(kd), h);
		assert_string_equal(h, "e7c609ce81bea53546bed2cc904778bef9ca14082e48e67883443ed64e227cd7");
	}
	expect_tc3(&in, M7_KEY, "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c");
	expect_ksigning(EX_KEY, "2019-02-25", "cvm",
			"ac658d5dde49e9bfdd14e04e062f66b05d9f637d44b8a8d845327d4a77f666b1");
	expect_tc3(&in, EX_KEY, "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168");

	assert_int_equal(sign_tc3_authorization(&in, M7_ID, M7_KEY, auth, sizeof(auth)), 0);
	assert_string_equal(auth, "TC3-HMAC-SHA256 Credential=" M7_ID "/2019-02-25/cvm/tc3_request, "
			    "SignedHeaders=content-type;host, Signature="
			    "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c");
	assert_int_equal(sign_tc3_authorization(&in, M7_ID, M7_KEY, auth, 40), ENOSPC);
}

static void test_a2(void **state)
{
	const struct sign_header hdrs[] = {
		{"content-type", "application/json; charset=utf-8"},
		{"host", "cvm.tencentcloudapi.com"},
		{"x-tc-action", "describeinstances"},
	};
	char hash[SIGN_SHA256_HEX];
	struct sign_tc3 in = {"POST", "/", "", hdrs, 3, hash, 1551113065, "2019-02-25", "cvm"};

	(void)state;
	sign_sha256_hex(A_BODY, strlen(A_BODY), hash);
	expect_canonical_hash(&in, "7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84");
	expect_ksigning(M32_KEY, "2019-02-25", "cvm",
			"b596b923aad85185e2d1f6659d2a062e0a86731226e021e61bfe06f7ed05f5af");
	expect_tc3(&in, M32_KEY, "10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f");
	expect_tc3(&in, M7_KEY, "be4f67d323c78ab9acb7395e43c0dbcf822a9cfac32fea2449a7bc7726b770a3");
	expect_tc3(&in, EX_KEY, "644be983de9a8a3f00db8eadaba61467c3b429e2215758ba897b738ca469fd26");
}

static void test_c(void **state)
{
	struct sign_header hdrs[] = {
		{"content-type", "application/json"},
		{"host", "127.0.0.1"},
	};
	char hash[SIGN_SHA256_HEX], empty[SIGN_SHA256_HEX], date[11];
	struct sign_tc3 in = {"POST", "/", "", hdrs, 2, hash, 1764000000, "2025-11-24", "127"};

	(void)state;
	assert_int_equal(strlen(C_BODY), 181);
	assert_int_equal(sign_tc3_date(1764000000, date), 0);
	assert_string_equal(date, "2025-11-24");
	sign_sha256_hex(C_BODY, strlen(C_BODY), hash);
	assert_string_equal(hash, "4fe5b8e902d2a6c7ff7b2d384b19b0e1ac13e6f885db6d4b028615dfc22c78f3");

	/* C1: the Node SDK, endpoint 127.0.0.1:8080 (host without port, service "127"). */
	expect_canonical_hash(&in, "3ed537dbbf1107071bb794cbaa26e8d8e2c26decbef9efa0c944c61d90d11f61");
	expect_ksigning(EX_KEY, "2025-11-24", "127",
			"2582ec9658808fc237ebd3ebad1122118952f2395dab140bf56c23aa4ebb815d");
	expect_tc3(&in, EX_KEY, "1939fdc9092a9bb14e42c843c80f8ba7b90da4696d84378bfbfb3d881bf3e6a0");

	/* C3: endpoint localhost:8080. */
	hdrs[1].value = "localhost";
	in.service = "localhost:8080";
	expect_canonical_hash(&in, "3c9dab5e493a149221be4d2bd4aa8dd10a30688d8b3e97c8e58f6c7902b46906");
	expect_ksigning(EX_KEY, "2025-11-24", "localhost:8080",
			"2509c0bfb57aac91410210bdba7c01027668cccd4b4699d8d8e2cb5844233c99");
	expect_tc3(&in, EX_KEY, "7faffdbabbf919a66394a146ca07cd4fa185476fbf4a9d08e762e69509ac4166");

	/* C4: the Go SDK's shape, host with port, service "ccc". */
	hdrs[1].value = "127.0.0.1:8080";
	in.service = "ccc";
	expect_canonical_hash(&in, "f49b78d8ffdb52f9e2f7b42c722eac14aea1254b60bcb4f0af50f56dce9f3980");
	expect_tc3(&in, EX_KEY, "ab8b7d04b95804ca8198a5d4ec09187abd65d7c24a8eaa77202b1cc1ff4c2955");

	/* C2: TC3 GET with the form string as query and the empty payload. */
	sign_sha256_hex("", 0, empty);
	assert_string_equal(empty, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	hdrs[0].value = "application/x-www-form-urlencoded";
	hdrs[1].value = "127.0.0.1";
	in.method = "GET";
	in.query = C_FORM;
	in.payload_hash = empty;
	in.service = "127";
	expect_canonical_hash(&in, "2a5c75468c42a8b26659e592817f4e85517d5268318ee7816b18a11cb16134ed");
	expect_tc3(&in, EX_KEY, "acaa721fbad537a18b6d56346ca8f386966784290ac6fb1b511f245aa3d5eb1f");
}

static void expect_v1(const char *method, const char *host, const struct sign_param *p,
		      size_t n, const char *key, enum sign_v1_method m, const char *want_text,
		      const char *want_sig)
{
	char *text = NULL, sig[SIGN_V1_B64];

	assert_int_equal(sign_v1_string(method, host, "/", p, n, &text), 0);
	if (want_text)
		assert_string_equal(text, want_text);
	sign_v1(m, key, text, strlen(text), sig);
	assert_string_equal(sig, want_sig);
	mem_deref(text);
}

static void test_b1_b2(void **state)
{
	/* Deliberately unsorted, with a Signature entry that must be left out. */
	struct sign_param p[] = {
		{"Version", "2017-03-12"}, {"Signature", "ignored"},
		{"Action", "DescribeInstances"}, {"Timestamp", "1465185768"},
		{"InstanceIds.0", "ins-09dx96dg"}, {"Limit", "20"}, {"Nonce", "11886"},
		{"Offset", "0"}, {"Region", "ap-guangzhou"}, {"SecretId", EX_ID},
		{"SignatureMethod", "HmacSHA256"},
	};
	const char *b1 = "GETcvm.tencentcloudapi.com/?Action=DescribeInstances&InstanceIds.0="
			 "ins-09dx96dg&Limit=20&Nonce=11886&Offset=0&Region=ap-guangzhou&SecretId="
			 EX_ID "&Timestamp=1465185768&Version=2017-03-12";
	enum sign_v1_method m;

	(void)state;
	expect_v1("GET", "cvm.tencentcloudapi.com", p, 10, EX_KEY, SIGN_V1_HMAC_SHA1, b1,
		  "EliP9YW3pW28FpsEdkXt/+WcGeI=");
	p[9].value = M7_ID;
	expect_v1("GET", "cvm.tencentcloudapi.com", p, 10, M7_KEY, SIGN_V1_HMAC_SHA1, NULL,
		  "zmmjn35mikh6pM3V7sUEuX4wyYM=");
	p[9].value = EX_ID;
	expect_v1("GET", "cvm.tencentcloudapi.com", p, 11, EX_KEY, SIGN_V1_HMAC_SHA256,
		  "GETcvm.tencentcloudapi.com/?Action=DescribeInstances&InstanceIds.0="
		  "ins-09dx96dg&Limit=20&Nonce=11886&Offset=0&Region=ap-guangzhou&SecretId="
		  EX_ID "&SignatureMethod=HmacSHA256&Timestamp=1465185768&Version=2017-03-12",
		  "A8uy2/o7WBZXYCTWEFpMrVGhGBVlEGIOioeqRM+fzFs=");

	assert_int_equal(sign_v1_method_parse(NULL, &m), 0);
	assert_int_equal(m, SIGN_V1_HMAC_SHA1);
	assert_int_equal(sign_v1_method_parse("HmacSHA1", &m), 0);
	assert_int_equal(m, SIGN_V1_HMAC_SHA1);
	assert_int_equal(sign_v1_method_parse("HmacSHA256", &m), 0);
	assert_int_equal(m, SIGN_V1_HMAC_SHA256);
	assert_int_equal(sign_v1_method_parse("hmacsha256", &m), EINVAL);
	assert_int_equal(sign_v1_method_parse("MD5", &m), EINVAL);
}

static void test_b3_b5(void **state)
{
	/* B3's body in the order the SDK sends it; values decoded. */
	struct sign_param p[] = {
		{"SdkAppId", "1400000000"}, {"Callee", "008613012345678"}, {"IVRId", "4600"},
		{"Callers.0", "008601012345678"}, {"Variables.0.Key", "name"},
		{"Variables.0.Value", "Li Lei"}, {"UUI", "foo bar"},
		{"MaxRingTimeoutSecond", "15"}, {"Action", "CreateIVRSession"},
		{"RequestClient", "SDK_NODEJS_INTL_EN3.0.1335"}, {"Nonce", "32768"},
		{"Timestamp", "1764000000"}, {"Version", "2020-02-10"}, {"Language", "en-US"},
		{"SecretId", EX_ID}, {"Region", "ap-singapore"},
		{"SignatureMethod", "HmacSHA256"},
		{"Signature", "wrM6rUQ/QJUofj3DP97BnO7/UgVaCJVHEmglZOgq+TA="},
	};
	const size_t n = sizeof(p) / sizeof(p[0]);

	(void)state;
	expect_v1("POST", "127.0.0.1:8080", p, n, EX_KEY, SIGN_V1_HMAC_SHA256,
		  "POST127.0.0.1:8080/?Action=CreateIVRSession&Callee=008613012345678&"
		  "Callers.0=008601012345678&IVRId=4600&Language=en-US&MaxRingTimeoutSecond=15&"
		  "Nonce=32768&Region=ap-singapore&RequestClient=SDK_NODEJS_INTL_EN3.0.1335&"
		  "SdkAppId=1400000000&SecretId=" EX_ID "&SignatureMethod=HmacSHA256&"
		  "Timestamp=1764000000&UUI=foo bar&Variables.0.Key=name&Variables.0.Value="
		  "Li Lei&Version=2020-02-10",
		  "wrM6rUQ/QJUofj3DP97BnO7/UgVaCJVHEmglZOgq+TA=");
	expect_v1("GET", "127.0.0.1:8080", p, n, EX_KEY, SIGN_V1_HMAC_SHA256, NULL,
		  "Z/AiU0BiqwhuFrv2pXXThU60M8km//x7er4eLNmc1sY=");
	p[16].value = "HmacSHA1";
	expect_v1("POST", "127.0.0.1:8080", p, n, EX_KEY, SIGN_V1_HMAC_SHA1, NULL,
		  "qQ42zkzPjoFmF16ymwiJZCOqeso=");
	/* One byte changed in a value changes the signature. */
	{
		char *text = NULL, sig[SIGN_V1_B64];

		p[6].value = "foo baR";
		assert_int_equal(sign_v1_string("POST", "127.0.0.1:8080", "/", p, n, &text), 0);
		sign_v1(SIGN_V1_HMAC_SHA1, EX_KEY, text, strlen(text), sig);
		assert_string_not_equal(sig, "qQ42zkzPjoFmF16ymwiJZCOqeso=");
		mem_deref(text);
	}
}

static void test_equal_and_date(void **state)
{
	char d[11];

	(void)state;
	assert_true(sign_equal("abc", "abc"));
	assert_false(sign_equal("abc", "abd"));
	assert_false(sign_equal("abc", "abcd"));
	assert_false(sign_equal("", "a"));
	assert_true(sign_equal("", ""));
	assert_int_equal(sign_tc3_date(0, d), 0);
	assert_string_equal(d, "1970-01-01");
	assert_int_equal(sign_tc3_date(-1, d), EINVAL);
	assert_int_equal(sign_tc3_date(253402300800LL, d), EINVAL);
}

/* Our HMAC-SHA256 against OpenSSL's HMAC() on keys shorter than, equal to and longer
 * than the 64-byte block (a long key is hashed first), and SHA-256 of long input. */
static void test_hmac_reference(void **state)
{
	static const size_t lens[] = {0, 1, 61, 62, 100, 125};
	char key[128], h[SIGN_SHA256_HEX], want[SIGN_SHA256_HEX], big[3000];
	uint8_t k[SIGN_KEY_LEN], k0[160], r1[32], r2[32], r3[32];
	unsigned n = 32;

	(void)state;
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		memset(key, 'a' + (int)i, lens[i]);
		key[lens[i]] = '\0';
		sign_tc3_key(key, "2026-03-02", "ccc", k);
		memcpy(k0, "TC3", 3);
		memcpy(k0 + 3, key, lens[i]);
		HMAC(EVP_sha256(), k0, (int)lens[i] + 3, (const uint8_t *)"2026-03-02", 10, r1, &n);
		HMAC(EVP_sha256(), r1, 32, (const uint8_t *)"ccc", 3, r2, &n);
		HMAC(EVP_sha256(), r2, 32, (const uint8_t *)"tc3_request", 11, r3, &n);
		assert_memory_equal(k, r3, 32);
	}
	memset(big, 'x', sizeof(big));
	sign_sha256_hex(big, sizeof(big), h);
	EVP_Digest(big, sizeof(big), r1, &n, EVP_sha256(), NULL);
	hex_of(r1, 32, want);
	assert_string_equal(h, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hmac_reference),
		cmocka_unit_test(test_a1),
		cmocka_unit_test(test_a2),
		cmocka_unit_test(test_c),
		cmocka_unit_test(test_b1_b2),
		cmocka_unit_test(test_b3_b5),
		cmocka_unit_test(test_equal_and_date),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
