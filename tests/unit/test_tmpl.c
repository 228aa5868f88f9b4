/*
 * test_tmpl.c: templates compiled against a real regex and rendered from
 * a real pcre2 match and a decoded event.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "t_diags.h"

#include "diag.h"
#include "input.h"
#include "tmpl.h"
#include "util.h"

/* 2026-11-27T10:00:00Z */
#define NOW 1795773600
#define FFFD "\xef\xbf\xbd"

/* A regex, a match of it, an event and the context built from them. */
struct fix {
	pcre2_code *re;
	pcre2_match_data *md;
	struct event ev;
	struct tmpl_ctx ctx;
	struct diags d;
	const char *subject;
	size_t subject_len;
};

/*
 * Decode line as fmt, run re_src (compiled with flags; NULL: no regex)
 * over subject (NULL: the event's message) and fill the context.
 */
static struct fix *
t_fix_new(const char *re_src, uint32_t flags, enum input_format fmt,
    const char *line, size_t line_len, const char *subject,
    size_t subject_len)
{
	struct fix *f = calloc(1, sizeof(*f));
	int err, rc;
	PCRE2_SIZE off;

	assert_non_null(f);
	diags_init(&f->d);
	input_event_init(&f->ev);
	input_decode(&f->ev, fmt, line, line_len);
	if (subject == NULL) {
		subject = f->ev.msg.p;
		subject_len = f->ev.msg.n;
	}
	f->subject = subject;
	f->subject_len = subject_len;
	f->ctx.ev = &f->ev;
	f->ctx.subject = subject;
	f->ctx.now = NOW;
	if (re_src != NULL) {
		f->re = pcre2_compile((PCRE2_SPTR)re_src, PCRE2_ZERO_TERMINATED,
		    flags, &err, &off, NULL);
		assert_non_null(f->re);
		f->md = pcre2_match_data_create_from_pattern(f->re, NULL);
		rc = pcre2_match(f->re, (PCRE2_SPTR)subject, subject_len, 0, 0,
		    f->md, NULL);
		if (rc < 0)
			fail_msg("regex %s does not match %.*s", re_src,
			    (int)subject_len, subject);
		f->ctx.ovector = pcre2_get_ovector_pointer(f->md);
		f->ctx.ovcount = pcre2_get_ovector_count(f->md);
	}
	return f;
}

/* A plain text line as the subject of a UTF regex. */
static struct fix *
t_fix_plain(const char *re_src, const char *line)
{
	return t_fix_new(re_src, PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, INPUT_PLAIN,
	    line, strlen(line), NULL, 0);
}

static void
t_fix_free(struct fix *f)
{
	pcre2_match_data_free(f->md);
	pcre2_code_free(f->re);
	input_event_free(&f->ev);
	diags_free(&f->d);
	free(f);
}

/* Compile src against the fixture's regex; NULL with errors in f->d. */
static struct tmpl *
t_compile(struct fix *f, const char *src)
{
	return tmpl_compile(src, f->re, &f->d, "t.rules", 7, "[r] title");
}

/* Compile and render src; the rendering, to be freed. */
static char *
t_render_len(struct fix *f, const char *src, size_t *len)
{
	struct tmpl *t = t_compile(f, src);
	struct buf b;
	char *s;

	if (t == NULL) {
		char *e = t_diags_text(&f->d);

		print_error("%s", e);
		free(e);
		fail_msg("template \"%s\" did not compile", src);
	}
	buf_init(&b, 1 << 20);
	tmpl_render(t, &f->ctx, &b);
	tmpl_free(t);
	s = buf_detach(&b, len);
	return s;
}

static void
t_assert_render(struct fix *f, const char *src, const char *want)
{
	size_t len;
	char *s = t_render_len(f, src, &len);

	if (len != strlen(want) || strcmp(s, want) != 0) {
		print_error("template: %s\n     got: \"%s\"\n    want: \"%s\"\n",
		    src, s, want);
		free(s);
		fail();
	}
	free(s);
}

/* The template must not compile, with exactly this diagnostic. */
static void
t_assert_compile_error(struct fix *f, const char *src, const char *want)
{
	struct tmpl *t;

	diags_free(&f->d);
	diags_init(&f->d);
	t = t_compile(f, src);
	if (t != NULL) {
		tmpl_free(t);
		fail_msg("template \"%s\" compiled", src);
	}
	t_assert_diags(&f->d, want);
	diags_free(&f->d);
	diags_init(&f->d);
}

