/*
 * test_prefilter.c: the prefilter must never change what matches.
 *
 * A property test: a rule set (realistic alert rules plus generated
 * ones) is loaded twice, with the naive loop and the literal prefilter
 * (not Vectorscan: Debian 12's 5.4.9 misses matches, see prefilter.c);
 * a generated corpus (lines made of
 * the rules' own words, case flips, non-ASCII, invalid UTF-8, JSON) goes
 * through each, and for every line the two must report the same rules
 * in the same order with the same captures. Also: coverage reporting and
 * the engine names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf.h"
#include "diag.h"
#include "input.h"
#include "prefilter.h"
#include "rules.h"
#include "util.h"

/* Hand-written rules in the style of real alert rules. */
static const char *const fixed_patterns[] = {
	"Out of memory: Killed process (?<pid>\\d+) \\((?<proc>[^)]+)\\)",
	"(?<proc>\\S+)\\[(?<pid>\\d+)\\]: segfault at (?<addr>[0-9a-f]+)",
	"Failed password for (?:invalid user )?(?<user>\\S+) from (?<ip>[0-9.]+)",
	"^Accepted (?:password|publickey) for root from (?<ip>\\S+)",
	"(?i)no space left on device",
	"EXT4-fs error \\(device (?<dev>\\w+)\\)",
	"(?i)i/o error,? dev (?<dev>\\w+), sector (?<sector>\\d+)",
	"XFS \\((?<dev>[^)]+)\\): (?:metadata|log) I/O error",
	"md/raid\\d*:(?<md>md\\d+): Disk failure on (?<disk>\\w+)",
	"(?<unit>[\\w@.-]+\\.service): Failed with result '(?<why>[^']+)'",
	"nfs: server (?<server>\\S+) not responding",
	"mce: \\[Hardware Error\\]: (?<what>.+)$",
	"task (?<task>\\S+):(?<pid>\\d+) blocked for more than (?<s>\\d+) seconds",
	"status=(?:deferred|bounced) \\((?<why>[^)]*)\\)",
	"(?i)smartd\\[\\d+\\]: Device: (?<dev>\\S+).*(?:FAILING|failed)",
	"sudo: +(?<user>\\w+) : (?:\\d+ incorrect password attempts?|user NOT in sudoers)",
	"CRON\\[\\d+\\]: \\((?<user>\\w+)\\) (?:ERROR|error)",
	"kernel: .*(?:BUG|Oops)",
	"(?:disk|volume) (?<vol>\\w+) (?:is )?(?:full|at 100%)",
	"connection (?:reset|refused) (?:by|from) (?<peer>[\\d.]+)",
	"ERROR|FATAL|CRITICAL",
	"^(?!.*healthcheck).*timeout after (?<ms>\\d+) ?ms",
	"payment (?<id>\\d+) failed(?: reason=(?<reason>\\w+))?",
	"café (?<n>\\d+) fermé",
	"(?i)Ünicode caseless",
	"a.b.c.d",
	"\\bdisk\\d{1,3}\\b",
	"x+y+z+",
	"^$",
	"\\Qcost: $5.00 (net)\\E",
	"[Ee]rror [Cc]ode (?<code>0x[0-9A-Fa-f]{4})",
	"(?<a>foo)(?<b>bar)?baz",
	"\\x41\\x42C",
	"line\\s+(?<n>\\d+)\\s*$",
	"(?i:warning): (?<w>.+)",
};

static const char *const words[] = {
	"Out", "of", "memory:", "Killed", "process", "1234", "(java)", "(",
	")", "segfault", "at", "7f00ab", "sshd[42]:", "Failed", "password",
	"for", "invalid", "user", "root", "from", "10.0.0.1", "Accepted",
	"publickey", "No", "space", "left", "on", "device", "NO SPACE LEFT ON DEVICE",
	"EXT4-fs", "error", "(device", "sda1)", "I/O", "i/o error, dev sdb, sector 99",
	"XFS", "(dm-0):", "metadata", "log", "md/raid1:md0:", "Disk", "failure",
	"nginx.service:", "with", "result", "'exit-code'", "nfs:", "server",
	"not", "responding", "mce:", "[Hardware", "Error]:", "task", "kworker:12",
	"blocked", "more", "than", "120", "seconds", "status=deferred",
	"status=bounced", "(host unreachable)", "smartd[3]:", "Device:", "/dev/sda",
	"FAILING", "sudo:", "alice", ":", "3", "incorrect", "attempts",
	"NOT", "in", "sudoers", "CRON[9]:", "(bob)", "ERROR", "FATAL", "CRITICAL",
	"kernel:", "BUG", "Oops", "disk", "volume", "data", "is", "full", "100%",
	"connection", "reset", "refused", "by", "healthcheck", "timeout", "after",
	"250ms", "250", "ms", "payment", "77", "failed", "reason=card", "café",
	"fermé", "CAFÉ", "ünicode", "ÜNICODE", "caseless", "a.b.c.d", "aXbYcZd",
	"disk7", "disk1234", "xyz", "xxyyzz", "cost: $5.00 (net)", "Error",
	"code", "0xBEEF", "foo", "bar", "baz", "foobaz", "ABC", "line", "12",
	"warning:", "WARNING:", "Warning", "\xff", "\xc3", "\xe2\x82", "\t",
	"", "é", "日本", "\xed\xa0\x80",
};

