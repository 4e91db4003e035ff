/* call: the sent-by of our requests' Via on the advertised address (behind a 1:1 NAT).
 *
 * libre 1.1.0 writes the top Via of every request from the local address of the transport
 * and offers no way to change it, but every UDP datagram passes the screen's helper on its
 * way out (screen.c), where the bytes can still be changed. Only requests are touched, and
 * in them only the first Via (ours; a response's Vias are the peer's), and only when it
 * names the bound address, so a retransmission of the same buffer is left as it is. */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include "call/call_int.h"

int call_via_advertise(struct mbuf *mb, const struct sa *laddr, const struct sa *adv)
{
	const char *p, *end, *via, *sb, *sb_end;
	char local[64], *copy;
	size_t start, n, head, ll;
	int err;

	if (!mb || !laddr || !adv)
		return EINVAL;
	start = mb->pos;
	p = (const char *)mbuf_buf(mb);
	n = mbuf_get_left(mb);
	if (n < 8 || !memcmp(p, "SIP/2.0 ", 8))
		return 0; /* a response */
	end = p + n;
	/* the first Via line of the header (compact "v:" too), before the empty line */
	for (via = p; via && via < end; via++) {
		via = memchr(via, '\n', (size_t)(end - via));
		if (!via || via + 1 >= end || via[1] == '\r' || via[1] == '\n')
			return 0;
		if ((end - via > 5 && !strncasecmp(via + 1, "Via:", 4)) ||
		    (end - via > 3 && !strncasecmp(via + 1, "v:", 2)))
			break;
	}
	if (!via || via >= end)
		return 0;
	/* "Via: SIP/2.0/UDP " then sent-by up to ';' ',' or the line's end */
	sb = memchr(via + 1, '/', (size_t)(end - via - 1));
	sb = sb ? memchr(sb + 1, '/', (size_t)(end - sb - 1)) : NULL;
	sb = sb ? memchr(sb, ' ', (size_t)(end - sb)) : NULL;
	if (!sb)
		return 0;
	while (sb < end && *sb == ' ')
		sb++;
	for (sb_end = sb; sb_end < end && !strchr(";,\r\n ", *sb_end); sb_end++)
		;
	if (re_snprintf(local, sizeof(local), "%J", laddr) < 0)
		return 0;
	ll = strlen(local);
	if ((size_t)(sb_end - sb) != ll || memcmp(sb, local, ll))
		return 0;

	head = (size_t)(sb - p);
	copy = mem_alloc(n, NULL);
	if (!copy)
		return ENOMEM;
	memcpy(copy, p, n);
	mb->pos = start + head;
	mb->end = mb->pos;
	err = mbuf_printf(mb, "%J", adv);
	err = err ? err : mbuf_write_mem(mb, (const uint8_t *)copy + head + ll, n - head - ll);
	mb->pos = start;
	mem_deref(copy);
	return err;
}
