/*
 * test_input.c: decoding input lines into events (plugin/input.c).
 *
 * The clock is pinned in main (OMKAPTURE_NOW, TZ=UTC) before anything
 * reads it, because clock_now() caches: "now" is 2027-01-01T00:00:30Z, so
 * RFC 3164 lines from late December belong to 2026.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "input.h"
#include "util.h"

#define NOW 1798761630 /* 2027-01-01T00:00:30Z */

struct time_case {
	const char *line;
	time_t want;
};

/* Results of the checks run in children with their own clock and zone. */
static int year_child_status = -1;
static int zone_child_status = -1;

static void
check_slice(const struct slice *s, const char *want, size_t n,
    const char *file, int line)
{
	if (s->p == NULL) {
		print_error("slice has a NULL pointer\n");
		_fail(file, line);
	}
	if (s->n == n && (n == 0 || memcmp(s->p, want, n) == 0))
		return;
	print_error("slice is \"%.*s\" (%zu bytes), want \"%.*s\" (%zu)\n",
	    (int)s->n, s->p, s->n, (int)n, want, n);
	_fail(file, line);
}

/* w must be a string literal: its size counts embedded NULs. */
#define SLICE(s, w) check_slice(&(s), (w), sizeof(w) - 1, __FILE__, __LINE__)

#define JF(ev, name, w) do {						\
	const struct slice *js_ = input_json_field(&(ev), (name),	\
	    strlen(name));						\
	if (js_ == NULL) {						\
		print_error("no json field \"%s\"\n", (name));		\
		_fail(__FILE__, __LINE__);				\
	}								\
	check_slice(js_, (w), sizeof(w) - 1, __FILE__, __LINE__);	\
} while (0)

#define DECODE(ev, fmt, lit) input_decode(&(ev), (fmt), (lit), sizeof(lit) - 1)

static void
assert_no_header(const struct event *ev)
{
	assert_int_equal(ev->host.n, 0);
	assert_int_equal(ev->program.n, 0);
	assert_int_equal(ev->pid.n, 0);
	assert_int_equal(ev->severity, -1);
	assert_int_equal(ev->facility, -1);
	assert_int_equal(ev->time, 0);
}

/* Names */

static void
test_format_names(void **state)
{
	enum input_format f;

	(void)state;
	assert_true(input_format_parse("auto", &f));
	assert_int_equal(f, INPUT_AUTO);
	assert_true(input_format_parse("plain", &f));
	assert_int_equal(f, INPUT_PLAIN);
	assert_true(input_format_parse("rsyslog-json", &f));
	assert_int_equal(f, INPUT_RSYSLOG_JSON);
	assert_true(input_format_parse("journal-json", &f));
	assert_int_equal(f, INPUT_JOURNAL_JSON);
	f = INPUT_PLAIN;
	assert_false(input_format_parse("json", &f));
	assert_false(input_format_parse("", &f));
	assert_false(input_format_parse("Plain", &f));
	assert_int_equal(f, INPUT_PLAIN);
	assert_string_equal(input_format_name(INPUT_AUTO), "auto");
	assert_string_equal(input_format_name(INPUT_PLAIN), "plain");
	assert_string_equal(input_format_name(INPUT_RSYSLOG_JSON),
	    "rsyslog-json");
	assert_string_equal(input_format_name(INPUT_JOURNAL_JSON),
	    "journal-json");
}

static void
test_severity_facility_names(void **state)
{
	static const char *const sev[] = { "emerg", "alert", "crit", "err",
	    "warning", "notice", "info", "debug" };
	static const char *const fac[] = { "kern", "user", "mail", "daemon",
	    "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp",
	    "ntp", "security", "console", "solaris-cron", "local0", "local1",
	    "local2", "local3", "local4", "local5", "local6", "local7" };
	int i;

	(void)state;
	for (i = 0; i < 8; i++)
		assert_string_equal(input_severity_name(i), sev[i]);
	for (i = 0; i < 24; i++)
		assert_string_equal(input_facility_name(i), fac[i]);
	assert_string_equal(input_severity_name(-1), "");
	assert_string_equal(input_severity_name(8), "");
	assert_string_equal(input_facility_name(-1), "");
	assert_string_equal(input_facility_name(24), "");
}

/* Plain lines without a header */

static void
test_plain_no_header(void **state)
{
	struct event ev;

	(void)state;
	input_event_init(&ev);
	DECODE(ev, INPUT_AUTO, "Error: disk failed");
	SLICE(ev.raw, "Error: disk failed");
	SLICE(ev.msg, "Error: disk failed");
	assert_no_header(&ev);
	assert_int_equal(ev.format, INPUT_PLAIN);
	assert_false(ev.json);
	assert_false(ev.json_error);
	assert_null(input_json_field(&ev, "msg", 3));

	/* A tag-like start with a pid is still no header without a time. */
	DECODE(ev, INPUT_PLAIN, "sshd[12]: Accepted publickey");
	SLICE(ev.msg, "sshd[12]: Accepted publickey");
	assert_no_header(&ev);

	/* Leading blanks are kept when there is no header. */
	DECODE(ev, INPUT_PLAIN, "  indented");
	SLICE(ev.msg, "  indented");
	input_event_free(&ev);
}

static void
test_plain_empty_and_blank(void **state)
{
	struct event ev;

	(void)state;
	input_event_init(&ev);
	DECODE(ev, INPUT_AUTO, "");
	SLICE(ev.raw, "");
	SLICE(ev.msg, "");
	assert_no_header(&ev);
	assert_false(ev.json_error);

	DECODE(ev, INPUT_AUTO, "   \t ");
	SLICE(ev.msg, "   \t ");
	assert_false(ev.json_error);
	assert_int_equal(ev.format, INPUT_PLAIN);

	input_decode(&ev, INPUT_AUTO, NULL, 0);
	SLICE(ev.msg, "");

	DECODE(ev, INPUT_AUTO, "\r");
	SLICE(ev.raw, "");
	input_event_free(&ev);
}

static void
test_cr_stripping(void **state)
{
	struct event ev;

	(void)state;
	input_event_init(&ev);
	DECODE(ev, INPUT_AUTO, "hello\r");
	SLICE(ev.raw, "hello");
	SLICE(ev.msg, "hello");
	/* Only the one CR the line ending left. */
	DECODE(ev, INPUT_AUTO, "hello\r\r");
	SLICE(ev.raw, "hello\r");
	DECODE(ev, INPUT_AUTO, "a\rb");
	SLICE(ev.raw, "a\rb");
	DECODE(ev, INPUT_AUTO, "Nov 27 10:00:00 host app: msg\r");
	SLICE(ev.msg, "msg");
	DECODE(ev, INPUT_AUTO, "{\"msg\":\"x\"}\r");
	assert_true(ev.json);
	assert_false(ev.json_error);
	SLICE(ev.msg, "x");
	input_event_free(&ev);
}

static void
test_plain_nul_bytes(void **state)
{
	struct event ev;

	(void)state;
	input_event_init(&ev);
	DECODE(ev, INPUT_AUTO, "Nov 27 10:00:00 host prog: a\0b\0");
	SLICE(ev.host, "host");
	SLICE(ev.program, "prog");
	SLICE(ev.msg, "a\0b\0");
	SLICE(ev.raw, "Nov 27 10:00:00 host prog: a\0b\0");

	DECODE(ev, INPUT_AUTO, "\0\0\0");
	SLICE(ev.msg, "\0\0\0");
	assert_no_header(&ev);

	/* A NUL cannot be part of a tag. */
	DECODE(ev, INPUT_AUTO, "Nov 27 10:00:00 host pr\0g: x");
	SLICE(ev.host, "host");
	SLICE(ev.program, "");
	SLICE(ev.msg, "pr\0g: x");

	/* Nor of a timestamp. */
	DECODE(ev, INPUT_AUTO, "Nov 27 10:00\0:00 host p: x");
	assert_no_header(&ev);
	input_event_free(&ev);
}

