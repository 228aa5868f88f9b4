#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "log.h"

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		fatal("malloc(%zu)", n);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		fatal("calloc(%zu, %zu)", nmemb, size);
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		fatal("realloc(%zu)", n);
	return q;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap, ap2;
	int n;
	char *p;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatalx("vsnprintf failed");
	p = xmalloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	return p;
}

bool
utf8_printable(const char *s)
{
	const char *p;

	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	return utf8_valid(s, (size_t)(p - s));
}

int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, c, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int
read_all(int fd, struct buf *b, size_t max)
{
	char chunk[16384];
	ssize_t n;

	buf_reset(b);
	while (b->len < max) {
		n = read(fd, chunk, sizeof(chunk) < max - b->len ?
		    sizeof(chunk) : max - b->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		/* Past b's cap the data is dropped, but reading goes on:
		 * max decides where it stops. */
		buf_append(b, chunk, (size_t)n);
	}
	return 0;
}

/* buf */

void
buf_init(struct buf *b, size_t cap)
{
	memset(b, 0, sizeof(*b));
	b->cap = cap;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->alloc = 0;
	b->truncated = false;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->truncated = false;
	if (b->data != NULL)
		b->data[0] = '\0';
}

static void
buf_grow(struct buf *b, size_t need)
{
	size_t n;

	if (need + 1 <= b->alloc)
		return;
	n = b->alloc ? b->alloc : 64;
	while (n < need + 1)
		n *= 2;
	b->data = xrealloc(b->data, n);
	b->alloc = n;
}

bool
buf_append(struct buf *b, const void *p, size_t n)
{
	bool ok = true;

	if (n > b->cap - b->len) {
		n = b->cap - b->len;
		b->truncated = true;
		ok = false;
	}
	buf_grow(b, b->len + n);
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return ok;
}

bool
buf_appendc(struct buf *b, char c)
{
	return buf_append(b, &c, 1);
}

bool
buf_appends(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

bool
buf_printf(struct buf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	int n;
	char *big;
	bool ok;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return false;
	if ((size_t)n < sizeof(small))
		return buf_append(b, small, (size_t)n);
	big = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	ok = buf_append(b, big, (size_t)n);
	free(big);
	return ok;
}

char *
buf_detach(struct buf *b, size_t *len)
{
	char *p;

	buf_grow(b, b->len);
	b->data[b->len] = '\0';
	p = b->data;
	if (len != NULL)
		*len = b->len;
	b->data = NULL;
	b->len = b->alloc = 0;
	b->truncated = false;
	return p;
}

/* UTF-8 */

size_t
utf8_seqlen(const unsigned char *p, size_t n)
{
	unsigned c = p[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		if (n >= 2 && (p[1] & 0xc0) == 0x80)
			return 2;
		return 0;
	}
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && p[1] < 0xa0)
			return 0; /* overlong */
		if (c == 0xed && p[1] > 0x9f)
			return 0; /* surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
		    (p[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && p[1] < 0x90)
			return 0;
		if (c == 0xf4 && p[1] > 0x8f)
			return 0;
		return 4;
	}
	return 0;
}

bool
utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, l;
	uint64_t w;

	while (i < n) {
		/* Log lines are mostly ASCII: eight bytes at a time. */
		if (n - i >= 8) {
			memcpy(&w, p + i, 8);
			if ((w & 0x8080808080808080ULL) == 0) {
				i += 8;
				continue;
			}
		}
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((l = utf8_seqlen(p + i, n - i)) == 0)
			return false;
		i += l;
	}
	return true;
}

size_t
utf8_append_repaired(struct buf *b, const char *s, size_t n)
{
	static const char repl[] = "\xef\xbf\xbd";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, start = 0, l, bad = 0;

	while (i < n) {
		if (p[i] != 0 && p[i] < 0x80) {
			i++;
			continue;
		}
		l = p[i] == 0 ? 0 : utf8_seqlen(p + i, n - i);
		if (l > 0) {
			i += l;
			continue;
		}
		buf_append(b, s + start, i - start);
		buf_append(b, repl, 3);
		bad++;
		i++;
		start = i;
	}
	buf_append(b, s + start, i - start);
	return bad;
}

size_t
utf8_cut(const char *s, size_t n, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i;

	if (n <= max)
		return n;
	i = max;
	/* Step back over continuation bytes to the start of a sequence. */
	while (i > 0 && (p[i] & 0xc0) == 0x80 && max - i < 4)
		i--;
	return i;
}

size_t
utf8_count(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			c++;
	return c;
}

size_t
utf8_offset(const char *s, size_t n, size_t chars)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i, c = 0;

	for (i = 0; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80) {
			if (c == chars)
				return i;
			c++;
		}
	}
	return n;
}

/* Durations */

bool
duration_parse(const char *s, int64_t *seconds)
{
	int64_t total = 0, v, mul;
	const char *p = s;
	bool any = false;

	while (isspace((unsigned char)*p))
		p++;
	/* Several units may follow each other: "1h30m". */
	while (*p != '\0' && !isspace((unsigned char)*p)) {
		if (!isdigit((unsigned char)*p))
			return false;
		v = 0;
		while (isdigit((unsigned char)*p)) {
			if (v > (INT64_MAX - 9) / 10)
				return false;
			v = v * 10 + (*p++ - '0');
		}
		switch (*p) {
		case 's': mul = 1; p++; break;
		case 'm': mul = 60; p++; break;
		case 'h': mul = 3600; p++; break;
		case 'd': mul = 86400; p++; break;
		case 'w': mul = 7 * 86400; p++; break;
		case '\0': case ' ': case '\t': mul = 1; break;
		default: return false;
		}
		if (v > (INT64_MAX - total) / mul)
			return false;
		total += v * mul;
		any = true;
	}
	while (isspace((unsigned char)*p))
		p++;
	if (!any || *p != '\0')
		return false;
	*seconds = total;
	return true;
}

