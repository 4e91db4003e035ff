/* ccc: the command-line client — calls the API as tccli does, plus admin and IVR tools. */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"

static const struct cli_command commands[] = {
	{"help", "show this help", cli_help},
	{"call", "call an API action, signed (TC3, HmacSHA256, HmacSHA1)", cli_call},
	{"admin", "operator commands on the database (tenant-add)", cli_admin},
	{"push", "data push settings and the outbox (config, list, resend)", cli_push},
	{"ivr", "IVR flow tools (validate, simulate)", cli_ivr},
};

int cli_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("usage: ccc COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		printf("  %-12s %s\n", commands[i].name, commands[i].summary);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		cli_help(0, NULL);
		return 2;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "ccc: unknown command '%s' (try 'ccc help')\n", argv[1]);
	return 2;
}