/* PRI */

static void
test_pri(void **state)
{
	struct event ev;

	(void)state;
	input_event_init(&ev);
	DECODE(ev, INPUT_AUTO, "<191>x");
	assert_int_equal(ev.severity, 7);
	assert_int_equal(ev.facility, 23);
	SLICE(ev.msg, "x");

	DECODE(ev, INPUT_AUTO, "<0> kernel panic");
	assert_int_equal(ev.severity, 0);
	assert_int_equal(ev.facility, 0);
	SLICE(ev.msg, "kernel panic");

	DECODE(ev, INPUT_AUTO, "<13>");
	assert_int_equal(ev.severity, 5);
	assert_int_equal(ev.facility, 1);
	SLICE(ev.msg, "");

	DECODE(ev, INPUT_AUTO, "<192>x");
	assert_no_header(&ev);
	SLICE(ev.msg, "<192>x");

	DECODE(ev, INPUT_AUTO, "<1234>x");
	assert_no_header(&ev);
	DECODE(ev, INPUT_AUTO, "<>x");
	assert_no_header(&ev);
	DECODE(ev, INPUT_AUTO, "<13");
	assert_no_header(&ev);
	DECODE(ev, INPUT_AUTO, "<1a>x");
	assert_no_header(&ev);
	DECODE(ev, INPUT_AUTO, "<");
	assert_no_header(&ev);
	input_event_free(&ev);
}

/* RFC 3164 and rsyslog's file formats */

static void
test_rfc3164_pri(void **state)
{
	struct event ev;

	(void)state;
	input_event_init(&ev);
	DECODE(ev, INPUT_AUTO, "<34>Oct 11 22:14:15 mymachine su: 'su root' "
	    "failed for lonvick on /dev/pts/8");
	assert_int_equal(ev.severity, 2);
	assert_int_equal(ev.facility, 4);
	SLICE(ev.host, "mymachine");
	SLICE(ev.program, "su");
	SLICE(ev.pid, "");
	SLICE(ev.msg, "'su root' failed for lonvick on /dev/pts/8");
	assert_int_equal(ev.time, 1791756855); /* 2026-10-11T22:14:15Z */
	assert_int_equal(ev.format, INPUT_PLAIN);
	input_event_free(&ev);
}

static void
test_rfc3164_padded_day_pid(void **state)
{
	struct event ev;

	(void)state;
	input_event_init(&ev);
	DECODE(ev, INPUT_AUTO, "Nov  7 09:05:03 web01 sshd[4242]: Failed "
	    "password for root from 10.1.2.3 port 22 ssh2");
	SLICE(ev.host, "web01");
	SLICE(ev.program, "sshd");
	SLICE(ev.pid, "4242");
	SLICE(ev.msg, "Failed password for root from 10.1.2.3 port 22 ssh2");
	assert_int_equal(ev.time, 1794042303); /* 2026-11-07T09:05:03Z */
	assert_int_equal(ev.severity, -1);
	assert_int_equal(ev.facility, -1);

	/* Zero-padded and unpadded days, fractional seconds. */
	DECODE(ev, INPUT_AUTO, "Nov 07 09:05:03 web01 cron: x");
	assert_int_equal(ev.time, 1794042303);
	DECODE(ev, INPUT_AUTO, "Nov 7 09:05:03 web01 cron: x");
	assert_int_equal(ev.time, 1794042303);
	SLICE(ev.program, "cron");
	DECODE(ev, INPUT_AUTO, "Nov 27 10:00:00.123 host app: y");
	assert_int_equal(ev.time, 1795773600);
	SLICE(ev.msg, "y");
	input_event_free(&ev);
}

static void
test_rfc3164_traditional_fileformat(void **state)
{
	struct event ev;

	(void)state;
	input_event_init(&ev);
	DECODE(ev, INPUT_AUTO, "Nov 27 10:00:00 host postfix/smtpd[123]: "
	    "connect from unknown[10.0.0.1]");
	SLICE(ev.host, "host");
	SLICE(ev.program, "postfix/smtpd");
	SLICE(ev.pid, "123");
	SLICE(ev.msg, "connect from unknown[10.0.0.1]");
	assert_int_equal(ev.time, 1795773600);

	/* Tag with nothing after the colon. */
	DECODE(ev, INPUT_AUTO, "Nov 27 10:00:00 host kernel:");
	SLICE(ev.program, "kernel");
	SLICE(ev.msg, "");

	/* Timestamp only. */
	DECODE(ev, INPUT_AUTO, "Nov 27 10:00:00");
	assert_int_equal(ev.time, 1795773600);
	SLICE(ev.host, "");
	SLICE(ev.msg, "");

	/* Host only. */
	DECODE(ev, INPUT_AUTO, "Nov 27 10:00:00 host");
	SLICE(ev.host, "host");
	SLICE(ev.msg, "");
	input_event_free(&ev);
}

static void
test_rfc3164_no_tag(void **state)
{
	struct event ev;

	(void)state;
	input_event_init(&ev);
	DECODE(ev, INPUT_AUTO, "Nov 27 10:00:00 host some message without tag");
	SLICE(ev.host, "host");
	SLICE(ev.program, "");
	SLICE(ev.pid, "");
	SLICE(ev.msg, "some message without tag");

	/* A colon not followed by a blank is not a tag. */
	DECODE(ev, INPUT_AUTO, "Nov 27 10:00:00 host key:value rest");
	SLICE(ev.program, "");
	SLICE(ev.msg, "key:value rest");

	/* Unclosed pid. */
	DECODE(ev, INPUT_AUTO, "Nov 27 10:00:00 host sshd[12: x");
	SLICE(ev.program, "");
	SLICE(ev.msg, "sshd[12: x");

	/* pid without the colon. */
	DECODE(ev, INPUT_AUTO, "Nov 27 10:00:00 host sshd[12] x");
	SLICE(ev.program, "");
	SLICE(ev.msg, "sshd[12] x");

	/* IPv6 host, no tag. */
	DECODE(ev, INPUT_AUTO, "Nov 27 10:00:00 fe80::1 hello");
	SLICE(ev.host, "fe80::1");
	SLICE(ev.msg, "hello");
	input_event_free(&ev);
}

static void
test_rfc3164_local_socket(void **state)
{
	struct event ev;

	(void)state;
	input_event_init(&ev);
	/* What logger(1) writes to /dev/log: no hostname. */
	DECODE(ev, INPUT_AUTO, "<13>Jan  1 00:00:10 root: hello");
	SLICE(ev.host, "");
	SLICE(ev.program, "root");
	SLICE(ev.msg, "hello");
	assert_int_equal(ev.time, 1798761610);
	assert_int_equal(ev.severity, 5);
	assert_int_equal(ev.facility, 1);
	input_event_free(&ev);
}

