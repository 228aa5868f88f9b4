/*
 * test_rules.c: rule files (every key, every error with file:line, all
 * reported at once), [defaults], and matching decoded events.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "t_diags.h"

#include "conf.h"
#include "diag.h"
#include "fields.h"
#include "input.h"
#include "rules.h"
#include "tmpl.h"
#include "util.h"

#define CONF_NAME "/etc/omk/omkapture.conf"

/* A config from text (with no errors), or the built-in one for NULL. */
static struct conf *
t_conf_from(const char *text)
{
	struct conf *c = conf_new();
	struct diags d;

	if (text == NULL)
		return c;
	diags_init(&d);
	assert_int_equal(conf_load_buf(c, CONF_NAME, text, strlen(text), &d),
	    0);
	assert_int_equal(d.n, 0);
	diags_free(&d);
	return c;
}

static struct ruleset *
t_load(const struct conf *c, const char *text, struct diags *d)
{
	diags_init(d);
	return rules_load_buf(c, "t.rules", text, strlen(text), d);
}

/* Rules that must load without any diagnostic. */
static struct ruleset *
t_load_ok(const struct conf *c, const char *text)
{
	struct diags d;
	struct ruleset *rs = t_load(c, text, &d);

	if (d.n != 0) {
		char *s = t_diags_text(&d);

		print_error("%s", s);
		free(s);
		fail_msg("rules did not load cleanly");
	}
	diags_free(&d);
	return rs;
}

/* Rules with errors: the exact diagnostics, and how many rules survive. */
static void
t_check_errors(const struct conf *c, const char *text, size_t nrules,
    const char *want)
{
	struct diags d;
	struct ruleset *rs = t_load(c, text, &d);

	t_assert_diags(&d, want);
	assert_int_equal(rs->n, nrules);
	diags_free(&d);
	rules_free(rs);
}

static const struct rule *
t_find(const struct ruleset *rs, const char *name)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (strcmp(rs->v[i].name, name) == 0)
			return &rs->v[i];
	fail_msg("no rule [%s]", name);
	return NULL;
}

static void
test_every_key(void **state)
{
	struct conf *c = t_conf_from(NULL);
	struct ruleset *rs = t_load_ok(c,
	    "# sshd\n"
	    "[sshd-bruteforce]\n"
	    "match     = Failed password for (?:invalid user )?(?<user>\\S+) "
	    "from (?<ip>\\S+)\n"
	    "match_on  = raw\n"
	    "ignore    = from 10\\.0\\.0\\.\n"
	    "program   = sshd, sshd-session\tdropbear\n"
	    "title     = SSH brute force from ${ip}\n"
	    "details   = ${count} failed logins as ${user}\\nLast: ${line}\n"
	    "email     = secops@example.com\n"
	    "due       = +4h\n"
	    "key       = ${ip}\n"
	    "threshold = 5 in 10m\n"
	    "suppress  = 30m\n"
	    "renotify  = 2d\n"
	    "on_repeat = ticket\n"
	    "field.queue = Infra\n"
	    "field.issue_category_details[0].issue_category_1 = Security\n"
	    "continue  = yes\n");
	const struct rule *r;
	const struct field_node *n;

	assert_int_equal(rs->n, 1);
	assert_int_equal(rs->nfiles, 1);
	assert_string_equal(rs->files[0].path, "t.rules");
	assert_int_equal(rs->files[0].nrules, 1);
	assert_int_equal(rs->limit_errors, 0);
	r = &rs->v[0];
	assert_string_equal(r->name, "sshd-bruteforce");
	assert_string_equal(r->file, "t.rules");
	assert_int_equal(r->line, 2);
	assert_string_equal(r->match_src, "Failed password for (?:invalid "
	    "user )?(?<user>\\S+) from (?<ip>\\S+)");
	assert_non_null(r->re);
	assert_int_equal(r->ncaptures, 2);
	assert_int_equal(r->match_on, MATCH_RAW);
	assert_null(r->json_field);
	assert_non_null(r->ignore);
	assert_int_equal(r->nprograms, 3);
	assert_string_equal(r->programs[0], "sshd");
	assert_string_equal(r->programs[1], "sshd-session");
	assert_string_equal(r->programs[2], "dropbear");
	assert_string_equal(tmpl_source(r->title), "SSH brute force from ${ip}");
	assert_string_equal(tmpl_source(r->details),
	    "${count} failed logins as ${user}\\nLast: ${line}");
	assert_string_equal(tmpl_source(r->email), "secops@example.com");
	assert_null(r->due);
	assert_true(r->due_relative);
	assert_int_equal(r->due_offset, 4 * 3600);
	assert_string_equal(tmpl_source(r->key), "${ip}");
	assert_int_equal(r->threshold_n, 5);
	assert_int_equal(r->threshold_window, 600);
	assert_int_equal(r->suppress, 1800);
	assert_int_equal(r->renotify, 2 * 86400);
	assert_int_equal(r->on_repeat, REPEAT_TICKET);
	assert_true(r->cont);
	assert_int_equal(r->hits, 0);

	assert_non_null(r->fields);
	assert_int_equal(r->fields->nkids, 2);
	n = fields_get(r->fields, "queue");
	assert_non_null(n);
	assert_int_equal(n->kind, FIELD_LEAF);
	assert_string_equal(tmpl_source(n->value), "Infra");
	n = fields_get(r->fields, "issue_category_details");
	assert_non_null(n);
	assert_int_equal(n->kind, FIELD_ARRAY);
	assert_int_equal(n->nkids, 1);
	assert_int_equal(n->kids[0]->kind, FIELD_OBJECT);
	assert_string_equal(n->kids[0]->kids[0]->name, "issue_category_1");
	assert_string_equal(tmpl_source(n->kids[0]->kids[0]->value),
	    "Security");
	rules_free(rs);
	conf_free(c);
}

static void
test_rule_defaults(void **state)
{
	struct conf *c = t_conf_from(NULL);
	struct ruleset *rs = t_load_ok(c, "[min]\nmatch = x\n");
	const struct rule *r = &rs->v[0];

	assert_int_equal(r->line, 1);
	assert_int_equal(r->match_on, MATCH_MESSAGE);
	assert_null(r->json_field);
	assert_null(r->ignore);
	assert_null(r->programs);
	assert_int_equal(r->nprograms, 0);
	assert_int_equal(r->ncaptures, 0);
	assert_string_equal(tmpl_source(r->title), "${rule}: ${line}");
	assert_string_equal(tmpl_source(r->details), "${raw}");
	assert_null(r->email);
	assert_null(r->due);
	assert_false(r->due_relative);
	assert_int_equal(r->due_offset, 0);
	assert_null(r->key);
	assert_non_null(r->fields);
	assert_int_equal(r->fields->nkids, 0);
	assert_int_equal(r->threshold_n, 1);
	assert_int_equal(r->threshold_window, 0);
	assert_int_equal(r->suppress, 600);
	assert_int_equal(r->renotify, 86400);
	assert_int_equal(r->on_repeat, REPEAT_NONE);
	assert_false(r->cont);
	rules_free(rs);
	conf_free(c);
}

