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
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include "call/call_int.h"

static bool bound_to(int fd, const struct sa *laddr)
{
	struct sa sa;
	int type = 0;
	socklen_t len = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) || type != SOCK_DGRAM)
		return false;
	sa_init(&sa, AF_UNSPEC);
	sa.len = sizeof(sa.u);
	if (getsockname(fd, &sa.u.sa, &sa.len))
		return false;
	return sa_cmp(&sa, laddr, SA_ALL);
}

static int find_socket(const struct sa *laddr)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *de;
	int found = -1;

	if (!dir)
		return -1;
	while (found < 0 && (de = readdir(dir))) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);

		if (*end || end == de->d_name || fd == dirfd(dir))
			continue;
		if (bound_to((int)fd, laddr))
			found = (int)fd;
	}
	closedir(dir);
	return found;
}

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
	fd = find_socket(laddr);
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