static void
test_rfc3164_tag_length(void **state)
{
	char line[256], tag[64];
	struct event ev;
	int n;

	(void)state;
	input_event_init(&ev);
	memset(tag, 'a', 48);
	tag[48] = '\0';
	n = snprintf(line, sizeof(line), "Nov 27 10:00:00 host %s[1]: m", tag);
	input_decode(&ev, INPUT_AUTO, line, (size_t)n);
	check_slice(&ev.program, tag, 48, __FILE__, __LINE__);
	SLICE(ev.pid, "1");
	SLICE(ev.msg, "m");

	memset(tag, 'a', 49);
	tag[49] = '\0';
	n = snprintf(line, sizeof(line), "Nov 27 10:00:00 host %s: m", tag);
	input_decode(&ev, INPUT_AUTO, line, (size_t)n);
	SLICE(ev.program, "");
	SLICE(ev.host, "host");
	check_slice(&ev.msg, line + 21, (size_t)n - 21, __FILE__, __LINE__);
	input_event_free(&ev);
}

static void
test_rfc3164_invalid(void **state)
{
	static const char *const bad[] = {
		"Nov 32 10:00:00 h p: m",
		"Nov  0 10:00:00 h p: m",
		"Nox 27 10:00:00 h p: m",
		"nov 27 10:00:00 h p: m",
		"Nov 27 24:00:00 h p: m",
		"Nov 27 10:60:00 h p: m",
		"Nov 27 10:00 h p: m",
		"Nov 27 10:00:00x h p: m",
		"Nov 27 10-00-00 h p: m",
		"Nov 127 10:00:00 h p: m",
		"Nov",
		"Nov 27 10:00:0",
		"2026-11-27 10:00:00 h p: m",
		"2026-11-27T10:00:00+0100 h p: m",
		"2026-11-27Tgarbage-and-more h p: m",
	};
	struct event ev;
	size_t i;

	(void)state;
	input_event_init(&ev);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		input_decode(&ev, INPUT_AUTO, bad[i], strlen(bad[i]));
		assert_no_header(&ev);
		check_slice(&ev.msg, bad[i], strlen(bad[i]), __FILE__,
		    __LINE__);
	}
	input_event_free(&ev);
}

static void
test_rfc3164_year_rollover(void **state)
{
	struct event ev;

	(void)state;
	assert_int_equal(clock_now(), NOW);
	input_event_init(&ev);
	/* Ten seconds before "now", last year. */
	DECODE(ev, INPUT_AUTO, "Dec 31 23:59:50 h p: m");
	assert_int_equal(ev.time, 1798761590);
	/* A few minutes ahead: this year. */
	DECODE(ev, INPUT_AUTO, "Jan  1 00:10:00 h p: m");
	assert_int_equal(ev.time, 1798762200);
	/* More than a day ahead: it must be last year's. */
	DECODE(ev, INPUT_AUTO, "Jan  3 00:00:00 h p: m");
	assert_int_equal(ev.time, 1767398400);
	DECODE(ev, INPUT_AUTO, "Nov 27 10:00:00 h p: m");
	assert_int_equal(ev.time, 1795773600);
	/* Alternating across the year end hits the cache both ways. */
	DECODE(ev, INPUT_AUTO, "Dec 31 23:59:50 h p: m");
	assert_int_equal(ev.time, 1798761590);
	DECODE(ev, INPUT_AUTO, "Jan  1 00:00:10 h p: m");
	assert_int_equal(ev.time, 1798761610);
	DECODE(ev, INPUT_AUTO, "Dec 31 23:59:50 h p: m");
	assert_int_equal(ev.time, 1798761590);
	input_event_free(&ev);
}

static void
test_rfc3164_sender_ahead_at_new_year(void **state)
{
	(void)state;
	/* See main(): "Jan  1 00:00:02" read at 2026-12-31T23:59:59Z. */
	assert_int_equal(year_child_status, 0);
}

static void
test_rfc3164_local_zone(void **state)
{
	(void)state;
	/* See main(): RFC 3164 times are local, DST included. */
	assert_int_equal(zone_child_status, 0);
}

static void
test_rsyslog_fileformat(void **state)
{
	struct event ev;

	(void)state;
	input_event_init(&ev);
	DECODE(ev, INPUT_AUTO, "2026-11-27T10:00:00.123456+00:00 host "
	    "tag[12]: the message");
	assert_int_equal(ev.time, 1795773600);
	SLICE(ev.host, "host");
	SLICE(ev.program, "tag");
	SLICE(ev.pid, "12");
	SLICE(ev.msg, "the message");
	assert_int_equal(ev.severity, -1);

	DECODE(ev, INPUT_AUTO, "2026-11-27T11:00:00+01:00 host no tag here");
	assert_int_equal(ev.time, 1795773600);
	SLICE(ev.program, "");
	SLICE(ev.msg, "no tag here");

	/* RSYSLOG_ForwardFormat: PRI and an RFC 3339 time. */
	DECODE(ev, INPUT_AUTO, "<11>2026-11-27T10:00:00Z host app: boom");
	assert_int_equal(ev.severity, 3);
	assert_int_equal(ev.facility, 1);
	assert_int_equal(ev.time, 1795773600);
	SLICE(ev.program, "app");
	SLICE(ev.msg, "boom");
	input_event_free(&ev);
}

/* RFC 5424 */

static void
test_rfc5424(void **state)
{
	struct event ev;

	(void)state;
	input_event_init(&ev);
	DECODE(ev, INPUT_AUTO, "<165>1 2026-11-27T10:00:00.123Z "
	    "mymachine.example.com evntslog 1234 ID47 [exampleSDID@32473 "
	    "iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]"
	    "[examplePriority@32473 class=\"high\"] \xef\xbb\xbf"
	    "An application event log entry...");
	assert_int_equal(ev.severity, 5);
	assert_int_equal(ev.facility, 20);
	assert_int_equal(ev.time, 1795773600);
	SLICE(ev.host, "mymachine.example.com");
	SLICE(ev.program, "evntslog");
	SLICE(ev.pid, "1234");
	SLICE(ev.msg, "An application event log entry...");
	assert_int_equal(ev.format, INPUT_PLAIN);
	input_event_free(&ev);
}

static void
test_rfc5424_sd_escapes(void **state)
{
	struct event ev;

	(void)state;
	input_event_init(&ev);
	DECODE(ev, INPUT_AUTO, "<13>1 2026-11-27T10:00:00Z h app - - "
	    "[x@1 a=\"b\\]c\" d=\"e\\\"f]\" g=\"\\\\\"] msg here");
	SLICE(ev.host, "h");
	SLICE(ev.program, "app");
	SLICE(ev.pid, "");
	SLICE(ev.msg, "msg here");

	/* Unterminated structured data stays in the message. */
	DECODE(ev, INPUT_AUTO, "<13>1 - h app - - [x@1 a=\"b\\]");
	SLICE(ev.msg, "[x@1 a=\"b\\]");
	DECODE(ev, INPUT_AUTO, "<13>1 - h app - - [x@1 a=\"b\\");
	SLICE(ev.msg, "[x@1 a=\"b\\");
	input_event_free(&ev);
}

static void
test_rfc5424_nil_and_short(void **state)
{
	struct event ev;

	(void)state;
	input_event_init(&ev);
	DECODE(ev, INPUT_AUTO, "<13>1 - - - - - - hello");
	assert_int_equal(ev.time, 0);
	SLICE(ev.host, "");
	SLICE(ev.program, "");
	SLICE(ev.pid, "");
	SLICE(ev.msg, "hello");
	assert_int_equal(ev.severity, 5);

	DECODE(ev, INPUT_AUTO, "<13>1 2026-11-27T10:00:00Z h app 1 id -");
	SLICE(ev.pid, "1");
	SLICE(ev.msg, "");

	DECODE(ev, INPUT_AUTO, "<13>1 2026-11-27T10:00:00Z h");
	SLICE(ev.host, "h");
	SLICE(ev.program, "");
	SLICE(ev.msg, "");

	/* Not a timestamp: not RFC 5424, just a PRI. */
	DECODE(ev, INPUT_AUTO, "<13>1 yesterday h app");
	assert_int_equal(ev.severity, 5);
	SLICE(ev.host, "");
	SLICE(ev.msg, "1 yesterday h app");
	input_event_free(&ev);
}

