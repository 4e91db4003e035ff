/* guard: the address classes a fetch may not reach unless the operator allows them. */
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "fetch/fetch.h"

static enum fetch_addr_class class_v4(uint32_t a)
{
	if ((a >> 24) == 0)
		return FETCH_ADDR_UNSPECIFIED;
	if ((a >> 24) == 127)
		return FETCH_ADDR_LOOPBACK;
	if ((a >> 24) == 10 || (a >> 20) == 0xac1 || (a >> 16) == 0xc0a8 ||
	    (a >> 22) == (100u << 2 | 1))
		return FETCH_ADDR_PRIVATE;
	if ((a >> 16) == 0xa9fe)
		return FETCH_ADDR_LINK_LOCAL;
	if ((a >> 28) == 0xe)
		return FETCH_ADDR_MULTICAST;
	if ((a >> 28) == 0xf)
		return FETCH_ADDR_RESERVED;   /* 240/4 and 255.255.255.255 */
	return FETCH_ADDR_PUBLIC;
}

static uint32_t v4_at(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static enum fetch_addr_class class_v6(const uint8_t *b)
{
	static const uint8_t zero[16], mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b};

	if (!memcmp(b, zero, 16))
		return FETCH_ADDR_UNSPECIFIED;
	if (!memcmp(b, zero, 15) && b[15] == 1)
		return FETCH_ADDR_LOOPBACK;
	/* Addresses that carry an IPv4 address reach that address. */
	if (!memcmp(b, mapped, 12) || !memcmp(b, zero, 12) || !memcmp(b, nat64, 12))
		return class_v4(v4_at(b + 12));
	if (b[0] == 0x20 && b[1] == 0x02)
		return class_v4(v4_at(b + 2));
	if (b[0] == 0xff)
		return FETCH_ADDR_MULTICAST;
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return FETCH_ADDR_LINK_LOCAL;
	if ((b[0] & 0xfe) == 0xfc || (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0))
		return FETCH_ADDR_PRIVATE;
	return FETCH_ADDR_PUBLIC;
}

enum fetch_addr_class fetch_addr_class(const struct sockaddr *sa)
{
	if (!sa)
		return FETCH_ADDR_RESERVED;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;

		return class_v4(ntohl(in->sin_addr.s_addr));
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;

		return class_v6(in6->sin6_addr.s6_addr);
	}
	return FETCH_ADDR_RESERVED;
}

const char *fetch_addr_class_name(enum fetch_addr_class c)
{
	static const char *const names[] = {
		[FETCH_ADDR_PUBLIC] = "public", [FETCH_ADDR_LOOPBACK] = "loopback",
		[FETCH_ADDR_PRIVATE] = "private", [FETCH_ADDR_LINK_LOCAL] = "link-local",
		[FETCH_ADDR_MULTICAST] = "multicast", [FETCH_ADDR_UNSPECIFIED] = "unspecified",
		[FETCH_ADDR_RESERVED] = "reserved",
	};

	return (unsigned)c < sizeof(names) / sizeof(names[0]) ? names[c] : "reserved";
}

bool fetch_addr_allowed(const struct sockaddr *sa, unsigned allow)
{
	enum fetch_addr_class c = fetch_addr_class(sa);

	if (c == FETCH_ADDR_PUBLIC)
		return true;
	allow &= FETCH_ALLOW_LOOPBACK | FETCH_ALLOW_PRIVATE;
	return (allow & (1u << c)) != 0;
}
