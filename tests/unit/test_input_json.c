/*
 * test_input_json.c: the JSON scanner against yajl (plugin/input.c).
 *
 * input_decode reads JSON lines with a hand-written scanner and leaves
 * whatever it is not sure about to yajl, the reference. Here generated
 * lines (rsyslog and journal shapes, every escape, surrogates good and
 * bad, nested values, odd whitespace, duplicate keys, invalid UTF-8,
 * truncated and mutated lines, very long values) are decoded both ways,
 * and every field of the event must come out the same, including every
 * JSON field looked up by name. The seed is fixed, so a failure repeats.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"
#include "util.h"

#define LINES 200000
#define GEN_LINE_MAX (1024 * 1024)

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint64_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* 0..n-1 */
static size_t
rnd(size_t n)
{
	return (size_t)(next_rand() % n);
}

/* True one time in n. */
static int
one_in(size_t n)
{
	return rnd(n) == 0;
}

static const char *
pick(const char *const *v, size_t n)
{
	return v[rnd(n)];
}
#define PICK(v) pick((v), sizeof(v) / sizeof((v)[0]))

/* Whitespace between tokens: mostly none or one blank, rarely yajl's odd ones. */
static void
gen_ws(struct buf *b)
{
	static const char *const ws[] = {
		"", "", "", "", " ", " ", " ", "\t", "\n", "\r\n", "  ",
		" \t ",
	};

	if (one_in(2000))
		buf_appends(b, one_in(2) ? "\v" : "\f");
	else
		buf_appends(b, PICK(ws));
}

/* A piece of string content, raw as it goes between the quotes. */
static void
gen_str_piece(struct buf *b)
{
	static const char *const plain[] = {
		"Failed password for root", "sshd", "web01", "a", " ",
		"10.1.2.3", "port 22", "x=y", "[preauth]", "{}", "[1,2]",
		"caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "MESSAGE",
		"msg", ":", ",", "tab", "0", "-",
	};
	static const char *const esc[] = {
		"\\n", "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\r", "\\t",
		"\\u00e9", "\\u00E9", "\\u0000", "\\u0041", "\\u20ac",
		"\\ud83d\\ude00", "\\uD83D\\uDE00", "\\udbff\\udfff",
		"\\ud800", "\\ud800x", "\\ud800\\n", "\\ud800\\u0041",
		"\\udc00", "\\uDFFF", "\\ud800\\ud800", "\\u007f",
		"\\u0080", "\\u07ff", "\\u0800", "\\uffff", "\\ufeff",
	};
	static const char *const bad[] = {
		"\xff", "\xc3", "\xe2\x82", "\x80", "\xed\xa0\x80",
		"\xf5\x80\x80\x80", "\x7f", "\xc0\xaf",
		/* Not JSON: yajl refuses them. */
		"\x01", "\t", "\x1f", "\\x", "\\u12", "\\u12g4", "\\U0041",
		"\\'",
	};
	char c;

	switch (rnd(10)) {
	case 0: case 1: case 2: case 3: case 4:
		buf_appends(b, PICK(plain));
		break;
	case 5: case 6: case 7:
		buf_appends(b, PICK(esc));
		break;
	case 8:
		if (one_in(4))
			buf_appends(b, PICK(bad));
		else
			buf_appends(b, PICK(plain));
		break;
	default:
		c = (char)(' ' + rnd(95));
		if (c == '"' || c == '\\')
			c = '_';
		buf_appendc(b, c);
		break;
	}
}

static void
gen_string(struct buf *b, size_t pieces)
{
	size_t i;

	buf_appendc(b, '"');
	for (i = 0; i < pieces; i++)
		gen_str_piece(b);
	buf_appendc(b, '"');
}

/* Long content, mostly plain, escapes sprinkled in. */
static void
gen_long_string(struct buf *b)
{
	size_t n = 1000 + rnd(30000), i;

	buf_appendc(b, '"');
	for (i = 0; i < n; i++) {
		if (one_in(200))
			buf_appends(b, one_in(2) ? "\\n" : "\\u00e9");
		else
			buf_appendc(b, (char)('a' + i % 26));
	}
	buf_appendc(b, '"');
}

