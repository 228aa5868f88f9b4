/*
 * fuzz_tmpl.c: the template language (tmpl.h). The input is a template
 * compiled against a fixed regex with named and numbered captures (one
 * of them never set), and rendered against a fixed match of an rsyslog
 * JSON line (so ${json.NAME} has fields to find), with a key, a count
 * and times. A rendering that was not cut at its cap must be valid UTF-8
 * (README: invalid UTF-8 and NULs become U+FFFD).
 */
#include <stdbool.h>
#include <stdio.h>

#include "diag.h"
#include "fuzz.h"
#include "input.h"
#include "tmpl.h"

static const char fuzz_regex[] =
    "^(?:message repeated \\d+ times: \\[ )?Failed (?<method>password|"
    "keyboard-interactive/pam) for (?:invalid user )?(?<user>.*?) from "
    "(?<ip>\\S+) port (\\d+)(?: on (?<never>\\S+))?";
static const char fuzz_line[] =
    "{\"msg\":\"Failed password for invalid user \xc3\xa9ve\\u0000 from "
    "203.0.113.7 port 52144 ssh2\",\"hostname\":\"web1\","
    "\"programname\":\"sshd\",\"syslogtag\":\"sshd[1201]:\","
    "\"procid\":\"1201\",\"severity\":\"5\",\"facility\":\"10\","
    "\"timereported\":\"2026-11-27T09:00:01+00:00\","
    "\"nested\":{\"a\":[1,2,{\"b\":null}]},\"n\":42,\"t\":true}";

static pcre2_code *fuzz_re;
static pcre2_match_data *fuzz_md;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	PCRE2_SIZE erroff;
	int errcode;

	(void)argc;
	(void)argv;
	fuzz_pin_process();
	fuzz_re = pcre2_compile((PCRE2_SPTR)fuzz_regex, PCRE2_ZERO_TERMINATED,
	    PCRE2_UTF, &errcode, &erroff, NULL);
	if (fuzz_re == NULL)
		abort();
	fuzz_md = pcre2_match_data_create_from_pattern(fuzz_re, NULL);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *src = fuzz_cstr(data, size);
	struct tmpl_ctx ctx;
	struct event ev;
	struct diags d;
	struct tmpl *t;
	struct buf out;
	int rc;

	diags_init(&d);
	t = tmpl_compile(src, fuzz_re, &d, "fuzz.rules", 7, "title");
	if (t == NULL && d.errors == 0)
		abort(); /* a refusal always says why */
	if (t != NULL) {
		input_event_init(&ev);
		input_decode(&ev, INPUT_AUTO, fuzz_line, sizeof(fuzz_line) - 1);
		rc = pcre2_match(fuzz_re, (PCRE2_SPTR)ev.msg.p, ev.msg.n, 0, 0,
		    fuzz_md, NULL);
		if (rc < 0)
			abort();
		memset(&ctx, 0, sizeof(ctx));
		ctx.ev = &ev;
		ctx.subject = ev.msg.p;
		ctx.ovector = pcre2_get_ovector_pointer(fuzz_md);
		ctx.ovcount = pcre2_get_ovector_count(fuzz_md);
		ctx.rule = "sshd-bruteforce";
		ctx.key = "web1/203.0.113.7";
		ctx.key_len = strlen(ctx.key);
		ctx.count = 5;
		ctx.first_seen = FUZZ_NOW - 600;
		ctx.last_seen = FUZZ_NOW - 5;
		ctx.now = FUZZ_NOW;
		buf_init(&out, 64 * 1024);
		tmpl_render(t, &ctx, &out);
		if (!out.truncated && !utf8_valid(out.data ? out.data : "",
		    out.len))
			abort();
		if (tmpl_is_literal(t)) {
			/* Constant: the same without a context. */
			struct buf again;

			memset(&ctx, 0, sizeof(ctx));
			buf_init(&again, 64 * 1024);
			tmpl_render(t, &ctx, &again);
			if (again.len != out.len || (out.len > 0 &&
			    memcmp(again.data, out.data, out.len) != 0))
				abort();
			buf_free(&again);
		}
		(void)tmpl_uses(t);
		if (strcmp(tmpl_source(t), src) != 0)
			abort();
		buf_free(&out);
		input_event_free(&ev);
	}
	tmpl_free(t);
	diags_free(&d);
	free(src);
	return 0;
}
