/* assets: the console's pages, looked up by path. The table itself is generated at build
 * time from console/ by scripts/console-embed.sh (the Makefile's gen/console_assets.c), so
 * the binary serves them with nothing beside it, and offline. */
#include <string.h>
#include "console/console.h"

extern const struct console_asset console_asset_table[];
extern const size_t console_asset_count;

const struct console_asset *console_asset_find(const char *path)
{
	if (!strcmp(path, "/console") || !strcmp(path, "/console/"))
		path = "/console/index.html";
	for (size_t i = 0; i < console_asset_count; i++) {
		if (!strcmp(console_asset_table[i].path, path))
			return &console_asset_table[i];
	}
	return NULL;
}