static void
gen_number(struct buf *b)
{
	static const char *const nums[] = {
		"0", "1", "3", "7", "8", "23", "24", "38", "191", "192",
		"255", "256", "-1", "-0", "12345", "1.5", "1.5e3", "1E-2",
		"2e+10", "-0.0", "1795773600000000", "99999999999999999999",
		/* Not JSON. */
		"01", "1.", ".5", "-", "1e", "+1", "0x10", "1.e3",
	};
	size_t n = sizeof(nums) / sizeof(nums[0]);

	/* The invalid ones are the last eight. */
	buf_appends(b, nums[one_in(20) ? n - 8 + rnd(8) : rnd(n - 8)]);
}

static void gen_value(struct buf *b, int depth);

static void
gen_nested(struct buf *b, int depth)
{
	bool array = one_in(2);
	size_t n = rnd(4), i;

	buf_appendc(b, array ? '[' : '{');
	gen_ws(b);
	for (i = 0; i < n; i++) {
		if (i > 0) {
			buf_appendc(b, ',');
			gen_ws(b);
		}
		if (!array) {
			gen_string(b, rnd(3));
			gen_ws(b);
			buf_appendc(b, ':');
			gen_ws(b);
		}
		gen_value(b, depth + 1);
		gen_ws(b);
	}
	if (one_in(200))
		buf_appendc(b, ',');
	buf_appendc(b, array ? ']' : '}');
}

/* A deep chain of arrays and objects around the limit (64 levels). */
static void
gen_deep(struct buf *b)
{
	size_t n = 55 + rnd(15), i;
	char close[80];

	for (i = 0; i < n; i++) {
		if (one_in(2)) {
			buf_appendc(b, '[');
			close[i] = ']';
		} else {
			buf_appends(b, "{\"k\":");
			close[i] = '}';
		}
	}
	buf_appends(b, one_in(2) ? "1" : "\"x\"");
	while (n > 0)
		buf_appendc(b, close[--n]);
}

/* A journal MESSAGE byte array, sometimes one that is not quite. */
static void
gen_bytes(struct buf *b)
{
	static const char *const odd[] = {
		"256", "-1", "1.0", "\"a\"", "null", "[1]", "1e2", "0",
		"1000",
	};
	size_t n = rnd(12), i;

	buf_appendc(b, '[');
	if (one_in(4))
		gen_ws(b);
	for (i = 0; i < n; i++) {
		if (i > 0) {
			buf_appendc(b, ',');
			if (one_in(4))
				gen_ws(b);
		}
		if (one_in(30))
			buf_appends(b, PICK(odd));
		else
			buf_printf(b, "%u", (unsigned)rnd(256));
		if (one_in(6))
			gen_ws(b);
	}
	buf_appendc(b, ']');
}

static void
gen_value(struct buf *b, int depth)
{
	switch (rnd(depth > 3 ? 6 : 9)) {
	case 0: case 1: case 2:
		gen_string(b, rnd(5));
		break;
	case 3:
		gen_number(b);
		break;
	case 4:
		buf_appends(b, one_in(2) ? "true" : "false");
		break;
	case 5:
		buf_appends(b, one_in(10) ? "nul" : "null");
		break;
	default:
		gen_nested(b, depth);
		break;
	}
}

/* Values that make sense for the keys the event is built from. */
static void
gen_known_value(struct buf *b, const char *key)
{
	static const char *const times[] = {
		"\"2026-11-27T10:00:00+00:00\"", "\"2026-11-27T10:00:00.123Z\"",
		"\"2026-11-27T10:00:00\"", "\"bad\"", "\"\"",
		"\"2026-11-27T10:00:00\\u002b01:00\"",
	};
	static const char *const tags[] = {
		"\"sshd[4242]:\"", "\"postfix\\/smtpd[12]:\"", "\"kernel:\"",
		"\"su\"", "\"\"", "\"a b[1]:\"", "\"x[\"", "\"\\u0073shd[7]:\"",
	};
	static const char *const ints[] = {
		"\"3\"", "3", "\"7\"", "\"8\"", "\"23\"", "\"24\"", "\"x\"",
		"\"\"", "38", "\"191\"", "\"-1\"", "null", "\"1\\u0032\"",
	};
	static const char *const pids[] = {
		"\"4242\"", "4242", "\"-\"", "\"\"", "null", "\"1\\u0032\"",
	};

	if (one_in(8)) {
		gen_value(b, 1);
		return;
	}
	if (strcmp(key, "timereported") == 0)
		buf_appends(b, PICK(times));
	else if (strcmp(key, "__REALTIME_TIMESTAMP") == 0)
		buf_appends(b, one_in(3) ? "1795773600123456" :
		    one_in(2) ? "\"1795773600123456\"" : "\"17x\"");
	else if (strcmp(key, "syslogtag") == 0)
		buf_appends(b, PICK(tags));
	else if (strstr(key, "severity") != NULL ||
	    strstr(key, "facility") != NULL || strstr(key, "FACILITY") != NULL ||
	    strcmp(key, "pri") == 0 || strcmp(key, "PRIORITY") == 0)
		buf_appends(b, PICK(ints));
	else if (strstr(key, "PID") != NULL || strcmp(key, "procid") == 0)
		buf_appends(b, PICK(pids));
	else if (strcmp(key, "MESSAGE") == 0 && one_in(3))
		gen_bytes(b);
	else if (one_in(3000))
		gen_long_string(b);
	else
		gen_string(b, rnd(5));
}

