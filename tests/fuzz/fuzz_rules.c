/*
 * fuzz_rules.c: a rule file (rules.h) loaded with rules_load_buf under a
 * fixed config (with [defaults]), and, when it loads without errors (as
 * omkapture only runs such rules), matched against a few fixed lines in
 * every input format, each match rendered as the pipeline renders a
 * ticket: key, title, details, email, due date and the request body with
 * its field.* tree.
 *
 * Two checks beyond "no crash": the prefilter must not change what
 * matches (the lines are matched with the literal prefilter, then with
 * none, and the rules each finds must agree), and a body rendered from a
 * rule file that is valid UTF-8 must be valid JSON (README: "the request
 * is always valid JSON").
 */
#include <stdbool.h>
#include <stdio.h>

#include <yajl/yajl_tree.h>

#include "conf.h"
#include "diag.h"
#include "fuzz.h"
#include "input.h"
#include "kapture.h"
#include "prefilter.h"
#include "rules.h"
#include "tmpl.h"

static const char fuzz_conf_text[] =
    "[kapture]\n"
    "url = https://acme.kapturecrm.com/add-ticket-from-other-source.html/v.2.0\n"
    "[limits]\n"
    "match_limit = 20000\n"
    "[defaults]\n"
    "email = noc@example.com\n"
    "due = +1d\n"
    "[rules]\n"
    "path = .\n";

/* One line of each shape the rules see. */
static const struct {
	enum input_format fmt;
	const char *line;
} fuzz_lines[] = {
	{ INPUT_AUTO, "Nov 27 09:00:01 web1 sshd[1201]: Failed password for "
	  "invalid user admin from 203.0.113.7 port 52144 ssh2" },
	{ INPUT_AUTO, "<11>1 2026-11-27T09:05:00.123Z db1 kernel - - - EXT4-fs "
	  "error (device sda1): ext4_find_entry:1455: inode #2: comm ls: "
	  "reading directory lblock 0" },
	{ INPUT_AUTO, "{\"msg\":\"Out of memory: Killed process 4242 (java) "
	  "total-vm:8123456kB\",\"hostname\":\"app1\",\"programname\":"
	  "\"kernel\",\"syslogtag\":\"kernel:\",\"severity\":\"3\","
	  "\"facility\":\"0\",\"timereported\":\"2026-11-27T09:10:00+00:00\"}" },
	{ INPUT_AUTO, "{\"MESSAGE\":\"postfix/smtpd[77]: warning: hostname "
	  "mail.example.com does not resolve to address 192.0.2.10\","
	  "\"_HOSTNAME\":\"mx1\",\"SYSLOG_IDENTIFIER\":\"postfix/smtpd\","
	  "\"_PID\":\"77\",\"PRIORITY\":\"4\",\"__REALTIME_TIMESTAMP\":"
	  "\"1795770000000000\"}" },
	{ INPUT_PLAIN, "disk sda1 failed: I/O error \xff\xfe at sector 42 "
	  "\xc3\xa9t\xc3\xa9" },
	{ INPUT_PLAIN, "" },
};
#define FUZZ_NLINES (sizeof(fuzz_lines) / sizeof(fuzz_lines[0]))
/* Matches recorded per line (continue = yes gives several). */
#define FUZZ_MAXHITS 64

static struct conf *fuzz_conf;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct diags d;

	(void)argc;
	(void)argv;
	fuzz_pin_process();
	fuzz_conf = conf_new();
	diags_init(&d);
	if (conf_load_buf(fuzz_conf, "/etc/omkapture/omkapture.conf",
	    fuzz_conf_text, sizeof(fuzz_conf_text) - 1, &d) != 0 ||
	    d.n != 0) {
		diags_print(&d, stderr);
		abort();
	}
	diags_free(&d);
	return 0;
}

