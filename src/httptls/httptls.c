/* httptls: the certificate and key of an HTTPS listener — read, checked, handed over. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <re_types.h>
#include <re_mem.h>
#include "base/base.h"
#include "conf/conf.h"
#include "httptls/httptls.h"

enum { PEM_MAX = 1024 * 1024 };

struct http_tls {
	char *cert_pem; /* owned, NUL-terminated */
	char *key_pem;  /* owned, NUL-terminated; wiped on release */
};

/* The whole file as a NUL-terminated string (mem_alloc'd); why says what failed. */
static int pem_read(const char *path, char **textp, const char **why)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t n;
	int err = 0;

	if (!f) {
		*why = strerror(errno);
		return errno ? errno : EIO;
	}
	text = mem_alloc(PEM_MAX + 1, NULL);
	if (!text) {
		err = ENOMEM;
		*why = "out of memory";
		goto out;
	}
	n = fread(text, 1, PEM_MAX + 1, f);
	if (ferror(f) || n == 0 || n > PEM_MAX) {
		err = EINVAL;
		*why = ferror(f) ? "read error" : n ? "larger than 1 MB" : "empty";
		goto out;
	}
	text[n] = '\0';
out:
	fclose(f);
	if (err)
		mem_deref(text);
	else
		*textp = text;
	return err;
}

/* The certificate's first PEM block is a certificate, the key's a private key, and the
 * two belong together. */
static int pem_check(const char *cert_pem, const char *key_pem, const char **why)
{
	BIO *cb = BIO_new_mem_buf(cert_pem, -1), *kb = BIO_new_mem_buf(key_pem, -1);
	X509 *x = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
	EVP_PKEY *k = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, (void *)"") : NULL;
	int err = 0;

	if (!x) {
		err = EINVAL;
		*why = "tls_cert holds no PEM certificate";
	}
	else if (!k) {
		err = EINVAL;
		*why = "tls_key holds no unencrypted PEM private key";
	}
	else if (X509_check_private_key(x, k) != 1) {
		err = EINVAL;
		*why = "tls_key is not the private key of tls_cert";
	}
	ERR_clear_error();
	EVP_PKEY_free(k);
	X509_free(x);
	BIO_free(kb);
	BIO_free(cb);
	return err;
}

static void http_tls_destructor(void *arg)
{
	struct http_tls *tls = arg;

	if (tls->key_pem)
		OPENSSL_cleanse(tls->key_pem, strlen(tls->key_pem));
	mem_deref(tls->key_pem);
	mem_deref(tls->cert_pem);
}

/* Loads and checks both files; why names what went wrong. */
static int tls_files_load(struct http_tls **tlsp, const struct http_tls_conf *tc,
			  const char **why, const char **which)
{
	struct http_tls *tls = mem_zalloc(sizeof(*tls), http_tls_destructor);
	int err;

	if (!tls)
		return ENOMEM;
	*which = tc->cert_file;
	err = pem_read(tc->cert_file, &tls->cert_pem, why);
	if (!err) {
		*which = tc->key_file;
		err = pem_read(tc->key_file, &tls->key_pem, why);
	}
	if (!err) {
		*which = "";
		err = pem_check(tls->cert_pem, tls->key_pem, why);
	}
	if (err)
		mem_deref(tls);
	else
		*tlsp = tls;
	return err;
}

int http_tls_conf_read(const struct conf_section *sec, struct http_tls_conf *tc,
		       struct conf_err *err)
{
	const char *cert, *key, *why = "", *which = "";
	struct http_tls *tls = NULL;
	unsigned line;
	int rc;

	memset(tc, 0, sizeof(*tc));
	rc = conf_str(sec, "tls_cert", "", &cert, err);
	rc = rc ? rc : conf_str(sec, "tls_key", "", &key, err);
	if (rc)
		return rc;
	if (!cert[0] && !key[0])
		return 0;
	line = conf_key_line(sec, cert[0] ? "tls_cert" : "tls_key");
	if (!cert[0] || !key[0]) {
		conf_err_set(err, line, "tls_cert and tls_key go together: give both or neither");
		return EINVAL;
	}
	if (strlen(cert) >= sizeof(tc->cert_file) || strlen(key) >= sizeof(tc->key_file)) {
		conf_err_set(err, line, "a TLS file path is longer than %d bytes",
			     HTTPTLS_PATH_MAX - 1);
		return EINVAL;
	}
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		conf_err_set(err, line, "this libmicrohttpd was built without TLS support");
		return EINVAL;
	}
	strcpy(tc->cert_file, cert);
	strcpy(tc->key_file, key);
	rc = tls_files_load(&tls, tc, &why, &which);
	mem_deref(tls);
	if (rc) {
		conf_err_set(err, which[0] ? conf_key_line(sec, which == tc->cert_file ?
							   "tls_cert" : "tls_key") : line,
			     "%s%s%s", which, which[0] ? ": " : "", why);
		return EINVAL;
	}
	return 0;
}

int http_tls_load(struct http_tls **tlsp, const struct http_tls_conf *tc)
{
	const char *why = "", *which = "";
	int err;

	if (!tlsp || !tc || !http_tls_on(tc))
		return EINVAL;
	err = tls_files_load(tlsp, tc, &why, &which);
	if (err)
		log_error("httptls", "%s%s%s", which, which[0] ? ": " : "", why);
	return err;
}

unsigned http_tls_mhd_options(const struct http_tls *tls,
			      struct MHD_OptionItem opt[HTTPTLS_MHD_OPTIONS])
{
	unsigned n = 0;

	if (tls) {
		opt[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, tls->cert_pem};
		opt[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, tls->key_pem};
	}
	opt[n] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
	return tls ? MHD_USE_TLS : 0;
}