static void
gen_key(struct buf *b, const char *const *keys, size_t nkeys,
    const char **name)
{
	static const char *const escaped[] = {
		"\"m\\u0073g\"", "\"MESS\\u0041GE\"", "\"host\\u006eame\"",
		"\"\\u0000\"", "\"a\\\"b\"", "\"\\ud800\"",
	};
	static const char *const other[] = {
		"rawmsg", "inputname", "fromhost", "fromhost-ip", "uuid",
		"$!", "", "k", "_SYSTEMD_UNIT", "__CURSOR", "\xc3\xa9",
		"\xff", "msg ", "Msg",
	};

	*name = "";
	if (one_in(30)) {
		buf_appends(b, PICK(escaped));
		return;
	}
	*name = one_in(4) ? PICK(other) : keys[rnd(nkeys)];
	buf_appendc(b, '"');
	buf_appends(b, *name);
	buf_appendc(b, '"');
}

static void
gen_line(struct buf *b)
{
	static const char *const rsyslog[] = {
		"msg", "hostname", "programname", "syslogtag", "procid",
		"syslogseverity", "syslogfacility", "timereported", "pri",
	};
	static const char *const journal[] = {
		"MESSAGE", "_HOSTNAME", "SYSLOG_IDENTIFIER", "_COMM",
		"SYSLOG_PID", "_PID", "PRIORITY", "SYSLOG_FACILITY",
		"__REALTIME_TIMESTAMP",
	};
	const char *const *keys = one_in(2) ? rsyslog : journal;
	size_t n = rnd(16), i;
	const char *name;

	if (one_in(20))
		gen_ws(b);
	buf_appendc(b, '{');
	gen_ws(b);
	for (i = 0; i < n; i++) {
		if (i > 0) {
			buf_appendc(b, ',');
			gen_ws(b);
		}
		gen_key(b, keys, 9, &name);
		gen_ws(b);
		buf_appendc(b, ':');
		gen_ws(b);
		if (one_in(400))
			gen_deep(b);
		else
			gen_known_value(b, name);
		gen_ws(b);
	}
	if (one_in(100))
		buf_appendc(b, ',');
	buf_appendc(b, '}');
	if (one_in(30)) {
		static const char *const tail[] = {
			" ", "\t", "\n", " x", "}", "{}", "1", "\"a\"", "\0",
			"\v", " \r",
		};
		const char *t = PICK(tail);

		buf_append(b, t, t[0] == '\0' ? 1 : strlen(t));
	}
}

/* Truncate, flip bytes or insert some: most become errors, some not. */
static void
mutate(struct buf *b)
{
	static const char insert[] = "{}[]\":,\\ \t0-eEu\x01\xff";
	size_t m, at;

	if (b->len == 0)
		return;
	switch (rnd(12)) {
	case 0:
		b->len = rnd(b->len + 1);
		break;
	case 1:
		for (m = 1 + rnd(3); m > 0; m--)
			b->data[rnd(b->len)] = (char)next_rand();
		break;
	case 2:
		at = rnd(b->len + 1);
		buf_appendc(b, 0);
		memmove(b->data + at + 1, b->data + at, b->len - 1 - at);
		b->data[at] = insert[rnd(sizeof(insert) - 1)];
		break;
	default:
		break;
	}
}

/* Comparing two events decoded from the same line. */

static const char *cur_line;
static size_t cur_len;
static enum input_format cur_fmt;

