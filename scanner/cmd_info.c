/* Placeholder until the module's owner lands it: refuses to run (exit 16). */
#include <stdio.h>
#include "scanner/cmds.h"

int bsw_cmd_info(int argc, char **argv)
{
	fprintf(stderr, "bootsweep: %s: not implemented yet\n", argv[0]);
	return BSW_EXIT_USAGE;
}

int bsw_cmd_cat(int argc, char **argv)
{
	fprintf(stderr, "bootsweep: %s: not implemented yet\n", argv[0]);
	return BSW_EXIT_USAGE;
}
