/* cli: the ccc commands; each lives in its own file and is listed in main.c. */
#ifndef CCCD_CLI_H
#define CCCD_CLI_H

struct cli_command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv); /* argv[0] is the command name; returns exit code */
};

int cli_help(int argc, char **argv);
int cli_admin(int argc, char **argv);
int cli_push(int argc, char **argv);
int cli_ivr(int argc, char **argv);

#endif