#define NWORDS (sizeof(words) / sizeof(words[0]))
#define NFIXED (sizeof(fixed_patterns) / sizeof(fixed_patterns[0]))

static uint64_t rng_state = 0x243f6a8885a308d3ULL;

static uint64_t
rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

/* A generated rule regex: literals from the vocabulary, classes,
 * optional parts, alternation, a capture now and then. */
static void
gen_pattern(struct buf *b)
{
	static const char *const atoms[] = {
		"\\d+", "\\w+", "\\S+", "[0-9a-f]+", ".*", ".", "\\s", " ",
		"(?<c%d>\\w+)", "(?:%s|%s)", "(?:%s)?", "[A-Z]", "\\b", "(?i)",
	};
	int i, n = 1 + (int)(rnd() % 5), caps = 0;

	if (rnd() % 4 == 0)
		buf_appendc(b, '^');
	for (i = 0; i < n; i++) {
		const char *a;
		const char *w1 = words[rnd() % NWORDS];
		const char *w2 = words[rnd() % NWORDS];

		/* The first atom is a word: a rule that matches every line
		 * would hide every rule after it. */
		if (i == 0 || rnd() % 2 == 0) {
			const char *p;

			while (i == 0 && strlen(w1) < 3)
				w1 = words[rnd() % NWORDS];

			/* A literal word, escaped. */
			for (p = w1; *p != '\0'; p++) {
				if (strchr("\\^$.|?*+()[]{}", *p) != NULL)
					buf_appendc(b, '\\');
				buf_appendc(b, *p);
			}
			continue;
		}
		a = atoms[rnd() % (sizeof(atoms) / sizeof(atoms[0]))];
		if (!strcmp(a, "(?<c%d>\\w+)")) {
			buf_printf(b, "(?<c%d>\\w+)", caps++);
		} else if (!strcmp(a, "(?:%s|%s)") || !strcmp(a, "(?:%s)?")) {
			/* Words only (escaped crudely: letters and digits). */
			char x[32], y[32];
			size_t k, m;

			for (k = m = 0; w1[k] != '\0' && m < 30; k++)
				if ((w1[k] >= 'a' && w1[k] <= 'z') ||
				    (w1[k] >= 'A' && w1[k] <= 'Z') ||
				    (w1[k] >= '0' && w1[k] <= '9'))
					x[m++] = w1[k];
			x[m] = '\0';
			for (k = m = 0; w2[k] != '\0' && m < 30; k++)
				if ((w2[k] >= 'a' && w2[k] <= 'z') ||
				    (w2[k] >= 'A' && w2[k] <= 'Z') ||
				    (w2[k] >= '0' && w2[k] <= '9'))
					y[m++] = w2[k];
			y[m] = '\0';
			if (!strcmp(a, "(?:%s|%s)"))
				buf_printf(b, "(?:%s|%s)", x, y);
			else
				buf_printf(b, "(?:%s)?", x);
		} else if (!strcmp(a, "(?i)")) {
			if (b->len == 0)
				buf_appends(b, "(?i)");
		} else {
			buf_appends(b, a);
		}
		if (rnd() % 3 == 0)
			buf_appendc(b, ' ');
	}
}

/* The rule file: fixed rules, then generated ones; some continue, some
 * match the raw line, some filter by program. */
static void
gen_rules(struct buf *b, size_t ngen)
{
	size_t i;

	for (i = 0; i < NFIXED + ngen; i++) {
		buf_printf(b, "[r%zu]\nmatch = ", i);
		if (i < NFIXED)
			buf_appends(b, fixed_patterns[i]);
		else
			gen_pattern(b);
		buf_appends(b, "\ntitle = t\n");
		if (rnd() % 5 == 0)
			buf_appends(b, "continue = yes\n");
		if (rnd() % 7 == 0)
			buf_appends(b, "match_on = raw\n");
		if (rnd() % 11 == 0)
			buf_appends(b, "program = sshd kernel\n");
		if (rnd() % 13 == 0)
			buf_appends(b, "match_on = json.detail\n");
		buf_appendc(b, '\n');
	}
}

