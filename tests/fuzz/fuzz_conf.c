/*
 * fuzz_conf.c: the main configuration file (conf.h): conf_load_buf on top
 * of the built-in defaults, then conf_validate, as --check does; the
 * diagnostics are sorted and printed (to /dev/null) so their text is
 * built too, and every [rules] path is resolved against the config's
 * directory.
 */
#include <stdio.h>

#include "conf.h"
#include "diag.h"
#include "fuzz.h"

static FILE *devnull;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_pin_process();
	if ((devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf *c = conf_new();
	struct diags d;
	size_t i;

	diags_init(&d);
	conf_load_buf(c, "/etc/omkapture/omkapture.conf", (const char *)data,
	    size, &d);
	conf_validate(c, &d, true);
	for (i = 0; i < c->nrule_paths; i++)
		free(conf_path(c, c->rule_paths[i]));
	diags_sort(&d);
	diags_print(&d, devnull);
	diags_free(&d);
	conf_free(c);
	return 0;
}
