/*
 * util.h: allocation (fatal on out-of-memory: rsyslog restarts the helper
 * and the spool keeps what was accepted), capped growable buffers, UTF-8
 * repair, durations and time formatting.
 */
#ifndef OMK_UTIL_H
#define OMK_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a new string; caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The value of a hex digit, or -1. */
int hex_digit(int c);

/* Write all of p, retrying on EINTR and short writes; -1 with errno. */
int write_all(int fd, const void *p, size_t n);
struct buf;
/*
 * Replace b's contents with what fd gives until EOF or max bytes
 * (SIZE_MAX: until EOF; b's own cap still bounds what is kept). Retries
 * on EINTR; -1 with errno on a read error.
 */
int read_all(int fd, struct buf *b, size_t max);
/*
 * The process holds a secret from now on: no core dumps (RLIMIT_CORE 0)
 * and, on Linux, not dumpable (no core, no ptrace by other users).
 */
void secret_protect_process(void);
/*
 * Replace path with data atomically: a temp file beside it (O_EXCL,
 * O_NOFOLLOW, mode), fsync, rename. -1 with errno, nothing left behind.
 */
int file_replace(const char *path, const void *data, size_t len,
    unsigned mode);

/*
 * A growable byte buffer with a cap fixed at creation (curl's dynbuf):
 * appends past the cap are cut and `truncated` is set, so no input can
 * make a buffer grow without bound. Always NUL-terminated.
 */
struct buf {
	char *data;
	size_t len;
	size_t alloc;
	size_t cap;      /* maximum len */
	bool truncated;
};

void buf_init(struct buf *b, size_t cap);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
/* Returns false if the data was cut at the cap. */
bool buf_append(struct buf *b, const void *p, size_t n);
bool buf_appendc(struct buf *b, char c);
bool buf_appends(struct buf *b, const char *s);
bool buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Take ownership of the data (NUL-terminated) and reset the buffer. */
char *buf_detach(struct buf *b, size_t *len);

/* UTF-8 */
/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid. */
size_t utf8_seqlen(const unsigned char *p, size_t n);
bool utf8_valid(const char *s, size_t n);
/* Append s to b, replacing every invalid sequence and NUL byte with
 * U+FFFD. Returns the number of replacements. */
/* Valid UTF-8 holding no control character (C0 or DEL): a name that
 * goes into a JSON body as it is. */
bool utf8_printable(const char *s);
size_t utf8_append_repaired(struct buf *b, const char *s, size_t n);
/* Largest prefix length <= max that does not split a UTF-8 sequence. */
size_t utf8_cut(const char *s, size_t n, size_t max);
/* Number of code points in the valid UTF-8 string s. */
size_t utf8_count(const char *s, size_t n);
/* Byte offset of the first `chars` code points. */
size_t utf8_offset(const char *s, size_t n, size_t chars);

/*
 * Durations: "90s", "10m", "4h", "2d", "1w", a bare number is seconds.
 * Returns false on a malformed value.
 */
bool duration_parse(const char *s, int64_t *seconds);

/* "yyyy-MM-dd HH:mm:ss" in local time (TZ honoured); out must hold 20. */
void time_format_local(time_t t, char out[20]);
/*
 * The clock. OMKAPTURE_NOW=<epoch seconds> (or an ISO time) pins it, so
 * tests of due dates and first_seen are deterministic;
 * OMKAPTURE_NOW=@FILE reads the epoch seconds from FILE at every call, so
 * a test moves time on by rewriting FILE (bursts end, storms pass)
 * without sleeping.
 */
time_t clock_now(void);
/* Days since 1970-01-01 of a civil date (mon 1..12): timegm for C11. */
int64_t time_days_from_civil(int64_t y, unsigned mon, unsigned mday);
/* Parse RFC 3339 / ISO 8601 "2026-11-27T10:00:00[.frac](Z|+hh:mm)". */
bool time_parse_rfc3339(const char *s, size_t n, time_t *out);

/* 64-bit FNV-1a, for the stable ticket reference. */
uint64_t hash_fnv1a(uint64_t h, const void *p, size_t n);
#define HASH_FNV_INIT 0xcbf29ce484222325ULL

#endif
