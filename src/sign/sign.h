/* sign: Tencent Cloud API 3.0 request signatures — TC3-HMAC-SHA256 and the older v1
 * HmacSHA1 / HmacSHA256 — computed the same way for the server (verify) and the `ccc`
 * client (sign), so that one set of test vectors covers both.
 *
 * These functions only compute; deciding which host, service or header values to try is
 * the caller's business (api/ on the server side). Pure and thread-safe. */
#ifndef CCCD_SIGN_H
#define CCCD_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { SIGN_SHA256_HEX = 65, SIGN_KEY_LEN = 32, SIGN_V1_B64 = 48 };

/* Lower-case hex SHA-256 of data (64 characters + NUL). */
void sign_sha256_hex(const void *data, size_t len, char out[SIGN_SHA256_HEX]);

/* The UTC date "YYYY-MM-DD" of a Unix time, as the TC3 credential scope wants it.
 * EINVAL when the time is out of the years 1970..9999. */
int sign_tc3_date(int64_t unix_s, char out[11]);

/* One signed header: name lower-case, value exactly as it is signed (trimmed, and
 * lower-cased when the caller chose to). */
struct sign_header {
	const char *name;
	const char *value;
};

/* Everything a TC3 signature covers. */
struct sign_tc3 {
	const char *method;        /* "POST" or "GET" */
	const char *uri;           /* canonical URI, "/" */
	const char *query;         /* canonical query: POST "", GET the raw query */
	const struct sign_header *headers; /* the signed headers, in SignedHeaders order */
	size_t n_headers;
	const char *payload_hash;  /* lower-case hex SHA-256 of the body */
	int64_t timestamp;         /* X-TC-Timestamp */
	const char *date;          /* credential scope date, "YYYY-MM-DD" */
	const char *service;       /* credential scope service, as given ("ccc", "127", ...) */
};

/* The canonical request text (for diagnostics and tests); *outp is a NUL-terminated
 * string owned by the caller (mem_deref). */
int sign_tc3_canonical(const struct sign_tc3 *in, char **outp);

/* kSigning = HMAC chain over ("TC3" + key, date, service, "tc3_request"). */
void sign_tc3_key(const char *secret_key, const char *date, const char *service,
		  uint8_t out[SIGN_KEY_LEN]);

/* The hex signature of a request; 0, or ENOMEM. */
int sign_tc3(const struct sign_tc3 *in, const char *secret_key, char sig[SIGN_SHA256_HEX]);

/* The whole Authorization header value for a request (client side). */
int sign_tc3_authorization(const struct sign_tc3 *in, const char *secret_id,
			   const char *secret_key, char *out, size_t outsz);

/* v1 ------------------------------------------------------------------------------ */

enum sign_v1_method { SIGN_V1_HMAC_SHA1 = 0, SIGN_V1_HMAC_SHA256 };

/* "HmacSHA1" / "HmacSHA256" → method; NULL or "" means HmacSHA1 (the v1 default).
 * EINVAL for anything else. */
int sign_v1_method_parse(const char *name, enum sign_v1_method *mp);

/* One request parameter with its decoded value (the value may hold any bytes but NUL). */
struct sign_param {
	const char *name;
	const char *value;
};

/* The v1 string to sign: METHOD HOST PATH "?" name=value&... with the parameters sorted
 * byte-wise by name and their raw (decoded) values; a parameter named "Signature" is left
 * out. `params` is not modified. *outp is owned by the caller (mem_deref). */
int sign_v1_string(const char *method, const char *host, const char *path,
		   const struct sign_param *params, size_t n, char **outp);

/* base64(HMAC(secret_key, text)), NUL-terminated. */
void sign_v1(enum sign_v1_method m, const char *secret_key, const char *text, size_t len,
	     char out[SIGN_V1_B64]);

/* Constant-time comparison of two NUL-terminated strings (length may leak, content not). */
bool sign_equal(const char *a, const char *b);

#endif
