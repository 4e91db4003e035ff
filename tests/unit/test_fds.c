/* Unit tests of fds_reserve: the descriptor limit is raised and libre's loop polls a
 * descriptor numbered far above its default table (FD_SETSIZE, 1024). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <cmocka.h>
#include <re.h>
#include "base/base.h"

enum { HIGH = 1500, NEED = 4096 };

static void readable(int flags, void *arg)
{
	(void)flags;
	(void)arg;
}

static void test_high_descriptor_is_polled(void **state)
{
	struct rlimit rl;
	unsigned got = 0;
	int fds[HIGH], n = 0, sock;

	(void)state;
	/* Start from a service's usual soft limit, as on a fresh Debian machine. */
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < NEED)
		skip();
	rl.rlim_cur = 1024;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);

	assert_int_equal(libre_init(), 0);
	assert_int_equal(fds_reserve(NEED, &got), 0);
	assert_int_equal(got, NEED);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	assert_true(rl.rlim_cur >= NEED);

	/* Fill the low numbers, as the media sockets of many calls do. */
	for (int fd = open("/dev/null", O_RDONLY); fd >= 0 && fd < HIGH;
	     fd = open("/dev/null", O_RDONLY))
		fds[n++] = fd;
	sock = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(sock >= HIGH);
	assert_int_equal(fd_listen(sock, FD_READ, readable, NULL), 0);
	fd_close(sock);
	close(sock);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	libre_close();
}

static void test_zero_is_refused(void **state)
{
	(void)state;
	assert_int_equal(fds_reserve(0, NULL), EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zero_is_refused),
		cmocka_unit_test(test_high_descriptor_is_polled),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
