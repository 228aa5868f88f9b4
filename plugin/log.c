#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EXIT_RUNTIME 3

static const char *log_progname = "omkapture";
static int log_verbosity = LOG_LEVEL_INFO;

void
log_init(const char *progname, int level)
{
	if (progname != NULL)
		log_progname = progname;
	log_verbosity = level;
}

int
log_level(void)
{
	return log_verbosity;
}

/* Build the whole line first and write it with one call, so lines from
 * several helper instances sharing one output file never interleave. */
static void
log_vemit(const char *level, const char *fmt, va_list ap, int errnum)
{
	char line[2048];
	int n, m;

	n = snprintf(line, sizeof(line), "%s[%ld]: %s: ", log_progname,
	    (long)getpid(), level);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n >= sizeof(line) - 2)
		n = (int)sizeof(line) - 2 - (errnum ? 64 : 0);
	if (errnum)
		n += snprintf(line + n, sizeof(line) - (size_t)n, ": %s",
		    strerror(errnum));
	if ((size_t)n >= sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

#define LOG_FN(name, level, minlevel, useerrno)                      \
	void name(const char *fmt, ...)                              \
	{                                                            \
		int saved = errno;                                   \
		va_list ap;                                          \
		if (log_verbosity < (minlevel))                      \
			return;                                      \
		va_start(ap, fmt);                                   \
		log_vemit(level, fmt, ap, (useerrno) ? saved : 0);   \
		va_end(ap);                                          \
		errno = saved;                                       \
	}

LOG_FN(log_warn, "warning", LOG_LEVEL_QUIET, 1)
LOG_FN(log_warnx, "warning", LOG_LEVEL_QUIET, 0)
LOG_FN(log_info, "info", LOG_LEVEL_INFO, 0)
LOG_FN(log_debug, "debug", LOG_LEVEL_DEBUG, 0)

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vemit("fatal", fmt, ap, saved);
	va_end(ap);
	exit(EXIT_RUNTIME);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit("fatal", fmt, ap, 0);
	va_end(ap);
	exit(EXIT_RUNTIME);
}

unsigned long
log_ratelimit_ok(struct log_ratelimit *rl, int interval_sec)
{
	struct timespec ts;
	unsigned long n;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (rl->last != 0 && ts.tv_sec - rl->last < interval_sec) {
		rl->skipped++;
		return 0;
	}
	rl->last = ts.tv_sec == 0 ? 1 : ts.tv_sec;
	n = rl->skipped + 1;
	rl->skipped = 0;
	return n;
}
