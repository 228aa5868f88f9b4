/*
 * t_diags.h: shared by the unit tests that assert diagnostics. Include
 * after <cmocka.h>; each test file is its own program, so static is fine.
 */
#ifndef OMK_T_DIAGS_H
#define OMK_T_DIAGS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

/* Everything diags_print writes, as one string the caller frees. */
static char *
t_diags_text(const struct diags *d)
{
	char *s = NULL;
	size_t n = 0;
	FILE *fp = open_memstream(&s, &n);

	assert_non_null(fp);
	diags_print(d, fp);
	fclose(fp);
	return s;
}

/* The diagnostics, printed, must be exactly want. */
static void
t_assert_diags(const struct diags *d, const char *want)
{
	char *s = t_diags_text(d);

	if (strcmp(s, want) != 0) {
		print_error("diagnostics:\n%s\nwanted:\n%s\n", s, want);
		free(s);
		fail();
	}
	free(s);
}

#endif
