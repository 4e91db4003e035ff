/* role: the console's three roles and the actions each may run. The console runs the same
 * actions as every API client; a role only narrows which. */
#include <errno.h>
#include <string.h>
#include "console/console.h"

static const char *const names[] = {
	[CONSOLE_VIEWER] = "viewer",
	[CONSOLE_SUPERVISOR] = "supervisor",
	[CONSOLE_ADMINISTRATOR] = "administrator",
};

int console_role_parse(const char *s, enum console_role *rp)
{
	for (int r = CONSOLE_VIEWER; r <= CONSOLE_ADMINISTRATOR; r++) {
		if (s && !strcmp(s, names[r])) {
			*rp = (enum console_role)r;
			return 0;
		}
	}
	return EINVAL;
}

const char *console_role_name(enum console_role r)
{
	return r >= CONSOLE_VIEWER && r <= CONSOLE_ADMINISTRATOR ? names[r] : "none";
}

/* Reading is Describe* (TCCC's actions) and CccdDescribe* (cccd's own). */
bool console_action_changes(const char *action)
{
	return strncmp(action, "Describe", 8) && strncmp(action, "CccdDescribe", 12);
}

/* Who may sign in, and with which powers, is an administrator's business: the list of
 * console users is not a read for the other roles. */
static bool admin_read(const char *action)
{
	return !strcmp(action, "CccdDescribeConsoleUsers");
}

bool console_role_allows(enum console_role r, const char *action)
{
	if (!action)
		return false;
	switch (r) {
	case CONSOLE_ADMINISTRATOR:
		return true;
	case CONSOLE_SUPERVISOR:
		return (!console_action_changes(action) && !admin_read(action)) ||
		       !strcmp(action, "HangUpCall");
	case CONSOLE_VIEWER:
		return !console_action_changes(action) && !admin_read(action);
	}
	return false;
}

bool console_user_name_ok(const char *s)
{
	size_t i;

	if (!s)
		return false;
	for (i = 0; s[i]; i++) {
		char c = s[i];

		if (i >= 64 || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				 (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '@' ||
				 c == '-'))
			return false;
	}
	return i > 0;
}
