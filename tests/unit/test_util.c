/*
 * test_util.c: capped buffers, UTF-8 repair and cutting, durations, time
 * parsing and formatting, FNV-1a and the pinned clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "util.h"

/* 2026-11-27T10:00:00Z */
#define NOW 1795773600

static void
t_set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

/* buf */

static void
test_buf_append_and_cap(void **state)
{
	struct buf b;

	buf_init(&b, 5);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 5);
	assert_false(b.truncated);

	assert_true(buf_appends(&b, "abc"));
	assert_int_equal(b.len, 3);
	assert_string_equal(b.data, "abc");
	assert_false(b.truncated);

	/* Cut at the cap, flagged, still NUL-terminated. */
	assert_false(buf_appends(&b, "defg"));
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.data, "abcde", 6);
	assert_true(b.truncated);

	/* Nothing more fits. */
	assert_false(buf_appendc(&b, 'x'));
	assert_int_equal(b.len, 5);
	assert_string_equal(b.data, "abcde");

	/* An empty append at the cap is not a cut. */
	assert_true(buf_append(&b, "", 0));

	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_false(b.truncated);
	assert_string_equal(b.data, "");
	assert_true(buf_appendc(&b, 'z'));
	assert_string_equal(b.data, "z");
	buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
}

static void
test_buf_exact_cap(void **state)
{
	struct buf b;

	buf_init(&b, 4);
	assert_true(buf_append(&b, "abcd", 4));
	assert_false(b.truncated);
	assert_string_equal(b.data, "abcd");
	buf_free(&b);

	/* Cap 0: every non-empty append is cut, data stays "". */
	buf_init(&b, 0);
	assert_true(buf_append(&b, "", 0));
	assert_string_equal(b.data, "");
	assert_false(buf_appends(&b, "x"));
	assert_true(b.truncated);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	buf_free(&b);
}

static void
test_buf_grows(void **state)
{
	struct buf b;
	char big[5000];
	size_t i;

	memset(big, 'q', sizeof(big));
	buf_init(&b, 1 << 20);
	for (i = 0; i < 10; i++)
		assert_true(buf_append(&b, big, sizeof(big)));
	assert_int_equal(b.len, 50000);
	assert_true(b.alloc >= 50001);
	assert_int_equal(b.data[49999], 'q');
	assert_int_equal(b.data[50000], '\0');
	buf_free(&b);
}

static void
test_buf_printf(void **state)
{
	struct buf b;
	char want[600];

	buf_init(&b, 10);
	assert_true(buf_printf(&b, "%d-%s", 42, "ab"));
	assert_string_equal(b.data, "42-ab");
	assert_false(buf_printf(&b, "%s", "0123456789"));
	assert_string_equal(b.data, "42-ab01234");
	assert_true(b.truncated);
	buf_free(&b);

	/* Longer than the 256-byte stack buffer. */
	memset(want, 'w', 500);
	want[500] = '\0';
	buf_init(&b, 1000);
	assert_true(buf_printf(&b, "<%s>", want));
	assert_int_equal(b.len, 502);
	assert_int_equal(b.data[0], '<');
	assert_memory_equal(b.data + 1, want, 500);
	assert_int_equal(b.data[501], '>');
	assert_int_equal(b.data[502], '\0');
	buf_free(&b);

	/* ... and cut at the cap. */
	buf_init(&b, 300);
	assert_false(buf_printf(&b, "<%s>", want));
	assert_int_equal(b.len, 300);
	assert_true(b.truncated);
	assert_int_equal(b.data[0], '<');
	assert_int_equal(b.data[299], 'w');
	assert_int_equal(b.data[300], '\0');
	buf_free(&b);
}

static void
test_buf_detach(void **state)
{
	struct buf b;
	size_t len = 99;
	char *p;

	buf_init(&b, 100);
	buf_appends(&b, "hello");
	p = buf_detach(&b, &len);
	assert_string_equal(p, "hello");
	assert_int_equal(len, 5);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.alloc, 0);
	free(p);

	/* Detaching an untouched buffer gives "" (never NULL). */
	p = buf_detach(&b, NULL);
	assert_non_null(p);
	assert_string_equal(p, "");
	free(p);
	buf_free(&b);
}

