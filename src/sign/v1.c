/* v1: the older HmacSHA1 / HmacSHA256 signature over the sorted parameter list. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <re.h>
#include "sign/sign.h"

int sign_v1_method_parse(const char *name, enum sign_v1_method *mp)
{
	if (!name || !*name || !strcmp(name, "HmacSHA1"))
		*mp = SIGN_V1_HMAC_SHA1;
	else if (!strcmp(name, "HmacSHA256"))
		*mp = SIGN_V1_HMAC_SHA256;
	else
		return EINVAL;
	return 0;
}

static int param_cmp(const void *a, const void *b)
{
	const struct sign_param *const *pa = a, *const *pb = b;

	/* strcmp compares as unsigned char: byte-wise, as the SDKs' sort of ASCII names. */
	return strcmp((*pa)->name, (*pb)->name);
}

int sign_v1_string(const char *method, const char *host, const char *path,
		   const struct sign_param *params, size_t n, char **outp)
{
	const struct sign_param **sorted;
	struct mbuf *mb;
	bool first = true;
	int err;

	sorted = mem_alloc((n ? n : 1) * sizeof(*sorted), NULL);
	mb = mbuf_alloc(512);
	if (!sorted || !mb) {
		err = ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		sorted[i] = &params[i];
	qsort(sorted, n, sizeof(*sorted), param_cmp);
	err = mbuf_printf(mb, "%s%s%s?", method, host, path);
	for (size_t i = 0; i < n && !err; i++) {
		if (!strcmp(sorted[i]->name, "Signature"))
			continue;
		err = mbuf_printf(mb, "%s%s=%s", first ? "" : "&", sorted[i]->name,
				  sorted[i]->value);
		first = false;
	}
	if (!err) {
		mbuf_set_pos(mb, 0);
		err = mbuf_strdup(mb, outp, mbuf_get_left(mb));
	}
out:
	mem_deref(sorted);
	mem_deref(mb);
	return err;
}

void sign_v1(enum sign_v1_method m, const char *secret_key, const char *text, size_t len,
	     char out[SIGN_V1_B64])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = sizeof(md);

	HMAC(m == SIGN_V1_HMAC_SHA256 ? EVP_sha256() : EVP_sha1(), secret_key,
	     (int)strlen(secret_key), (const uint8_t *)text, len, md, &mdlen);
	/* 32 bytes encode to 44 characters + NUL: fits SIGN_V1_B64. */
	EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
}
