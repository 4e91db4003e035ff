/* fds: the process's file-descriptor budget.
 *
 * Every call holds two sockets on a media worker (RTP and RTCP), so a few thousand calls
 * need more descriptors than a service's usual soft limit (1024 on Debian). Two limits
 * matter: the kernel's (RLIMIT_NOFILE, raised here up to the hard limit) and libre's main
 * loop, which refuses any descriptor numbered at or above its table size (FD_SETSIZE,
 * 1024, unless told otherwise before its first fd_listen). The SIP sockets opened while
 * calls are up (TCP connections, DNS) get high numbers, so the table must cover every
 * descriptor the process may open, not only the loop's own. */
#include <errno.h>
#include <sys/resource.h>
#include <re_types.h>
#include <re_fmt.h>
#include <re_main.h>
#include "base/base.h"

int fds_reserve(unsigned need, unsigned *limitp)
{
	struct rlimit rl;
	rlim_t want = need;
	int err;

	if (!need)
		return EINVAL;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return errno;
	if (rl.rlim_cur < want && rl.rlim_cur != RLIM_INFINITY) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want
										   : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			return errno;
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want)
		want = rl.rlim_cur;
	/* Only takes effect before the loop's first descriptor; later calls keep the size. */
	err = fd_setsize((int)want);
	if (err)
		return err;
	if (limitp)
		*limitp = (unsigned)want;
	return 0;
}
