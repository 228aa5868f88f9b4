/*
 * log.h: the one logging API (after OpenBSD log.c). Everything goes to
 * stderr, one line per write, because in omprog mode stdout belongs to the
 * protocol and rsyslog sends our stderr to the action's output= file.
 */
#ifndef OMK_LOG_H
#define OMK_LOG_H

#include <stdarg.h>

#define LOG_LEVEL_QUIET 0 /* errors only */
#define LOG_LEVEL_INFO 1  /* default */
#define LOG_LEVEL_DEBUG 2 /* -v */

void log_init(const char *progname, int level);
int log_level(void);
/* Warnings and errors; log_warn appends strerror(errno). */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Exit with status 3 after logging. */
_Noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * A rate limiter for warnings that input can trigger once per line (a
 * pathological regex, oversized lines): at most one message per interval,
 * with the number suppressed since the last one.
 */
struct log_ratelimit {
	long last;           /* monotonic seconds of the last message */
	unsigned long skipped;
};
/* Returns the number of messages skipped since the last one + 1 if this
 * message may be printed now, 0 if it must be dropped. */
unsigned long log_ratelimit_ok(struct log_ratelimit *rl, int interval_sec);

#endif
