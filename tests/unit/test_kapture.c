/*
 * test_kapture.c: request bodies (exact JSON) and the classification of
 * Kapture's answers into done / retry / auth / failed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <yajl/yajl_tree.h>

#include "diag.h"
#include "fields.h"
#include "input.h"
#include "kapture.h"
#include "tmpl.h"
#include "util.h"

#define MARKER "\xe2\x80\xa6[truncated]" /* 14 bytes */

static void
t_assert_json_valid(const char *s)
{
	char err[256];
	yajl_val v = yajl_tree_parse(s, err, sizeof(err));

	if (v == NULL)
		fail_msg("not valid JSON (%s): %s", err, s);
	yajl_tree_free(v);
}

/* The body for t, as a string to be freed. */
static char *
t_body(bool object, const struct kapture_ticket *t, size_t field_max)
{
	struct buf b;

	buf_init(&b, 1 << 20);
	kapture_body(&b, object, t, field_max);
	assert_false(b.truncated);
	t_assert_json_valid(b.data);
	return buf_detach(&b, NULL);
}

static void
t_assert_body(bool object, const struct kapture_ticket *t, size_t field_max,
    const char *want)
{
	char *s = t_body(object, t, field_max);

	if (strcmp(s, want) != 0) {
		print_error("body: %s\nwant: %s\n", s, want);
		free(s);
		fail();
	}
	free(s);
}

static void
test_body_array_and_object(void **state)
{
	struct kapture_ticket t = {
		.title = "Disk sda failed",
		.details = "kernel: disk sda failed",
		.due_date = "2026-11-28 10:00:00",
		.email = "noc@example.com",
		.ref_field = "omkapture_ref",
		.ref = "3f2a9c0d1e8b7a65",
	};

	t_assert_body(false, &t, 4096,
	    "[{\"title\":\"Disk sda failed\","
	    "\"ticket_details\":\"kernel: disk sda failed\","
	    "\"due_date\":\"2026-11-28 10:00:00\","
	    "\"email_id\":\"noc@example.com\","
	    "\"omkapture_ref\":\"3f2a9c0d1e8b7a65\"}]");
	t_assert_body(true, &t, 4096,
	    "{\"title\":\"Disk sda failed\","
	    "\"ticket_details\":\"kernel: disk sda failed\","
	    "\"due_date\":\"2026-11-28 10:00:00\","
	    "\"email_id\":\"noc@example.com\","
	    "\"omkapture_ref\":\"3f2a9c0d1e8b7a65\"}");
}

static void
test_body_null_members_omitted(void **state)
{
	struct kapture_ticket t = { .title = "only a title" };

	t_assert_body(false, &t, 4096, "[{\"title\":\"only a title\"}]");
	t_assert_body(true, &t, 4096, "{\"title\":\"only a title\"}");

	/* A ref field name without a ref, and the reverse. */
	t.ref_field = "omkapture_ref";
	t_assert_body(false, &t, 4096, "[{\"title\":\"only a title\"}]");
	t.ref_field = NULL;
	t.ref = "abc";
	t_assert_body(false, &t, 4096, "[{\"title\":\"only a title\"}]");

	/* Empty strings are members (only NULL is left out). */
	t.details = "";
	t.email = "";
	t_assert_body(false, &t, 4096,
	    "[{\"title\":\"only a title\",\"ticket_details\":\"\","
	    "\"email_id\":\"\"}]");

	memset(&t, 0, sizeof(t));
	t_assert_body(false, &t, 4096, "[{}]");
	t_assert_body(true, &t, 4096, "{}");
}

static void
test_body_custom_ref_field(void **state)
{
	struct kapture_ticket t = {
		.title = "T", .ref_field = "external_ref", .ref = "r1",
	};

	t_assert_body(true, &t, 4096, "{\"title\":\"T\",\"external_ref\":\"r1\"}");
}

static void
test_body_escaping(void **state)
{
	struct kapture_ticket t = {
		.title = "quote \" backslash \\ slash / tab \t nl \n cr \r "
		    "ctl \x01\x1f del \x7f",
		.details = "J\xc3\xbcrgen \xe2\x82\xac \xf0\x9f\x98\x80",
	};

	t_assert_body(true, &t, 4096,
	    "{\"title\":\"quote \\\" backslash \\\\ slash / tab \\t nl \\n "
	    "cr \\r ctl \\u0001\\u001F del \x7f\","
	    "\"ticket_details\":\"J\xc3\xbcrgen \xe2\x82\xac "
	    "\xf0\x9f\x98\x80\"}");
}

