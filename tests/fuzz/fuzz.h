/*
 * fuzz.h: what every libFuzzer target here shares.
 *
 * The library reads a little process state: the clock (RFC 3164 lines
 * carry no year, so input.c asks clock_now() for one) and the time zone
 * (templates format times in local time). Both are pinned before the
 * first input, as the tests pin them, so an input found to crash crashes
 * again when replayed on another day or machine. Warnings the library
 * logs for some inputs (a regex over its match limit) are rate-limited;
 * -close_fd_mask=2 hides them if they get in the way.
 */
#ifndef OMK_FUZZ_H
#define OMK_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "util.h"

/* The tests' pinned clock: 2026-11-27 10:00:00 UTC. */
#define FUZZ_NOW ((time_t)1795773600)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline void
fuzz_pin_process(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	setenv("OMKAPTURE_NOW", "1795773600", 1);
	(void)clock_now(); /* reads and caches OMKAPTURE_NOW now */
	log_init("omkapture-fuzz", LOG_LEVEL_QUIET);
}

/* data as a NUL-terminated string (an API that wants one); caller frees.
 * Bytes after an embedded NUL are then unseen, as they would be there. */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = xmalloc(size + 1);

	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