static void
test_key_forms(void **state)
{
	struct conf *c = t_conf_from("[kapture]\nupdate_url = "
	    "https://acme.kapturecrm.com/update-ticket-from-other-source.html/v.2.0\n");
	struct ruleset *rs = t_load_ok(c,
	    "[a]\nmatch = a\nmatch_on = json.user\non_repeat = comment\n"
	    "continue = TRUE\nignore =\n"
	    "due = 2026-12-01 10:00:00\n"
	    "[b]\nmatch = (?<when>\\S+) b\nmatch_on = line\n"
	    "due = ${when}\ncontinue = no\non_repeat = none\n"
	    "program = ,, app ,\n"
	    "[c]\nmatch = c\nmatch_on = message\ncontinue = false\n"
	    "threshold = 3 in 1h30m\n");
	const struct rule *r;

	r = t_find(rs, "a");
	assert_int_equal(r->match_on, MATCH_JSON);
	assert_string_equal(r->json_field, "user");
	assert_int_equal(r->on_repeat, REPEAT_COMMENT);
	assert_true(r->cont);
	assert_null(r->ignore);          /* empty: none */
	assert_non_null(r->due);
	assert_false(r->due_relative);
	assert_true(tmpl_is_literal(r->due));
	assert_string_equal(tmpl_source(r->due), "2026-12-01 10:00:00");

	r = t_find(rs, "b");
	assert_int_equal(r->match_on, MATCH_MESSAGE);
	assert_false(r->cont);
	assert_int_equal(r->on_repeat, REPEAT_NONE);
	assert_non_null(r->due);
	assert_false(tmpl_is_literal(r->due));
	assert_int_equal(r->nprograms, 1);
	assert_string_equal(r->programs[0], "app");

	r = t_find(rs, "c");
	assert_int_equal(r->match_on, MATCH_MESSAGE);
	assert_false(r->cont);
	assert_int_equal(r->threshold_n, 3);
	assert_int_equal(r->threshold_window, 5400);
	rules_free(rs);
	conf_free(c);
}

static void
test_rule_order_and_files(void **state)
{
	struct conf *c = t_conf_from(NULL);
	struct ruleset *rs = t_load_ok(c, "[z]\nmatch = z\n[a]\nmatch = a\n"
	    "[m]\nmatch = m\n");

	/* File order, not sorted. */
	assert_int_equal(rs->n, 3);
	assert_string_equal(rs->v[0].name, "z");
	assert_string_equal(rs->v[1].name, "a");
	assert_string_equal(rs->v[2].name, "m");
	assert_int_equal(rs->v[0].line, 1);
	assert_int_equal(rs->v[1].line, 3);
	assert_int_equal(rs->v[2].line, 5);
	assert_int_equal(rs->files[0].nrules, 3);
	rules_free(rs);
	rules_free(NULL);
	conf_free(c);
}

static void
test_bad_regex(void **state)
{
	struct conf *c = t_conf_from(NULL);

	t_check_errors(c, "[r]\nmatch = foo(bar\n", 0,
	    "t.rules:2: error: [r] match: bad regex at offset 7: missing "
	    "closing parenthesis\n");
	t_check_errors(c, "[r]\nmatch = ok\nignore = a[b\n", 0,
	    "t.rules:3: error: [r] ignore: bad regex at offset 3: missing "
	    "terminating ] for character class\n");
	t_check_errors(c, "[r]\nmatch = (?<n>a)(?<n>b)\n", 0,
	    "t.rules:2: error: [r] match: bad regex at offset 12: two named "
	    "subpatterns have the same name (PCRE2_DUPNAMES not set)\n");
	conf_free(c);
}

static void
test_missing_and_empty_match(void **state)
{
	struct conf *c = t_conf_from(NULL);

	t_check_errors(c, "[r]\ntitle = x\n", 0,
	    "t.rules:1: error: [r]: no \"match\" regex\n");
	t_check_errors(c, "[r]\nmatch =\n", 0,
	    "t.rules:2: error: [r] match: empty regex\n");
	conf_free(c);
}

static void
test_unknown_and_duplicate_keys(void **state)
{
	struct conf *c = t_conf_from(NULL);

	/* An unknown key is reported; the rest of the rule still loads. */
	t_check_errors(c, "[r]\nmatch = x\ncolour = red\nfield. = y\n", 1,
	    "t.rules:3: error: [r]: unknown key \"colour\"\n"
	    "t.rules:4: error: [r]: unknown key \"field.\"\n");
	t_check_errors(c, "[r]\nmatch = x\ntitle = a\n\ntitle = b\n", 1,
	    "t.rules:5: error: [r]: \"title\" set twice (first at line 3)\n");
	conf_free(c);
}

static void
test_template_errors(void **state)
{
	struct conf *c = t_conf_from(NULL);

	t_check_errors(c, "[r]\nmatch = (?<a>x)\ntitle = ${b}\n", 0,
	    "t.rules:3: error: [r] title: ${b} names no capture group of the "
	    "regex and no built-in variable\n");
	t_check_errors(c, "[r]\nmatch = (a)(b)\ndetails = ${3}\n", 0,
	    "t.rules:3: error: [r] details: ${3} but the regex has 2 capture "
	    "groups\n");
	t_check_errors(c, "[r]\nmatch = x\nemail = ${1}@x\n", 0,
	    "t.rules:3: error: [r] email: ${1} but the regex has 0 capture "
	    "groups\n");
	t_check_errors(c, "[r]\nmatch = x\nkey = ${x\n", 0,
	    "t.rules:3: error: [r] key: unterminated \"${\"\n");
	t_check_errors(c, "[r]\nmatch = x\nkey = ${rule}-${key}\n", 0,
	    "t.rules:3: error: [r] key: the key cannot use ${key}\n");
	t_check_errors(c, "[r]\nmatch = x\ndue = ${when}\n", 0,
	    "t.rules:3: error: [r] due: ${when} names no capture group of "
	    "the regex and no built-in variable\n");
	t_check_errors(c, "[r]\nmatch = x\nfield.q = ${nope}\n", 0,
	    "t.rules:3: error: [r] field.q: ${nope} names no capture group "
	    "of the regex and no built-in variable\n");
	conf_free(c);
}