/* A ticket whose fields are rendered from a real match. */
struct fieldfix {
	pcre2_code *re;
	pcre2_match_data *md;
	struct event ev;
	struct tmpl_ctx ctx;
	struct field_node *fields;
	struct diags d;
};

static const char fix_line[] = "Failed password for bob from 1.2.3.4";

static struct fieldfix *
t_fieldfix_new(void)
{
	struct fieldfix *f = calloc(1, sizeof(*f));
	int err;
	PCRE2_SIZE off;

	assert_non_null(f);
	diags_init(&f->d);
	input_event_init(&f->ev);
	input_decode(&f->ev, INPUT_PLAIN, fix_line, strlen(fix_line));
	f->re = pcre2_compile((PCRE2_SPTR)
	    "Failed password for (?<user>\\S+) from (?<ip>\\S+)",
	    PCRE2_ZERO_TERMINATED, PCRE2_UTF, &err, &off, NULL);
	assert_non_null(f->re);
	f->md = pcre2_match_data_create_from_pattern(f->re, NULL);
	assert_true(pcre2_match(f->re, (PCRE2_SPTR)fix_line, strlen(fix_line),
	    0, 0, f->md, NULL) > 0);
	f->ctx.ev = &f->ev;
	f->ctx.subject = fix_line;
	f->ctx.ovector = pcre2_get_ovector_pointer(f->md);
	f->ctx.ovcount = pcre2_get_ovector_count(f->md);
	f->ctx.rule = "ssh";
	f->ctx.count = 3;
	f->fields = fields_new();
	return f;
}

static void
t_fieldfix_add(struct fieldfix *f, const char *path, const char *src)
{
	struct tmpl *t = tmpl_compile(src, f->re, &f->d, "t.rules", 1, path);
	const char *why;

	assert_non_null(t);
	if ((why = fields_add(f->fields, path, t)) != NULL)
		fail_msg("fields_add(%s): %s", path, why);
}

static void
t_fieldfix_free(struct fieldfix *f)
{
	fields_free(f->fields);
	pcre2_match_data_free(f->md);
	pcre2_code_free(f->re);
	input_event_free(&f->ev);
	diags_free(&f->d);
	free(f);
}

static void
test_body_nested_fields(void **state)
{
	struct fieldfix *f = t_fieldfix_new();
	struct kapture_ticket t = {
		.title = "SSH brute force from 1.2.3.4",
		.email = "secops@example.com",
		.ref_field = "omkapture_ref",
		.ref = "r42",
	};

	t_fieldfix_add(f, "queue", "Infra");
	t_fieldfix_add(f, "issue_category_details[0].issue_category_1",
	    "Security");
	t_fieldfix_add(f, "issue_category_details[0].issue_category_2",
	    "${user} (${count})");
	t_fieldfix_add(f, "tags[0]", "ssh");
	t_fieldfix_add(f, "tags[1]", "${ip}");
	t_fieldfix_add(f, "meta.rule", "${rule}");
	t_fieldfix_add(f, "meta.hosts[0][0]", "${0}");
	t.fields = f->fields;
	t.ctx = &f->ctx;

	t_assert_body(false, &t, 4096,
	    "[{\"title\":\"SSH brute force from 1.2.3.4\","
	    "\"email_id\":\"secops@example.com\","
	    "\"queue\":\"Infra\","
	    "\"issue_category_details\":[{\"issue_category_1\":\"Security\","
	    "\"issue_category_2\":\"bob (3)\"}],"
	    "\"tags\":[\"ssh\",\"1.2.3.4\"],"
	    "\"meta\":{\"rule\":\"ssh\",\"hosts\":[[\"Failed password for bob "
	    "from 1.2.3.4\"]]},"
	    "\"omkapture_ref\":\"r42\"}]");
	t_assert_body(true, &t, 4096,
	    "{\"title\":\"SSH brute force from 1.2.3.4\","
	    "\"email_id\":\"secops@example.com\","
	    "\"queue\":\"Infra\","
	    "\"issue_category_details\":[{\"issue_category_1\":\"Security\","
	    "\"issue_category_2\":\"bob (3)\"}],"
	    "\"tags\":[\"ssh\",\"1.2.3.4\"],"
	    "\"meta\":{\"rule\":\"ssh\",\"hosts\":[[\"Failed password for bob "
	    "from 1.2.3.4\"]]},"
	    "\"omkapture_ref\":\"r42\"}");
	t_fieldfix_free(f);
}

