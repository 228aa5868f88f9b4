/*
 * fuzz_kapture.c: the Add/Update Ticket response classifier (kapture.h).
 *
 * Input: three bytes giving the HTTP status, then the body. A digit byte
 * is that digit, any other byte counts modulo 10, so "200{...}" is a 200
 * with body {...} (seeds and dictionary stay readable) and every input
 * still names a status in 0..999 (0: no response). The body is copied
 * with a NUL after it, as http.c hands it over.
 */
#include <stdio.h>

#include "fuzz.h"
#include "kapture.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_pin_process();
	return 0;
}

static int
fuzz_digit(uint8_t b)
{
	return b >= '0' && b <= '9' ? b - '0' : b % 10;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kapture_result r;
	char desc[512], *body;
	long status = 0;
	size_t i;

	for (i = 0; i < 3 && i < size; i++)
		status = status * 10 + fuzz_digit(data[i]);
	body = fuzz_cstr(data + i, size - i);
	kapture_classify(status, body, size - i, &r);
	kapture_describe(&r, desc, sizeof(desc));
	/* Both strings reach the logs: they must stay terminated. */
	if (memchr(r.ticket_id, '\0', sizeof(r.ticket_id)) == NULL ||
	    memchr(r.message, '\0', sizeof(r.message)) == NULL)
		abort();
	if (r.outcome != KAPTURE_DONE && r.outcome != KAPTURE_RETRY &&
	    r.outcome != KAPTURE_AUTH && r.outcome != KAPTURE_FAIL)
		abort();
	(void)kapture_outcome_name(r.outcome);
	free(body);
	return 0;
}