void
time_format_local(time_t t, char out[20])
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm) != 19)
		strcpy(out, "1970-01-01 00:00:00");
}

static int
digits(const char *s, size_t n, size_t at, size_t count)
{
	int v = 0;
	size_t i;

	if (at + count > n)
		return -1;
	for (i = at; i < at + count; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm):
 * timegm is not C11 or POSIX. */
int64_t
time_days_from_civil(int64_t y, unsigned mon, unsigned mday)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= mon <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (mon > 2 ? mon - 3 : mon + 9) + 2) / 5 + mday - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

bool
time_parse_rfc3339(const char *s, size_t n, time_t *out)
{
	int Y, M, D, h, m, sec, oh, om;
	size_t i;
	int64_t t;
	int sign;

	Y = digits(s, n, 0, 4);
	M = digits(s, n, 5, 2);
	D = digits(s, n, 8, 2);
	h = digits(s, n, 11, 2);
	m = digits(s, n, 14, 2);
	sec = digits(s, n, 17, 2);
	if (Y < 0 || M < 1 || M > 12 || D < 1 || D > 31 || h < 0 || h > 23 ||
	    m < 0 || m > 59 || sec < 0 || sec > 60 || s[4] != '-' ||
	    s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    s[13] != ':' || s[16] != ':')
		return false;
	{
		static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31,
		    30, 31, 30, 31 };
		bool leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;

		if (D > mdays[M - 1] || (M == 2 && D == 29 && !leap))
			return false;
	}
	i = 19;
	if (i < n && (s[i] == '.' || s[i] == ',')) {
		i++;
		while (i < n && isdigit((unsigned char)s[i]))
			i++;
	}
	t = time_days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400 +
	    h * 3600 + m * 60 + sec;
	if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i < n && (s[i] == '+' || s[i] == '-')) {
		sign = s[i] == '-' ? -1 : 1;
		oh = digits(s, n, i + 1, 2);
		om = digits(s, n, i + 4, 2);
		if (oh < 0 || om < 0 || s[i + 3] != ':')
			return false;
		t -= sign * (oh * 3600 + om * 60);
		i += 6;
	} else if (i == n) {
		/* No zone: local time. */
		struct tm tm;

		memset(&tm, 0, sizeof(tm));
		tm.tm_year = Y - 1900;
		tm.tm_mon = M - 1;
		tm.tm_mday = D;
		tm.tm_hour = h;
		tm.tm_min = m;
		tm.tm_sec = sec;
		tm.tm_isdst = -1;
		*out = mktime(&tm);
		return *out != (time_t)-1;
	} else {
		return false;
	}
	if (i != n)
		return false;
	*out = (time_t)t;
	return true;
}

void
secret_protect_process(void)
{
	struct rlimit rl;

	rl.rlim_cur = rl.rlim_max = 0;
	(void)setrlimit(RLIMIT_CORE, &rl);
#ifdef __linux__
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
}

int
file_replace(const char *path, const void *data, size_t len, unsigned mode)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	int fd, err = 0;

	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    (mode_t)mode);
	if (fd < 0) {
		err = errno;
	} else {
		if (write_all(fd, data, len) < 0 || fsync(fd) < 0)
			err = errno;
		if (close(fd) < 0 && err == 0)
			err = errno;
		if (err == 0 && rename(tmp, path) < 0)
			err = errno;
		if (err != 0)
			unlink(tmp);
	}
	free(tmp);
	errno = err;
	return err == 0 ? 0 : -1;
}

/* OMKAPTURE_NOW=@FILE: the time is what FILE says now (tests move it). */
static time_t
clock_from_file(const char *path, time_t fallback)
{
	char tmp[64];
	ssize_t n;
	int fd;
	long long v;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return fallback;
	n = read(fd, tmp, sizeof(tmp) - 1);
	close(fd);
	if (n <= 0)
		return fallback;
	tmp[n] = '\0';
	v = strtoll(tmp, NULL, 10);
	return v > 0 ? (time_t)v : fallback;
}

time_t
clock_now(void)
{
	static int pinned = -1;
	static time_t pinned_t;
	static const char *file;
	const char *e;
	char *end;
	long long v;

	if (pinned < 0) {
		pinned = 0;
		e = getenv("OMKAPTURE_NOW");
		if (e != NULL && *e == '@' && e[1] != '\0') {
			file = e + 1;
		} else if (e != NULL && *e != '\0') {
			errno = 0;
			v = strtoll(e, &end, 10);
			if (errno == 0 && *end == '\0') {
				pinned_t = (time_t)v;
				pinned = 1;
			} else if (time_parse_rfc3339(e, strlen(e), &pinned_t)) {
				pinned = 1;
			}
		}
	}
	if (file != NULL)
		return clock_from_file(file, time(NULL));
	return pinned ? pinned_t : time(NULL);
}

uint64_t
hash_fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= c[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}