static void
mismatch(const char *what)
{
	size_t i, n = cur_len < 400 ? cur_len : 400;

	print_error("scanner and yajl differ in %s; fmt %s; line (%zu bytes):"
	    "\n", what, input_format_name(cur_fmt), cur_len);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)cur_line[i];

		if (c < 0x20 || c >= 0x7f || c == '\\')
			print_error("\\x%02x", c);
		else
			print_error("%c", c);
	}
	print_error("\n");
	fail();
}

static void
same_slice(const struct slice *a, const struct slice *b, const char *what)
{
	if (a->p == NULL || b->p == NULL)
		mismatch(what);
	if (a->n != b->n || (a->n > 0 && memcmp(a->p, b->p, a->n) != 0))
		mismatch(what);
}

static void
same_event(const struct event *a, const struct event *b)
{
	same_slice(&a->raw, &b->raw, "raw");
	same_slice(&a->msg, &b->msg, "msg");
	same_slice(&a->host, &b->host, "host");
	same_slice(&a->program, &b->program, "program");
	same_slice(&a->pid, &b->pid, "pid");
	if (a->severity != b->severity)
		mismatch("severity");
	if (a->facility != b->facility)
		mismatch("facility");
	if (a->time != b->time)
		mismatch("time");
	if (a->format != b->format)
		mismatch("format");
	if (a->json != b->json)
		mismatch("json");
	if (a->json_error != b->json_error)
		mismatch("json_error");
	if (a->njfields != b->njfields)
		mismatch("njfields");
	/* Rules skip their UTF-8 check on it: it must never lie. */
	if (a->known_utf8 && (!utf8_valid(a->raw.p, a->raw.n) ||
	    !utf8_valid(a->msg.p, a->msg.n)))
		mismatch("known_utf8 on invalid UTF-8");
}

/*
 * A lookup by name returns the first field of that name (a known key's
 * comes from the decoder's own index, others from a search).
 */
static void
first_field(struct event *a, size_t i)
{
	const struct slice *got;
	size_t j;

	for (j = 0; j < i; j++)
		if (a->jfields[j].name.n == a->jfields[i].name.n &&
		    memcmp(a->jfields[j].name.p, a->jfields[i].name.p,
		    a->jfields[i].name.n) == 0)
			break;
	got = input_json_field(a, a->jfields[i].name.p, a->jfields[i].name.n);
	if (got != &a->jfields[j].value)
		mismatch("lookup did not find the first field of the name");
}

/*
 * Every field by name, in a shuffled order so lazy values are decoded
 * between others; twice, so a second lookup returns the same. The
 * event's own slices must not move meanwhile.
 */
static void
same_fields(struct event *a, const struct event *b)
{
	struct slice msg = a->msg, host = a->host, program = a->program;
	const struct slice *fa, *fb;
	size_t i, j, n = a->njfields, round;

	for (i = 0; i < n; i++)
		same_slice(&a->jfields[i].name, &b->jfields[i].name, "name");
	for (i = 0; i < n; i++)
		first_field(a, i);
	for (round = 0; round < 2; round++) {
		for (j = 0; j < n; j++) {
			i = (j * 7 + round * 3 + (size_t)cur_len) % n;
			fa = input_json_field(a, a->jfields[i].name.p,
			    a->jfields[i].name.n);
			fb = input_json_field(b, b->jfields[i].name.p,
			    b->jfields[i].name.n);
			if (fa == NULL || fb == NULL)
				mismatch("field lookup");
			same_slice(fa, fb, "field value");
		}
	}
	if (input_json_field(a, "\x01nope", 5) != NULL ||
	    input_json_field(b, "\x01nope", 5) != NULL)
		mismatch("absent field");
	if (msg.p != a->msg.p || host.p != a->host.p ||
	    program.p != a->program.p)
		mismatch("slices moved by a lookup");
	same_event(a, b);
}