/* rsyslog JSON */

static const char RSYSLOG_LINE[] =
    "{\"msg\":\" Failed password for root from 10.1.2.3 port 22 ssh2\","
    "\"rawmsg\":\"<38>Nov 27 10:00:00 web01 sshd[4242]: Failed\","
    "\"timereported\":\"2026-11-27T10:00:00.123456+00:00\","
    "\"hostname\":\"web01\",\"syslogtag\":\"sshd[4242]:\","
    "\"inputname\":\"imuxsock\",\"fromhost\":\"web01\","
    "\"fromhost-ip\":\"\",\"pri\":\"38\",\"syslogfacility\":\"4\","
    "\"syslogseverity\":\"6\","
    "\"timegenerated\":\"2026-11-27T10:00:01.000000+00:00\","
    "\"programname\":\"sshd\",\"protocol-version\":\"0\","
    "\"structured-data\":\"-\",\"app-name\":\"sshd\",\"procid\":\"4242\","
    "\"msgid\":\"-\",\"uuid\":null,\"$!\":{\"a\":1}}";

static void
test_rsyslog_json(void **state)
{
	struct event ev;

	(void)state;
	input_event_init(&ev);
	DECODE(ev, INPUT_AUTO, RSYSLOG_LINE);
	assert_true(ev.json);
	assert_false(ev.json_error);
	assert_int_equal(ev.format, INPUT_RSYSLOG_JSON);
	SLICE(ev.msg, "Failed password for root from 10.1.2.3 port 22 ssh2");
	SLICE(ev.host, "web01");
	SLICE(ev.program, "sshd");
	SLICE(ev.pid, "4242");
	assert_int_equal(ev.severity, 6);
	assert_int_equal(ev.facility, 4);
	assert_int_equal(ev.time, 1795773600);
	SLICE(ev.raw, RSYSLOG_LINE);
	assert_int_equal(ev.njfields, 20);
	SLICE(ev.jfields[0].name, "msg");
	SLICE(ev.jfields[19].name, "$!");
	JF(ev, "msg", " Failed password for root from 10.1.2.3 port 22 ssh2");
	JF(ev, "fromhost-ip", "");
	JF(ev, "uuid", "null");
	JF(ev, "$!", "{\"a\":1}");
	JF(ev, "pri", "38");
	assert_null(input_json_field(&ev, "nope", 4));
	assert_null(input_json_field(&ev, "ms", 2));

	/* The same line forced as rsyslog JSON decodes the same. */
	DECODE(ev, INPUT_RSYSLOG_JSON, RSYSLOG_LINE);
	assert_int_equal(ev.format, INPUT_RSYSLOG_JSON);
	SLICE(ev.program, "sshd");
	assert_int_equal(ev.time, 1795773600);
	input_event_free(&ev);
}

static void
test_rsyslog_json_syslogtag(void **state)
{
	struct event ev;

	(void)state;
	input_event_init(&ev);
	DECODE(ev, INPUT_AUTO, "{\"msg\":\"job done\",\"syslogtag\":"
	    "\"CRON[77]:\",\"procid\":\"-\"}");
	SLICE(ev.program, "CRON");
	SLICE(ev.pid, "77");
	SLICE(ev.msg, "job done");

	/* An empty programname falls back to the tag too. */
	DECODE(ev, INPUT_AUTO, "{\"msg\":\"x\",\"programname\":\"\","
	    "\"syslogtag\":\"kernel:\"}");
	SLICE(ev.program, "kernel");
	SLICE(ev.pid, "");

	/* The tag names the program, as in a plain line (rsyslog's
	 * programname stops at '/'); procid wins for the pid. */
	DECODE(ev, INPUT_AUTO, "{\"msg\":\"x\",\"syslogtag\":\"a[1]:\","
	    "\"programname\":\"b\",\"procid\":\"2\"}");
	SLICE(ev.program, "a");
	SLICE(ev.pid, "2");
	DECODE(ev, INPUT_AUTO, "{\"msg\":\"x\",\"syslogtag\":"
	    "\"postfix\\/smtpd[12]:\",\"programname\":\"postfix\"}");
	SLICE(ev.program, "postfix/smtpd");
	SLICE(ev.pid, "12");
	input_event_free(&ev);
}

static void
test_rsyslog_json_missing_fields(void **state)
{
	struct event ev;

	(void)state;
	input_event_init(&ev);
	DECODE(ev, INPUT_AUTO, "{\"msg\":\"only a message\"}");
	assert_true(ev.json);
	assert_int_equal(ev.format, INPUT_RSYSLOG_JSON);
	SLICE(ev.msg, "only a message");
	assert_no_header(&ev);

	/* msg null: empty message. */
	DECODE(ev, INPUT_AUTO, "{\"msg\":null,\"hostname\":\"h\"}");
	SLICE(ev.msg, "");
	SLICE(ev.host, "h");

	/* Wrong types are ignored, not misread. */
	DECODE(ev, INPUT_AUTO, "{\"msg\":\"m\",\"hostname\":[\"h\"],"
	    "\"programname\":{},\"timereported\":17,\"syslogseverity\":"
	    "true}");
	SLICE(ev.host, "");
	SLICE(ev.program, "");
	assert_int_equal(ev.time, 0);
	assert_int_equal(ev.severity, -1);
	JF(ev, "hostname", "[\"h\"]");
	JF(ev, "programname", "{}");

	/* A bad time is no time. */
	DECODE(ev, INPUT_AUTO, "{\"msg\":\"m\",\"timereported\":\"soon\"}");
	assert_int_equal(ev.time, 0);

	/* pri when the split fields are missing. */
	DECODE(ev, INPUT_AUTO, "{\"msg\":\"m\",\"pri\":\"38\"}");
	assert_int_equal(ev.severity, 6);
	assert_int_equal(ev.facility, 4);
	input_event_free(&ev);
}

static void
test_json_numeric_severity(void **state)
{
	struct event ev;

	(void)state;
	input_event_init(&ev);
	DECODE(ev, INPUT_AUTO, "{\"msg\":\"m\",\"syslogseverity\":3,"
	    "\"syslogfacility\":23}");
	assert_int_equal(ev.severity, 3);
	assert_int_equal(ev.facility, 23);
	JF(ev, "syslogseverity", "3");

	DECODE(ev, INPUT_AUTO, "{\"msg\":\"m\",\"syslogseverity\":\"3\","
	    "\"syslogfacility\":\"0\"}");
	assert_int_equal(ev.severity, 3);
	assert_int_equal(ev.facility, 0);

	DECODE(ev, INPUT_AUTO, "{\"msg\":\"m\",\"syslogseverity\":\"9\","
	    "\"syslogfacility\":24}");
	assert_int_equal(ev.severity, -1);
	assert_int_equal(ev.facility, -1);

	DECODE(ev, INPUT_AUTO, "{\"msg\":\"m\",\"syslogseverity\":3.0,"
	    "\"syslogfacility\":-1}");
	assert_int_equal(ev.severity, -1);
	assert_int_equal(ev.facility, -1);
	JF(ev, "syslogseverity", "3.0");

	/* Huge numbers are kept as written and never converted. */
	DECODE(ev, INPUT_AUTO, "{\"msg\":\"m\",\"syslogseverity\":"
	    "99999999999999999999999999999,\"f\":1e400,\"g\":-1.5e-3}");
	assert_true(ev.json);
	assert_int_equal(ev.severity, -1);
	JF(ev, "syslogseverity", "99999999999999999999999999999");
	JF(ev, "f", "1e400");
	JF(ev, "g", "-1.5e-3");
	input_event_free(&ev);
}