/* Render one match as pipeline.c does; check the body if asked. */
static void
fuzz_render(const struct rules_match *m, const struct event *ev,
    bool want_json)
{
	const struct rule *r = m->rule;
	struct tmpl_ctx ctx;
	struct kapture_ticket t;
	struct buf key, title, details, email, due, body;
	yajl_val v;
	char err[128];

	buf_init(&key, 1 << 20);
	buf_init(&title, 1 << 20);
	buf_init(&details, 1 << 20);
	buf_init(&email, 1 << 20);
	buf_init(&due, 1 << 20);
	buf_init(&body, 1 << 24);
	memset(&ctx, 0, sizeof(ctx));
	ctx.ev = ev;
	ctx.subject = m->subject;
	ctx.ovector = m->ovector;
	ctx.ovcount = m->ovcount;
	ctx.rule = r->name;
	ctx.now = FUZZ_NOW;
	ctx.count = 3;
	ctx.first_seen = FUZZ_NOW - 600;
	ctx.last_seen = FUZZ_NOW;
	if (r->key != NULL)
		tmpl_render(r->key, &ctx, &key);
	ctx.key = key.data;
	ctx.key_len = key.len;
	if (r->title != NULL)
		tmpl_render(r->title, &ctx, &title);
	if (r->details != NULL)
		tmpl_render(r->details, &ctx, &details);
	if (r->email != NULL)
		tmpl_render(r->email, &ctx, &email);
	if (r->due != NULL && !r->due_relative)
		tmpl_render(r->due, &ctx, &due);
	memset(&t, 0, sizeof(t));
	t.title = title.data ? title.data : "";
	t.details = details.data;
	t.email = email.data;
	t.due_date = due.data;
	t.fields = r->fields;
	t.ctx = &ctx;
	t.ref_field = fuzz_conf->ref_field;
	t.ref = "0123456789abcdef";
	kapture_body(&body, fuzz_conf->body_object, &t,
	    (size_t)fuzz_conf->field_max);
	if (want_json && !title.truncated && !details.truncated &&
	    !email.truncated && !due.truncated && !body.truncated) {
		if ((v = yajl_tree_parse(body.data, err, sizeof(err))) == NULL) {
			fprintf(stderr, "fuzz_rules: body is not JSON: %s\n%s\n",
			    err, body.data);
			abort();
		}
		yajl_tree_free(v);
	}
	buf_free(&key);
	buf_free(&title);
	buf_free(&details);
	buf_free(&email);
	buf_free(&due);
	buf_free(&body);
}

/* Match every line; record which rules matched, in order. */
static void
fuzz_match_all(struct ruleset *rs, size_t hits[FUZZ_NLINES][FUZZ_MAXHITS],
    size_t nhits[FUZZ_NLINES], bool render, bool want_json)
{
	struct rules_match m;
	struct event ev;
	size_t i;

	input_event_init(&ev);
	for (i = 0; i < FUZZ_NLINES; i++) {
		input_decode(&ev, fuzz_lines[i].fmt, fuzz_lines[i].line,
		    strlen(fuzz_lines[i].line));
		nhits[i] = 0;
		memset(&m, 0, sizeof(m));
		while (rules_next(rs, &ev, &m)) {
			if (nhits[i] < FUZZ_MAXHITS)
				hits[i][nhits[i]++] = (size_t)(m.rule - rs->v);
			if (render)
				fuzz_render(&m, &ev, want_json);
		}
		(void)rules_line_valid(rs);
		/* on_repeat: one rule against a kept line. */
		if (render && rs->n > 0 &&
		    rules_match_rule(rs, &rs->v[i % rs->n], &ev, &m))
			fuzz_render(&m, &ev, want_json);
	}
	input_event_free(&ev);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static size_t hits[2][FUZZ_NLINES][FUZZ_MAXHITS];
	static size_t nhits[2][FUZZ_NLINES];
	struct ruleset *rs;
	struct diags d;
	size_t i;

	diags_init(&d);
	rs = rules_load_buf(fuzz_conf, "/etc/omkapture/rules.d/fuzz.rules",
	    (const char *)data, size, &d);
	diags_sort(&d);
	if (d.errors == 0) {
		rules_prefilter(rs, PREFILTER_LITERAL);
		fuzz_match_all(rs, hits[0], nhits[0], true,
		    utf8_valid((const char *)data, size));
		rules_prefilter(rs, PREFILTER_NAIVE);
		fuzz_match_all(rs, hits[1], nhits[1], false, false);
		for (i = 0; i < FUZZ_NLINES; i++) {
			if (nhits[0][i] != nhits[1][i] ||
			    memcmp(hits[0][i], hits[1][i],
			    nhits[0][i] * sizeof(hits[0][i][0])) != 0) {
				fprintf(stderr, "fuzz_rules: line %zu: the "
				    "literal prefilter found %zu matches, "
				    "trying every rule %zu\n", i, nhits[0][i],
				    nhits[1][i]);
				abort();
			}
		}
	}
	rules_free(rs);
	diags_free(&d);
	return 0;
}