static void
test_scanner_vs_yajl(void **state)
{
	static const enum input_format fmts[] = {
		INPUT_AUTO, INPUT_RSYSLOG_JSON, INPUT_JOURNAL_JSON,
	};
	struct event fast, ref, only;
	struct buf line;
	size_t i, json = 0, scanned = 0, errors = 0, lazy_lines = 0;
	size_t long_lines = 0, known_utf8 = 0;
	char *copy;

	(void)state;
	input_event_init(&fast);
	input_event_init(&ref);
	input_event_init(&only);
	buf_init(&line, GEN_LINE_MAX);
	for (i = 0; i < LINES; i++) {
		buf_reset(&line);
		gen_line(&line);
		if (one_in(6))
			mutate(&line);
		/* An exact-size copy, so ASan sees any overread. */
		copy = xmalloc(line.len ? line.len : 1);
		memcpy(copy, line.data, line.len);
		cur_line = copy;
		cur_len = line.len;
		cur_fmt = fmts[rnd(3)];

		input_json_path = INPUT_JSON_YAJL;
		input_decode(&ref, cur_fmt, copy, line.len);
		input_json_path = INPUT_JSON_SCANNER;
		input_decode(&only, cur_fmt, copy, line.len);
		input_json_path = INPUT_JSON_DEFAULT;
		input_decode(&fast, cur_fmt, copy, line.len);

		/* The scanner alone accepts a subset of what yajl does. */
		if (only.json && !ref.json)
			mismatch("acceptance (scanner took a line yajl refuses)");
		if (ref.known_utf8)
			mismatch("known_utf8 from yajl");
		if (only.json)
			same_event(&only, &ref);
		same_event(&fast, &ref);
		if (fast.json)
			same_fields(&fast, &ref);
		if (only.json && i % 8 == 0) {
			/* The scanner's slices must survive lookups too. */
			same_fields(&only, &ref);
			lazy_lines += only.store.len > 0;
		}
		json += ref.json;
		long_lines += line.len > 1000;
		scanned += only.json;
		known_utf8 += only.known_utf8;
		errors += ref.json_error;
		free(copy);
	}
	input_json_path = INPUT_JSON_DEFAULT;
	print_message("%d lines: %zu JSON (%zu by the scanner, %zu of those "
	    "decoding into the store, %zu known UTF-8), %zu refused\n", LINES,
	    json, scanned, lazy_lines, known_utf8, errors);
	/* The generator must exercise both paths, and mostly the scanner. */
	assert_true(scanned > json * 9 / 10);
	assert_true(long_lines > 100);
	assert_true(errors > LINES / 20);
	assert_true(json - scanned > 100);
	assert_true(known_utf8 > scanned / 10 && known_utf8 < scanned);
	buf_free(&line);
	input_event_free(&fast);
	input_event_free(&ref);
	input_event_free(&only);
}

/* Hand-picked lines where the two decoders could part ways. */
static void
test_scanner_edges(void **state)
{
	static const char *const lines[] = {
		"{}", " { } ", "{\"a\":1}\n", "{\"a\":1}\r\n", "\t{\"a\":1}",
		"{\"a\":\"\\ud800\"}", "{\"a\":\"\\ud800abc\"}",
		"{\"a\":\"\\ud800\\u0041\"}", "{\"a\":\"\\udc00\"}",
		"{\"a\":\"x\\ud800\"}", "{\"a\":\"\\ud800\\\\\"}",
		"{\"a\":\"\\u0000\",\"b\":\"\\u0000x\"}",
		"{\"MESSAGE\":[]}", "{\"MESSAGE\":[ ]}", "{\"MESSAGE\":[0]}",
		"{\"MESSAGE\":[255,256]}", "{\"MESSAGE\":[ 1 , 2 ]}",
		"{\"MESSAGE\":[1,[2]]}", "{\"MESSAGE\":{\"a\":1}}",
		"{\"MESSAGE\":[1],\"MESSAGE\":[2]}",
		"{\"MESS\\u0041GE\":[104,105]}",
		"{\"msg\":\"a\",\"msg\":\"b\"}",
		"{\"a\":{ \"b\" : [ 1 , \"c \\\" d\" ] }}",
		"{\"a\":\v1}", "{\"a\":\f1}", "\v{\"a\":1}", "{\"a\":1}\v",
		"{\"a\":1e5,\"b\":-0.5E-3,\"c\":0}",
		"{\"a\":\"\x7f\"}", "{\"a\":\"\xff\xfe\"}",
		/* A nested value that ends at the line's last brace. */
		"{\"a\":{}", "{\"a\":[1]", "{\"a\":{\"b\":{}}", "{\"a\":{} ",
		"{\"a\":[]}", "{\"a\":[\"}\"]",
	};
	struct event fast, ref;
	char *copy;
	size_t i;

	(void)state;
	input_event_init(&fast);
	input_event_init(&ref);
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		/* An exact-size copy, so ASan sees any overread. */
		cur_len = strlen(lines[i]);
		copy = xmalloc(cur_len);
		memcpy(copy, lines[i], cur_len);
		cur_line = copy;
		for (cur_fmt = INPUT_AUTO; cur_fmt <= INPUT_JOURNAL_JSON;
		    cur_fmt++) {
			input_json_path = INPUT_JSON_YAJL;
			input_decode(&ref, cur_fmt, cur_line, cur_len);
			input_json_path = INPUT_JSON_DEFAULT;
			input_decode(&fast, cur_fmt, cur_line, cur_len);
			same_event(&fast, &ref);
			if (fast.json)
				same_fields(&fast, &ref);
		}
		free(copy);
	}
	input_json_path = INPUT_JSON_DEFAULT;
	input_event_free(&fast);
	input_event_free(&ref);
}