/* journal JSON */

static const char JOURNAL_LINE[] =
    "{\"__CURSOR\":\"s=1;i=2\",\"__REALTIME_TIMESTAMP\":\"1795773600123456\","
    "\"__MONOTONIC_TIMESTAMP\":\"12345\",\"_BOOT_ID\":\"b\","
    "\"PRIORITY\":\"3\",\"SYSLOG_FACILITY\":\"4\","
    "\"SYSLOG_IDENTIFIER\":\"sshd\",\"SYSLOG_PID\":\"4242\","
    "\"_PID\":\"4243\",\"_COMM\":\"sshd-session\","
    "\"_HOSTNAME\":\"web01\","
    "\"MESSAGE\":\"Failed password for root from 10.1.2.3\"}";

static void
test_journal_json(void **state)
{
	struct event ev;

	(void)state;
	input_event_init(&ev);
	DECODE(ev, INPUT_AUTO, JOURNAL_LINE);
	assert_true(ev.json);
	assert_false(ev.json_error);
	assert_int_equal(ev.format, INPUT_JOURNAL_JSON);
	SLICE(ev.msg, "Failed password for root from 10.1.2.3");
	SLICE(ev.host, "web01");
	SLICE(ev.program, "sshd");
	SLICE(ev.pid, "4242");
	assert_int_equal(ev.severity, 3);
	assert_int_equal(ev.facility, 4);
	assert_int_equal(ev.time, 1795773600);
	JF(ev, "_COMM", "sshd-session");
	JF(ev, "__CURSOR", "s=1;i=2");

	DECODE(ev, INPUT_JOURNAL_JSON, JOURNAL_LINE);
	assert_int_equal(ev.format, INPUT_JOURNAL_JSON);
	SLICE(ev.pid, "4242");

	/* Kernel and other non-syslog entries: fall back to _COMM, _PID. */
	DECODE(ev, INPUT_AUTO, "{\"MESSAGE\":\"oops\",\"_COMM\":\"kworker\","
	    "\"_PID\":\"9\",\"PRIORITY\":6,\"__REALTIME_TIMESTAMP\":"
	    "1795773600999999}");
	SLICE(ev.program, "kworker");
	SLICE(ev.pid, "9");
	assert_int_equal(ev.severity, 6);
	assert_int_equal(ev.facility, -1);
	assert_int_equal(ev.time, 1795773600);
	SLICE(ev.host, "");

	/* A timestamp that overflows is no time. */
	DECODE(ev, INPUT_AUTO, "{\"MESSAGE\":\"x\",\"__REALTIME_TIMESTAMP\":"
	    "\"999999999999999999999999\"}");
	assert_int_equal(ev.time, 0);
	DECODE(ev, INPUT_AUTO, "{\"MESSAGE\":\"x\",\"__REALTIME_TIMESTAMP\":"
	    "\"12x\"}");
	assert_int_equal(ev.time, 0);
	input_event_free(&ev);
}

static void
test_journal_byte_message(void **state)
{
	struct event ev;

	(void)state;
	input_event_init(&ev);
	/* "hi", an invalid UTF-8 byte, NUL, LF. */
	DECODE(ev, INPUT_AUTO, "{\"_HOSTNAME\":\"h\",\"MESSAGE\":"
	    "[104, 105,255,0,10],\"PRIORITY\":\"4\"}");
	assert_true(ev.json);
	assert_int_equal(ev.format, INPUT_JOURNAL_JSON);
	SLICE(ev.msg, "hi\xff\0\n");
	JF(ev, "MESSAGE", "hi\xff\0\n");
	SLICE(ev.host, "h");
	assert_int_equal(ev.severity, 4);

	DECODE(ev, INPUT_JOURNAL_JSON, "{\"MESSAGE\":[]}");
	SLICE(ev.msg, "");

	/* Not bytes after all: kept as JSON text. */
	DECODE(ev, INPUT_AUTO, "{\"MESSAGE\":[104,256]}");
	SLICE(ev.msg, "[104,256]");
	DECODE(ev, INPUT_AUTO, "{\"MESSAGE\":[104,\"i\"]}");
	SLICE(ev.msg, "[104,\"i\"]");
	DECODE(ev, INPUT_AUTO, "{\"MESSAGE\":[104,[105]]}");
	SLICE(ev.msg, "[104,[105]]");
	DECODE(ev, INPUT_AUTO, "{\"MESSAGE\":[1.5, -1]}");
	SLICE(ev.msg, "[1.5,-1]");

	/* Other fields' arrays are not decoded. */
	DECODE(ev, INPUT_AUTO, "{\"MESSAGE\":\"m\",\"X\":[104,105]}");
	JF(ev, "X", "[104,105]");

	/* rsyslog JSON has no byte arrays. */
	DECODE(ev, INPUT_RSYSLOG_JSON, "{\"MESSAGE\":[104,105]}");
	JF(ev, "MESSAGE", "[104,105]");
	SLICE(ev.msg, "{\"MESSAGE\":[104,105]}");

	/* MESSAGE null. */
	DECODE(ev, INPUT_AUTO, "{\"MESSAGE\":null,\"_HOSTNAME\":\"h\"}");
	assert_true(ev.json);
	SLICE(ev.msg, "");
	JF(ev, "MESSAGE", "null");
	input_event_free(&ev);
}

static void
test_journal_forced_without_message(void **state)
{
	struct event ev;

	(void)state;
	input_event_init(&ev);
	DECODE(ev, INPUT_JOURNAL_JSON, "{\"msg\":\"x\"}");
	assert_true(ev.json);
	assert_int_equal(ev.format, INPUT_JOURNAL_JSON);
	SLICE(ev.msg, "{\"msg\":\"x\"}");
	input_event_free(&ev);
}

/* JSON in general */

static void
test_json_generic(void **state)
{
	struct event ev;

	(void)state;
	input_event_init(&ev);
	DECODE(ev, INPUT_AUTO, "  {\"level\":\"error\",\"text\":\"boom\","
	    "\"hostname\":\"h\"}");
	assert_true(ev.json);
	assert_false(ev.json_error);
	assert_int_equal(ev.format, INPUT_RSYSLOG_JSON);
	SLICE(ev.msg, "  {\"level\":\"error\",\"text\":\"boom\","
	    "\"hostname\":\"h\"}");
	SLICE(ev.host, "h");
	JF(ev, "text", "boom");
	JF(ev, "level", "error");

	DECODE(ev, INPUT_AUTO, "{ }");
	assert_true(ev.json);
	assert_int_equal(ev.njfields, 0);
	SLICE(ev.msg, "{ }");
	input_event_free(&ev);
}

