/* ccc: the command-line client — calls the API as tccli does, plus admin and IVR tools. */
#include <stdio.h>
#include <string.h>
#include "api/api.h"
#include "cli/cli.h"

static const struct cli_command commands[] = {
	{"help", "this help, or an action's parameters (help ACTION)", cli_help},
	{"call", "call ACTION Key=Value ..., signed (TC3, HmacSHA256, HmacSHA1)", cli_call},
	{"admin", "operator commands on the database (tenant-add)", cli_admin},
	{"push", "data push settings and the outbox (config, list, resend)", cli_push},
	{"ivr", "IVR flow tools (validate, simulate)", cli_ivr},
	{"task", "auto-callout tasks (create from a CSV, show, pause, resume, stop)", cli_task},
};

/* ccc help [ACTION] */
int cli_help(int argc, char **argv)
{
	if (argc > 1) {
		if (!api_help_action(stdout, argv[1]))
			return 0;
		fprintf(stderr, "ccc help: no action '%s' (ccc help lists them)\n", argv[1]);
		return 2;
	}
	printf("usage: ccc ACTION [--Param VALUE ...] [--cli-input-json FILE] "
	       "[--endpoint [https://]HOST:PORT]\n"
	       "       ccc COMMAND [ARGS]\n\n"
	       "An ACTION is called as `tccli ccc ACTION` does: parameters as options named "
	       "as in the API,\narrays and objects as JSON (--Callers '[\"0086...\"]'). "
	       "Credentials from TENCENTCLOUD_SECRET_ID\nand TENCENTCLOUD_SECRET_KEY; the "
	       "endpoint from --endpoint, else CCC_ENDPOINT, else 127.0.0.1:8080.\n"
	       "Exit status: 0 success, 1 an error response (its code and message on "
	       "stderr), 2 bad usage.\n\nactions (ccc help ACTION or ccc ACTION --help for "
	       "their parameters):\n");
	api_help_actions(stdout);
	printf("\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		printf("  %-30s %s\n", commands[i].name, commands[i].summary);
	printf("  %-30s %s\n", "--man", "print the manual page ccc(1)");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		cli_help(0, NULL);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cli_help(argc - 1, argv + 1);
	if (!strcmp(argv[1], "--man") && argc == 2) {
		api_help_man(stdout);
		return 0;
	}
	/* `tccli ccc ACTION ...` reads the same as `ccc ccc ACTION ...`. */
	if (!strcmp(argv[1], "ccc") && argc > 2 && api_action_served(argv[2]))
		argc--, argv++;
	if (api_action_served(argv[1]))
		return cli_action(argc - 1, argv + 1);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "ccc: unknown action or command '%s' (try 'ccc help')\n", argv[1]);
	return 2;
}