static void
test_broken_regex_skips_templates(void **state)
{
	struct conf *c = t_conf_from(NULL);

	/* Not also "${user} names no capture group". */
	t_check_errors(c, "[r]\nmatch = (?<user>x\ntitle = ${user}\n", 0,
	    "t.rules:2: error: [r] match: bad regex at offset 9: missing "
	    "closing parenthesis\n");
	conf_free(c);
}

static void
test_duplicate_rule_name(void **state)
{
	struct conf *c = t_conf_from(NULL);

	t_check_errors(c, "[r]\nmatch = a\n\n[s]\nmatch = b\n[r]\nmatch = c\n",
	    2, "t.rules:6: error: rule [r] already defined at t.rules:1\n");
	conf_free(c);
}

/*
 * Regression test for a fixed bug (rules.c, rules_finish: names are only compared with rs->v, the rules
 * that built): when the first of two same-named rules has an error, the
 * duplicate is not reported and the second one loads, so a --check run
 * does not show every error at once (the duplicate only appears after the
 * first error is fixed). Fix: compare with every section parsed so far
 * (st->v[0..i-1], and a list of all names seen in earlier files), not
 * just the built rules.
 */
static void
test_duplicate_of_broken_rule(void **state)
{
	struct conf *c = t_conf_from(NULL);

	t_check_errors(c, "[r]\nmatch = foo(\n[r]\nmatch = ok\n", 0,
	    "t.rules:2: error: [r] match: bad regex at offset 4: missing "
	    "closing parenthesis\n"
	    "t.rules:3: error: rule [r] already defined at t.rules:1\n");
	conf_free(c);
}

static void
test_bad_rule_name(void **state)
{
	struct conf *c = t_conf_from(NULL);

	t_check_errors(c, "[bad name]\nmatch = a\n", 1,
	    "t.rules:1: error: rule name \"bad name\": use letters, digits "
	    "and _-.:@/ only\n");
	conf_free(c);
	c = t_conf_from(NULL);
	{
		struct ruleset *rs = t_load_ok(c, "[a_b-c.d:e@f/g9]\nmatch = a\n");

		assert_string_equal(rs->v[0].name, "a_b-c.d:e@f/g9");
		rules_free(rs);
	}
	conf_free(c);
}

static void
test_bad_values(void **state)
{
	struct conf *c = t_conf_from(NULL);

	t_check_errors(c, "[r]\nmatch = x\nthreshold = 5 per 10m\n", 0,
	    "t.rules:3: error: [r] threshold: expected \"N in DURATION\" like "
	    "\"5 in 10m\", not \"5 per 10m\"\n");
	t_check_errors(c, "[r]\nmatch = x\nthreshold = 0 in 10m\n", 0,
	    "t.rules:3: error: [r] threshold: expected \"N in DURATION\" like "
	    "\"5 in 10m\", not \"0 in 10m\"\n");
	t_check_errors(c, "[r]\nmatch = x\nthreshold = 5 in 0s\n", 0,
	    "t.rules:3: error: [r] threshold: expected \"N in DURATION\" like "
	    "\"5 in 10m\", not \"5 in 0s\"\n");
	t_check_errors(c, "[r]\nmatch = x\nthreshold = 5\n", 0,
	    "t.rules:3: error: [r] threshold: expected \"N in DURATION\" like "
	    "\"5 in 10m\", not \"5\"\n");
	t_check_errors(c, "[r]\nmatch = x\nsuppress = soon\n", 0,
	    "t.rules:3: error: [r] suppress: bad duration \"soon\" (expected "
	    "e.g. 90s, 10m, 4h, 2d)\n");
	t_check_errors(c, "[r]\nmatch = x\nrenotify = 1 day\n", 0,
	    "t.rules:3: error: [r] renotify: bad duration \"1 day\" (expected "
	    "e.g. 90s, 10m, 4h, 2d)\n");
	t_check_errors(c, "[r]\nmatch = x\ndue = +4x\n", 0,
	    "t.rules:3: error: [r] due: bad duration \"+4x\" (expected e.g. "
	    "+4h, +1d)\n");
	t_check_errors(c, "[r]\nmatch = x\ndue = tomorrow\n", 0,
	    "t.rules:3: error: [r] due: expected +DURATION or yyyy-MM-dd "
	    "HH:mm:ss, not \"tomorrow\"\n");
	t_check_errors(c, "[r]\nmatch = x\ndue = 2026-12-01T10:00:00Z\n", 0,
	    "t.rules:3: error: [r] due: expected +DURATION or yyyy-MM-dd "
	    "HH:mm:ss, not \"2026-12-01T10:00:00Z\"\n");
	t_check_errors(c, "[r]\nmatch = x\non_repeat = always\n", 0,
	    "t.rules:3: error: [r] on_repeat: expected none, comment or "
	    "ticket, not \"always\"\n");
	t_check_errors(c, "[r]\nmatch = x\ncontinue = maybe\n", 0,
	    "t.rules:3: error: [r] continue: expected yes or no\n");
	t_check_errors(c, "[r]\nmatch = x\nmatch_on = body\n", 0,
	    "t.rules:3: error: [r] match_on: expected message, raw or "
	    "json.NAME, not \"body\"\n");
	t_check_errors(c, "[r]\nmatch = x\nmatch_on = json.\n", 0,
	    "t.rules:3: error: [r] match_on: expected message, raw or "
	    "json.NAME, not \"json.\"\n");
	conf_free(c);
}

static void
test_on_repeat_comment_needs_update_url(void **state)
{
	struct conf *c = t_conf_from(NULL);

	t_check_errors(c, "[r]\nmatch = x\non_repeat = comment\n", 0,
	    "t.rules:3: error: [r] on_repeat = comment needs [kapture] "
	    "update_url\n");
	conf_free(c);
}

