/* cccd: reads the config, wires the modules and their threads, runs the control loop. */
#include <stdio.h>
#include <string.h>
#include "base/base.h"
#include "conf/conf.h"

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	log_info("main", "cccd");
	return 0;
}
