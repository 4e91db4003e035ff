/* ids: session ids, request UUIDs and secrets from the kernel's CSPRNG. */
#include <errno.h>
#include <stdio.h>
#include <sys/random.h>
#include "base/base.h"

int ids_random(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void hex(char *out, const uint8_t *in, size_t len)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
}

int ids_session(char out[33])
{
	uint8_t b[16];
	int err = ids_random(b, sizeof(b));

	if (err)
		return err;
	hex(out, b, sizeof(b));
	out[32] = '\0';
	return 0;
}

int ids_uuid(char out[37])
{
	uint8_t b[16];
	char h[32];
	int err = ids_random(b, sizeof(b));

	if (err)
		return err;
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	hex(h, b, sizeof(b));
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
	return 0;
}

int ids_token(char *out, size_t len)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	uint8_t b;
	size_t i = 0;

	if (!len)
		return EINVAL;
	while (i + 1 < len) {
		int err = ids_random(&b, 1);

		if (err)
			return err;
		/* 62 * 4 = 248: reject the top bytes so every character is equally likely. */
		if (b >= 248)
			continue;
		out[i++] = alphabet[b % 62];
	}
	out[i] = '\0';
	return 0;
}