static void
gen_line(struct buf *b)
{
	static const char *const progs[] = { "sshd", "kernel", "CRON",
	    "postfix/smtp", "app" };
	int i, n = 1 + (int)(rnd() % 12);
	const char *prog = progs[rnd() % 5];

	buf_reset(b);
	switch (rnd() % 4) {
	case 0:
		buf_printf(b, "<%d>Nov 27 10:00:%02d host%d %s[%d]: ",
		    (int)(rnd() % 192), (int)(rnd() % 60), (int)(rnd() % 9),
		    prog, (int)(rnd() % 9999));
		break;
	case 1:
		buf_printf(b, "{\"msg\":\"");
		break;
	default:
		break;
	}
	for (i = 0; i < n; i++) {
		const char *w = words[rnd() % NWORDS];
		size_t k;

		if (i > 0 && rnd() % 4 != 0)
			buf_appendc(b, ' ');
		for (k = 0; w[k] != '\0'; k++) {
			char c = w[k];

			/* Flip ASCII case now and then. */
			if (rnd() % 16 == 0 && c >= 'a' && c <= 'z')
				c = (char)(c - 32);
			else if (rnd() % 16 == 0 && c >= 'A' && c <= 'Z')
				c = (char)(c + 32);
			if (b->data != NULL && b->data[0] == '{' &&
			    (c == '"' || c == '\\'))
				buf_appendc(b, '\\');
			buf_appendc(b, c);
		}
	}
	if (b->data != NULL && b->data[0] == '{')
		buf_printf(b, "\",\"programname\":\"%s\",\"detail\":\"%s\"}",
		    prog, words[rnd() % 40]);
}

struct engine_run {
	struct ruleset *rs;
	struct event ev;
};

/* The matches of one line: rule index and ovector, as text. */
static void
run_line(struct engine_run *er, const char *line, size_t len, struct buf *out)
{
	struct rules_match m;
	uint32_t i;

	buf_reset(out);
	input_decode(&er->ev, INPUT_AUTO, line, len);
	memset(&m, 0, sizeof(m));
	while (rules_next(er->rs, &er->ev, &m)) {
		buf_printf(out, "%s:", m.rule->name);
		for (i = 0; i < m.ovcount && i <= m.rule->ncaptures; i++) {
			if (m.ovector[2 * i] == PCRE2_UNSET)
				buf_appends(out, " -");
			else
				buf_printf(out, " %.*s", (int)(m.ovector[2 * i + 1] -
				    m.ovector[2 * i]), m.subject + m.ovector[2 * i]);
		}
		buf_appendc(out, '\n');
	}
}

static void
test_engines_agree(void **state)
{
	/* Not Vectorscan: Debian 12's 5.4.9 misses matches (prefilter.c). */
	static const enum prefilter_engine engines[] = { PREFILTER_NAIVE,
	    PREFILTER_LITERAL };
	struct engine_run er[2];
	struct buf rules, line, want, got;
	struct conf *c = conf_new();
	struct diags d;
	size_t i, e, ne = 2, nlines = 0, nmatch = 0;
	size_t covered[2];
	/* OMK_PREFILTER_ROUNDS=N for a longer run (and a new seed). */
	const char *env = getenv("OMK_PREFILTER_ROUNDS");
	int round, rounds = env != NULL ? atoi(env) : 8;

	(void)state;
	buf_init(&line, 1 << 20);
	buf_init(&want, 1 << 20);
	buf_init(&got, 1 << 20);
	if (env != NULL)
		rng_state ^= (uint64_t)rounds * 0x9e3779b97f4a7c15ULL;
	for (round = 0; round < rounds; round++) {
		buf_init(&rules, 1 << 22);
		gen_rules(&rules, 120);
		for (e = 0; e < ne; e++) {
			diags_init(&d);
			er[e].rs = rules_load_buf(c, "gen.rules", rules.data,
			    rules.len, &d);
			if (d.errors > 0) {
				/* A generated regex PCRE2 refuses is dropped
				 * with an error: same for every engine. */
				diags_free(&d);
			} else {
				diags_free(&d);
			}
			rules_prefilter(er[e].rs, (int)engines[e]);
			covered[e] = prefilter_ncovered(er[e].rs->pf);
			input_event_init(&er[e].ev);
		}
		/* The prefilters must actually rule rules out. */
		assert_true(covered[1] > er[1].rs->n / 3);
		for (i = 0; i < 5000; i++) {
			gen_line(&line);
			run_line(&er[0], line.data, line.len, &want);
			nlines++;
			if (want.len > 0)
				nmatch++;
			for (e = 1; e < ne; e++) {
				run_line(&er[e], line.data, line.len, &got);
				if (strcmp(want.data ? want.data : "",
				    got.data ? got.data : "") != 0)
					fail_msg("engine %s disagrees with naive "
					    "on line \"%s\":\nnaive:\n%s\n%s:\n%s",
					    prefilter_name(er[e].rs->pf), line.data,
					    want.data ? want.data : "",
					    prefilter_name(er[e].rs->pf),
					    got.data ? got.data : "");
			}
		}
		for (e = 0; e < ne; e++) {
			input_event_free(&er[e].ev);
			rules_free(er[e].rs);
		}
		buf_free(&rules);
	}
	/* The corpus must exercise matching and misses. */
	assert_true(nmatch > nlines / 10);
	assert_true(nmatch < nlines - nlines / 10);
	print_message("%zu lines, %zu with matches, %zu engines\n", nlines,
	    nmatch, ne);
	buf_free(&line);
	buf_free(&want);
	buf_free(&got);
	conf_free(c);
}