static void
test_body_empty_fields(void **state)
{
	struct fieldfix *f = t_fieldfix_new();
	struct kapture_ticket t = { .title = "T" };

	t.fields = f->fields;
	t.ctx = &f->ctx;
	t_assert_body(false, &t, 4096, "[{\"title\":\"T\"}]");
	t_fieldfix_free(f);
}

/* The body with one field "f" whose literal value is v. */
static char *
t_body_with_field(const char *v, size_t field_max)
{
	struct fieldfix *f = t_fieldfix_new();
	struct kapture_ticket t = { .title = "T" };
	char *s;

	assert_null(fields_add(f->fields, "f", tmpl_new_literal(v)));
	t.fields = f->fields;
	t.ctx = &f->ctx;
	s = t_body(true, &t, field_max);
	t_fieldfix_free(f);
	return s;
}

static void
t_assert_field_cut(const char *v, size_t field_max, const char *want_value)
{
	char *s = t_body_with_field(v, field_max);
	char *want = xasprintf("{\"title\":\"T\",\"f\":\"%s\"}", want_value);

	if (strcmp(s, want) != 0) {
		print_error("body: %s\nwant: %s\n", s, want);
		free(s);
		free(want);
		fail();
	}
	free(s);
	free(want);
}

static char *
t_repeat(const char *unit, size_t n, const char *prefix)
{
	struct buf b;
	size_t i;

	buf_init(&b, 1 << 20);
	buf_appends(&b, prefix);
	for (i = 0; i < n; i++)
		buf_appends(&b, unit);
	return buf_detach(&b, NULL);
}

static void
test_body_field_max(void **state)
{
	char *v, *want;

	/* Exactly field_max bytes: kept whole. */
	v = t_repeat("x", 64, "");
	t_assert_field_cut(v, 64, v);
	free(v);

	/* One more: cut to field_max - 14 and the marker appended, so the
	 * value is field_max bytes at most. */
	v = t_repeat("x", 65, "");
	want = t_repeat("x", 50, "");
	{
		char *w = xasprintf("%s%s", want, MARKER);

		assert_int_equal(strlen(w), 64);
		t_assert_field_cut(v, 64, w);
		free(w);
	}
	free(v);
	free(want);

	/* 2-byte characters: the cut would split one, so it steps back. */
	v = t_repeat("\xc3\xa9", 50, "x");        /* 101 bytes */
	want = t_repeat("\xc3\xa9", 24, "x");     /* 49 bytes */
	{
		char *w = xasprintf("%s%s", want, MARKER);

		t_assert_field_cut(v, 64, w);
		free(w);
	}
	free(v);
	free(want);

	/* 3-byte characters, cut landing on the last byte of one. */
	v = t_repeat("\xe2\x82\xac", 40, "a");    /* 121 bytes */
	want = t_repeat("\xe2\x82\xac", 16, "a"); /* 49 bytes */
	{
		char *w = xasprintf("%s%s", want, MARKER);

		t_assert_field_cut(v, 64, w);
		free(w);
	}
	free(v);
	free(want);

	/* Far beyond the render cap (field_max + 64). */
	v = t_repeat("y", 100000, "");
	want = t_repeat("y", 50, "");
	{
		char *w = xasprintf("%s%s", want, MARKER);

		t_assert_field_cut(v, 64, w);
		free(w);
	}
	free(v);
	free(want);
}

static void
test_body_field_invalid_utf8(void **state)
{
	/* Template rendering repairs the value, so the body stays JSON. */
	t_assert_field_cut("a\xff" "b", 4096, "a\xef\xbf\xbd" "b");
}

