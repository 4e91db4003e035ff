/* ids: session ids, request UUIDs and secrets from the kernel's CSPRNG. */
#include <errno.h>
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

/* RequestIds take their bytes from a per-thread buffer that one getrandom fills for 256 of
 * them: at every API request a 16-byte getrandom was a system call, 3.5 % of cccd's time
 * under bench/api's signed read (perf; a system call is dear in a VM). The bytes are the
 * kernel's CSPRNG all the same, only fetched ahead; a UUID is no secret (replies carry
 * it), and cccd never forks a process that would go on with a copy of the buffer (it
 * spawns tts through posix_spawn, which execs). Session ids and secrets still take
 * their bytes from the kernel when asked. */
enum { UUID_BYTES = 16, UUID_POOL = 256 * UUID_BYTES };

static _Thread_local uint8_t uuid_pool[UUID_POOL];
static _Thread_local size_t uuid_left;

int ids_uuid(char out[37])
{
	static const char digits[] = "0123456789abcdef";
	uint8_t *b;
	char *o = out;

	if (!uuid_left) {
		int err = ids_random(uuid_pool, sizeof(uuid_pool));

		if (err)
			return err;
		uuid_left = sizeof(uuid_pool);
	}
	uuid_left -= UUID_BYTES;
	b = uuid_pool + uuid_left;
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	for (size_t i = 0; i < UUID_BYTES; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*o++ = '-';
		*o++ = digits[b[i] >> 4];
		*o++ = digits[b[i] & 0xf];
	}
	*o = '\0';
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