static void
test_xfuncs(void **state)
{
	char *p;

	p = xstrndup("abcdef", 3);
	assert_string_equal(p, "abc");
	free(p);
	p = xasprintf("%s=%d", "n", 7);
	assert_string_equal(p, "n=7");
	free(p);
	p = xstrdup("");
	assert_string_equal(p, "");
	free(p);
}

/* UTF-8 */

static size_t
t_seqlen(const char *s, size_t n)
{
	return utf8_seqlen((const unsigned char *)s, n);
}

static void
test_utf8_seqlen(void **state)
{
	assert_int_equal(t_seqlen("a", 1), 1);
	assert_int_equal(t_seqlen("\0", 1), 1);              /* NUL is ASCII */
	assert_int_equal(t_seqlen("\xc3\xa9", 2), 2);        /* é */
	assert_int_equal(t_seqlen("\xe2\x82\xac", 3), 3);    /* € */
	assert_int_equal(t_seqlen("\xf0\x9f\x98\x80", 4), 4);/* 😀 */
	assert_int_equal(t_seqlen("\xe0\xa0\x80", 3), 3);    /* U+0800 */
	assert_int_equal(t_seqlen("\xed\x9f\xbf", 3), 3);    /* U+D7FF */
	assert_int_equal(t_seqlen("\xee\x80\x80", 3), 3);    /* U+E000 */
	assert_int_equal(t_seqlen("\xf0\x90\x80\x80", 4), 4);/* U+10000 */
	assert_int_equal(t_seqlen("\xf4\x8f\xbf\xbf", 4), 4);/* U+10FFFF */

	/* Overlong forms. */
	assert_int_equal(t_seqlen("\xc0\x80", 2), 0);
	assert_int_equal(t_seqlen("\xc1\xbf", 2), 0);
	assert_int_equal(t_seqlen("\xe0\x80\xaf", 3), 0);
	assert_int_equal(t_seqlen("\xe0\x9f\xbf", 3), 0);
	assert_int_equal(t_seqlen("\xf0\x8f\xbf\xbf", 4), 0);
	/* Surrogates. */
	assert_int_equal(t_seqlen("\xed\xa0\x80", 3), 0);
	assert_int_equal(t_seqlen("\xed\xbf\xbf", 3), 0);
	/* Beyond U+10FFFF, and bytes that never start a sequence. */
	assert_int_equal(t_seqlen("\xf4\x90\x80\x80", 4), 0);
	assert_int_equal(t_seqlen("\xf5\x80\x80\x80", 4), 0);
	assert_int_equal(t_seqlen("\xff", 1), 0);
	assert_int_equal(t_seqlen("\xfe", 1), 0);
	assert_int_equal(t_seqlen("\x80", 1), 0);
	assert_int_equal(t_seqlen("\xbf", 1), 0);
	/* Truncated (by n) and broken continuations. */
	assert_int_equal(t_seqlen("\xc3\xa9", 1), 0);
	assert_int_equal(t_seqlen("\xe2\x82\xac", 2), 0);
	assert_int_equal(t_seqlen("\xf0\x9f\x98\x80", 3), 0);
	assert_int_equal(t_seqlen("\xc3(", 2), 0);
	assert_int_equal(t_seqlen("\xe2(\xac", 3), 0);
	assert_int_equal(t_seqlen("\xe2\x82(", 3), 0);
	assert_int_equal(t_seqlen("\xf0\x9f\x98(", 4), 0);
}