static void
test_field_errors(void **state)
{
	struct conf *c = t_conf_from(NULL);

	t_check_errors(c, "[r]\nmatch = x\nfield.a = 1\nfield.a.b = 2\n", 0,
	    "t.rules:4: error: [r] field.a.b: field path conflicts with "
	    "another field's shape\n");
	t_check_errors(c, "[r]\nmatch = x\nfield.arr[1] = 1\n", 0,
	    "t.rules:3: error: [r] field.arr[1]: array items must be "
	    "numbered from [0] without gaps\n");
	t_check_errors(c, "[r]\nmatch = x\nfield.a[0] = 1\nfield.a.b = 2\n", 0,
	    "t.rules:4: error: [r] field.a.b: field path conflicts with "
	    "another field's shape\n");
	t_check_errors(c, "[r]\nmatch = x\nfield.a..b = 1\n", 0,
	    "t.rules:3: error: [r] field.a..b: empty name in field path\n");
	/* Reserved: the body sets these itself. */
	t_check_errors(c, "[r]\nmatch = x\nfield.title = T\n", 0,
	    "t.rules:3: error: [r] field.title: the body sets \"title\" "
	    "itself; use the rule key title/details/due/email\n");
	t_check_errors(c, "[r]\nmatch = x\nfield.ticket_details = D\n"
	    "field.due_date = X\nfield.email_id = E\n", 0,
	    "t.rules:3: error: [r] field.ticket_details: the body sets "
	    "\"ticket_details\" itself; use the rule key "
	    "title/details/due/email\n"
	    "t.rules:4: error: [r] field.due_date: the body sets \"due_date\" "
	    "itself; use the rule key title/details/due/email\n"
	    "t.rules:5: error: [r] field.email_id: the body sets \"email_id\" "
	    "itself; use the rule key title/details/due/email\n");
	t_check_errors(c, "[r]\nmatch = x\nfield.omkapture_ref = R\n", 0,
	    "t.rules:3: error: [r] field.omkapture_ref: the body sets "
	    "\"omkapture_ref\" itself\n");
	/* Nested names are not reserved. */
	{
		struct ruleset *rs = t_load_ok(c, "[r]\nmatch = x\n"
		    "field.meta.title = T\n");

		assert_int_equal(rs->n, 1);
		rules_free(rs);
	}
	conf_free(c);

	/* The reserved ref field follows the config. */
	c = t_conf_from("[kapture]\nref_field = ext_ref\n");
	t_check_errors(c, "[r]\nmatch = x\nfield.ext_ref = R\n", 0,
	    "t.rules:3: error: [r] field.ext_ref: the body sets \"ext_ref\" "
	    "itself\n");
	{
		struct ruleset *rs = t_load_ok(c, "[r]\nmatch = x\n"
		    "field.omkapture_ref = fine\n");

		assert_int_equal(rs->n, 1);
		rules_free(rs);
	}
	conf_free(c);
}

static void
test_all_errors_at_once(void **state)
{
	struct conf *c = t_conf_from(NULL);

	t_check_errors(c,
	    "[ok]\n"                              /* 1 */
	    "match = fine\n"                      /* 2 */
	    "[bad-regex]\n"                       /* 3 */
	    "match = foo(bar\n"                   /* 4 */
	    "[unknown-key]\n"                     /* 5 */
	    "match = x\n"                         /* 6 */
	    "colour = red\n"                      /* 7 */
	    "[no-match]\n"                        /* 8 */
	    "title = t\n"                         /* 9 */
	    "[bad-capture]\n"                     /* 10 */
	    "match = (?<a>x)\n"                   /* 11 */
	    "title = ${b}\n"                      /* 12 */
	    "details = ${a} ${3}\n"               /* 13 */
	    "[ok]\n"                              /* 14 */
	    "match = again\n"                     /* 15 */
	    "[bad-values]\n"                      /* 16 */
	    "match = y\n"                         /* 17 */
	    "threshold = many\n"                  /* 18 */
	    "suppress = 5x\n"                     /* 19 */
	    "on_repeat = comment\n"               /* 20 */
	    "continue = perhaps\n"                /* 21 */
	    "field.title = x\n"                   /* 22 */
	    "[last-ok]\n"                         /* 23 */
	    "match = z\n",                        /* 24 */
	    3,
	    "t.rules:7: error: [unknown-key]: unknown key \"colour\"\n"
	    "t.rules:4: error: [bad-regex] match: bad regex at offset 7: "
	    "missing closing parenthesis\n"
	    "t.rules:8: error: [no-match]: no \"match\" regex\n"
	    "t.rules:12: error: [bad-capture] title: ${b} names no capture "
	    "group of the regex and no built-in variable\n"
	    "t.rules:13: error: [bad-capture] details: ${3} but the regex has "
	    "1 capture group\n"
	    "t.rules:14: error: rule [ok] already defined at t.rules:1\n"
	    "t.rules:22: error: [bad-values] field.title: the body sets "
	    "\"title\" itself; use the rule key title/details/due/email\n"
	    "t.rules:18: error: [bad-values] threshold: expected \"N in "
	    "DURATION\" like \"5 in 10m\", not \"many\"\n"
	    "t.rules:19: error: [bad-values] suppress: bad duration \"5x\" "
	    "(expected e.g. 90s, 10m, 4h, 2d)\n"
	    "t.rules:20: error: [bad-values] on_repeat = comment needs "
	    "[kapture] update_url\n"
	    "t.rules:21: error: [bad-values] continue: expected yes or no\n");
	conf_free(c);
}

static const char defaults_conf[] =
    "[kapture]\n"                            /* 1 */
    "url = https://acme.kapturecrm.com/add\n"/* 2 */
    "[defaults]\n"                           /* 3 */
    "email = noc@example.com\n"              /* 4 */
    "due = +1d\n"                            /* 5 */
    "threshold = 3 in 1m\n"                  /* 6 */
    "program = app\n"                        /* 7 */
    "field.queue = Infra\n"                  /* 8 */
    "field.team = Ops\n";                    /* 9 */

static void
test_defaults_applied_and_overridden(void **state)
{
	struct conf *c = t_conf_from(defaults_conf);
	struct ruleset *rs;
	const struct rule *r;
	const struct field_node *n;

	assert_int_equal(c->ndefaults, 6);
	rs = t_load_ok(c,
	    "[own]\nmatch = a\nemail = sec@example.com\nthreshold = 1 in 1s\n"
	    "program = other\nfield.queue = Net\nfield.extra = E\n"
	    "[inherits]\nmatch = b\n");

	r = t_find(rs, "own");
	assert_string_equal(tmpl_source(r->email), "sec@example.com");
	assert_true(r->due_relative);            /* from [defaults] */
	assert_int_equal(r->due_offset, 86400);
	assert_int_equal(r->threshold_n, 1);
	assert_int_equal(r->threshold_window, 1);
	assert_int_equal(r->nprograms, 1);
	assert_string_equal(r->programs[0], "other");
	/* The rule's own fields first, then the defaults it does not set. */
	assert_int_equal(r->fields->nkids, 3);
	assert_string_equal(r->fields->kids[0]->name, "queue");
	assert_string_equal(tmpl_source(r->fields->kids[0]->value), "Net");
	assert_string_equal(r->fields->kids[1]->name, "extra");
	assert_string_equal(r->fields->kids[2]->name, "team");
	assert_string_equal(tmpl_source(r->fields->kids[2]->value), "Ops");

	r = t_find(rs, "inherits");
	assert_string_equal(tmpl_source(r->email), "noc@example.com");
	assert_true(r->due_relative);
	assert_int_equal(r->due_offset, 86400);
	assert_int_equal(r->threshold_n, 3);
	assert_int_equal(r->threshold_window, 60);
	assert_int_equal(r->nprograms, 1);
	assert_string_equal(r->programs[0], "app");
	assert_int_equal(r->fields->nkids, 2);
	n = fields_get(r->fields, "queue");
	assert_string_equal(tmpl_source(n->value), "Infra");
	n = fields_get(r->fields, "team");
	assert_string_equal(tmpl_source(n->value), "Ops");
	rules_free(rs);
	conf_free(c);
}