static const char ssh_re[] =
    "Failed password for (?<user>\\S+) from (?<ip>\\S+)(?: port (?<port>\\d+))?";

static void
test_named_and_numbered(void **state)
{
	struct fix *f = t_fix_plain(ssh_re, "Failed password for bob from 1.2.3.4");

	t_assert_render(f, "${user}@${ip}", "bob@1.2.3.4");
	t_assert_render(f, "${1}|${2}|${0}",
	    "bob|1.2.3.4|Failed password for bob from 1.2.3.4");
	t_assert_render(f, "[${user}][${user}]", "[bob][bob]");
	t_assert_render(f, "no variables", "no variables");
	t_assert_render(f, "", "");
	t_assert_render(f, "${ip}", "1.2.3.4");
	t_fix_free(f);
}

static void
test_unset_group_and_fallback(void **state)
{
	struct fix *f = t_fix_plain(ssh_re, "Failed password for bob from 1.2.3.4");

	/* (?<port>...) did not take part in the match. */
	t_assert_render(f, "[${port}]", "[]");
	t_assert_render(f, "[${3}]", "[]");
	t_assert_render(f, "${port:-22}", "22");
	t_assert_render(f, "${3:-none}", "none");
	t_assert_render(f, "${user:-nobody}", "bob");
	t_assert_render(f, "${port:-}", "");
	/* Escapes work in a fallback. */
	t_assert_render(f, "${port:-a\\tb\\n}", "a\tb\n");
	/* A fallback ends at the first '}'. */
	t_assert_render(f, "${port:-x}y}", "xy}");
	t_fix_free(f);

	f = t_fix_plain(ssh_re, "Failed password for bob from 1.2.3.4 port 2222");
	t_assert_render(f, "${port:-22}", "2222");
	t_fix_free(f);
}

static void
test_empty_capture_fallback(void **state)
{
	struct fix *f = t_fix_plain("user=(?<x>\\w*);", "user=;");

	/* The group matched, but empty: the fallback is used too. */
	t_assert_render(f, "<${x}>", "<>");
	t_assert_render(f, "${x:-fb}", "fb");
	t_assert_render(f, "${1:-fb}", "fb");
	t_fix_free(f);
}

static void
test_escapes(void **state)
{
	struct fix *f = t_fix_plain("(?<x>v)", "v");

	t_assert_render(f, "a\\nb\\tc\\\\d\\$e", "a\nb\tc\\d$e");
	/* An escaped '$' stops a variable. */
	t_assert_render(f, "\\${x}", "${x}");
	/* An escaped backslash does not. */
	t_assert_render(f, "\\\\${x}", "\\v");
	/* Unknown escapes and a trailing backslash stay as written. */
	t_assert_render(f, "\\q\\d+", "\\q\\d+");
	t_assert_render(f, "end\\", "end\\");
	t_fix_free(f);
}

static void
test_literal_dollar(void **state)
{
	struct fix *f = t_fix_plain("(?<x>v)", "v");

	t_assert_render(f, "cost $5", "cost $5");
	t_assert_render(f, "$", "$");
	t_assert_render(f, "$$ ${x}$", "$$ v$");
	t_assert_render(f, "$x {x} $ {x}", "$x {x} $ {x}");
	t_assert_render(f, "^\\d+$", "^\\d+$");
	t_fix_free(f);
}

static void
test_compile_errors(void **state)
{
	struct fix *f = t_fix_plain(ssh_re, "Failed password for bob from 1.2.3.4");

	t_assert_compile_error(f, "${user",
	    "t.rules:7: error: [r] title: unterminated \"${\"\n");
	t_assert_compile_error(f, "ok ${user} and ${",
	    "t.rules:7: error: [r] title: unterminated \"${\"\n");
	t_assert_compile_error(f, "${nope}",
	    "t.rules:7: error: [r] title: ${nope} names no capture group of "
	    "the regex and no built-in variable\n");
	t_assert_compile_error(f, "${4}",
	    "t.rules:7: error: [r] title: ${4} but the regex has 3 capture "
	    "groups\n");
	t_assert_compile_error(f, "${99}",
	    "t.rules:7: error: [r] title: ${99} but the regex has 3 capture "
	    "groups\n");
	t_assert_compile_error(f, "${}",
	    "t.rules:7: error: [r] title: empty ${} in template\n");
	t_assert_compile_error(f, "${:-x}",
	    "t.rules:7: error: [r] title: empty ${} in template\n");
	t_assert_compile_error(f, "${a-b}",
	    "t.rules:7: error: [r] title: malformed variable ${a-b}\n");
	t_assert_compile_error(f, "${1a}",
	    "t.rules:7: error: [r] title: malformed variable ${1a}\n");
	t_assert_compile_error(f, "${json.}",
	    "t.rules:7: error: [r] title: malformed variable ${json.}\n");
	t_assert_compile_error(f, "${ user}",
	    "t.rules:7: error: [r] title: malformed variable ${ user}\n");
	/* Every error in one template is reported. */
	t_assert_compile_error(f, "${a} ${user} ${b}",
	    "t.rules:7: error: [r] title: ${a} names no capture group of the "
	    "regex and no built-in variable\n"
	    "t.rules:7: error: [r] title: ${b} names no capture group of the "
	    "regex and no built-in variable\n");
	t_fix_free(f);
}