static void
test_comment_body(void **state)
{
	struct buf b;

	buf_init(&b, 4096);
	kapture_comment_body(&b, false, "713516551148", "again: 5 more",
	    "Open");
	assert_string_equal(b.data, "[{\"ticket_id\":\"713516551148\","
	    "\"comment\":\"again: 5 more\",\"sub_status\":\"Open\"}]");
	buf_reset(&b);
	kapture_comment_body(&b, true, "7", "line1\nline2 \"q\"", "Open");
	assert_string_equal(b.data, "{\"ticket_id\":\"7\","
	    "\"comment\":\"line1\\nline2 \\\"q\\\"\",\"sub_status\":\"Open\"}");
	buf_reset(&b);
	kapture_comment_body(&b, false, "7", "c", NULL);
	assert_string_equal(b.data, "[{\"ticket_id\":\"7\",\"comment\":\"c\"}]");
	buf_reset(&b);
	/* kapture_body appends too. */
	buf_appends(&b, "x");
	kapture_comment_body(&b, true, NULL, NULL, NULL);
	assert_string_equal(b.data, "x{}");
	buf_free(&b);
}

/* Classification */

static void
t_classify(long status, const char *body_text, struct kapture_result *r)
{
	memset(r, 0x5a, sizeof(*r));
	kapture_classify(status, body_text, body_text ? strlen(body_text) : 0,
	    r);
	assert_int_equal(r->http_status, status);
}

static void
t_assert_outcome(long status, const char *body_text, enum kapture_outcome o,
    const char *message, const char *ticket_id)
{
	struct kapture_result r;

	t_classify(status, body_text, &r);
	if (r.outcome != o)
		fail_msg("HTTP %ld %s: %s, want %s", status,
		    body_text ? body_text : "(null)",
		    kapture_outcome_name(r.outcome), kapture_outcome_name(o));
	assert_string_equal(r.message, message);
	assert_string_equal(r.ticket_id, ticket_id);
}

/* The seed's success body, trimmed. */
static const char seed_success[] =
    "{\"ticket\":{\"id\":5123,\"type\":\"O\",\"email\":\"\",\"status\":\"P\","
    "\"ticketId\":713516551148,\"taskTitle\":\"T\"},"
    "\"Additional_details\":{},\"due_date\":\"2026-11-28 10:00:00\","
    "\"title\":\"T\",\"customer_id\":0,\"ticket_id\":713516551148,"
    "\"Ticket Id\":713516551148,\"ticket_url\":\"\",\"status\":\"success\"}";

static void
test_classify_success(void **state)
{
	t_assert_outcome(200, seed_success, KAPTURE_DONE, "", "713516551148");
	t_assert_outcome(200, "{\"status\":\"success\",\"message\":\"Ticket "
	    "created\",\"ticket_id\":\"T-1001\"}", KAPTURE_DONE,
	    "Ticket created", "T-1001");
	/* Any 2xx. */
	t_assert_outcome(201, "{\"status\":\"success\",\"ticket_id\":\"9\"}",
	    KAPTURE_DONE, "", "9");
	/* Capitalised keys and value (older API docs). */
	t_assert_outcome(200, "{\"Message\":\"Ticket updated successfully\","
	    "\"Status\":\"Success\",\"ticket_id\":\"77\"}", KAPTURE_DONE,
	    "Ticket updated successfully", "77");
	t_assert_outcome(200, "{\"STATUS\":\"SUCCESS\"}", KAPTURE_DONE, "", "");
}

static void
test_classify_ticket_id_sources(void **state)
{
	/* "ticket_id" first, wherever it is ... */
	t_assert_outcome(200, "{\"Ticket Id\":\"B\",\"ticket\":{\"ticketId\":"
	    "\"C\"},\"ticket_id\":\"A\",\"status\":\"success\"}", KAPTURE_DONE,
	    "", "A");
	/* ... else "Ticket Id" ... */
	t_assert_outcome(200, "{\"ticket\":{\"ticketId\":\"C\"},\"Ticket Id\":"
	    "\"B\",\"status\":\"success\"}", KAPTURE_DONE, "", "B");
	/* ... else ticket.ticketId (not its internal "id") ... */
	t_assert_outcome(200, "{\"ticket\":{\"id\":5,\"ticketId\":\"C\"},"
	    "\"status\":\"success\"}", KAPTURE_DONE, "", "C");
	/* ... else ticket.id. */
	t_assert_outcome(200, "{\"ticket\":{\"id\":5},\"status\":\"success\"}",
	    KAPTURE_DONE, "", "5");
	/* Numbers as written. */
	t_assert_outcome(200, "{\"ticket_id\":713516551148,\"status\":"
	    "\"success\"}", KAPTURE_DONE, "", "713516551148");
	/* Not a string or number: not an id. */
	t_assert_outcome(200, "{\"ticket_id\":null,\"ticket\":\"x\","
	    "\"status\":\"success\"}", KAPTURE_DONE, "", "");
}

