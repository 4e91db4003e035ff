/* Unit tests of the log: level names parse case-insensitively, unknown ones are refused,
 * and log_enabled answers what log_msg would write (the SIP trace formats a message only
 * when debug lines are written, so it costs nothing otherwise). JSON lines parse, escape
 * what they must, and carry the session a line starts with or the thread's context, and
 * the request of the thread's context; text lines append a context id they lack. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
#include "base/base.h"

/* What log_msg writes to stderr while fn runs, read back through a pipe. */
static void capture(char *out, size_t size, void (*fn)(void))
{
	int fds[2], saved = dup(STDERR_FILENO);
	ssize_t n;

	assert_int_equal(pipe(fds), 0);
	dup2(fds[1], STDERR_FILENO);
	fn();
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fds[1]);
	n = read(fds[0], out, size - 1);
	close(fds[0]);
	out[n > 0 ? n : 0] = '\0';
}

#define SID "0123456789abcdef0123456789abcdef"
#define RID "11111111-2222-4333-8444-555555555555"

static void write_lines(void)
{
	log_msg(LOG_WARN, "api", "a \"quoted\" tab\tand\nnewline \x01");
	log_context_request(RID, NULL);
	log_msg(LOG_INFO, "store", "inside a request");
	log_context_request(NULL, NULL);
	log_msg(LOG_INFO, "session", SID ": calling 1 from 2");
	log_context_session(SID, NULL);
	log_msg(LOG_INFO, "ivr", "a node ran");
	log_context_session(NULL, NULL);
}

static void test_json_lines(void **state)
{
	char buf[4096], *line, *save = NULL;
	json_t *v[4];
	unsigned n = 0;

	(void)state;
	log_set_level(LOG_INFO);
	log_set_format(LOG_FORMAT_JSON);
	capture(buf, sizeof(buf), write_lines);
	log_set_format(LOG_FORMAT_TEXT);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_error_t e;

		assert_true(n < 4);
		v[n] = json_loads(line, 0, &e);
		assert_non_null(v[n]);
		assert_non_null(json_string_value(json_object_get(v[n], "ts")));
		n++;
	}
	assert_int_equal(n, 4);
	assert_string_equal(json_string_value(json_object_get(v[0], "msg")),
			    "a \"quoted\" tab\tand\nnewline \x01");
	assert_string_equal(json_string_value(json_object_get(v[0], "level")), "warn");
	assert_null(json_object_get(v[0], "session_id"));
	assert_string_equal(json_string_value(json_object_get(v[1], "request_id")), RID);
	assert_string_equal(json_string_value(json_object_get(v[1], "module")), "store");
	assert_string_equal(json_string_value(json_object_get(v[2], "session_id")), SID);
	assert_null(json_object_get(v[2], "request_id"));
	assert_string_equal(json_string_value(json_object_get(v[3], "session_id")), SID);
	for (unsigned i = 0; i < n; i++)
		json_decref(v[i]);
}

static void test_text_lines(void **state)
{
	char buf[4096];

	(void)state;
	log_set_level(LOG_INFO);
	capture(buf, sizeof(buf), write_lines);
	assert_non_null(strstr(buf, " info  store: inside a request request=" RID "\n"));
	assert_non_null(strstr(buf, "session: " SID ": calling 1 from 2\n"));
	assert_non_null(strstr(buf, "ivr: a node ran session=" SID "\n"));
}

static void test_level_names(void **state)
{
	enum log_level l = LOG_ERROR;

	(void)state;
	assert_int_equal(log_level_parse("debug", &l), 0);
	assert_int_equal(l, LOG_DEBUG);
	assert_int_equal(log_level_parse("WARN", &l), 0);
	assert_int_equal(l, LOG_WARN);
	assert_int_equal(log_level_parse("verbose", &l), EINVAL);
	assert_int_equal(l, LOG_WARN);
}

static void test_enabled_follows_the_level(void **state)
{
	(void)state;
	log_set_level(LOG_WARN);
	assert_false(log_enabled(LOG_DEBUG));
	assert_false(log_enabled(LOG_INFO));
	assert_true(log_enabled(LOG_WARN));
	assert_true(log_enabled(LOG_ERROR));
	log_set_level(LOG_DEBUG);
	assert_true(log_enabled(LOG_DEBUG));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_level_names),
		cmocka_unit_test(test_enabled_follows_the_level),
		cmocka_unit_test(test_json_lines),
		cmocka_unit_test(test_text_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