static void
test_compile_errors_no_regex(void **state)
{
	struct fix *f = t_fix_new(NULL, 0, INPUT_PLAIN, "x", 1, NULL, 0);
	struct tmpl *t;

	t_assert_compile_error(f, "${nope}",
	    "t.rules:7: error: [r] title: unknown variable ${nope}\n");
	t_assert_compile_error(f, "${1}",
	    "t.rules:7: error: [r] title: ${1} but the regex has 0 capture "
	    "groups\n");
	/* ${0} always exists. */
	t = t_compile(f, "${0}${line}");
	assert_non_null(t);
	tmpl_free(t);
	t_fix_free(f);

	f = t_fix_plain("(a)", "a");
	t_assert_compile_error(f, "${2}",
	    "t.rules:7: error: [r] title: ${2} but the regex has 1 capture "
	    "group\n");
	t_fix_free(f);
}

static void
test_builtins(void **state)
{
	static const char line[] =
	    "<34>Nov 27 09:59:00 web1 sshd[123]: Failed password for bob from "
	    "1.2.3.4";
	struct fix *f = t_fix_plain(ssh_re, line);

	f->ctx.rule = "ssh";
	f->ctx.key = "bob@1.2.3.4 and more";
	f->ctx.key_len = 11;
	f->ctx.count = 5;
	f->ctx.first_seen = NOW - 600;
	f->ctx.last_seen = NOW - 60;
	f->ctx.now = NOW;

	t_assert_render(f, "${line}", "Failed password for bob from 1.2.3.4");
	t_assert_render(f, "${message}", "Failed password for bob from 1.2.3.4");
	t_assert_render(f, "${raw}", line);
	t_assert_render(f, "${host}", "web1");
	t_assert_render(f, "${program}", "sshd");
	t_assert_render(f, "${pid}", "123");
	t_assert_render(f, "${severity}", "crit");     /* 34 % 8 = 2 */
	t_assert_render(f, "${facility}", "auth");     /* 34 / 8 = 4 */
	t_assert_render(f, "${time}", "2026-11-27 09:59:00");
	t_assert_render(f, "${rule}", "ssh");
	t_assert_render(f, "${key}", "bob@1.2.3.4");
	t_assert_render(f, "${count}", "5");
	t_assert_render(f, "${first_seen}", "2026-11-27 09:50:00");
	t_assert_render(f, "${last_seen}", "2026-11-27 09:59:00");
	t_assert_render(f, "${now}", "2026-11-27 10:00:00");
	t_assert_render(f, "${count} failed logins as ${user} from ${ip} on "
	    "${host} since ${first_seen}.\\nLast: ${line}",
	    "5 failed logins as bob from 1.2.3.4 on web1 since 2026-11-27 "
	    "09:50:00.\nLast: Failed password for bob from 1.2.3.4");
	/* JSON fields of a plain line are empty. */
	t_assert_render(f, "[${json.msg}]", "[]");
	t_fix_free(f);
}

static void
test_builtins_missing(void **state)
{
	/* No header: no host, program, pid, severity, facility or time. */
	struct fix *f = t_fix_plain("(?<x>disk)", "disk failed");

	t_assert_render(f, "[${host}][${program}][${pid}][${severity}]"
	    "[${facility}][${rule}][${key}][${count}][${first_seen}]"
	    "[${last_seen}]", "[][][][][][][][0][][]");
	t_assert_render(f, "${host:-unknown} ${severity:-?} ${first_seen:-never}",
	    "unknown ? never");
	/* The event has no time of its own: ${time} is now. */
	t_assert_render(f, "${time}", "2026-11-27 10:00:00");
	f->ctx.now = 0;
	t_assert_render(f, "[${time}][${now}]", "[][]");
	t_fix_free(f);
}

