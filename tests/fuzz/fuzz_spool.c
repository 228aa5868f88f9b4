/*
 * fuzz_spool.c: a spool file's text (spool.h), as the sender reads one it
 * claims (full) and as a scan indexes one (head only).
 */
#include <stdbool.h>

#include "fuzz.h"
#include "spool.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_pin_process();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *full, *head;

	head = spool_parse_buf((const char *)data, size, true);
	full = spool_parse_buf((const char *)data, size, false);
	/* What a full parse accepts, a head-only parse accepts too. */
	if (full == NULL && head != NULL)
		abort();
	return 0;
}
