/* schema_dump.c - every setting path of e2mproxyd's configuration
 * schema (conf_schema_each()), one a line, for tests/conf/t_manpage.sh. */
#include <stdio.h>

#include "proxyd/conf.h"

static void
put(const char *path, void *arg)
{
	(void)arg;
	puts(path);
}

int
main(int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: schema_dump\n");
		return 2;
	}
	conf_schema_each(put, NULL);
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}
