/* tc3: the TC3-HMAC-SHA256 signature (canonical request, key chain, Authorization). */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <re.h>
#include "sign/sign.h"

static void hex(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * len] = '\0';
}

/* OpenSSL 3's one-shot SHA256() and HMAC() look the algorithm up in the provider store
 * (locks, allocations) on every call: at four HMACs and two hashes per signed request that
 * was a tenth of the API's CPU. The digest is fetched once and HMAC (RFC 2104) is built on
 * it here. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* SHA-256 of the concatenation of up to two buffers; false only on ENOMEM. */
static bool sha256_2(EVP_MD_CTX *c, const void *a, size_t alen, const void *b, size_t blen,
		     uint8_t out[SIGN_KEY_LEN])
{
	return EVP_DigestInit_ex(c, sha256_md, NULL) && EVP_DigestUpdate(c, a, alen) &&
	       (!blen || EVP_DigestUpdate(c, b, blen)) && EVP_DigestFinal_ex(c, out, NULL);
}

static EVP_MD_CTX *sha256_ctx(void)
{
	pthread_once(&sha256_once, sha256_fetch);
	return sha256_md ? EVP_MD_CTX_new() : NULL;
}

void sign_sha256_hex(const void *data, size_t len, char out[SIGN_SHA256_HEX])
{
	EVP_MD_CTX *c = sha256_ctx();
	uint8_t md[SHA256_DIGEST_LENGTH];

	if (!c || !sha256_2(c, data, len, NULL, 0, md))
		SHA256(data, len, md); /* the library's own path when ours cannot allocate */
	EVP_MD_CTX_free(c);
	hex(md, sizeof(md), out);
}

int sign_tc3_date(int64_t unix_s, char out[11])
{
	struct tm tm;
	time_t t = (time_t)unix_s;

	/* 253402300799 is 9999-12-31T23:59:59Z: beyond it the date has more digits. */
	if (unix_s < 0 || unix_s > 253402300799LL || !gmtime_r(&t, &tm))
		return EINVAL;
	return strftime(out, 11, "%Y-%m-%d", &tm) == 10 ? 0 : EINVAL;
}

int sign_tc3_canonical(const struct sign_tc3 *in, char **outp)
{
	struct mbuf *mb = mbuf_alloc(512);
	int err;

	if (!mb)
		return ENOMEM;
	err = mbuf_printf(mb, "%s\n%s\n%s\n", in->method, in->uri, in->query);
	for (size_t i = 0; i < in->n_headers && !err; i++)
		err = mbuf_printf(mb, "%s:%s\n", in->headers[i].name, in->headers[i].value);
	err = err ? err : mbuf_write_str(mb, "\n");
	for (size_t i = 0; i < in->n_headers && !err; i++)
		err = mbuf_printf(mb, "%s%s", i ? ";" : "", in->headers[i].name);
	err = err ? err : mbuf_printf(mb, "\n%s", in->payload_hash);
	if (!err) {
		mbuf_set_pos(mb, 0);
		err = mbuf_strdup(mb, outp, mbuf_get_left(mb));
	}
	mem_deref(mb);
	return err;
}

static void hmac256(const void *key, size_t keylen, const void *data, size_t len,
		    uint8_t out[SIGN_KEY_LEN])
{
	enum { BLOCK = 64 };
	EVP_MD_CTX *c = sha256_ctx();
	uint8_t k[BLOCK] = {0}, pad[BLOCK], inner[SIGN_KEY_LEN];
	unsigned outlen = SIGN_KEY_LEN;
	bool ok = c != NULL;

	if (ok && keylen > BLOCK)
		ok = sha256_2(c, key, keylen, NULL, 0, k);
	else if (ok)
		memcpy(k, key, keylen);
	for (size_t i = 0; ok && i < BLOCK; i++)
		pad[i] = k[i] ^ 0x36;
	ok = ok && sha256_2(c, pad, BLOCK, data, len, inner);
	for (size_t i = 0; ok && i < BLOCK; i++)
		pad[i] = k[i] ^ 0x5c;
	ok = ok && sha256_2(c, pad, BLOCK, inner, sizeof(inner), out);
	if (!ok) /* the library's own path when ours cannot allocate */
		HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &outlen);
	EVP_MD_CTX_free(c);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(pad, sizeof(pad));
	OPENSSL_cleanse(inner, sizeof(inner));
}

void sign_tc3_key(const char *secret_key, const char *date, const char *service,
		  uint8_t out[SIGN_KEY_LEN])
{
	char k0[160];
	uint8_t k1[SIGN_KEY_LEN], k2[SIGN_KEY_LEN];
	int n = snprintf(k0, sizeof(k0), "TC3%s", secret_key);

	/* Keys are < 128 bytes (tenant_credential); a longer one is hashed whole anyway. */
	if (n < 0 || (size_t)n >= sizeof(k0))
		n = (int)sizeof(k0) - 1;
	hmac256(k0, (size_t)n, date, strlen(date), k1);
	hmac256(k1, sizeof(k1), service, strlen(service), k2);
	hmac256(k2, sizeof(k2), "tc3_request", 11, out);
	OPENSSL_cleanse(k0, sizeof(k0));
	OPENSSL_cleanse(k1, sizeof(k1));
	OPENSSL_cleanse(k2, sizeof(k2));
}

int sign_tc3(const struct sign_tc3 *in, const char *secret_key, char sig[SIGN_SHA256_HEX])
{
	char *canon = NULL, *sts = NULL, canon_hash[SIGN_SHA256_HEX];
	uint8_t key[SIGN_KEY_LEN], md[SIGN_KEY_LEN];
	int err;

	err = sign_tc3_canonical(in, &canon);
	if (err)
		return err;
	sign_sha256_hex(canon, strlen(canon), canon_hash);
	err = re_sdprintf(&sts, "TC3-HMAC-SHA256\n%lld\n%s/%s/tc3_request\n%s",
			  (long long)in->timestamp, in->date, in->service, canon_hash);
	if (!err) {
		sign_tc3_key(secret_key, in->date, in->service, key);
		hmac256(key, sizeof(key), sts, strlen(sts), md);
		hex(md, sizeof(md), sig);
		OPENSSL_cleanse(key, sizeof(key));
	}
	mem_deref(canon);
	mem_deref(sts);
	return err;
}

int sign_tc3_authorization(const struct sign_tc3 *in, const char *secret_id,
			   const char *secret_key, char *out, size_t outsz)
{
	char sig[SIGN_SHA256_HEX];
	int n, err = sign_tc3(in, secret_key, sig);

	if (err)
		return err;
	n = snprintf(out, outsz, "TC3-HMAC-SHA256 Credential=%s/%s/%s/tc3_request, "
		     "SignedHeaders=", secret_id, in->date, in->service);
	for (size_t i = 0; i < in->n_headers && n >= 0 && (size_t)n < outsz; i++)
		n += snprintf(out + n, outsz - (size_t)n, "%s%s", i ? ";" : "",
			      in->headers[i].name);
	if (n >= 0 && (size_t)n < outsz)
		n += snprintf(out + n, outsz - (size_t)n, ", Signature=%s", sig);
	return (n < 0 || (size_t)n >= outsz) ? ENOSPC : 0;
}

bool sign_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	return la == lb && !CRYPTO_memcmp(a, b, la);
}