static void
test_classify_array_wrapped(void **state)
{
	t_assert_outcome(200, "[{\"status\":\"success\",\"ticket_id\":\"77\"}]",
	    KAPTURE_DONE, "", "77");
	t_assert_outcome(200, "[{\"message\":\"title is missing\",\"status\":"
	    "\"failed\"}]", KAPTURE_FAIL, "title is missing", "");
	/* Two objects, or an empty array: not an answer. */
	t_assert_outcome(200, "[{\"status\":\"success\"},{\"status\":\"success\"}]",
	    KAPTURE_RETRY, "HTTP 200 with a body that is not a JSON object", "");
	t_assert_outcome(200, "[]", KAPTURE_RETRY,
	    "HTTP 200 with a body that is not a JSON object", "");
}

static void
test_classify_failed_status(void **state)
{
	t_assert_outcome(200, "{\"message\":\"Invalid Auth Key\",\"status\":"
	    "\"failed\"}", KAPTURE_AUTH, "Invalid Auth Key", "");
	t_assert_outcome(200, "{\"message\":\"token expired\",\"status\":"
	    "\"failed\"}", KAPTURE_AUTH, "token expired", "");
	t_assert_outcome(200, "{\"message\":\"title is missing\",\"status\":"
	    "\"failed\"}", KAPTURE_FAIL, "title is missing", "");
	t_assert_outcome(200, "{\"error\":\"due_date is invalid\",\"status\":"
	    "\"failed\"}", KAPTURE_FAIL, "due_date is invalid", "");
	t_assert_outcome(200, "{\"status\":\"failed\"}", KAPTURE_FAIL,
	    "status \"failed\"", "");
	t_assert_outcome(200, "{\"ok\":true}", KAPTURE_FAIL,
	    "status \"(none)\"", "");
	/* "auth" in a successful answer is not an auth failure. */
	t_assert_outcome(200, "{\"message\":\"authorised\",\"status\":"
	    "\"success\",\"ticket_id\":\"1\"}", KAPTURE_DONE, "authorised", "1");
}

static void
test_classify_not_json(void **state)
{
	t_assert_outcome(200, "<html><body>Service Unavailable</body></html>",
	    KAPTURE_RETRY, "HTTP 200 with a body that is not a JSON object", "");
	t_assert_outcome(200, "", KAPTURE_RETRY,
	    "HTTP 200 with a body that is not a JSON object", "");
	t_assert_outcome(200, NULL, KAPTURE_RETRY,
	    "HTTP 200 with a body that is not a JSON object", "");
	t_assert_outcome(200, "{\"status\":\"success\"", KAPTURE_RETRY,
	    "HTTP 200 with a body that is not a JSON object", "");
	t_assert_outcome(200, "\"success\"", KAPTURE_RETRY,
	    "HTTP 200 with a body that is not a JSON object", "");
}

static void
test_classify_nul_in_body(void **state)
{
	static const char b[] = "{\"status\":\"success\"}\0junk";
	struct kapture_result r;

	kapture_classify(200, b, sizeof(b) - 1, &r);
	assert_int_equal(r.outcome, KAPTURE_RETRY);
	assert_string_equal(r.message,
	    "HTTP 200 with a body that is not a JSON object");
}