static void
test_json_values(void **state)
{
	struct event ev;

	(void)state;
	input_event_init(&ev);
	DECODE(ev, INPUT_AUTO, "{\"msg\":\"a\\\"b\\\\c\\u00e9\\n\\/\","
	    "\"k\\u0065y\":\"v\",\"t\":true,\"f\":false,\"n\":null,"
	    "\"obj\":{ \"a\" : [1, 2, {\"b\": \"c d\\\" }\"}] },\"arr\":[ ],"
	    "\"e\":\"\",\"dup\":\"1\",\"dup\":\"2\"}");
	assert_true(ev.json);
	SLICE(ev.msg, "a\"b\\c\xc3\xa9\n/");
	JF(ev, "key", "v");
	JF(ev, "t", "true");
	JF(ev, "f", "false");
	JF(ev, "n", "null");
	JF(ev, "obj", "{\"a\":[1,2,{\"b\":\"c d\\\" }\"}]}");
	JF(ev, "arr", "[]");
	JF(ev, "e", "");
	JF(ev, "dup", "1");
	assert_int_equal(ev.njfields, 10);
	SLICE(ev.jfields[1].name, "key");
	SLICE(ev.jfields[8].name, "dup");
	SLICE(ev.jfields[9].name, "dup");
	SLICE(ev.jfields[9].value, "2");

	/* Invalid UTF-8 inside strings is passed on, not rejected. */
	DECODE(ev, INPUT_AUTO, "{\"msg\":\"a\xff" "b\"}");
	assert_true(ev.json);
	SLICE(ev.msg, "a\xff" "b");
	input_event_free(&ev);
}

/*
 * known_utf8 lets rules skip their UTF-8 check: it may only be set when
 * raw and msg are valid, and the scanner sets it for a JSON line that
 * is all ASCII and whose message decodes to ASCII.
 */
static void
test_json_known_utf8(void **state)
{
	static const struct {
		const char *line;
		bool known;
	} cases[] = {
		{ "{\"msg\":\"plain ascii\",\"hostname\":\"h\"}", true },
		{ "{\"msg\":\"esc \\\" \\/ \\n \\u0041\"}", true },
		/* Valid UTF-8, but not ASCII: not known, checked later. */
		{ "{\"msg\":\"caf\xc3\xa9\"}", false },
		{ "{\"other\":\"\xff\",\"msg\":\"a\"}", false },
		{ "{\"msg\":\"\\u00e9\"}", false },
		{ "{\"msg\":\"\\ud800\"}", true },
		{ "{\"msg\":\"\\udc00\"}", false },
		/* A \u escape elsewhere does not touch raw or msg. */
		{ "{\"msg\":\"a\",\"x\":\"\\u00e9\"}", true },
		{ "{\"MESSAGE\":[104,105]}", false },
		{ "{\"MESSAGE\":[ 104 ]}", false },
		{ "{\"MESSAGE\":{ \"a\" : 1 }}", true },
		/* yajl's lines (\v) and plain lines are not known. */
		{ "{\"msg\":\"a\"\v}", false },
		{ "<13>Nov 27 10:00:00 h p: ascii", false },
	};
	struct event ev;
	size_t i;

	(void)state;
	input_event_init(&ev);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		input_decode(&ev, INPUT_AUTO, cases[i].line,
		    strlen(cases[i].line));
		if (ev.known_utf8 != cases[i].known) {
			print_error("known_utf8 %d for %s\n", ev.known_utf8,
			    cases[i].line);
			fail();
		}
		if (ev.known_utf8)
			assert_true(utf8_valid(ev.raw.p, ev.raw.n) &&
			    utf8_valid(ev.msg.p, ev.msg.n));
	}
	input_event_free(&ev);
}

/*
 * The last timereported with a zone is cached; one without is local
 * time and depends on TZ, so it is parsed every time.
 */
static void
test_json_time_cache(void **state)
{
	static const struct time_case seq[] = {
		{ "{\"msg\":\"m\",\"timereported\":"
		    "\"2026-11-27T10:00:00+00:00\"}", 1795773600 },
		{ "{\"msg\":\"m\",\"timereported\":"
		    "\"2026-11-27T10:00:00+00:00\"}", 1795773600 },
		{ "{\"msg\":\"m\",\"timereported\":"
		    "\"2026-11-27T10:00:00+01:00\"}", 1795770000 },
		{ "{\"msg\":\"m\",\"timereported\":"
		    "\"2026-11-27T10:00:00.5-01:00\"}", 1795777200 },
		{ "{\"msg\":\"m\",\"timereported\":"
		    "\"2026-11-27T10:00:00Z\"}", 1795773600 },
		{ "{\"msg\":\"m\",\"timereported\":\"bad\"}", 0 },
		{ "{\"msg\":\"m\",\"timereported\":"
		    "\"2026-11-27T10:00:00\\u002b01:00\"}", 1795770000 },
		{ "{\"msg\":\"m\",\"timereported\":"
		    "\"2026-11-27T10:00:00+01:0\"}", 0 },
		{ "{\"msg\":\"m\",\"timereported\":"
		    "\"2026-11-27T10:00:00+01:00\"}", 1795770000 },
		{ "{\"msg\":\"m\"}", 0 },
	};
	static const char local[] = "{\"msg\":\"m\",\"timereported\":"
	    "\"2026-11-27T10:00:00.25\"}";
	struct event ev;
	size_t i;

	(void)state;
	input_event_init(&ev);
	for (i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		input_decode(&ev, INPUT_RSYSLOG_JSON, seq[i].line,
		    strlen(seq[i].line));
		if (ev.time != seq[i].want) {
			print_error("%s: %lld, want %lld\n", seq[i].line,
			    (long long)ev.time, (long long)seq[i].want);
			fail();
		}
	}
	/* The same local time, read under two zones. */
	DECODE(ev, INPUT_RSYSLOG_JSON, local);
	assert_int_equal(ev.time, 1795773600);
	setenv("TZ", "Europe/Berlin", 1);
	tzset();
	DECODE(ev, INPUT_RSYSLOG_JSON, local);
	setenv("TZ", "UTC", 1);
	tzset();
	assert_int_equal(ev.time, 1795770000);
	DECODE(ev, INPUT_RSYSLOG_JSON, local);
	assert_int_equal(ev.time, 1795773600);
	input_event_free(&ev);
}

static void
test_json_errors(void **state)
{
	static const char *const bad[] = {
		"{",
		"{broken",
		"{\"msg\":\"abc",
		"{\"msg\":\"abc\"",
		"{\"a\":12",
		"{\"a\":tru",
		"{\"a\":1} trailing",
		"{\"a\":1}{\"b\":2}",
		"{\"a\":1} 5",
		"{\"a\":1} \"x\"",
		"{\"a\":1} [1]",
		"{\"a\":1,}",
		"{\"a\" 1}",
		"{'a':1}",
		"{\"a\":\"tab\there\"}",
		"{\"a\":\"\\x\"}",
		"{\"a\":01}",
		"{\"a\":1}}",
		"{} /* c */",
	};
	struct event ev;
	size_t i;

	(void)state;
	input_event_init(&ev);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		input_decode(&ev, INPUT_AUTO, bad[i], strlen(bad[i]));
		if (!ev.json_error)
			fail_msg("\"%s\" decoded as JSON", bad[i]);
		assert_false(ev.json);
		assert_int_equal(ev.format, INPUT_PLAIN);
		assert_int_equal(ev.njfields, 0);
		assert_null(input_json_field(&ev, "a", 1));
		check_slice(&ev.msg, bad[i], strlen(bad[i]), __FILE__,
		    __LINE__);
		/* The parser recovers for the next line. */
		DECODE(ev, INPUT_AUTO, "{\"msg\":\"ok\"}");
		assert_true(ev.json);
		assert_false(ev.json_error);
		SLICE(ev.msg, "ok");
	}

	/* A NUL inside a JSON line. */
	DECODE(ev, INPUT_AUTO, "{\"msg\":\"a\0b\"}");
	assert_true(ev.json_error);
	SLICE(ev.msg, "{\"msg\":\"a\0b\"}");
	input_event_free(&ev);
}