/*
 * The scanner indexes a line in 64-byte words, 16 bytes at a time, with
 * an overlapping load for the last partial chunk, and copies decoded
 * runs 16 bytes at a time. Put quotes, escapes, control and high bytes
 * at every offset around those boundaries, in lines of every length up
 * to a few words, and hold the result to yajl's.
 */
static void
test_scanner_alignment(void **state)
{
	static const char *const pieces[] = {
		"\\\"", "\\/", "\\\\", "\\u00e9", "\\ud83d\\ude00", "\xc3\xa9",
		"\xff", "\t", "\"", "\\",
	};
	struct event fast, ref;
	struct buf b;
	size_t pad, p, tail;
	char *copy;

	(void)state;
	input_event_init(&fast);
	input_event_init(&ref);
	buf_init(&b, 4096);
	for (pad = 0; pad < 150; pad++)
		for (p = 0; p < sizeof(pieces) / sizeof(pieces[0]); p++)
			for (tail = 0; tail < 20; tail += 3) {
				buf_reset(&b);
				buf_appends(&b, "{\"msg\":\"");
				while (b.len < 9 + pad)
					buf_appendc(&b, (char)('a' + b.len % 26));
				buf_appends(&b, pieces[p]);
				buf_appends(&b, "z\",\"k\":\"");
				while (b.len < 20 + pad + tail)
					buf_appendc(&b, 'y');
				buf_appends(&b, pieces[(p + tail) %
				    (sizeof(pieces) / sizeof(pieces[0]))]);
				buf_appends(&b, "\"}");
				copy = xmalloc(b.len);
				memcpy(copy, b.data, b.len);
				cur_line = copy;
				cur_len = b.len;
				for (cur_fmt = INPUT_AUTO;
				    cur_fmt <= INPUT_JOURNAL_JSON; cur_fmt++) {
					input_json_path = INPUT_JSON_YAJL;
					input_decode(&ref, cur_fmt, copy, b.len);
					input_json_path = INPUT_JSON_DEFAULT;
					input_decode(&fast, cur_fmt, copy, b.len);
					same_event(&fast, &ref);
					if (fast.json)
						same_fields(&fast, &ref);
				}
				free(copy);
			}
	input_json_path = INPUT_JSON_DEFAULT;
	buf_free(&b);
	input_event_free(&fast);
	input_event_free(&ref);
}

/*
 * yajl took an object followed by an unterminated string for a whole
 * line and kept the string's start in its lexer, so the next line was
 * refused (or worse). Such a line is not JSON, and the next is fine.
 */
static void
test_trailing_unterminated_string(void **state)
{
	static const char *const bad[] = {
		"{}\"", "{\"a\":1} \"x", "{\"a\":1}\"\\",
	};
	enum input_json_path paths[] = { INPUT_JSON_YAJL, INPUT_JSON_DEFAULT };
	struct event ev;
	size_t i, p;

	(void)state;
	input_event_init(&ev);
	for (p = 0; p < 2; p++) {
		input_json_path = paths[p];
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			input_decode(&ev, INPUT_AUTO, bad[i], strlen(bad[i]));
			assert_false(ev.json);
			assert_true(ev.json_error);
			input_decode(&ev, INPUT_AUTO, "{\"msg\":\"ok\"}", 12);
			assert_true(ev.json);
			assert_int_equal(ev.msg.n, 2);
			assert_memory_equal(ev.msg.p, "ok", 2);
		}
	}
	input_json_path = INPUT_JSON_DEFAULT;
	input_event_free(&ev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scanner_edges),
		cmocka_unit_test(test_scanner_alignment),
		cmocka_unit_test(test_trailing_unterminated_string),
		cmocka_unit_test(test_scanner_vs_yajl),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
