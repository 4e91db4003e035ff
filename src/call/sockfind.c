/* sockfind: finding a socket libre opened among the process's descriptors.
 *
 * libre 1.1.0 keeps its SIP sockets to itself (no call returns the UDP socket or a TCP
 * connection of a sip transport). The few things cccd must do to them — deepen the UDP
 * receive queue, cut a TCP connection whose framing was refused — find the descriptor by
 * its addresses instead: O(descriptors), so only at start or on a refusal. */
#include <dirent.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include "call/call_int.h"

static bool addr_is(int fd, bool peer, const struct sa *want)
{
	struct sa sa;

	sa_init(&sa, AF_UNSPEC);
	sa.len = sizeof(sa.u);
	if (peer ? getpeername(fd, &sa.u.sa, &sa.len) : getsockname(fd, &sa.u.sa, &sa.len))
		return false;
	return sa_cmp(&sa, want, SA_ALL);
}

static bool matches(int fd, int type, const struct sa *laddr, const struct sa *paddr)
{
	int t = 0;
	socklen_t len = sizeof(t);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &t, &len) || t != type)
		return false;
	return addr_is(fd, false, laddr) && (!paddr || addr_is(fd, true, paddr));
}

int call_sock_find(int type, const struct sa *laddr, const struct sa *paddr)
{
	DIR *dir;
	struct dirent *de;
	int found = -1;

	if (!laddr)
		return -1;
	dir = opendir("/proc/self/fd");
	if (!dir)
		return -1;
	while (found < 0 && (de = readdir(dir))) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);

		if (*end || end == de->d_name || fd == dirfd(dir))
			continue;
		if (matches((int)fd, type, laddr, paddr))
			found = (int)fd;
	}
	closedir(dir);
	return found;
}
