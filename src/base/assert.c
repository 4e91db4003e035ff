/* assert: the end of a broken invariant (BASE_ASSERT) — one log line naming it, then
 * abort(), so a core dump or the sanitizers' report shows the stack. */
#include <stdlib.h>
#include "base/base.h"

void base_assert_fail(const char *what, const char *cond, const char *file, int line,
		      const char *func)
{
	log_msg(LOG_ERROR, "assert", "invariant broken: %s (%s) at %s:%d in %s()", what, cond,
		file, line, func);
	abort();
}