static void
test_classify_http_status(void **state)
{
	static const char html[] = "<html>oops</html>";

	t_assert_outcome(401, html, KAPTURE_AUTH, "HTTP 401", "");
	t_assert_outcome(403, NULL, KAPTURE_AUTH, "HTTP 403", "");
	t_assert_outcome(401, "{\"message\":\"Invalid Auth Key\",\"status\":"
	    "\"failed\"}", KAPTURE_AUTH, "Invalid Auth Key", "");
	/* 401 wins even over a success body. */
	t_assert_outcome(403, "{\"status\":\"success\"}", KAPTURE_AUTH,
	    "HTTP 403", "");

	t_assert_outcome(408, html, KAPTURE_RETRY, "HTTP 408 (not JSON)", "");
	t_assert_outcome(429, "{\"message\":\"Too Many Requests\",\"status\":"
	    "\"failed\"}", KAPTURE_RETRY, "Too Many Requests", "");
	t_assert_outcome(500, html, KAPTURE_RETRY, "HTTP 500 (not JSON)", "");
	t_assert_outcome(502, "{\"status\":\"failed\"}", KAPTURE_RETRY,
	    "HTTP 502", "");
	t_assert_outcome(503, NULL, KAPTURE_RETRY, "HTTP 503 (not JSON)", "");

	t_assert_outcome(400, "{\"message\":\"expected an array holding one "
	    "object\",\"status\":\"failed\"}", KAPTURE_FAIL,
	    "expected an array holding one object", "");
	t_assert_outcome(400, "{\"status\":\"failed\"}", KAPTURE_FAIL,
	    "HTTP 400", "");
	/* An auth message on another 4xx is still auth. */
	t_assert_outcome(400, "{\"message\":\"Invalid Auth Key\",\"status\":"
	    "\"failed\"}", KAPTURE_AUTH, "Invalid Auth Key", "");
	t_assert_outcome(404, html, KAPTURE_FAIL, "HTTP 404", "");
	t_assert_outcome(415, "{\"message\":\"Content-Type must be "
	    "application/json\",\"status\":\"failed\"}", KAPTURE_FAIL,
	    "Content-Type must be application/json", "");

	t_assert_outcome(301, NULL, KAPTURE_FAIL,
	    "HTTP 301 redirect (not followed: fix [kapture] url)", "");
	t_assert_outcome(302, "<html>moved</html>", KAPTURE_FAIL,
	    "HTTP 302 redirect (not followed: fix [kapture] url)", "");
	t_assert_outcome(100, NULL, KAPTURE_FAIL, "HTTP 100", "");
}

static void
test_classify_no_response(void **state)
{
	t_assert_outcome(0, NULL, KAPTURE_RETRY, "no response", "");
	t_assert_outcome(0, "{\"status\":\"success\"}", KAPTURE_RETRY,
	    "no response", "");
}

static void
test_classify_message_cleaned(void **state)
{
	struct kapture_result r;
	char *big, *body_text;
	size_t i;

	/* Control characters become '?'. */
	t_assert_outcome(200, "{\"status\":\"failed\",\"message\":"
	    "\"bad\\nthing\\u0001\\tx\\u007f\\r\"}", KAPTURE_FAIL,
	    "bad?thing??x??", "");
	/* UTF-8 is kept. */
	t_assert_outcome(200, "{\"status\":\"failed\",\"message\":"
	    "\"J\\u00fcrgen \xe2\x82\xac\"}", KAPTURE_FAIL,
	    "J\xc3\xbcrgen \xe2\x82\xac", "");
	/* yajl hands out C strings: the message ends at an escaped NUL. */
	t_assert_outcome(200, "{\"status\":\"failed\",\"message\":"
	    "\"a\\u0000b\"}", KAPTURE_FAIL, "a", "");

	/* A huge message is cut to the field's size. */
	big = t_repeat("x", 5000, "");
	body_text = xasprintf("{\"status\":\"failed\",\"message\":\"%s\"}", big);
	t_classify(200, body_text, &r);
	assert_int_equal(r.outcome, KAPTURE_FAIL);
	assert_int_equal(strlen(r.message), sizeof(r.message) - 1);
	for (i = 0; i < sizeof(r.message) - 1; i++)
		assert_int_equal(r.message[i], 'x');
	free(big);
	free(body_text);

	/* ... on a character boundary. */
	big = t_repeat("\xc3\xa9", 300, "");
	body_text = xasprintf("{\"status\":\"failed\",\"message\":\"%s\"}", big);
	t_classify(200, body_text, &r);
	assert_int_equal(strlen(r.message), 254);
	assert_true(utf8_valid(r.message, strlen(r.message)));
	assert_memory_equal(r.message, big, 254);
	free(big);
	free(body_text);

	/* A huge ticket id too. */
	big = t_repeat("7", 500, "");
	body_text = xasprintf("{\"status\":\"success\",\"ticket_id\":\"%s\"}",
	    big);
	t_classify(200, body_text, &r);
	assert_int_equal(r.outcome, KAPTURE_DONE);
	assert_int_equal(strlen(r.ticket_id), sizeof(r.ticket_id) - 1);
	assert_memory_equal(r.ticket_id, big, sizeof(r.ticket_id) - 1);
	free(big);
	free(body_text);
}