static void
test_coverage_report(void **state)
{
	static const char text[] =
	    "[oom]\nmatch = Out of memory: Killed process (?<pid>\\d+)\ntitle = t\n"
	    "[json]\nmatch = failed\nmatch_on = json.detail\ntitle = t\n"
	    "[empty]\nmatch = ^.*$\ntitle = t\n"
	    "[uni]\nmatch = (?i)ünicode\ntitle = t\n";
	struct conf *c = conf_new();
	struct diags d;
	struct ruleset *rs;

	(void)state;
	diags_init(&d);
	rs = rules_load_buf(c, "t.rules", text, strlen(text), &d);
	assert_int_equal(d.errors, 0);
	rules_prefilter(rs, PREFILTER_NAIVE);
	assert_string_equal(prefilter_name(rs->pf), "naive");
	assert_int_equal(prefilter_ncovered(rs->pf), 0);
	assert_string_equal(prefilter_why(rs->pf, 0), "--engine naive");

	rules_prefilter(rs, PREFILTER_LITERAL);
	assert_string_equal(prefilter_name(rs->pf), "literal");
	assert_true(prefilter_covers(rs->pf, 0));
	assert_string_equal(prefilter_why(rs->pf, 0), "");
	assert_false(prefilter_covers(rs->pf, 1));
	assert_string_equal(prefilter_why(rs->pf, 1), "matches a JSON field");
	assert_false(prefilter_covers(rs->pf, 2));
	assert_false(prefilter_covers(rs->pf, 3));
	assert_string_equal(prefilter_why(rs->pf, 3), "caseless with "
	    "non-ASCII characters (Unicode case folding)");
	assert_int_equal(prefilter_ncovered(rs->pf), 1);
	rules_prefilter(rs, PREFILTER_AUTO);
	assert_string_equal(prefilter_name(rs->pf), "literal");
	if (prefilter_have_hs()) {
		rules_prefilter(rs, PREFILTER_HS);
		assert_non_null(strstr(prefilter_name(rs->pf), "vectorscan"));
		assert_true(prefilter_covers(rs->pf, 0));
		assert_false(prefilter_covers(rs->pf, 2));
		assert_string_equal(prefilter_why(rs->pf, 2),
		    "can match an empty string");
		assert_int_equal(prefilter_ncovered(rs->pf), 1);
	}
	rules_free(rs);
	diags_free(&d);
	conf_free(c);
}

static void
test_engine_names(void **state)
{
	enum prefilter_engine e;

	(void)state;
	assert_true(prefilter_engine_parse("auto", &e) && e == PREFILTER_AUTO);
	assert_true(prefilter_engine_parse("naive", &e) && e == PREFILTER_NAIVE);
	assert_true(prefilter_engine_parse("literal", &e) &&
	    e == PREFILTER_LITERAL);
	assert_true(prefilter_engine_parse("hs", &e) && e == PREFILTER_HS);
	assert_false(prefilter_engine_parse("fast", &e));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_engine_names),
		cmocka_unit_test(test_coverage_report),
		cmocka_unit_test(test_engines_agree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
