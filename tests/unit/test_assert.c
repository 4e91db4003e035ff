/* Unit tests of BASE_ASSERT: a kept invariant costs nothing visible; a broken one stops the
 * process with SIGABRT after one log line naming the invariant, the expression and where
 * it was checked. The failing assert runs in a forked child whose stderr is a pipe. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <cmocka.h>
#include "base/base.h"

static void test_kept_invariant_goes_on(void **state)
{
	int calls = 0;

	(void)state;
	BASE_ASSERT(++calls == 1, "the condition is evaluated once");
	assert_int_equal(calls, 1);
}

/* Forks; the child breaks an invariant. Returns the child's wait status and its stderr. */
static int broken_in_child(char *out, size_t sz)
{
	int fds[2], status = 0;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		const struct rlimit no_core = {0, 0};
		int sessions_finished = 2;

		setrlimit(RLIMIT_CORE, &no_core);
		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		BASE_ASSERT(sessions_finished == 1, "a session finishes once");
		_exit(0); /* not reached while the assert works */
	}
	close(fds[1]);
	while (len + 1 < sz && (n = read(fds[0], out + len, sz - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void test_broken_invariant_aborts_naming_it(void **state)
{
	char out[4096];
	int status;

	(void)state;
	status = broken_in_child(out, sizeof(out));
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
	assert_non_null(strstr(out, "error assert: invariant broken: a session finishes once"));
	assert_non_null(strstr(out, "(sessions_finished == 1)"));
	assert_non_null(strstr(out, "test_assert.c:"));
	assert_non_null(strstr(out, "in broken_in_child()"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kept_invariant_goes_on),
		cmocka_unit_test(test_broken_invariant_aborts_naming_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