static void
test_utf8_valid(void **state)
{
	assert_true(utf8_valid("", 0));
	assert_true(utf8_valid("plain ascii", 11));
	assert_true(utf8_valid("a\0b", 3));
	assert_true(utf8_valid("h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 12));
	assert_false(utf8_valid("ab\xff", 3));
	assert_false(utf8_valid("\xc0\x80", 2));
	assert_false(utf8_valid("x\xed\xa0\x80y", 5));
	/* A sequence cut by n is invalid, whatever follows in memory. */
	assert_false(utf8_valid("ab\xe2\x82\xac", 4));
	assert_true(utf8_valid("ab\xe2\x82\xac", 5));
}

#define FFFD "\xef\xbf\xbd"

static void
t_check_repair(const char *in, size_t n, const char *want, size_t want_bad)
{
	struct buf b;

	buf_init(&b, 1024);
	assert_int_equal(utf8_append_repaired(&b, in, n), want_bad);
	assert_non_null(b.data);
	assert_int_equal(b.len, strlen(want));
	assert_string_equal(b.data, want);
	assert_true(utf8_valid(b.data, b.len));
	buf_free(&b);
}

static void
test_utf8_append_repaired(void **state)
{
	t_check_repair("", 0, "", 0);
	t_check_repair("abc", 3, "abc", 0);
	t_check_repair("h\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10,
	    "h\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 0);
	/* NUL bytes. */
	t_check_repair("a\0b", 3, "a" FFFD "b", 1);
	t_check_repair("\0\0", 2, FFFD FFFD, 2);
	/* Every byte of an overlong form or a surrogate is replaced. */
	t_check_repair("<\xc0\x80>", 4, "<" FFFD FFFD ">", 2);
	t_check_repair("<\xed\xa0\x80>", 5, "<" FFFD FFFD FFFD ">", 3);
	t_check_repair("\xf4\x90\x80\x80", 4, FFFD FFFD FFFD FFFD, 4);
	/* Lone bytes. */
	t_check_repair("a\xffz", 3, "a" FFFD "z", 1);
	t_check_repair("\x80", 1, FFFD, 1);
	/* A sequence truncated by the end of the input. */
	t_check_repair("ab\xe2\x82", 4, "ab" FFFD FFFD, 2);
	t_check_repair("ab\xf0\x9f\x98", 5, "ab" FFFD FFFD FFFD, 3);
	/* A broken continuation keeps the following ASCII. */
	t_check_repair("\xc3(", 2, FFFD "(", 1);
}

static void
test_utf8_append_repaired_appends(void **state)
{
	struct buf b;

	buf_init(&b, 8);
	buf_appends(&b, "ab");
	assert_int_equal(utf8_append_repaired(&b, "\xff\xff", 2), 2);
	/* "ab" + 2 x 3 bytes = 8: exactly the cap. */
	assert_int_equal(b.len, 8);
	assert_false(b.truncated);
	assert_string_equal(b.data, "ab" FFFD FFFD);
	assert_int_equal(utf8_append_repaired(&b, "c", 1), 0);
	assert_true(b.truncated);
	assert_int_equal(b.len, 8);
	buf_free(&b);
}

static void
test_utf8_cut(void **state)
{
	/* "héllo": h c3 a9 l l o */
	const char *s = "h\xc3\xa9llo";
	/* "a😀b": a f0 9f 98 80 b */
	const char *e = "a\xf0\x9f\x98\x80" "b";
	/* "a€": a e2 82 ac */
	const char *eu = "a\xe2\x82\xac";

	assert_int_equal(utf8_cut(s, 6, 6), 6);
	assert_int_equal(utf8_cut(s, 6, 100), 6);
	assert_int_equal(utf8_cut(s, 6, 0), 0);
	assert_int_equal(utf8_cut(s, 6, 1), 1);
	assert_int_equal(utf8_cut(s, 6, 2), 1);  /* would split é */
	assert_int_equal(utf8_cut(s, 6, 3), 3);
	assert_int_equal(utf8_cut(s, 6, 5), 5);

	assert_int_equal(utf8_cut(e, 6, 1), 1);
	assert_int_equal(utf8_cut(e, 6, 2), 1);
	assert_int_equal(utf8_cut(e, 6, 3), 1);
	assert_int_equal(utf8_cut(e, 6, 4), 1);
	assert_int_equal(utf8_cut(e, 6, 5), 5);

	assert_int_equal(utf8_cut(eu, 4, 2), 1);
	assert_int_equal(utf8_cut(eu, 4, 3), 1);
	assert_int_equal(utf8_cut(eu, 4, 4), 4);
}

static void
test_utf8_count_offset(void **state)
{
	const char *s = "h\xc3\xa9llo";           /* 6 bytes, 5 chars */
	const char *m = "\xf0\x9f\x98\x80\xe2\x82\xac" "x"; /* 8 bytes, 3 */

	assert_int_equal(utf8_count("", 0), 0);
	assert_int_equal(utf8_count("abc", 3), 3);
	assert_int_equal(utf8_count(s, 6), 5);
	assert_int_equal(utf8_count(m, 8), 3);

	assert_int_equal(utf8_offset(s, 6, 0), 0);
	assert_int_equal(utf8_offset(s, 6, 1), 1);
	assert_int_equal(utf8_offset(s, 6, 2), 3);
	assert_int_equal(utf8_offset(s, 6, 4), 5);
	assert_int_equal(utf8_offset(s, 6, 5), 6);
	assert_int_equal(utf8_offset(s, 6, 50), 6);
	assert_int_equal(utf8_offset(m, 8, 1), 4);
	assert_int_equal(utf8_offset(m, 8, 2), 7);
	assert_int_equal(utf8_offset(m, 8, 3), 8);
	assert_int_equal(utf8_offset("", 0, 3), 0);
}

/* Durations */

static void
t_check_duration(const char *s, int64_t want)
{
	int64_t v = -12345;

	if (!duration_parse(s, &v))
		fail_msg("duration_parse(\"%s\") refused", s);
	if (v != want)
		fail_msg("duration_parse(\"%s\") = %lld, want %lld", s,
		    (long long)v, (long long)want);
}

static void
t_check_duration_bad(const char *s)
{
	int64_t v = -12345;

	if (duration_parse(s, &v))
		fail_msg("duration_parse(\"%s\") accepted (%lld)", s,
		    (long long)v);
	/* The output is left alone on error. */
	assert_int_equal(v, -12345);
}

static void
test_duration_parse(void **state)
{
	t_check_duration("90s", 90);
	t_check_duration("10m", 600);
	t_check_duration("4h", 14400);
	t_check_duration("2d", 172800);
	t_check_duration("1w", 604800);
	t_check_duration("1h30m", 5400);
	t_check_duration("1d2h3m4s", 93784);
	t_check_duration("45", 45);
	t_check_duration("0", 0);
	t_check_duration("0s", 0);
	t_check_duration(" 5m ", 300);
	t_check_duration("\t7s", 7);
	t_check_duration("1000000000000000000", 1000000000000000000LL);

	t_check_duration_bad("");
	t_check_duration_bad("   ");
	t_check_duration_bad("5x");
	t_check_duration_bad("-1");
	t_check_duration_bad("+1");
	t_check_duration_bad("m");
	t_check_duration_bad("1.5h");
	t_check_duration_bad("5 m");
	t_check_duration_bad("5m x");
	t_check_duration_bad("5M");
	t_check_duration_bad("h5");
	/* Overflow in the digits, in the unit, and in the sum. */
	t_check_duration_bad("99999999999999999999");
	t_check_duration_bad("100000000000000000000s");
	t_check_duration_bad("10000000000000000w");
	t_check_duration_bad("9000000000000000000s9000000000000000000s");
}

/* Time */

static void
t_check_rfc3339(const char *s, time_t want)
{
	time_t t = 0;

	if (!time_parse_rfc3339(s, strlen(s), &t))
		fail_msg("time_parse_rfc3339(\"%s\") refused", s);
	if (t != want)
		fail_msg("time_parse_rfc3339(\"%s\") = %lld, want %lld", s,
		    (long long)t, (long long)want);
}

static void
t_check_rfc3339_bad(const char *s)
{
	time_t t = 0;

	if (time_parse_rfc3339(s, strlen(s), &t))
		fail_msg("time_parse_rfc3339(\"%s\") accepted (%lld)", s,
		    (long long)t);
}

static void
test_time_parse_rfc3339(void **state)
{
	t_set_tz("UTC");
	t_check_rfc3339("2026-11-27T10:00:00Z", NOW);
	t_check_rfc3339("2026-11-27t10:00:00z", NOW);
	t_check_rfc3339("2026-11-27 10:00:00Z", NOW);
	t_check_rfc3339("1970-01-01T00:00:00Z", 0);
	t_check_rfc3339("2000-02-29T12:34:56Z", 951827696);
	t_check_rfc3339("2026-11-27T15:30:00+05:30", NOW);
	t_check_rfc3339("2026-11-27T02:00:00-08:00", NOW);
	t_check_rfc3339("2026-11-27T10:00:00+00:00", NOW);
	t_check_rfc3339("2026-11-27T10:00:00.123456Z", NOW);
	t_check_rfc3339("2026-11-27T10:00:00,5Z", NOW);
	t_check_rfc3339("2026-11-27T11:00:00.999+01:00", NOW);
	/* No zone: local time, here UTC. */
	t_check_rfc3339("2026-11-27T10:00:00", NOW);
	t_check_rfc3339("2026-11-27 10:00:00", NOW);

	t_check_rfc3339_bad("");
	t_check_rfc3339_bad("2026-11-27");
	t_check_rfc3339_bad("2026-11-27T10:00");
	t_check_rfc3339_bad("2026-11-27T10:00:0Z");
	t_check_rfc3339_bad("2026-13-01T00:00:00Z");
	t_check_rfc3339_bad("2026-00-01T00:00:00Z");
	t_check_rfc3339_bad("2026-11-00T00:00:00Z");
	t_check_rfc3339_bad("2026-11-27T24:00:00Z");
	t_check_rfc3339_bad("2026-11-27T10:60:00Z");
	t_check_rfc3339_bad("2026-11-27X10:00:00Z");
	t_check_rfc3339_bad("2026/11/27T10:00:00Z");
	t_check_rfc3339_bad("2026-11-27T10:00:00+0530");
	t_check_rfc3339_bad("2026-11-27T10:00:00+05");
	t_check_rfc3339_bad("2026-11-27T10:00:00Zjunk");
	t_check_rfc3339_bad("2026-11-27T10:00:00 Z");
	t_check_rfc3339_bad("2026-11-27T10:00:00+05:30x");
}

/*
 * Regression test for a fixed bug (minor, util.c time_parse_rfc3339: only "D > 31" is checked): a day
 * that does not exist in its month is accepted and rolls over
 * (2026-02-30 is taken as 2026-03-02), so rules.c accepts
 * "due = 2026-02-30 10:00:00" and Kapture later refuses the ticket.
 * Fix: check D against the month's length (leap years included).
 */
static void
test_time_parse_rfc3339_bad_day(void **state)
{
	t_check_rfc3339_bad("2026-02-30T00:00:00Z");
	t_check_rfc3339_bad("2026-04-31T00:00:00Z");
	t_check_rfc3339_bad("2025-02-29T00:00:00Z");
	t_check_rfc3339("2024-02-29T00:00:00Z", 1709164800);
}

static void
test_time_parse_rfc3339_local_zone(void **state)
{
	/* POSIX zone strings need no tzdata: EST5 is UTC-5. */
	t_set_tz("EST5");
	t_check_rfc3339("2026-11-27T05:00:00", NOW);
	/* An explicit zone ignores TZ. */
	t_check_rfc3339("2026-11-27T10:00:00Z", NOW);
	t_set_tz("UTC");
}

static void
test_time_parse_rfc3339_length(void **state)
{
	time_t t = 0;
	const char *s = "2026-11-27T10:00:00Zgarbage";

	/* Only n bytes count. */
	assert_true(time_parse_rfc3339(s, 20, &t));
	assert_int_equal(t, NOW);
	assert_false(time_parse_rfc3339(s, 18, &t));
}

static void
t_check_format(time_t t, const char *want)
{
	char out[20];

	memset(out, 'X', sizeof(out));
	time_format_local(t, out);
	assert_string_equal(out, want);
}

static void
test_time_format_local(void **state)
{
	t_set_tz("UTC");
	t_check_format(NOW, "2026-11-27 10:00:00");
	t_check_format(0, "1970-01-01 00:00:00");
	t_check_format(951827696, "2000-02-29 12:34:56");

	t_set_tz("IST-5:30");
	t_check_format(NOW, "2026-11-27 15:30:00");
	t_set_tz("PST8");
	t_check_format(NOW, "2026-11-27 02:00:00");
	/* A zone with DST rules: CEST in summer, CET in winter. */
	t_set_tz("CET-1CEST,M3.5.0,M10.5.0/3");
	t_check_format(NOW, "2026-11-27 11:00:00");
	t_check_format(1784541600, "2026-07-20 12:00:00"); /* 10:00Z */
	t_set_tz("UTC");
}

/* Hash */

static void
test_hash_fnv1a(void **state)
{
	uint64_t h;

	assert_true(hash_fnv1a(HASH_FNV_INIT, "a", 1) ==
	    0xaf63dc4c8601ec8cULL);
	assert_true(hash_fnv1a(HASH_FNV_INIT, "", 0) == 0xcbf29ce484222325ULL);
	assert_true(hash_fnv1a(HASH_FNV_INIT, "foobar", 6) ==
	    0x85944171f73967e8ULL);
	/* Incremental = one shot. */
	h = hash_fnv1a(HASH_FNV_INIT, "foo", 3);
	h = hash_fnv1a(h, "bar", 3);
	assert_true(h == 0x85944171f73967e8ULL);
	/* Bytes above 0x7f are unsigned. */
	assert_true(hash_fnv1a(HASH_FNV_INIT, "\xff", 1) !=
	    hash_fnv1a(HASH_FNV_INIT, "\x7f", 1));
}

/* Clock */

static void
test_clock_now_pinned(void **state)
{
	/* main() set OMKAPTURE_NOW before anything read the clock. */
	assert_int_equal(clock_now(), NOW);
	/* Read once: later changes do not move it. */
	setenv("OMKAPTURE_NOW", "12345", 1);
	assert_int_equal(clock_now(), NOW);
	setenv("OMKAPTURE_NOW", "1795773600", 1);
}

/*
 * clock_now() caches its first answer (and a fork() would inherit it),
 * so each other form of OMKAPTURE_NOW is tried in a fresh exec of this
 * program: "test_util clock WANT" exits 0 if clock_now() == WANT, and
 * "test_util clock real" exits 0 if it is within 5 s of time().
 */
static int
t_clock_child_main(const char *want)
{
	time_t t = clock_now(), r = time(NULL);

	if (strcmp(want, "real") == 0)
		return t >= r - 5 && t <= r + 5 ? 0 : 1;
	return (long long)t == strtoll(want, NULL, 10) ? 0 : 1;
}

static int
t_clock_in_child(const char *value, const char *want)
{
	char self[4096];
	ssize_t n;
	pid_t pid;
	int status;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = '\0';
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (value != NULL)
			setenv("OMKAPTURE_NOW", value, 1);
		else
			unsetenv("OMKAPTURE_NOW");
		execl(self, self, "clock", want, (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void
test_clock_now_forms(void **state)
{
	t_set_tz("UTC");
	/* The check itself can fail. */
	assert_int_equal(t_clock_in_child("1795773600", "1795773601"), 1);
	assert_int_equal(t_clock_in_child("1795773600", "real"), 1);

	assert_int_equal(t_clock_in_child("1795773600", "1795773600"), 0);
	assert_int_equal(t_clock_in_child("0", "0"), 0);
	assert_int_equal(t_clock_in_child("2026-11-27T10:00:00Z", "1795773600"),
	    0);
	assert_int_equal(t_clock_in_child("2026-11-27T11:00:00+01:00",
	    "1795773600"), 0);
	/* Unset, empty or malformed: the real clock. */
	assert_int_equal(t_clock_in_child(NULL, "real"), 0);
	assert_int_equal(t_clock_in_child("", "real"), 0);
	assert_int_equal(t_clock_in_child("soon", "real"), 0);
	assert_int_equal(t_clock_in_child("123abc", "real"), 0);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_append_and_cap),
		cmocka_unit_test(test_buf_exact_cap),
		cmocka_unit_test(test_buf_grows),
		cmocka_unit_test(test_buf_printf),
		cmocka_unit_test(test_buf_detach),
		cmocka_unit_test(test_xfuncs),
		cmocka_unit_test(test_utf8_seqlen),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_utf8_append_repaired),
		cmocka_unit_test(test_utf8_append_repaired_appends),
		cmocka_unit_test(test_utf8_cut),
		cmocka_unit_test(test_utf8_count_offset),
		cmocka_unit_test(test_duration_parse),
		cmocka_unit_test(test_time_parse_rfc3339),
		cmocka_unit_test(test_time_parse_rfc3339_local_zone),
		cmocka_unit_test(test_time_parse_rfc3339_bad_day),
		cmocka_unit_test(test_time_parse_rfc3339_length),
		cmocka_unit_test(test_time_format_local),
		cmocka_unit_test(test_hash_fnv1a),
		cmocka_unit_test(test_clock_now_pinned),
		cmocka_unit_test(test_clock_now_forms),
	};

	setenv("TZ", "UTC", 1);
	tzset();
	if (argc == 3 && strcmp(argv[1], "clock") == 0)
		return t_clock_child_main(argv[2]);
	setenv("OMKAPTURE_NOW", "1795773600", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