static void
test_defaults_errors_point_at_config(void **state)
{
	struct conf *c = t_conf_from(
	    "[defaults]\n"
	    "colour = red\n"
	    "suppress = later\n"
	    "title = ${nope}\n");

	/* Reported where the default is written, for each rule using it. */
	t_check_errors(c, "[a]\nmatch = a\n[b]\nmatch = (?<nope>b)\n", 0,
	    CONF_NAME ":2: error: [defaults]: unknown rule key \"colour\"\n"
	    CONF_NAME ":4: error: [a] title: ${nope} names no capture group "
	    "of the regex and no built-in variable\n"
	    CONF_NAME ":3: error: [a] suppress: bad duration \"later\" "
	    "(expected e.g. 90s, 10m, 4h, 2d)\n"
	    CONF_NAME ":3: error: [b] suppress: bad duration \"later\" "
	    "(expected e.g. 90s, 10m, 4h, 2d)\n");
	conf_free(c);
}

static void
test_rules_is_key(void **state)
{
	static const char *const keys[] = {
		"match", "match_on", "ignore", "program", "title", "details",
		"email", "due", "key", "threshold", "suppress", "renotify",
		"on_repeat", "continue", "field.x", "field.a.b[0]",
	};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!rules_is_key(keys[i]))
			fail_msg("\"%s\" is not a rule key", keys[i]);
	assert_false(rules_is_key("field."));
	assert_false(rules_is_key("field"));
	assert_true(rules_is_key("field.PATH"));
	assert_false(rules_is_key("Match"));
	assert_false(rules_is_key("url"));
	assert_false(rules_is_key(""));
}

/* Rule files on disk */

struct tree {
	char dir[64];
	char conf[96];
	char rulesd[96];
	char files[8][128];
	size_t nfiles;
};

static void
t_tree_file(struct tree *t, const char *name, const char *text)
{
	FILE *fp;

	assert_true(t->nfiles < 8);
	snprintf(t->files[t->nfiles], sizeof(t->files[0]), "%s/%s", t->rulesd,
	    name);
	fp = fopen(t->files[t->nfiles], "w");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
	t->nfiles++;
}

static int
setup_tree(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/omk-test-rules.XXXXXX");
	if (mkdtemp(t->dir) == NULL) {
		free(t);
		return -1;
	}
	snprintf(t->conf, sizeof(t->conf), "%s/omk.conf", t->dir);
	snprintf(t->rulesd, sizeof(t->rulesd), "%s/rules.d", t->dir);
	if (mkdir(t->rulesd, 0700) != 0)
		return -1;
	*state = t;
	return 0;
}

static int
teardown_tree(void **state)
{
	struct tree *t = *state;
	size_t i;

	for (i = 0; i < t->nfiles; i++)
		unlink(t->files[i]);
	rmdir(t->rulesd);
	rmdir(t->dir);
	free(t);
	return 0;
}

/* A config in the tree's directory naming rule paths relative to it. */
static struct conf *
t_tree_conf(const struct tree *t, const char *rules_section)
{
	struct conf *c = conf_new();
	struct diags d;

	diags_init(&d);
	assert_int_equal(conf_load_buf(c, t->conf, rules_section,
	    strlen(rules_section), &d), 0);
	diags_free(&d);
	return c;
}

static void
test_load_directory(void **state)
{
	struct tree *t = *state;
	struct conf *c;
	struct ruleset *rs;
	struct diags d;
	char want[1024];

	/* Sorted by name; only *.rules, no dot files. */
	t_tree_file(t, "20-b.rules", "[b1]\nmatch = b1\n[b2]\nmatch = b2\n");
	t_tree_file(t, "10-a.rules", "[a1]\nmatch = a1\n");
	t_tree_file(t, "30-c.rules.disabled", "[c]\nmatch = c\n");
	t_tree_file(t, ".40-hidden.rules", "[h]\nmatch = h\n");
	t_tree_file(t, "README", "not rules\n");
	t_tree_file(t, "50-empty.rules", "# nothing yet\n");
	c = t_tree_conf(t, "[rules]\npath = rules.d\n");
	diags_init(&d);
	rs = rules_load(c, &d);
	snprintf(want, sizeof(want), "%s/50-empty.rules: warning: no rules in "
	    "this file\n", t->rulesd);
	t_assert_diags(&d, want);
	assert_int_equal(d.errors, 0);
	assert_int_equal(rs->n, 3);
	assert_string_equal(rs->v[0].name, "a1");
	assert_string_equal(rs->v[1].name, "b1");
	assert_string_equal(rs->v[2].name, "b2");
	snprintf(want, sizeof(want), "%s/10-a.rules", t->rulesd);
	assert_string_equal(rs->v[0].file, want);
	assert_int_equal(rs->nfiles, 3);
	assert_string_equal(rs->files[0].path, want);
	assert_int_equal(rs->files[0].nrules, 1);
	assert_int_equal(rs->files[1].nrules, 2);
	assert_int_equal(rs->files[2].nrules, 0);
	rules_free(rs);
	diags_free(&d);
	conf_free(c);
}

static void
test_load_duplicate_across_files(void **state)
{
	struct tree *t = *state;
	struct conf *c;
	struct ruleset *rs;
	struct diags d;
	char want[1024];

	t_tree_file(t, "a.rules", "\n[x]\nmatch = a\n");
	t_tree_file(t, "b.rules", "[y]\nmatch = b\n[x]\nmatch = b\n");
	/* A file named directly, after the directory. */
	c = t_tree_conf(t, "[rules]\npath = rules.d\npath = rules.d/a.rules\n");
	diags_init(&d);
	rs = rules_load(c, &d);
	snprintf(want, sizeof(want),
	    "%s/b.rules:3: error: rule [x] already defined at %s/a.rules:2\n"
	    "%s/a.rules:2: error: rule [x] already defined at %s/a.rules:2\n",
	    t->rulesd, t->rulesd, t->rulesd, t->rulesd);
	t_assert_diags(&d, want);
	assert_int_equal(rs->n, 2);
	rules_free(rs);
	diags_free(&d);
	conf_free(c);
}

