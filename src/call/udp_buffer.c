/* udp_buffer: the receive buffer of libre's SIP UDP socket.
 *
 * Every INVITE, ACK and BYE of every call waits in that one socket's queue until the
 * control loop reads it. The kernel's default queue (net.core.rmem_default, 208 KiB) holds
 * about 90 datagrams, a few tenths of a second of signalling at a few hundred calls a
 * second: when the loop is held up that long (a burst, the media workers' real-time
 * priority taking both cores), the kernel drops datagrams, peers retransmit, and the extra
 * work can tip a busy loop into a collapse it does not leave. A deeper queue rides the
 * burst out. libre 1.1.0 opens the socket and gives no access to it, so it is found among
 * the process's descriptors by its bound address, right after sip_transp_add. */
#include <errno.h>
#include <limits.h>
#include <sys/socket.h>
#include "call/call_int.h"

static unsigned rcvbuf_of(int fd)
{
	int val = 0;
	socklen_t len = sizeof(val);

	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &val, &len) || val < 0)
		return 0;
	return (unsigned)val / 2; /* the kernel reports twice what was asked (its overhead) */
}

int call_udp_buffer(const struct sa *laddr, unsigned bytes, unsigned *gotp)
{
	int fd, val = (int)bytes;

	if (!laddr || !bytes || bytes > INT_MAX / 2 || !gotp)
		return EINVAL;
	fd = call_sock_find(SOCK_DGRAM, laddr, NULL);
	if (fd < 0)
		return ENOENT;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &val, sizeof(val)))
		return errno;
	/* SO_RCVBUF is capped at net.core.rmem_max; SO_RCVBUFFORCE passes the cap with
	 * CAP_NET_ADMIN (root) and fails harmlessly without it. */
	if (rcvbuf_of(fd) < bytes)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &val, sizeof(val));
	*gotp = rcvbuf_of(fd);
	return 0;
}
