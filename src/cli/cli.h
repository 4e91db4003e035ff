/* cli: the ccc commands; each lives in its own file and is listed in main.c. */
#ifndef CCCD_CLI_H
#define CCCD_CLI_H

#include <stdio.h>

struct ivr_diag;

struct cli_command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv); /* argv[0] is the command name; returns exit code */
};

int cli_help(int argc, char **argv);
int cli_admin(int argc, char **argv);
/* ccc admin --config FILE backup --out PATH (backup_cmd.c). */
struct store_conf;
int cli_admin_backup(const struct store_conf *sc, int argc, char **argv);
int cli_call(int argc, char **argv);
/* One signed TC3 call of action with params (api_call.c): the endpoint as ccc call takes
 * it (NULL: CCC_ENDPOINT, else 127.0.0.1:8080), credentials from the environment. On
 * success *respp is the answer's Response object (the caller's reference) and 0 is
 * returned; an error response's code and message go to stderr and 1 is returned (2 for
 * bad usage such as no credentials). */
struct json_t;
int cli_call_json(const char *action, const char *endpoint, const struct json_t *params,
		  struct json_t **respp);
/* ccc ACTION --Param value ... (tccli's form); argv[0] is the action. */
int cli_action(int argc, char **argv);
int cli_push(int argc, char **argv);
int cli_ivr(int argc, char **argv);
int cli_task(int argc, char **argv);

/* Prints a flow's findings, one line each, naming the node and field. */
void cli_ivr_diag_print(FILE *out, const char *file, const struct ivr_diag *d);

#endif