static void
test_load_path_problems(void **state)
{
	struct tree *t = *state;
	struct conf *c;
	struct ruleset *rs;
	struct diags d;
	char want[1024];

	/* A missing path: reported, and the others still load. */
	t_tree_file(t, "ok.rules", "[ok]\nmatch = ok\n");
	c = t_tree_conf(t, "[rules]\npath = missing.rules\npath = rules.d\n");
	diags_init(&d);
	rs = rules_load(c, &d);
	snprintf(want, sizeof(want),
	    "%s/missing.rules: error: rule path: No such file or directory\n",
	    t->dir);
	t_assert_diags(&d, want);
	assert_int_equal(rs->n, 1);
	rules_free(rs);
	diags_free(&d);
	conf_free(c);

	/* No rule paths at all. */
	c = t_tree_conf(t, "");
	diags_init(&d);
	rs = rules_load(c, &d);
	snprintf(want, sizeof(want), "%s: error: no rules: set [rules] path or "
	    "use -r\n", t->conf);
	t_assert_diags(&d, want);
	assert_int_equal(rs->n, 0);
	/* Matching with no rules is no match. */
	{
		struct event ev;
		struct rules_match m;

		input_event_init(&ev);
		input_decode(&ev, INPUT_PLAIN, "x", 1);
		memset(&m, 0, sizeof(m));
		assert_false(rules_next(rs, &ev, &m));
		input_event_free(&ev);
	}
	rules_free(rs);
	diags_free(&d);
	conf_free(c);
}

/*
 * Regression test for a fixed bug (rules.c, rules_expand: "qsort(names, n, ...)" after the readdir
 * loop): for a directory without *.rules files, names is NULL and
 * qsort(NULL, 0, ...) is undefined behaviour (qsort's pointer is declared
 * nonnull); UBSan reports "null pointer passed as argument 1" and, with
 * the project's Asan build type (-fno-sanitize-recover=all), omkapture
 * aborts on an empty rules.d instead of warning. Fix: return right after
 * the "no *.rules files" warning when n == 0 (or sort only if n > 1).
 */
static void
test_load_empty_directory(void **state)
{
	struct tree *t = *state;
	struct conf *c;
	struct ruleset *rs;
	struct diags d;
	char want[1024];

	c = t_tree_conf(t, "[rules]\npath = rules.d\n");
	diags_init(&d);
	rs = rules_load(c, &d);
	snprintf(want, sizeof(want), "%s: warning: no *.rules files in this "
	    "directory\n", t->rulesd);
	t_assert_diags(&d, want);
	assert_int_equal(rs->n, 0);
	rules_free(rs);
	diags_free(&d);
	conf_free(c);
}

/* Matching */

struct matcher {
	struct conf *c;
	struct ruleset *rs;
	struct event ev;
	char line[4096];
};

static struct matcher *
t_matcher_new(const char *conf_text, const char *rules_text)
{
	struct matcher *m = calloc(1, sizeof(*m));

	assert_non_null(m);
	m->c = t_conf_from(conf_text);
	m->rs = t_load_ok(m->c, rules_text);
	input_event_init(&m->ev);
	return m;
}

static void
t_matcher_free(struct matcher *m)
{
	input_event_free(&m->ev);
	rules_free(m->rs);
	conf_free(m->c);
	free(m);
}

/*
 * Decode line and run every matching rule: "name(cap1|cap2...) name2()"
 * with each rule's numbered captures ("-" for an unset group).
 */
static char *
t_run(struct matcher *m, enum input_format fmt, const char *line)
{
	struct rules_match rm;
	struct buf out;
	uint32_t i;

	snprintf(m->line, sizeof(m->line), "%s", line);
	input_decode(&m->ev, fmt, m->line, strlen(m->line));
	memset(&rm, 0, sizeof(rm));
	buf_init(&out, 1 << 16);
	buf_appends(&out, "");
	while (rules_next(m->rs, &m->ev, &rm)) {
		if (out.len > 0)
			buf_appendc(&out, ' ');
		buf_printf(&out, "%s(", rm.rule->name);
		for (i = 1; i <= rm.rule->ncaptures; i++) {
			if (i > 1)
				buf_appendc(&out, '|');
			assert_true(i < rm.ovcount);
			if (rm.ovector[2 * i] == PCRE2_UNSET)
				buf_appendc(&out, '-');
			else
				buf_append(&out, rm.subject + rm.ovector[2 * i],
				    rm.ovector[2 * i + 1] - rm.ovector[2 * i]);
		}
		buf_appendc(&out, ')');
	}
	/* Once done, it stays done. */
	assert_false(rules_next(m->rs, &m->ev, &rm));
	return buf_detach(&out, NULL);
}

static void
t_assert_run(struct matcher *m, enum input_format fmt, const char *line,
    const char *want)
{
	char *got = t_run(m, fmt, line);

	if (strcmp(got, want) != 0) {
		print_error("line: %s\n got: \"%s\"\nwant: \"%s\"\n", line, got,
		    want);
		free(got);
		fail();
	}
	free(got);
}

#define PLAIN(m, line, want) t_assert_run((m), INPUT_PLAIN, (line), (want))

static void
test_first_match_wins(void **state)
{
	struct matcher *m = t_matcher_new(NULL,
	    "[disk-failed]\nmatch = disk (?<dev>\\S+) failed\n"
	    "[disk-any]\nmatch = disk (\\S+)\n"
	    "[catch-all]\nmatch = .\n");

	PLAIN(m, "disk sda failed", "disk-failed(sda)");
	PLAIN(m, "disk sdb ok", "disk-any(sdb)");
	PLAIN(m, "fan 3 stopped", "catch-all()");
	PLAIN(m, "", "");
	assert_int_equal(t_find(m->rs, "disk-failed")->hits, 1);
	assert_int_equal(t_find(m->rs, "disk-any")->hits, 1);
	assert_int_equal(t_find(m->rs, "catch-all")->hits, 1);
	PLAIN(m, "disk sdc failed", "disk-failed(sdc)");
	assert_int_equal(t_find(m->rs, "disk-failed")->hits, 2);
	assert_int_equal(t_find(m->rs, "disk-any")->hits, 1);
	t_matcher_free(m);
}