static void
test_builtins_timezone(void **state)
{
	struct fix *f = t_fix_plain("(?<x>disk)", "disk failed");

	setenv("TZ", "IST-5:30", 1);
	tzset();
	f->ctx.first_seen = NOW;
	t_assert_render(f, "${now} ${first_seen}",
	    "2026-11-27 15:30:00 2026-11-27 15:30:00");
	setenv("TZ", "UTC", 1);
	tzset();
	t_assert_render(f, "${now}", "2026-11-27 10:00:00");
	t_fix_free(f);
}

static void
test_named_capture_wins_over_builtin(void **state)
{
	struct fix *f = t_fix_plain("from (?<host>\\S+)",
	    "Nov 27 09:59:00 web1 app: login from db7");

	t_assert_render(f, "${host}", "db7");
	t_assert_render(f, "${program}", "app");
	t_fix_free(f);
}

static void
test_json_fields(void **state)
{
	static const char line[] =
	    "{\"msg\":\" disk sda failed\",\"hostname\":\"web1\","
	    "\"programname\":\"kernel\",\"syslogtag\":\"kernel:\","
	    "\"syslogseverity\":\"3\",\"syslogfacility\":\"0\","
	    "\"timereported\":\"2026-11-27T09:58:00Z\",\"custom\":\"v1\","
	    "\"n\":42,\"esc\":\"a\\\"b\\u00e9\",\"obj\":{\"k\": [1, 2]}}";
	struct fix *f = t_fix_new("disk (?<dev>\\S+) failed",
	    PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, INPUT_AUTO, line, strlen(line),
	    NULL, 0);
	struct tmpl *t;

	assert_true(f->ev.json);
	t_assert_render(f, "${dev}", "sda");
	t_assert_render(f, "${line}", "disk sda failed");
	t_assert_render(f, "${host}|${program}|${severity}|${facility}|${time}",
	    "web1|kernel|err|kern|2026-11-27 09:58:00");
	t_assert_render(f, "${json.custom}", "v1");
	t_assert_render(f, "${json.n}", "42");
	t_assert_render(f, "${json.esc}", "a\"b\xc3\xa9");
	t_assert_render(f, "${json.obj}", "{\"k\":[1,2]}");
	t_assert_render(f, "${json.hostname}", "web1");
	t_assert_render(f, "[${json.missing}]", "[]");
	t_assert_render(f, "${json.missing:-none}", "none");

	t = t_compile(f, "${json.custom}");
	assert_int_equal(tmpl_uses(t), TMPL_USES_JSON);
	tmpl_free(t);
	t_fix_free(f);
}

static void
test_invalid_utf8_and_nul_in_capture(void **state)
{
	static const char subject[] = "id=a\xff" "b\0c\xc0\x80" "d\xed\xa0\x80";
	struct fix *f;

	/* A byte-mode regex, so the capture holds the raw bytes. */
	f = t_fix_new("id=(?<v>[^\\n]*)", 0, INPUT_PLAIN, subject,
	    sizeof(subject) - 1, subject, sizeof(subject) - 1);
	assert_int_equal(f->ctx.ovector[3] - f->ctx.ovector[2], 11);
	t_assert_render(f, "<${v}>",
	    "<a" FFFD "b" FFFD "c" FFFD FFFD "d" FFFD FFFD FFFD ">");
	/* The raw line and the message get the same repair. */
	t_assert_render(f, "${raw}",
	    "id=a" FFFD "b" FFFD "c" FFFD FFFD "d" FFFD FFFD FFFD);
	t_fix_free(f);
}

static void
test_valid_utf8_kept(void **state)
{
	struct fix *f = t_fix_plain("user (?<u>\\S+)", "user J\xc3\xbcrgen \xf0\x9f\x98\x80");

	t_assert_render(f, "${u} \xe2\x82\xac", "J\xc3\xbcrgen \xe2\x82\xac");
	t_assert_render(f, "${line}", "user J\xc3\xbcrgen \xf0\x9f\x98\x80");
	t_fix_free(f);
}