/*
 * Regression test for a fixed bug (kapture.c, kapture_is_auth_message): any message containing "auth"
 * or "token" as a substring is taken for an auth failure, so a refusal
 * like a JSON parser's "Unexpected token } in JSON at position 12" or
 * "Author is required" is retried slowly forever instead of going to
 * failed/. Fix: match the known auth phrases ("invalid auth key",
 * "unauthori", "auth key", "invalid token", "token expired") or "auth" /
 * "token" as whole words, not any substring.
 */
static void
test_classify_auth_substring(void **state)
{
	t_assert_outcome(400, "{\"message\":\"Unexpected token } in JSON at "
	    "position 12\",\"status\":\"failed\"}", KAPTURE_FAIL,
	    "Unexpected token } in JSON at position 12", "");
	t_assert_outcome(200, "{\"message\":\"Author is required\","
	    "\"status\":\"failed\"}", KAPTURE_FAIL, "Author is required", "");
}

static void
test_outcome_names(void **state)
{
	assert_string_equal(kapture_outcome_name(KAPTURE_DONE), "done");
	assert_string_equal(kapture_outcome_name(KAPTURE_RETRY), "retry");
	assert_string_equal(kapture_outcome_name(KAPTURE_AUTH), "auth");
	assert_string_equal(kapture_outcome_name(KAPTURE_FAIL), "failed");
}

/* A million levels of nesting once overflowed the stack in yajl's tree
 * (parse and free recurse per level): deeper than 64 is not parsed, and a
 * 2xx answer that is no flat object is retried. */
static void
test_classify_deep_nesting(void **state)
{
	struct kapture_result r;
	size_t n = 500000, i;
	char *b = malloc(2 * n + 1);
	char ok[256];

	(void)state;
	assert_non_null(b);
	for (i = 0; i < n; i++) {
		b[i] = '[';
		b[n + i] = ']';
	}
	b[2 * n] = '\0';
	kapture_classify(200, b, 2 * n, &r);
	assert_int_equal(r.outcome, KAPTURE_RETRY);
	assert_string_equal(r.message,
	    "HTTP 200 with a body that is not a JSON object");
	free(b);
	/* Brackets inside strings do not count; 60 levels are fine. */
	snprintf(ok, sizeof(ok), "{\"status\":\"success\",\"ticket_id\":"
	    "\"7\",\"x\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
	    "[[[[[[[[[[[[[[[[[[[[\",\"y\":%s}", "[[[[[[[[[[]]]]]]]]]]");
	kapture_classify(200, ok, strlen(ok), &r);
	assert_int_equal(r.outcome, KAPTURE_DONE);
	assert_string_equal(r.ticket_id, "7");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_body_array_and_object),
		cmocka_unit_test(test_body_null_members_omitted),
		cmocka_unit_test(test_body_custom_ref_field),
		cmocka_unit_test(test_body_escaping),
		cmocka_unit_test(test_body_nested_fields),
		cmocka_unit_test(test_body_empty_fields),
		cmocka_unit_test(test_body_field_max),
		cmocka_unit_test(test_body_field_invalid_utf8),
		cmocka_unit_test(test_comment_body),
		cmocka_unit_test(test_classify_success),
		cmocka_unit_test(test_classify_ticket_id_sources),
		cmocka_unit_test(test_classify_array_wrapped),
		cmocka_unit_test(test_classify_failed_status),
		cmocka_unit_test(test_classify_not_json),
		cmocka_unit_test(test_classify_nul_in_body),
		cmocka_unit_test(test_classify_http_status),
		cmocka_unit_test(test_classify_no_response),
		cmocka_unit_test(test_classify_message_cleaned),
		cmocka_unit_test(test_outcome_names),
		cmocka_unit_test(test_classify_auth_substring),
		cmocka_unit_test(test_classify_deep_nesting),
	};

	setenv("TZ", "UTC", 1);
	tzset();
	setenv("OMKAPTURE_NOW", "1795773600", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