static void
test_continue(void **state)
{
	struct matcher *m = t_matcher_new(NULL,
	    "[a]\nmatch = fan (\\d+)\ncontinue = yes\n"
	    "[b]\nmatch = nomatch\n"
	    "[c]\nmatch = fan\ncontinue = yes\n"
	    "[d]\nmatch = (stopped)?$\n"
	    "[e]\nmatch = fan\n");

	/* a and c continue; d does not, so e never sees the line. */
	PLAIN(m, "fan 3 stopped", "a(3) c() d(stopped)");
	PLAIN(m, "fan 4", "a(4) c() d(-)");
	PLAIN(m, "other", "d(-)");
	assert_int_equal(t_find(m->rs, "a")->hits, 2);
	assert_int_equal(t_find(m->rs, "b")->hits, 0);
	assert_int_equal(t_find(m->rs, "c")->hits, 2);
	assert_int_equal(t_find(m->rs, "d")->hits, 3);
	assert_int_equal(t_find(m->rs, "e")->hits, 0);
	t_matcher_free(m);
}

static void
test_ignore(void **state)
{
	struct matcher *m = t_matcher_new(NULL,
	    "[ssh]\nmatch = Failed password for (?<user>\\S+) from (?<ip>\\S+)\n"
	    "ignore = from 10\\.0\\.0\\.\n"
	    "[fallback]\nmatch = Failed\n");

	PLAIN(m, "Failed password for bob from 1.2.3.4", "ssh(bob|1.2.3.4)");
	/* Ignored by the first rule: the next rule gets the line. */
	PLAIN(m, "Failed password for bob from 10.0.0.7", "fallback()");
	/* The ignore regex does not disturb the captures. */
	PLAIN(m, "Failed password for eve from 10.1.0.7", "ssh(eve|10.1.0.7)");
	assert_int_equal(t_find(m->rs, "ssh")->hits, 2);
	assert_int_equal(t_find(m->rs, "fallback")->hits, 1);
	t_matcher_free(m);
}

static void
test_program_filter(void **state)
{
	struct matcher *m = t_matcher_new(NULL,
	    "[prog]\nmatch = boom\nprogram = app1, app2 sshd\n"
	    "[any]\nmatch = .\n");

	PLAIN(m, "Nov 27 09:59:00 web1 app2[42]: boom", "prog()");
	PLAIN(m, "Nov 27 09:59:00 web1 sshd: boom", "prog()");
	PLAIN(m, "Nov 27 09:59:00 web1 app1: boom", "prog()");
	PLAIN(m, "Nov 27 09:59:00 web1 app: boom", "any()");
	PLAIN(m, "Nov 27 09:59:00 web1 app12: boom", "any()");
	/* No header, no program. */
	PLAIN(m, "boom", "any()");
	assert_int_equal(t_find(m->rs, "prog")->hits, 3);
	t_matcher_free(m);
}

static void
test_match_on(void **state)
{
	struct matcher *m = t_matcher_new(NULL,
	    "[raw]\nmatch = ^<(\\d+)>\nmatch_on = raw\ncontinue = yes\n"
	    "[msg-anchored]\nmatch = ^hello (\\w+)$\ncontinue = yes\n"
	    "[msg-no-pri]\nmatch = ^<\\d+>\ncontinue = yes\n"
	    "[raw-host]\nmatch = web1 app:\nmatch_on = raw\ncontinue = yes\n"
	    "[msg-host]\nmatch = web1\n");

	/* The message is the line minus its syslog header. */
	PLAIN(m, "<13>Nov 27 09:59:00 web1 app: hello world",
	    "raw(13) msg-anchored(world) raw-host()");
	/* Without a header the message is the whole line. */
	PLAIN(m, "hello web1", "msg-anchored(web1) msg-host()");
	t_matcher_free(m);
}

static const char rsyslog_line[] =
    "{\"timereported\":\"2026-11-27T09:59:00+00:00\",\"hostname\":\"web1\","
    "\"syslogtag\":\"app[42]:\",\"programname\":\"app\","
    "\"syslogseverity\":\"3\",\"syslogfacility\":\"1\","
    "\"msg\":\" user alice logged in from 1.2.3.4\",\"user\":\"alice\","
    "\"code\":503}";

static void
test_match_on_json(void **state)
{
	struct matcher *m = t_matcher_new(NULL,
	    "[by-user]\nmatch = ^(al\\w+)$\nmatch_on = json.user\n"
	    "continue = yes\n"
	    "[by-code]\nmatch = ^5\\d\\d$\nmatch_on = json.code\n"
	    "continue = yes\n"
	    "[by-msg]\nmatch = ^user (\\w+) logged in\ncontinue = yes\n"
	    "[by-raw]\nmatch = \"hostname\":\"(\\w+)\"\nmatch_on = raw\n"
	    "continue = yes\n"
	    "[by-program]\nmatch = logged\nprogram = app\n");

	t_assert_run(m, INPUT_AUTO, rsyslog_line,
	    "by-user(alice) by-code() by-msg(alice) by-raw(web1) by-program()");
	t_assert_run(m, INPUT_RSYSLOG_JSON, rsyslog_line,
	    "by-user(alice) by-code() by-msg(alice) by-raw(web1) by-program()");
	/* No such field: the rule is skipped. */
	t_assert_run(m, INPUT_AUTO,
	    "{\"msg\":\"user bob logged in\",\"programname\":\"other\"}",
	    "by-msg(bob)");
	/* Plain text has no JSON fields. */
	PLAIN(m, "user alice logged in", "by-msg(alice)");
	assert_int_equal(t_find(m->rs, "by-user")->hits, 2);
	assert_int_equal(t_find(m->rs, "by-code")->hits, 2);
	assert_int_equal(t_find(m->rs, "by-msg")->hits, 4);
	assert_int_equal(t_find(m->rs, "by-raw")->hits, 2);
	assert_int_equal(t_find(m->rs, "by-program")->hits, 2);
	t_matcher_free(m);
}

static void
test_match_invalid_utf8(void **state)
{
	struct matcher *m = t_matcher_new(NULL,
	    "[r]\nmatch = user (?<u>\\S+) failed\n");

	/* Invalid bytes elsewhere in the line do not stop matching. */
	PLAIN(m, "\xff\xfe user bob failed \xc0", "r(bob)");
	/* A class that is not \S, \D or \W takes non-ASCII (see below). */
	t_matcher_free(m);
	m = t_matcher_new(NULL, "[r]\nmatch = user (?<u>[^ ]+) failed\n");
	PLAIN(m, "user J\xc3\xbcrgen failed \xff", "r(J\xc3\xbcrgen)");
	t_matcher_free(m);
}