static void
test_literal(void **state)
{
	struct fix *f = t_fix_plain("(?<x>v)", "v");
	struct tmpl *t = tmpl_new_literal("${x} \\n $ ${");
	struct buf b;

	buf_init(&b, 100);
	tmpl_render(t, &f->ctx, &b);
	assert_string_equal(b.data, "${x} \\n $ ${");
	assert_string_equal(tmpl_source(t), "${x} \\n $ ${");
	assert_true(tmpl_is_literal(t));
	assert_int_equal(tmpl_uses(t), 0);
	tmpl_free(t);

	buf_reset(&b);
	t = tmpl_new_literal("");
	tmpl_render(t, &f->ctx, &b);
	assert_string_equal(b.data, "");
	assert_true(tmpl_is_literal(t));
	tmpl_free(t);

	/* Invalid UTF-8 in a literal is repaired as it is rendered. */
	buf_reset(&b);
	t = tmpl_new_literal("a\xff");
	tmpl_render(t, &f->ctx, &b);
	assert_string_equal(b.data, "a" FFFD);
	tmpl_free(t);
	buf_free(&b);
	tmpl_free(NULL);
	t_fix_free(f);
}

static void
test_uses_and_is_literal(void **state)
{
	struct fix *f = t_fix_plain("(?<x>v)(w)?", "v");
	struct tmpl *t;

	t = t_compile(f, "plain \\n text $");
	assert_true(tmpl_is_literal(t));
	assert_int_equal(tmpl_uses(t), 0);
	assert_string_equal(tmpl_source(t), "plain \\n text $");
	tmpl_free(t);

	t = t_compile(f, "${line}");
	assert_false(tmpl_is_literal(t));
	assert_int_equal(tmpl_uses(t), 0);
	tmpl_free(t);

	t = t_compile(f, "${key}");
	assert_int_equal(tmpl_uses(t), TMPL_USES_KEY);
	tmpl_free(t);

	t = t_compile(f, "${x}");
	assert_int_equal(tmpl_uses(t), TMPL_USES_CAPTURES);
	tmpl_free(t);

	t = t_compile(f, "${2}");
	assert_int_equal(tmpl_uses(t), TMPL_USES_CAPTURES);
	tmpl_free(t);

	/* ${0} is the whole match, not a capture group. */
	t = t_compile(f, "${0}");
	assert_int_equal(tmpl_uses(t), 0);
	tmpl_free(t);

	t = t_compile(f, "${key} ${json.a} ${1}");
	assert_int_equal(tmpl_uses(t),
	    TMPL_USES_KEY | TMPL_USES_JSON | TMPL_USES_CAPTURES);
	tmpl_free(t);

	/* A literal with escapes only is still constant. */
	t = t_compile(f, "\\${x}");
	assert_true(tmpl_is_literal(t));
	tmpl_free(t);
	t_fix_free(f);
}

static void
test_render_appends_and_caps(void **state)
{
	struct fix *f = t_fix_plain("(?<x>\\w+)", "abcdefgh");
	struct tmpl *t = t_compile(f, "[${x}]");
	struct buf b;

	buf_init(&b, 6);
	buf_appends(&b, ">");
	tmpl_render(t, &f->ctx, &b);
	assert_string_equal(b.data, ">[abcd");
	assert_true(b.truncated);
	buf_free(&b);

	buf_init(&b, 100);
	tmpl_render(t, &f->ctx, &b);
	tmpl_render(t, &f->ctx, &b);
	assert_string_equal(b.data, "[abcdefgh][abcdefgh]");
	buf_free(&b);
	tmpl_free(t);
	t_fix_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_named_and_numbered),
		cmocka_unit_test(test_unset_group_and_fallback),
		cmocka_unit_test(test_empty_capture_fallback),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_literal_dollar),
		cmocka_unit_test(test_compile_errors),
		cmocka_unit_test(test_compile_errors_no_regex),
		cmocka_unit_test(test_builtins),
		cmocka_unit_test(test_builtins_missing),
		cmocka_unit_test(test_builtins_timezone),
		cmocka_unit_test(test_named_capture_wins_over_builtin),
		cmocka_unit_test(test_json_fields),
		cmocka_unit_test(test_invalid_utf8_and_nul_in_capture),
		cmocka_unit_test(test_valid_utf8_kept),
		cmocka_unit_test(test_literal),
		cmocka_unit_test(test_uses_and_is_literal),
		cmocka_unit_test(test_render_appends_and_caps),
	};

	/* Before anything reads the clock (RFC 3164 years use it). */
	setenv("TZ", "UTC", 1);
	tzset();
	setenv("OMKAPTURE_NOW", "1795773600", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