static void
test_json_forced_on_plain(void **state)
{
	struct event ev;

	(void)state;
	input_event_init(&ev);
	DECODE(ev, INPUT_RSYSLOG_JSON, "plain line");
	assert_true(ev.json_error);
	assert_false(ev.json);
	assert_int_equal(ev.format, INPUT_PLAIN);
	SLICE(ev.msg, "plain line");

	DECODE(ev, INPUT_JOURNAL_JSON, "<13>Nov 27 10:00:00 h p[1]: m");
	assert_true(ev.json_error);
	assert_int_equal(ev.format, INPUT_PLAIN);
	SLICE(ev.host, "h");
	SLICE(ev.program, "p");
	SLICE(ev.msg, "m");
	assert_int_equal(ev.severity, 5);

	DECODE(ev, INPUT_JOURNAL_JSON, "");
	assert_true(ev.json_error);
	SLICE(ev.msg, "");

	/* A top-level array is not an event. */
	DECODE(ev, INPUT_AUTO, "[1,2]");
	assert_false(ev.json_error);
	assert_false(ev.json);
	DECODE(ev, INPUT_RSYSLOG_JSON, "[1,2]");
	assert_true(ev.json_error);

	/* Forced plain never looks at JSON. */
	DECODE(ev, INPUT_PLAIN, "{\"msg\":\"x\"}");
	assert_false(ev.json);
	assert_false(ev.json_error);
	SLICE(ev.msg, "{\"msg\":\"x\"}");
	assert_null(input_json_field(&ev, "msg", 3));
	input_event_free(&ev);
}

/* '{"a":' + depth '[' + depth ']' + '}' */
static char *
nested(size_t depth, size_t *len)
{
	char *s = xmalloc(depth * 2 + 8);
	size_t n = 0;

	memcpy(s, "{\"a\":", 5);
	n = 5;
	memset(s + n, '[', depth);
	n += depth;
	memset(s + n, ']', depth);
	n += depth;
	s[n++] = '}';
	*len = n;
	return s;
}

static void
test_json_deep_nesting(void **state)
{
	struct event ev;
	size_t len;
	char *s;

	(void)state;
	input_event_init(&ev);
	/* 63 arrays under the top-level object: 64 levels, the limit. */
	s = nested(63, &len);
	input_decode(&ev, INPUT_AUTO, s, len);
	assert_true(ev.json);
	assert_false(ev.json_error);
	assert_int_equal(ev.njfields, 1);
	check_slice(&ev.jfields[0].value, s + 5, len - 6, __FILE__, __LINE__);
	free(s);

	s = nested(64, &len);
	input_decode(&ev, INPUT_AUTO, s, len);
	assert_false(ev.json);
	assert_true(ev.json_error);
	check_slice(&ev.msg, s, len, __FILE__, __LINE__);
	free(s);

	s = nested(200000, &len);
	input_decode(&ev, INPUT_AUTO, s, len);
	assert_true(ev.json_error);
	free(s);

	/* Nesting through objects counts the same. */
	DECODE(ev, INPUT_AUTO, "{\"a\":{\"b\":{\"c\":{}}}}");
	assert_true(ev.json);
	JF(ev, "a", "{\"b\":{\"c\":{}}}");
	input_event_free(&ev);
}

/*
 * Two lines through one event: the second line's slices must be its own,
 * including when the store has to grow (and move) in the middle of it.
 */
static void
test_event_reuse(void **state)
{
	struct event ev;
	struct buf a, b;
	size_t i;

	(void)state;
	input_event_init(&ev);
	buf_init(&a, 1 << 20);
	buf_init(&b, 1 << 20);

	buf_appends(&a, "{\"x\\u0031\":\"first\\tone\",\"msg\":\"short\\n\"}");
	/* Small escaped field first, then one that outgrows the store. */
	buf_appends(&b, "{\"k\\u0032\":\"second\\ttwo\",\"big\":\"");
	for (i = 0; i < 5000; i++)
		buf_appends(&b, "ab\\n");
	buf_appends(&b, "\",\"obj\":{ \"z\" : 1 },\"msg\":\"tail\\u0021\"}");

	input_decode(&ev, INPUT_AUTO, a.data, a.len);
	JF(ev, "x1", "first\tone");
	SLICE(ev.msg, "short\n");

	input_decode(&ev, INPUT_AUTO, b.data, b.len);
	assert_true(ev.json);
	assert_int_equal(ev.njfields, 4);
	SLICE(ev.jfields[0].name, "k2");
	JF(ev, "k2", "second\ttwo");
	JF(ev, "obj", "{\"z\":1}");
	SLICE(ev.msg, "tail!");
	assert_null(input_json_field(&ev, "x1", 2));
	assert_int_equal(input_json_field(&ev, "big", 3)->n, 15000);
	assert_memory_equal(input_json_field(&ev, "big", 3)->p, "ab\nab\n",
	    6);

	/* And back to the small line, then a plain one. */
	input_decode(&ev, INPUT_AUTO, a.data, a.len);
	assert_int_equal(ev.njfields, 2);
	JF(ev, "x1", "first\tone");
	SLICE(ev.msg, "short\n");
	DECODE(ev, INPUT_AUTO, "Nov 27 10:00:00 h p: m");
	assert_false(ev.json);
	assert_int_equal(ev.njfields, 0);
	SLICE(ev.msg, "m");
	DECODE(ev, INPUT_AUTO, JOURNAL_LINE);
	SLICE(ev.host, "web01");
	DECODE(ev, INPUT_AUTO, RSYSLOG_LINE);
	SLICE(ev.host, "web01");
	SLICE(ev.program, "sshd");
	assert_int_equal(ev.njfields, 20);

	buf_free(&a);
	buf_free(&b);
	input_event_free(&ev);
	input_event_free(&ev); /* freed events are safe to free again */
	input_event_free(NULL);
}

/* Robustness: random and mutated lines never crash or escape bounds. */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Every byte of every slice is read, so ASan sees any stray pointer. */
static volatile unsigned char bounds_sink;

static void
check_bounds(const struct event *ev, const struct slice *s, const char *line,
    size_t len)
{
	uintptr_t p = (uintptr_t)s->p, l = (uintptr_t)line,
	    d = (uintptr_t)ev->store.data;
	size_t i;

	assert_non_null(s->p);
	for (i = 0; i < s->n; i++)
		bounds_sink ^= (unsigned char)s->p[i];
	if (p >= l && p <= l + len && s->n <= l + len - p)
		return;
	if (d != 0 && p >= d && p <= d + ev->store.len &&
	    s->n <= d + ev->store.len - p)
		return;
	/* The literals true, false, null and "". */
	assert_true(s->n <= 5);
}

static void
check_event(const struct event *ev, const char *line, size_t len)
{
	size_t i;

	check_bounds(ev, &ev->raw, line, len);
	check_bounds(ev, &ev->msg, line, len);
	check_bounds(ev, &ev->host, line, len);
	check_bounds(ev, &ev->program, line, len);
	check_bounds(ev, &ev->pid, line, len);
	assert_true(ev->severity >= -1 && ev->severity <= 7);
	assert_true(ev->facility >= -1 && ev->facility <= 23);
	assert_true(ev->format != INPUT_AUTO);
	assert_false(ev->json && ev->json_error);
	if (!ev->json)
		assert_int_equal(ev->njfields, 0);
	for (i = 0; i < ev->njfields; i++) {
		check_bounds(ev, &ev->jfields[i].name, line, len);
		check_bounds(ev, &ev->jfields[i].value, line, len);
	}
}