/*
 * A JSON line the decoder saw to be ASCII (known_utf8) is not checked
 * again; any other is, raw line and message alike, and matched as a
 * repaired copy.
 */
static void
test_match_json_utf8(void **state)
{
	struct matcher *m = t_matcher_new(NULL,
	    "[r]\nmatch = user (?<u>\\S+) failed\ncontinue = yes\n"
	    "[raw]\nmatch = host=(\\S+)\nmatch_on = raw\n");

	t_assert_run(m, INPUT_AUTO, "{\"msg\":\"user bob failed\"}",
	    "r(bob)");
	assert_true(m->ev.known_utf8);
	assert_true(rules_line_valid(m->rs));
	t_assert_run(m, INPUT_AUTO,
	    "{\"msg\":\"user b\xffo failed\",\"x\":\"host=h1\"}",
	    "r(b\xef\xbf\xbdo) raw(h1\"})");
	assert_false(m->ev.known_utf8);
	assert_false(rules_line_valid(m->rs));
	/* Escaped: the message is decoded, not a piece of the line. */
	t_assert_run(m, INPUT_AUTO,
	    "{\"msg\":\"user b\\/\\udc00 failed\",\"x\":\"host=h2\"}",
	    "r(b/\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd) raw(h2\"})");
	assert_false(m->ev.known_utf8);
	assert_false(rules_line_valid(m->rs));
	t_assert_run(m, INPUT_AUTO,
	    "{\"msg\":\"user b\\/o failed\",\"x\":\"host=h3\"}",
	    "r(b/o) raw(h3\"})");
	assert_true(m->ev.known_utf8);
	assert_true(rules_line_valid(m->rs));
	t_matcher_free(m);
}

/*
 * Regression test for a fixed bug (rules.c, rules_compile_re: PCRE2_MATCH_INVALID_UTF + pcre2_jit_compile)
 * hits PCRE2 bug #224 (JIT with match_invalid_utf: \S, \D and \W never
 * match a multi-byte character; fixed in PCRE2 10.43, Debian bookworm has
 * 10.42). The interpreter is right, the JIT is not, so the shipped
 * sshd-bruteforce rule, (?<user>\S+), misses "Failed password for
 * J\xc3\xbcrgen from ...". Fix: skip pcre2_jit_compile when the runtime
 * PCRE2 (pcre2_config(PCRE2_CONFIG_VERSION)) is older than 10.43, or drop
 * PCRE2_MATCH_INVALID_UTF and match a UTF-8-repaired copy of the subject
 * (utf8_append_repaired) with plain PCRE2_UTF.
 */
static void
test_match_non_ascii_with_S(void **state)
{
	struct matcher *m = t_matcher_new(NULL,
	    "[r]\nmatch = user (?<u>\\S+) failed\n");

	PLAIN(m, "user J\xc3\xbcrgen failed", "r(J\xc3\xbcrgen)");
	t_matcher_free(m);
	m = t_matcher_new(NULL, "[r]\nmatch = code (\\D+)\n");
	PLAIN(m, "code \xe2\x82\xac", "r(\xe2\x82\xac)");
	t_matcher_free(m);
}

static void
test_catastrophic_regex(void **state)
{
	struct matcher *m = t_matcher_new(NULL,
	    "[evil]\nmatch = ^(a+)+$\n[after]\nmatch = b$\n");
	char line[64];
	struct timespec t0, t1;
	double secs;

	memset(line, 'a', 40);
	line[40] = 'b';
	line[41] = '\0';
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* The evil rule gives up (no match); the next rule still runs. */
	PLAIN(m, line, "after()");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (secs > 5.0)
		fail_msg("the match limit did not stop the regex: %.1f s", secs);
	assert_int_equal(m->rs->limit_errors, 1);
	assert_int_equal(t_find(m->rs, "evil")->hits, 0);
	assert_int_equal(t_find(m->rs, "after")->hits, 1);

	/* A line it can decide quickly is fine. */
	PLAIN(m, "aaaa", "evil(aaaa)");
	assert_int_equal(m->rs->limit_errors, 1);
	t_matcher_free(m);
}

static void
test_captures_sized_for_largest_rule(void **state)
{
	struct matcher *m = t_matcher_new(NULL,
	    "[small]\nmatch = ^x (\\w)\ncontinue = yes\n"
	    "[big]\nmatch = (a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)(l)\n");

	PLAIN(m, "x abcdefghijkl", "small(a) big(a|b|c|d|e|f|g|h|i|j|k|l)");
	t_matcher_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_rule_defaults),
		cmocka_unit_test(test_key_forms),
		cmocka_unit_test(test_rule_order_and_files),
		cmocka_unit_test(test_bad_regex),
		cmocka_unit_test(test_missing_and_empty_match),
		cmocka_unit_test(test_unknown_and_duplicate_keys),
		cmocka_unit_test(test_template_errors),
		cmocka_unit_test(test_broken_regex_skips_templates),
		cmocka_unit_test(test_duplicate_rule_name),
		cmocka_unit_test(test_duplicate_of_broken_rule),
		cmocka_unit_test(test_bad_rule_name),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_on_repeat_comment_needs_update_url),
		cmocka_unit_test(test_field_errors),
		cmocka_unit_test(test_all_errors_at_once),
		cmocka_unit_test(test_defaults_applied_and_overridden),
		cmocka_unit_test(test_defaults_errors_point_at_config),
		cmocka_unit_test(test_rules_is_key),
		cmocka_unit_test_setup_teardown(test_load_directory, setup_tree,
		    teardown_tree),
		cmocka_unit_test_setup_teardown(test_load_duplicate_across_files,
		    setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_load_path_problems,
		    setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_load_empty_directory,
		    setup_tree, teardown_tree),
		cmocka_unit_test(test_first_match_wins),
		cmocka_unit_test(test_continue),
		cmocka_unit_test(test_ignore),
		cmocka_unit_test(test_program_filter),
		cmocka_unit_test(test_match_on),
		cmocka_unit_test(test_match_on_json),
		cmocka_unit_test(test_match_invalid_utf8),
		cmocka_unit_test(test_match_json_utf8),
		cmocka_unit_test(test_match_non_ascii_with_S),
		cmocka_unit_test(test_catastrophic_regex),
		cmocka_unit_test(test_captures_sized_for_largest_rule),
	};

	/* Before anything reads the clock (RFC 3164 years use it). */
	setenv("TZ", "UTC", 1);
	tzset();
	setenv("OMKAPTURE_NOW", "1795773600", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
