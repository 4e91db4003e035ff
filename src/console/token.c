/* token: the console's random tokens (sessions, CSRF, one-time links), their hashes, and
 * reading the session cookie. */
#include <errno.h>
#include <string.h>
#include <openssl/crypto.h>
#include "base/base.h"
#include "console/console.h"
#include "sign/sign.h"

int console_token_new(char out[CONSOLE_TOKEN_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[CONSOLE_TOKEN_LEN / 2];

	if (ids_random(b, sizeof(b)))
		return EIO;
	for (size_t i = 0; i < sizeof(b); i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[CONSOLE_TOKEN_LEN] = '\0';
	OPENSSL_cleanse(b, sizeof(b));
	return 0;
}

void console_token_hash(const char *token, char out[CONSOLE_TOKEN_LEN + 1])
{
	sign_sha256_hex(token, strlen(token), out);
}

bool console_token_ok(const char *s)
{
	size_t i;

	if (!s)
		return false;
	for (i = 0; s[i]; i++) {
		if (i >= CONSOLE_TOKEN_LEN ||
		    !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return i == CONSOLE_TOKEN_LEN;
}

bool console_csrf_ok(const char *sent, const char *expected)
{
	if (!sent || !expected || !*expected || strlen(sent) != strlen(expected))
		return false;
	return !CRYPTO_memcmp(sent, expected, strlen(expected));
}

/* Cookie: a=1; b=2 (RFC 6265 §5.4: pairs separated by "; "). */
int console_cookie_get(const char *header, const char *name, char *out, size_t sz)
{
	size_t n = strlen(name);
	const char *p = header;

	while (p && *p) {
		const char *end;

		while (*p == ' ' || *p == ';')
			p++;
		end = strchr(p, ';');
		if (!end)
			end = p + strlen(p);
		if ((size_t)(end - p) > n && !strncmp(p, name, n) && p[n] == '=') {
			size_t len = (size_t)(end - p) - n - 1;

			if (len >= sz)
				return EINVAL;
			memcpy(out, p + n + 1, len);
			out[len] = '\0';
			return 0;
		}
		p = end;
	}
	return ENOENT;
}