static void
test_random_lines(void **state)
{
	static const char alphabet[] = "{}[]\":,\\ <>-T:.0123456789abzJNovu"
	    "\r\t\n\0\xff\xc3\xa9";
	static const char *const seeds[] = {
		RSYSLOG_LINE,
		JOURNAL_LINE,
		"{\"MESSAGE\":[104,105,255],\"a\":{\"b\":[1,{\"c\":\"d\"}]}}",
		"<165>1 2026-11-27T10:00:00.123Z host app 12 ID "
		    "[a b=\"\\]\"] m",
		"<34>Oct 11 22:14:15 mymachine su[1]: 'su root' failed",
		"2026-11-27T10:00:00.123456+00:00 host tag[12]: msg",
		"{\"msg\":\"a\\u00e9\\ud83d\\ude00\\n\",\"n\":-1.5e3,"
		    "\"t\":true}",
	};
	enum input_format fmt;
	struct event ev;
	char line[2048];
	size_t len, i, k, m, slen;
	int round;

	(void)state;
	input_event_init(&ev);
	for (round = 0; round < 40000; round++) {
		if (round % 2 == 0) {
			len = next_rand() % sizeof(line);
			for (i = 0; i < len; i++)
				line[i] = alphabet[next_rand() %
				    (sizeof(alphabet) - 1)];
			if (round % 4 == 0 && len > 0)
				line[0] = '{';
		} else {
			/* A seed, mutated a little, often truncated. */
			k = next_rand() % (sizeof(seeds) / sizeof(seeds[0]));
			slen = strlen(seeds[k]);
			memcpy(line, seeds[k], slen);
			len = slen;
			for (m = next_rand() % 4; m > 0; m--)
				line[next_rand() % slen] = (char)next_rand();
			if (next_rand() % 2)
				len = next_rand() % (slen + 1);
		}
		fmt = (enum input_format)(next_rand() % 4);
		input_decode(&ev, fmt, line, len);
		check_event(&ev, line, len);
	}
	input_event_free(&ev);
}

static void
test_every_prefix(void **state)
{
	static const char *const lines[] = {
		RSYSLOG_LINE,
		JOURNAL_LINE,
		"{\"MESSAGE\":[104,105,255],"
		    "\"o\":{\"b\":[1,{\"c\":\"d\\\"\"}]}}",
		"<165>1 2026-11-27T10:00:00.123Z host app 12 ID "
		    "[a b=\"\\]\"] m",
		"<34>Oct 11 22:14:15 mymachine su[1]: 'su root' failed",
		"2026-11-27T10:00:00.123456+00:00 host tag[12]: msg",
	};
	struct event ev;
	size_t i, n;
	char *copy;

	(void)state;
	input_event_init(&ev);
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		for (n = 0; n <= strlen(lines[i]); n++) {
			/* An exact-size copy, so ASan sees any overread. */
			copy = xmalloc(n ? n : 1);
			memcpy(copy, lines[i], n);
			input_decode(&ev, INPUT_AUTO, copy, n);
			check_event(&ev, copy, n);
			input_decode(&ev, INPUT_PLAIN, copy, n);
			check_event(&ev, copy, n);
			free(copy);
		}
	}
	input_event_free(&ev);
}

/*
 * clock_now() caches its first answer and the zone is read once, so
 * another "now" or TZ needs another process. Returns the number of
 * cases that failed, or -1.
 */
static int
child_check(const char *now, const char *tz, const struct time_case *tc,
    size_t n)
{
	struct event ev;
	pid_t pid;
	size_t i;
	int status, bad = 0;

	fflush(NULL);
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		setenv("OMKAPTURE_NOW", now, 1);
		setenv("TZ", tz, 1);
		tzset();
		input_event_init(&ev);
		for (i = 0; i < n; i++) {
			input_decode(&ev, INPUT_AUTO, tc[i].line,
			    strlen(tc[i].line));
			if (ev.time != tc[i].want) {
				fprintf(stderr, "TZ=%s \"%s\": %lld, want "
				    "%lld\n", tz, tc[i].line,
				    (long long)ev.time, (long long)tc[i].want);
				bad++;
			}
		}
		input_event_free(&ev);
		_exit(bad);
	}
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_names),
		cmocka_unit_test(test_severity_facility_names),
		cmocka_unit_test(test_plain_no_header),
		cmocka_unit_test(test_plain_empty_and_blank),
		cmocka_unit_test(test_cr_stripping),
		cmocka_unit_test(test_plain_nul_bytes),
		cmocka_unit_test(test_pri),
		cmocka_unit_test(test_rfc3164_pri),
		cmocka_unit_test(test_rfc3164_padded_day_pid),
		cmocka_unit_test(test_rfc3164_traditional_fileformat),
		cmocka_unit_test(test_rfc3164_no_tag),
		cmocka_unit_test(test_rfc3164_local_socket),
		cmocka_unit_test(test_rfc3164_tag_length),
		cmocka_unit_test(test_rfc3164_invalid),
		cmocka_unit_test(test_rfc3164_year_rollover),
		cmocka_unit_test(test_rfc3164_sender_ahead_at_new_year),
		cmocka_unit_test(test_rfc3164_local_zone),
		cmocka_unit_test(test_rsyslog_fileformat),
		cmocka_unit_test(test_rfc5424),
		cmocka_unit_test(test_rfc5424_sd_escapes),
		cmocka_unit_test(test_rfc5424_nil_and_short),
		cmocka_unit_test(test_rsyslog_json),
		cmocka_unit_test(test_rsyslog_json_syslogtag),
		cmocka_unit_test(test_rsyslog_json_missing_fields),
		cmocka_unit_test(test_json_numeric_severity),
		cmocka_unit_test(test_journal_json),
		cmocka_unit_test(test_journal_byte_message),
		cmocka_unit_test(test_journal_forced_without_message),
		cmocka_unit_test(test_json_generic),
		cmocka_unit_test(test_json_values),
		cmocka_unit_test(test_json_known_utf8),
		cmocka_unit_test(test_json_time_cache),
		cmocka_unit_test(test_json_errors),
		cmocka_unit_test(test_json_forced_on_plain),
		cmocka_unit_test(test_json_deep_nesting),
		cmocka_unit_test(test_event_reuse),
		cmocka_unit_test(test_random_lines),
		cmocka_unit_test(test_every_prefix),
	};

	/*
	 * At 2026-12-31T23:59:59Z a sender whose clock is a few seconds
	 * ahead logs "Jan  1 00:00:02": next year, not January 2026.
	 */
	static const struct time_case new_year[] = {
		{ "Jan  1 00:00:02 h p: m", 1798761602 },
		{ "Dec 31 23:59:58 h p: m", 1798761598 },
		{ "Jan  5 00:00:00 h p: m", 1767571200 },
	};
	/* Berlin: CET (+1) in November, CEST (+2) in summer. */
	static const struct time_case berlin[] = {
		{ "Nov 27 10:00:00 h p: m", 1795770000 },
		{ "Jul 15 12:00:00 h p: m", 1784109600 },
		{ "Mar 29 03:30:00 h p: m", 1774747800 },
		{ "Oct 25 01:30:00 h p: m", 1792884600 },
		{ "2026-11-27T10:00:00 h p: m", 1795770000 },
	};

	/* Before anything reads the clock: it caches. */
	year_child_status = child_check("1798761599", "UTC", new_year,
	    sizeof(new_year) / sizeof(new_year[0]));
	zone_child_status = child_check("1795773600", "Europe/Berlin", berlin,
	    sizeof(berlin) / sizeof(berlin[0]));
	setenv("OMKAPTURE_NOW", "1798761630", 1);
	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
