/*
 * input.c: decoding one input line into an event.
 *
 * Three shapes of line arrive: rsyslog's %jsonmesg%, journalctl -o json,
 * and plain text with or without a syslog header. Whatever the shape, the
 * event ends up with the same message, so one rule fits all of them.
 *
 * The decoder runs once per line on the hot path, so it does not allocate
 * once the event's buffers have grown: slices point into the line where
 * they can, and otherwise into the event's store; the JSON parser (and
 * yajl's own buffers) live as long as the event.
 */
#include "input.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <yajl/yajl_parse.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "log.h"
#include "util.h"

/*
 * The store never needs more than the line (unescaping, compacting and
 * decoding byte arrays all shrink), so this only has to exceed the
 * longest line the reader accepts.
 */
#define INPUT_STORE_MAX (64 * 1024 * 1024)
/* Deeper JSON is hostile or broken: decode the line as plain text. */
#define INPUT_JSON_DEPTH 64
/* Longest syslog tag and pid taken as a "tag[pid]:" header. */
#define INPUT_TAG_MAX 48
#define INPUT_PID_MAX 32

/* The top-level JSON keys the decoder takes event fields from. */
enum input_key {
	KEY_MESSAGE,
	KEY_MSG,
	KEY_HOSTNAME,
	KEY_PROGRAMNAME,
	KEY_SYSLOGTAG,
	KEY_PROCID,
	KEY_SYSLOGSEVERITY,
	KEY_SYSLOGFACILITY,
	KEY_TIMEREPORTED,
	KEY_PRI,
	KEY_J_HOSTNAME,
	KEY_J_IDENTIFIER,
	KEY_J_COMM,
	KEY_J_SYSLOG_PID,
	KEY_J_PID,
	KEY_J_PRIORITY,
	KEY_J_FACILITY,
	KEY_J_REALTIME,
	KEY_COUNT
};

#define KEYNAME(s) { s, sizeof(s) - 1 }
static const struct {
	const char *name;
	size_t len;
} input_keys[KEY_COUNT] = {
	[KEY_MESSAGE] = KEYNAME("MESSAGE"),
	[KEY_MSG] = KEYNAME("msg"),
	[KEY_HOSTNAME] = KEYNAME("hostname"),
	[KEY_PROGRAMNAME] = KEYNAME("programname"),
	[KEY_SYSLOGTAG] = KEYNAME("syslogtag"),
	[KEY_PROCID] = KEYNAME("procid"),
	[KEY_SYSLOGSEVERITY] = KEYNAME("syslogseverity"),
	[KEY_SYSLOGFACILITY] = KEYNAME("syslogfacility"),
	[KEY_TIMEREPORTED] = KEYNAME("timereported"),
	[KEY_PRI] = KEYNAME("pri"),
	[KEY_J_HOSTNAME] = KEYNAME("_HOSTNAME"),
	[KEY_J_IDENTIFIER] = KEYNAME("SYSLOG_IDENTIFIER"),
	[KEY_J_COMM] = KEYNAME("_COMM"),
	[KEY_J_SYSLOG_PID] = KEYNAME("SYSLOG_PID"),
	[KEY_J_PID] = KEYNAME("_PID"),
	[KEY_J_PRIORITY] = KEYNAME("PRIORITY"),
	[KEY_J_FACILITY] = KEYNAME("SYSLOG_FACILITY"),
	[KEY_J_REALTIME] = KEYNAME("__REALTIME_TIMESTAMP"),
};
#undef KEYNAME

/* What a top-level JSON value was; masks select which ones a field takes. */
enum input_jtype {
	JT_STRING,
	JT_NUMBER,
	JT_BOOL,
	JT_NULL,
	JT_NESTED,
	JT_BYTES,
};
#define JM(t) (1u << (t))
#define JM_TEXT (JM(JT_STRING))
#define JM_SCALAR (JM(JT_STRING) | JM(JT_NUMBER))
#define JM_ANY 0xffu

/*
 * Per jfield bookkeeping, parallel to ev->jfields. A slice whose bytes
 * went to the store has p == NULL and its store offset here until the
 * parse ends, because the store may move while it grows. A lazy value
 * (scanner only) is still its raw text in the line: an escaped string
 * without its quotes, or a nested value that needs compacting or byte
 * decoding; scan_materialize turns it into the real value on demand.
 */
struct input_jmeta {
	size_t name_off;
	size_t value_off;
	enum input_jtype type;
	bool lazy;
};

struct input_parser {
	yajl_handle yh;          /* reused across lines; NULL after an error */
	struct event *ev;        /* the event being decoded */
	const char *line;
	size_t len;
	int depth;               /* 1 inside the top-level object */
	bool done;               /* the top-level object has closed */
	size_t end;              /* line offset just past it */
	bool bytes;              /* decode a MESSAGE byte array */
	bool is_message;         /* the current top-level key is MESSAGE */
	bool in_bytes;           /* inside MESSAGE's array, decoding bytes */
	bool bytes_ok;           /* every element so far was 0..255 */
	size_t nest_start;       /* line offset of the current nested value */
	size_t bytes_start;      /* store offset of its decoded bytes */
	size_t known[KEY_COUNT]; /* first jfield index + 1 of each key, or 0 */
	struct input_jmeta *meta;
	uint64_t *stops;         /* the scanner's index of the line */
	size_t stops_alloc;

	/*
	 * The last RFC 3339 time with a zone that a JSON line carried, and
	 * its value: a stream of lines mostly repeats the second before.
	 */
	char time_text[40];
	size_t time_len;
	time_t time_val;

	/* RFC 3164 times: the local year now, and local hours' epochs. */
	time_t now_at;
	int now_year;
	int now_mon;
	struct {
		long key;
		time_t t;
	} hours[2];
	unsigned hour_next;
};

static const char input_empty[] = "";

static bool
input_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	    c == '\v' || c == '\f';
}

static bool
input_digit(char c)
{
	return c >= '0' && c <= '9';
}

static struct slice
input_slice(const char *p, size_t n)
{
	struct slice s;

	s.p = p;
	s.n = n;
	return s;
}

static struct slice
input_ltrim(struct slice s)
{
	while (s.n > 0 && (s.p[0] == ' ' || s.p[0] == '\t')) {
		s.p++;
		s.n--;
	}
	return s;
}

/* A small decimal in a slice; -1 unless it is all digits and <= max. */
static int
input_int(const struct slice *s, int max)
{
	int v = 0;
	size_t i;

	if (s->n == 0)
		return -1;
	for (i = 0; i < s->n; i++) {
		if (!input_digit(s->p[i]))
			return -1;
		v = v * 10 + (s->p[i] - '0');
		if (v > max)
			return -1;
	}
	return v;
}

static void
input_reset(struct event *ev, const char *line, size_t len)
{
	ev->raw = input_slice(line, len);
	ev->msg = ev->raw;
	ev->host = ev->program = ev->pid = input_slice(input_empty, 0);
	ev->severity = -1;
	ev->facility = -1;
	ev->time = 0;
	ev->format = INPUT_PLAIN;
	ev->json = false;
	ev->json_error = false;
	ev->known_utf8 = false;
	ev->njfields = 0;
	buf_reset(&ev->store);
}

/* JSON */

/*
 * Every top-level key of every line is looked up, so the candidates are
 * narrowed by length first (bit k of input_keys_bylen[n] is set when key
 * k is n bytes long), and a candidate is compared as up to three words
 * loaded from the key: no memcmp call, no byte loop, and no load outside
 * the key's own bytes. Filled in by input_event_init.
 */
#define INPUT_KEY_MAXLEN 20
static uint32_t input_keys_bylen[INPUT_KEY_MAXLEN + 1];
static struct {
	uint64_t w[3];
} input_keys_words[KEY_COUNT];

/* n bytes at p as words: overlapping loads, so each n has one layout. */
static inline void
json_key_words(const unsigned char *p, size_t n, uint64_t w[3])
{
	uint32_t a, b;
	uint16_t h;

	w[1] = w[2] = 0;
	if (n >= 8) {
		memcpy(&w[0], p, 8);
		memcpy(&w[1], p + n - 8, 8);
		if (n > 16)
			memcpy(&w[2], p + 8, 8);
	} else if (n >= 4) {
		memcpy(&a, p, 4);
		memcpy(&b, p + n - 4, 4);
		w[0] = a | (uint64_t)b << 32;
	} else if (n >= 2) {
		memcpy(&h, p, 2);
		w[0] = h | (uint64_t)p[n - 1] << 16;
	} else
		w[0] = n == 1 ? p[0] : 0;
}

static void
json_keys_init(void)
{
	int k;

	for (k = 0; k < KEY_COUNT; k++) {
		input_keys_bylen[input_keys[k].len] |= 1u << k;
		json_key_words((const unsigned char *)input_keys[k].name,
		    input_keys[k].len, input_keys_words[k].w);
	}
}

static inline int
json_key_lookup(const unsigned char *key, size_t n)
{
	uint64_t w[3];
	uint32_t cand;
	int k;

	if (n > INPUT_KEY_MAXLEN || (cand = input_keys_bylen[n]) == 0)
		return -1;
	json_key_words(key, n, w);
	do {
		k = __builtin_ctz(cand);
		if (input_keys_words[k].w[0] == w[0] &&
		    input_keys_words[k].w[1] == w[1] &&
		    input_keys_words[k].w[2] == w[2])
			return k;
		cand &= cand - 1;
	} while (cand != 0);
	return -1;
}

/*
 * yajl hands out pointers into the line for strings without escapes and
 * for numbers, and into its own reused buffers otherwise; only the latter
 * have to be copied.
 */
static bool
json_in_line(const struct input_parser *ip, const void *p, size_t n)
{
	uintptr_t a = (uintptr_t)p, b = (uintptr_t)ip->line;

	return a >= b && a - b <= ip->len && n <= ip->len - (a - b);
}

static void
json_set(struct input_parser *ip, struct slice *s, size_t *off,
    const void *p, size_t n)
{
	struct buf *store = &ip->ev->store;

	if (json_in_line(ip, p, n)) {
		*s = input_slice(p, n);
		return;
	}
	*off = store->len;
	buf_append(store, p, n);
	*s = input_slice(NULL, n);
}

static struct input_jfield *
json_field_add(struct input_parser *ip)
{
	struct event *ev = ip->ev;
	size_t n;

	if (ev->njfields == ev->jfields_alloc) {
		n = ev->jfields_alloc != 0 ? ev->jfields_alloc * 2 : 16;
		ev->jfields = xrealloc(ev->jfields, n * sizeof(*ev->jfields));
		ip->meta = xrealloc(ip->meta, n * sizeof(*ip->meta));
		ev->jfields_alloc = n;
	}
	return &ev->jfields[ev->njfields++];
}

/* Set the value of the current top-level field. */
static int
json_value(struct input_parser *ip, const void *p, size_t n,
    enum input_jtype type, bool copy)
{
	struct event *ev = ip->ev;
	struct input_jfield *f;
	struct input_jmeta *m;

	if (ev->njfields == 0)
		return 0;
	f = &ev->jfields[ev->njfields - 1];
	m = &ip->meta[ev->njfields - 1];
	m->type = type;
	if (copy)
		json_set(ip, &f->value, &m->value_off, p, n);
	else
		f->value = input_slice(p, n);
	return 1;
}

/* A scalar below the top-level object: only MESSAGE's bytes matter. */
static void
json_nested_scalar(struct input_parser *ip, const char *num, size_t n)
{
	int v = 0;
	size_t i;
	char c;

	if (!ip->in_bytes || !ip->bytes_ok)
		return;
	if (ip->depth != 2 || num == NULL || n == 0 || n > 3) {
		ip->bytes_ok = false;
		return;
	}
	for (i = 0; i < n; i++) {
		if (!input_digit(num[i])) {
			ip->bytes_ok = false;
			return;
		}
		v = v * 10 + (num[i] - '0');
	}
	if (v > 255) {
		ip->bytes_ok = false;
		return;
	}
	c = (char)(unsigned char)v;
	buf_append(&ip->ev->store, &c, 1);
}

static int
json_cb_null(void *ctx)
{
	struct input_parser *ip = ctx;

	if (ip->depth == 0)
		return 0;
	if (ip->depth == 1)
		return json_value(ip, "null", 4, JT_NULL, false);
	json_nested_scalar(ip, NULL, 0);
	return 1;
}

static int
json_cb_boolean(void *ctx, int v)
{
	struct input_parser *ip = ctx;

	if (ip->depth == 0)
		return 0;
	if (ip->depth == 1)
		return json_value(ip, v ? "true" : "false", v ? 4 : 5, JT_BOOL,
		    false);
	json_nested_scalar(ip, NULL, 0);
	return 1;
}

static int
json_cb_number(void *ctx, const char *s, size_t n)
{
	struct input_parser *ip = ctx;

	if (ip->depth == 0)
		return 0;
	if (ip->depth == 1)
		return json_value(ip, s, n, JT_NUMBER, true);
	json_nested_scalar(ip, s, n);
	return 1;
}

static int
json_cb_string(void *ctx, const unsigned char *s, size_t n)
{
	struct input_parser *ip = ctx;

	if (ip->depth == 0)
		return 0;
	if (ip->depth == 1)
		return json_value(ip, s, n, JT_STRING, true);
	json_nested_scalar(ip, NULL, 0);
	return 1;
}

static int
json_cb_key(void *ctx, const unsigned char *key, size_t n)
{
	struct input_parser *ip = ctx;
	struct input_jfield *f;
	struct input_jmeta *m;
	int k;

	if (ip->depth != 1)
		return 1;
	f = json_field_add(ip);
	m = &ip->meta[ip->ev->njfields - 1];
	json_set(ip, &f->name, &m->name_off, key, n);
	f->value = input_slice(input_empty, 0);
	m->type = JT_NULL;
	m->lazy = false;
	k = json_key_lookup(key, n);
	if (k >= 0 && ip->known[k] == 0)
		ip->known[k] = ip->ev->njfields;
	ip->is_message = k == KEY_MESSAGE;
	return 1;
}

static int
json_open(struct input_parser *ip, bool array)
{
	size_t pos;

	/* One object per line: anything after it, or instead, is not ours. */
	if (ip->depth == 0 && (ip->done || array))
		return 0;
	if (++ip->depth > INPUT_JSON_DEPTH)
		return 0;
	if (ip->depth == 2) {
		/* Just past the bracket: the nested value's text began. */
		pos = yajl_get_bytes_consumed(ip->yh);
		if (pos == 0 || pos > ip->len ||
		    ip->line[pos - 1] != (array ? '[' : '{'))
			return 0;
		ip->nest_start = pos - 1;
		ip->in_bytes = array && ip->bytes && ip->is_message;
		ip->bytes_ok = true;
		ip->bytes_start = ip->ev->store.len;
	} else if (ip->depth > 2)
		ip->bytes_ok = false;
	return 1;
}

/*
 * A nested value is kept as its own text minus the whitespace outside
 * strings: compact JSON with the escapes as written, without re-encoding.
 * Most producers write compact JSON already, so the slice then points
 * straight into the line.
 */
static void
json_compact(struct input_parser *ip, size_t start, size_t end)
{
	struct event *ev = ip->ev;
	struct input_jfield *f = &ev->jfields[ev->njfields - 1];
	struct input_jmeta *m = &ip->meta[ev->njfields - 1];
	const char *s = ip->line;
	size_t i, from, off = ev->store.len;
	bool str = false, copying = false;

	m->type = JT_NESTED;
	for (i = from = start; i < end; i++) {
		if (str) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				str = false;
			continue;
		}
		if (s[i] == '"')
			str = true;
		else if (input_space(s[i])) {
			buf_append(&ev->store, s + from, i - from);
			from = i + 1;
			copying = true;
		}
	}
	if (!copying) {
		f->value = input_slice(s + start, end - start);
		return;
	}
	buf_append(&ev->store, s + from, end - from);
	m->value_off = off;
	f->value = input_slice(NULL, ev->store.len - off);
}

static int
json_close(struct input_parser *ip)
{
	struct event *ev = ip->ev;
	struct buf *store = &ev->store;
	size_t end;

	if (ip->depth == 0)
		return 0;
	if (--ip->depth == 0) {
		ip->done = true;
		ip->end = yajl_get_bytes_consumed(ip->yh);
		return 1;
	}
	if (ip->depth != 1)
		return 1;
	end = yajl_get_bytes_consumed(ip->yh);
	if (ev->njfields == 0 || end <= ip->nest_start || end > ip->len)
		return 0;
	if (ip->in_bytes && ip->bytes_ok) {
		ip->meta[ev->njfields - 1].type = JT_BYTES;
		ip->meta[ev->njfields - 1].value_off = ip->bytes_start;
		ev->jfields[ev->njfields - 1].value =
		    input_slice(NULL, store->len - ip->bytes_start);
	} else {
		/* Not a byte array after all: drop what was decoded. */
		if (store->len > ip->bytes_start) {
			store->len = ip->bytes_start;
			store->data[store->len] = '\0';
		}
		json_compact(ip, ip->nest_start, end);
	}
	ip->in_bytes = false;
	return 1;
}

static int
json_cb_start_map(void *ctx)
{
	return json_open(ctx, false);
}

static int
json_cb_start_array(void *ctx)
{
	return json_open(ctx, true);
}

static int
json_cb_end(void *ctx)
{
	return json_close(ctx);
}

static const yajl_callbacks json_callbacks = {
	.yajl_null = json_cb_null,
	.yajl_boolean = json_cb_boolean,
	.yajl_number = json_cb_number,
	.yajl_string = json_cb_string,
	.yajl_start_map = json_cb_start_map,
	.yajl_map_key = json_cb_key,
	.yajl_end_map = json_cb_end,
	.yajl_start_array = json_cb_start_array,
	.yajl_end_array = json_cb_end,
};

/* The value of a known key if its type is one of `types`. */
static const struct slice *
json_get(const struct event *ev, enum input_key k, unsigned types)
{
	const struct input_parser *ip = ev->parser;
	size_t i = ip->known[k];

	if (i == 0 || (types & JM(ip->meta[i - 1].type)) == 0)
		return NULL;
	return &ev->jfields[i - 1].value;
}

/*
 * The message field: null is an empty message; without the field the
 * message stays the whole line, so rules still see something.
 */
static bool
json_message(struct event *ev, enum input_key k)
{
	const struct slice *s;

	if (ev->parser->known[k] == 0)
		return false;
	if ((s = json_get(ev, k, ~JM(JT_NULL) & JM_ANY)) != NULL)
		ev->msg = *s;
	else
		ev->msg = input_slice(input_empty, 0);
	return true;
}

static bool
json_text(const struct event *ev, enum input_key k, unsigned types,
    struct slice *out)
{
	const struct slice *s;

	if ((s = json_get(ev, k, types)) == NULL || s->n == 0)
		return false;
	*out = *s;
	return true;
}

static int
json_int(const struct event *ev, enum input_key k, int max)
{
	const struct slice *s;

	if ((s = json_get(ev, k, JM_SCALAR)) == NULL)
		return -1;
	return input_int(s, max);
}

/* "sshd[123]:" -> program "sshd", pid "123". */
static void
json_syslogtag(struct event *ev, bool want_program, bool want_pid)
{
	const struct slice *s;
	size_t i, j;

	if ((s = json_get(ev, KEY_SYSLOGTAG, JM_TEXT)) == NULL)
		return;
	for (i = 0; i < s->n && s->p[i] != '[' && s->p[i] != ':' &&
	    !input_space(s->p[i]); i++)
		;
	if (want_program)
		ev->program = input_slice(s->p, i);
	if (want_pid && i < s->n && s->p[i] == '[') {
		for (j = i + 1; j < s->n && s->p[j] != ']'; j++)
			;
		if (j < s->n)
			ev->pid = input_slice(s->p + i + 1, j - i - 1);
	}
}

/*
 * time_parse_rfc3339 with a one-entry cache. Only a time with a zone is
 * cached: without one it is local time (mktime), which depends on TZ.
 */
static bool
json_time(struct input_parser *ip, const struct slice *s, time_t *t)
{
	if (s->n == ip->time_len && s->n != 0 &&
	    memcmp(s->p, ip->time_text, s->n) == 0) {
		*t = ip->time_val;
		return true;
	}
	if (!time_parse_rfc3339(s->p, s->n, t))
		return false;
	if (s->n <= sizeof(ip->time_text) && s->n >= 20 &&
	    (s->p[s->n - 1] == 'Z' || s->p[s->n - 1] == 'z' ||
	    s->p[s->n - 6] == '+' || s->p[s->n - 6] == '-')) {
		memcpy(ip->time_text, s->p, s->n);
		ip->time_len = s->n;
		ip->time_val = *t;
	}
	return true;
}

static void
json_rsyslog(struct event *ev, bool generic)
{
	const struct slice *s;
	bool have_program;
	int pri;

	/* rsyslog keeps the space that followed the tag's colon. */
	if (!generic && json_message(ev, KEY_MSG))
		ev->msg = input_ltrim(ev->msg);
	json_text(ev, KEY_HOSTNAME, JM_TEXT, &ev->host);
	if ((s = json_get(ev, KEY_PROCID, JM_SCALAR)) != NULL &&
	    s->n > 0 && !(s->n == 1 && s->p[0] == '-'))
		ev->pid = *s;
	/* The program as the tag names it, like the plain decoder reads
	 * it: rsyslog's programname stops at '/' ("postfix" for
	 * "postfix/smtpd[12]:"), so the same event would otherwise match
	 * `program = postfix/smtpd` in a file but not through omprog. */
	json_syslogtag(ev, true, ev->pid.n == 0);
	have_program = ev->program.n > 0;
	if (!have_program)
		have_program = json_text(ev, KEY_PROGRAMNAME, JM_TEXT,
		    &ev->program);
	ev->severity = json_int(ev, KEY_SYSLOGSEVERITY, 7);
	ev->facility = json_int(ev, KEY_SYSLOGFACILITY, 23);
	if ((pri = json_int(ev, KEY_PRI, 191)) >= 0) {
		if (ev->severity < 0)
			ev->severity = pri % 8;
		if (ev->facility < 0)
			ev->facility = pri / 8;
	}
	if ((s = json_get(ev, KEY_TIMEREPORTED, JM_TEXT)) != NULL &&
	    !json_time(ev->parser, s, &ev->time))
		ev->time = 0;
}

static void
json_journal(struct event *ev)
{
	const struct slice *s;
	uint64_t us = 0;
	size_t i;

	(void)json_message(ev, KEY_MESSAGE);
	json_text(ev, KEY_J_HOSTNAME, JM_TEXT, &ev->host);
	if (!json_text(ev, KEY_J_IDENTIFIER, JM_TEXT, &ev->program))
		json_text(ev, KEY_J_COMM, JM_TEXT, &ev->program);
	if (!json_text(ev, KEY_J_SYSLOG_PID, JM_SCALAR, &ev->pid))
		json_text(ev, KEY_J_PID, JM_SCALAR, &ev->pid);
	ev->severity = json_int(ev, KEY_J_PRIORITY, 7);
	ev->facility = json_int(ev, KEY_J_FACILITY, 23);
	if ((s = json_get(ev, KEY_J_REALTIME, JM_SCALAR)) == NULL || s->n == 0)
		return;
	for (i = 0; i < s->n; i++) {
		if (!input_digit(s->p[i]) || us > (UINT64_MAX - 9) / 10)
			return;
		us = us * 10 + (uint64_t)(s->p[i] - '0');
	}
	ev->time = (time_t)(us / 1000000);
}

/*
 * One pass of yajl's callback parser over the line: the reference
 * decoder, used for whatever the scanner below is not sure about. The
 * handle is kept between lines (it allows "multiple values", so a
 * finished object leaves it ready for the next one; json_open rejects a
 * second value on the same line); after any error it is dropped, because
 * yajl's error states stick.
 */
static bool
json_yajl(struct event *ev, enum input_format fmt, const char *line,
    size_t len)
{
	struct input_parser *ip = ev->parser;
	struct input_jfield *f;
	struct input_jmeta *m;
	yajl_status st;
	size_t i;

	if (ip->yh == NULL) {
		if ((ip->yh = yajl_alloc(&json_callbacks, NULL, ip)) == NULL)
			fatalx("yajl_alloc failed");
		yajl_config(ip->yh, yajl_allow_multiple_values, 1);
		/* Invalid UTF-8 is repaired later, where it matters. */
		yajl_config(ip->yh, yajl_dont_validate_strings, 1);
	}
	ip->ev = ev;
	ip->line = line;
	ip->len = len;
	ip->depth = 0;
	ip->done = false;
	ip->bytes = fmt != INPUT_RSYSLOG_JSON;
	ip->is_message = false;
	ip->in_bytes = false;
	memset(ip->known, 0, sizeof(ip->known));

	st = yajl_parse(ip->yh, (const unsigned char *)line, len);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(ip->yh);
	/*
	 * yajl reports success on an object followed by an unterminated
	 * string ("{}\"x"): the partial token waits in its lexer for more
	 * input, and would start the next line. Only blanks may follow.
	 */
	for (i = ip->done ? ip->end : len; i < len && input_space(line[i]);
	    i++)
		;
	if (st != yajl_status_ok || !ip->done || i != len) {
		yajl_free(ip->yh);
		ip->yh = NULL;
		return false;
	}
	if (ev->store.truncated)
		return false;

	/* The store has stopped moving: turn offsets into pointers. */
	for (i = 0; i < ev->njfields; i++) {
		f = &ev->jfields[i];
		m = &ip->meta[i];
		if (f->name.p == NULL)
			f->name.p = ev->store.data + m->name_off;
		if (f->value.p == NULL)
			f->value.p = ev->store.data + m->value_off;
	}
	return true;
}

/*
 * The scanner: one hand-written pass for the common line, a top-level
 * object whose values are anything JSON. It validates as strictly as
 * yajl does and gives up (returns false, and yajl decodes the line) on
 * anything it does not handle itself: odd whitespace (\v, \f), nesting
 * deeper than INPUT_JSON_DEPTH, a line longer than the store's cap, or
 * any syntax error. So it accepts a subset of what yajl accepts, and
 * the differential test in test_input_json.c holds it to the same results.
 *
 * It first indexes the line (scan_index: a bit per quote, backslash and
 * control byte, 16 bytes at a time), so finding the end of a string is
 * a bit lookup, not another pass over its bytes. It records each
 * top-level field's raw span and decodes only what the event itself
 * needs (the first value of each known key, in the same pass as its
 * validation); other escaped strings, nested values with blanks and
 * MESSAGE byte arrays stay lazy until input_json_field asks. Everything
 * decoded shrinks and comes from disjoint parts of the line, so once the
 * store holds the line's length it never moves during the line: slices
 * point into it at once. The index takes a bit per byte of the longest
 * line, which the store's cap bounds.
 */

enum input_json_path input_json_path = INPUT_JSON_DEFAULT;

/* Bytes a JSON string scan stops at: '"', '\\' and control characters. */
static const unsigned char scan_special[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
};

/*
 * Decoded bytes go to the store with 16-byte copies that may run past
 * what they decode (scan_copy), so the store keeps this much room
 * beyond the line.
 */
#define SCAN_PAD 32

/* The per-line helpers below are small and run per string or per token. */
#if defined(__GNUC__)
#define SCAN_INLINE static inline __attribute__((always_inline))
#else
#define SCAN_INLINE static inline
#endif

#if defined(__SSE2__) && defined(__GNUC__) && !defined(INPUT_NO_SIMD)
#define SCAN_SSE2 1
#endif

/* A decoded value may hold a byte >= 0x80 (see scan_decode's `high`). */
#define SCAN_HIGH_OUT 0x10000u

/* JSON's own blanks; yajl's other ones (\v, \f) are left to yajl. */
static bool
scan_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

SCAN_INLINE size_t
scan_blanks(const unsigned char *s, size_t i, size_t n)
{
	while (i < n && s[i] <= ' ' && scan_blank(s[i]))
		i++;
	return i;
}

/*
 * scan_blanks where a non-blank is known to follow before n (the
 * closing brace): none, or the one space most producers put after ':'
 * and ',', costs a compare or two.
 */
SCAN_INLINE size_t
scan_skip(const unsigned char *s, size_t i, size_t n)
{
	if (s[i] > ' ')
		return i;
	if (s[i] == ' ' && s[i + 1] > ' ')
		return i + 1;
	return scan_blanks(s, i, n);
}

#if defined(SCAN_SSE2)
/*
 * Sixteen bytes at p: a bit per '"', '\\' or control byte. x ^ 2 maps
 * '"' to 0x20 and keeps a control byte below it, so one unsigned
 * compare (min(y, 0x20) == y) finds both. *high gathers the bytes, for
 * their top bits.
 */
SCAN_INLINE uint64_t
scan_mask16(const unsigned char *p, __m128i *high)
{
	const __m128i two = _mm_set1_epi8(2);
	const __m128i c20 = _mm_set1_epi8(0x20);
	const __m128i bslash = _mm_set1_epi8('\\');
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i y = _mm_xor_si128(x, two);

	*high = _mm_or_si128(*high, x);
	return (uint64_t)(unsigned)_mm_movemask_epi8(_mm_or_si128(
	    _mm_cmpeq_epi8(_mm_min_epu8(y, c20), y),
	    _mm_cmpeq_epi8(x, bslash)));
}
#else
/*
 * Eight bytes at p, without SIMD: exact per-byte tests (no borrow
 * crosses a byte, unlike the "has a zero byte" trick), their high bits
 * gathered into eight bits by one multiplication.
 */
SCAN_INLINE uint64_t
scan_mask8(const unsigned char *p, unsigned *high)
{
	const uint64_t ones = 0x0101010101010101ULL;
	const uint64_t lows = 0x7f7f7f7f7f7f7f7fULL;
	const uint64_t highs = 0x8080808080808080ULL;
	uint64_t x, q, b, t;
	unsigned k;

	x = 0;
	for (k = 0; k < 8; k++)
		x |= (uint64_t)p[k] << (8 * k);
	if ((x & highs) != 0)
		*high |= 1;
	q = x ^ (ones * '"');
	b = x ^ (ones * '\\');
	t = (~(((q & lows) + lows) | q) | ~(((b & lows) + lows) | b) |
	    ~(((x & lows) + ones * 0x60) | x)) & highs;
	return ((t >> 7) * 0x0102040810204080ULL) >> 56;
}
#endif

/*
 * The scanner's index of a line: bit i of stops is set when byte i is
 * '"', '\\' or a control byte, and bit n as a sentinel, so every string
 * is found by looking up its next set bit instead of scanning bytes
 * again. Built in one pass over the line; returns nonzero if the line
 * has a byte >= 0x80.
 */
static unsigned
scan_index(struct input_parser *ip, const unsigned char *s, size_t n)
{
	size_t i = 0, words = n / 64 + 1;
	uint64_t *st, w;
	unsigned high = 0;
#if defined(SCAN_SSE2)
	__m128i hv = _mm_setzero_si128();
#endif

	if (words > ip->stops_alloc) {
		ip->stops = xrealloc(ip->stops, words * sizeof(*ip->stops));
		ip->stops_alloc = words;
	}
	st = ip->stops;
#if defined(SCAN_SSE2)
	for (; n - i >= 64; i += 64)
		st[i / 64] = scan_mask16(s + i, &hv) |
		    scan_mask16(s + i + 16, &hv) << 16 |
		    scan_mask16(s + i + 32, &hv) << 32 |
		    scan_mask16(s + i + 48, &hv) << 48;
	for (w = 0; n - i >= 16; i += 16)
		w |= scan_mask16(s + i, &hv) << (i % 64);
	if (i < n && n >= 16) {
		/* The line's last 16 bytes, shifted to start at byte i. */
		w |= scan_mask16(s + n - 16, &hv) >> (16 - (n - i)) <<
		    (i % 64);
		i = n;
	}
	high = (unsigned)_mm_movemask_epi8(hv);
#else
	for (w = 0; n - i >= 8; i += 8) {
		w |= scan_mask8(s + i, &high) << (i % 64);
		if (i % 64 == 56) {
			st[i / 64] = w;
			w = 0;
		}
	}
#endif
	for (; i < n; i++) {
		high |= s[i] & 0x80;
		if (scan_special[s[i]])
			w |= 1ULL << (i % 64);
	}
	st[n / 64] = w | 1ULL << (n % 64);
	return high;
}

/* The first '"', '\\' or control byte at or after i, or n. */
SCAN_INLINE size_t
scan_stop(const uint64_t *stops, size_t i)
{
	const uint64_t *w = stops + i / 64;
	uint64_t b = *w >> (i % 64);

	if (b != 0)
		return i + (unsigned)__builtin_ctzll(b);
	while (*++w == 0)
		;
	return (size_t)(w - stops) * 64 + (unsigned)__builtin_ctzll(*w);
}

static int
scan_hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Four hex digits at s[0..3] (the caller checked they are there). */
static bool
scan_hex4_ok(const unsigned char *s)
{
	return scan_hex(s[0]) >= 0 && scan_hex(s[1]) >= 0 &&
	    scan_hex(s[2]) >= 0 && scan_hex(s[3]) >= 0;
}

/*
 * The rest of a string from i, its first stop byte (scan_stop's
 * result) when that is not the closing quote: the index of the closing
 * quote, or 0 if the string is not valid JSON. A string that gets here
 * and is valid holds escapes.
 */
static size_t
scan_str_rest(const unsigned char *s, const uint64_t *stops, size_t i,
    size_t n)
{
	for (;;) {
		if (i >= n)
			return 0;
		if (s[i] == '"')
			return i;
		if (s[i] != '\\' || i + 1 >= n)
			return 0;
		switch (s[i + 1]) {
		case '"': case '\\': case '/': case 'b': case 'f': case 'n':
		case 'r': case 't':
			i += 2;
			break;
		case 'u':
			if (n - i < 6 || !scan_hex4_ok(s + i + 2))
				return 0;
			i += 6;
			break;
		default:
			return 0;
		}
		i = scan_stop(stops, i);
	}
}

/*
 * A string whose opening quote is at s[i]: on success *end is just past
 * the closing quote and *esc tells whether it holds escapes.
 */
static bool
scan_string(const unsigned char *s, const uint64_t *stops, size_t i,
    size_t n, size_t *end, bool *esc)
{
	*esc = false;
	i = scan_stop(stops, i + 1);
	if (i >= n || s[i] != '"') {
		i = scan_str_rest(s, stops, i, n);
		if (i == 0)
			return false;
		*esc = true;
	}
	*end = i + 1;
	return true;
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? at s[i]. */
static bool
scan_number(const unsigned char *s, size_t i, size_t n, size_t *end)
{
	size_t k;

	if (i < n && s[i] == '-')
		i++;
	if (i < n && s[i] == '0')
		i++;
	else if (i < n && s[i] >= '1' && s[i] <= '9')
		while (i < n && input_digit((char)s[i]))
			i++;
	else
		return false;
	if (i < n && s[i] == '.') {
		for (k = ++i; i < n && input_digit((char)s[i]); i++)
			;
		if (i == k)
			return false;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		for (k = i; i < n && input_digit((char)s[i]); i++)
			;
		if (i == k)
			return false;
	}
	*end = i;
	return true;
}

/* true, false or null at s[i]: one four-byte compare (and an 'e'). */
static bool
scan_literal(const unsigned char *s, size_t i, size_t n, const char *lit,
    size_t litlen, size_t *end)
{
	uint32_t a, b;

	if (n - i < litlen)
		return false;
	memcpy(&a, s + i, 4);
	memcpy(&b, lit, 4);
	if (a != b || (litlen == 5 && s[i + 4] != 'e'))
		return false;
	*end = i + litlen;
	return true;
}

/* A scalar at s[i]; the type tells which. */
static bool
scan_scalar(const unsigned char *s, const uint64_t *stops, size_t i,
    size_t n, size_t *end, enum input_jtype *type, bool *esc)
{
	*esc = false;
	switch (s[i]) {
	case '"':
		*type = JT_STRING;
		return scan_string(s, stops, i, n, end, esc);
	case 't':
		*type = JT_BOOL;
		return scan_literal(s, i, n, "true", 4, end);
	case 'f':
		*type = JT_BOOL;
		return scan_literal(s, i, n, "false", 5, end);
	case 'n':
		*type = JT_NULL;
		return scan_literal(s, i, n, "null", 4, end);
	default:
		*type = JT_NUMBER;
		return scan_number(s, i, n, end);
	}
}

/*
 * A nested object or array at s[i], validated all the way down with a
 * bit per level (set: array). Depth counts the top-level object as 1,
 * as json_open does. *blank tells whether it has blanks outside strings
 * (then its value has to be compacted).
 */
static bool
scan_nested(const unsigned char *s, const uint64_t *stops, size_t i,
    size_t n, size_t *end, bool *blank)
{
	uint64_t arrays = 0;
	enum input_jtype type;
	int depth = 1;
	size_t j;
	bool esc;

	*blank = false;
	for (;;) {
		/* At a value. */
		if (s[i] == '{' || s[i] == '[') {
			if (++depth > INPUT_JSON_DEPTH)
				return false;
			if (s[i] == '[')
				arrays |= 1ULL << (depth - 2);
			else
				arrays &= ~(1ULL << (depth - 2));
			j = scan_blanks(s, i + 1, n);
			*blank |= j != i + 1;
			if (j >= n)
				return false;
			if (s[j] == (s[i] == '[' ? ']' : '}')) {
				i = j + 1;
				depth--;
			} else if (s[i] == '[') {
				i = j;
				continue;
			} else {
				i = j;
				goto key;
			}
		} else {
			if (!scan_scalar(s, stops, i, n, &i, &type, &esc))
				return false;
		}
		/* After a value: a comma, or the end of one or more levels. */
		for (;;) {
			if (depth == 1) {
				*end = i;
				return true;
			}
			j = scan_blanks(s, i, n);
			*blank |= j != i;
			if ((i = j) >= n)
				return false;
			if (s[i] == ',') {
				j = scan_blanks(s, i + 1, n);
				*blank |= j != i + 1;
				if ((i = j) >= n)
					return false;
				if (arrays & (1ULL << (depth - 2)))
					break;
				goto key;
			}
			if (s[i] != ((arrays & (1ULL << (depth - 2))) ?
			    ']' : '}'))
				return false;
			i++;
			depth--;
		}
		continue;
key:
		if (s[i] != '"' || !scan_string(s, stops, i, n, &i, &esc))
			return false;
		j = scan_blanks(s, i, n);
		*blank |= j != i;
		if ((i = j) >= n || s[i] != ':')
			return false;
		j = scan_blanks(s, i + 1, n);
		*blank |= j != i + 1;
		if ((i = j) >= n)
			return false;
	}
}

static void
scan_utf8(char *out, size_t *o, uint32_t cp)
{
	if (cp < 0x80)
		out[(*o)++] = (char)cp;
	else if (cp < 0x800) {
		out[(*o)++] = (char)(0xc0 | (cp >> 6));
		out[(*o)++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		out[(*o)++] = (char)(0xe0 | (cp >> 12));
		out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*o)++] = (char)(0x80 | (cp & 0x3f));
	} else {
		out[(*o)++] = (char)(0xf0 | (cp >> 18));
		out[(*o)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
		out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*o)++] = (char)(0x80 | (cp & 0x3f));
	}
}

static uint32_t
scan_hex4(const unsigned char *s)
{
	return (uint32_t)(scan_hex(s[0]) << 12 | scan_hex(s[1]) << 8 |
	    scan_hex(s[2]) << 4 | scan_hex(s[3]));
}

/*
 * Copy s[i..j) to out: sixteen bytes at a time when the line holds 16
 * more bytes past j (n is its end), so that no load runs past it. The
 * last chunk may write up to 15 bytes past out + (j - i), which the
 * caller has room for.
 */
SCAN_INLINE void
scan_copy(char *out, const unsigned char *s, size_t i, size_t j, size_t n)
{
#if defined(SCAN_SSE2)
	if (n - i >= j - i + 16) {
		for (; i < j; i += 16, out += 16)
			_mm_storeu_si128((__m128i *)(void *)out,
			    _mm_loadu_si128((const __m128i *)(const void *)
			    (s + i)));
		return;
	}
#else
	(void)n;
#endif
	memcpy(out, s + i, j - i);
}

/*
 * A string from i (just past its opening quote) to its closing quote,
 * validated as scan_str_rest does and unescaped into out in the same
 * pass, exactly as Debian's yajl 2.1.0 does (yajl_string_decode with
 * the CVE-2017-16516 fix), so both paths agree byte for byte: \u0000 is
 * a NUL byte; a high surrogate takes whatever \uXXXX follows as its low
 * half, unchecked, and without one becomes '?'; a lone low surrogate is
 * encoded as it is. Invalid UTF-8 passes through, as yajl is told not
 * to validate. Returns the index of the closing quote (and the decoded
 * length in *olen), or 0 if the string is not valid JSON; SCAN_HIGH_OUT
 * in *high if a \u escape decoded to a byte >= 0x80.
 *
 * Plain runs are copied sixteen bytes at a time (scan_copy), so out
 * needs room for the string's length plus 16: the store keeps SCAN_PAD
 * beyond the line.
 */
static size_t
scan_str_decode(const unsigned char *s, const uint64_t *stops, size_t i,
    size_t n, char *out, size_t *olen, unsigned *high)
{
	size_t o = 0, j;
	uint32_t cp, lo;

	for (;;) {
		j = scan_stop(stops, i);
		scan_copy(out + o, s, i, j, n);
		o += j - i;
		if ((i = j) >= n)
			return 0;
		if (s[i] == '"')
			break;
		if (s[i] != '\\' || i + 1 >= n)
			return 0;
		switch (s[i + 1]) {
		case '"': case '\\': case '/':
			out[o++] = (char)s[i + 1];
			break;
		case 'b':
			out[o++] = '\b';
			break;
		case 'f':
			out[o++] = '\f';
			break;
		case 'n':
			out[o++] = '\n';
			break;
		case 'r':
			out[o++] = '\r';
			break;
		case 't':
			out[o++] = '\t';
			break;
		case 'u':
			if (n - i < 6 || !scan_hex4_ok(s + i + 2))
				return 0;
			cp = scan_hex4(s + i + 2);
			i += 4;
			if ((cp & 0xfc00) == 0xd800) {
				/* A backslash is never a string's last
				 * byte, so the 'u' is still inside it. */
				if (n - i > 3 && s[i + 2] == '\\' &&
				    s[i + 3] == 'u') {
					if (n - i < 8 ||
					    !scan_hex4_ok(s + i + 4))
						return 0;
					lo = scan_hex4(s + i + 4);
					cp = ((cp & 0x3f) << 10) |
					    ((((cp >> 6) & 0xf) + 1) << 16) |
					    (lo & 0x3ff);
					i += 6;
				} else {
					out[o++] = '?';
					break;
				}
			}
			if (cp >= 0x80)
				*high |= SCAN_HIGH_OUT;
			scan_utf8(out, &o, cp);
			break;
		default:
			return 0;
		}
		i += 2;
	}
	*olen = o;
	return i;
}

/*
 * Room in the store for n more bytes without moving it. The scanner
 * reserved the line's length (and SCAN_PAD) up front, so running out is
 * a bug.
 */
static char *
scan_room(struct event *ev, size_t n)
{
	struct buf *store = &ev->store;

	if (store->data == NULL || store->alloc - store->len <= n)
		fatalx("%s: store overrun", __func__);
	return store->data + store->len;
}

static struct slice
scan_commit(struct event *ev, size_t n)
{
	struct buf *store = &ev->store;
	struct slice s = input_slice(store->data + store->len, n);

	store->len += n;
	store->data[store->len] = '\0';
	return s;
}

/*
 * The string of the line being decoded whose content (validated,
 * escaped) starts at byte i and whose closing quote is at byte end,
 * decoded into the store.
 */
static struct slice
scan_unescape(struct event *ev, size_t i, size_t end)
{
	struct input_parser *ip = ev->parser;
	unsigned high = 0;
	size_t o = 0;

	if (scan_str_decode((const unsigned char *)ip->line, ip->stops, i,
	    end + 1, scan_room(ev, end - i + 16), &o, &high) != end)
		fatalx("%s: string changed", __func__);
	return scan_commit(ev, o);
}

/*
 * A MESSAGE array of small numbers as the bytes they stand for, as
 * json_nested_scalar decodes them; false, having written nothing, if
 * any element is something else.
 */
static bool
scan_bytes(struct event *ev, const struct slice *raw, struct slice *out)
{
	const unsigned char *s = (const unsigned char *)raw->p;
	size_t i = 1, n = raw->n, o = 0, k;
	char *dst = scan_room(ev, n);
	int v;

	for (;;) {
		i = scan_blanks(s, i, n);
		if (s[i] == ']' && o == 0)
			break;
		for (k = i, v = 0; i < n && i - k < 4 &&
		    input_digit((char)s[i]); i++)
			v = v * 10 + (s[i] - '0');
		if (i == k || i - k > 3 || v > 255)
			return false;
		i = scan_blanks(s, i, n);
		dst[o++] = (char)v;
		if (s[i] == ']')
			break;
		if (s[i] != ',')
			return false;
		i++;
	}
	*out = scan_commit(ev, o);
	return true;
}

/* A nested value without its blanks outside strings (json_compact). */
static struct slice
scan_compact(struct event *ev, const struct slice *raw)
{
	const char *s = raw->p;
	char *dst = scan_room(ev, raw->n);
	size_t i, o = 0;
	bool str = false;

	for (i = 0; i < raw->n; i++) {
		if (str) {
			if (s[i] == '\\')
				dst[o++] = s[i++];
			else if (s[i] == '"')
				str = false;
		} else if (s[i] == '"')
			str = true;
		else if (scan_blank((unsigned char)s[i]))
			continue;
		dst[o++] = s[i];
	}
	return scan_commit(ev, o);
}

/* Decode lazy field i in place. */
static void
scan_materialize(struct event *ev, size_t i)
{
	struct input_parser *ip = ev->parser;
	struct input_jfield *f = &ev->jfields[i];
	struct input_jmeta *m = &ip->meta[i];
	struct slice raw = f->value;
	size_t at;

	m->lazy = false;
	if (m->type == JT_STRING) {
		/* A lazy string is its content in the line. */
		at = (size_t)(raw.p - ip->line);
		f->value = scan_unescape(ev, at, at + raw.n);
		return;
	}
	if (ip->bytes && raw.p[0] == '[' &&
	    json_key_lookup((const unsigned char *)f->name.p, f->name.n) ==
	    KEY_MESSAGE && scan_bytes(ev, &raw, &f->value)) {
		m->type = JT_BYTES;
		return;
	}
	f->value = scan_compact(ev, &raw);
}

/* Room for one more field (json_field_add, out of the hot loop). */
static void
scan_grow(struct input_parser *ip, size_t nf)
{
	ip->ev->njfields = nf;
	(void)json_field_add(ip);
}

/*
 * The scanner's one pass, over the line and its index (scan_index). It
 * first finds the closing brace (only blanks may follow it), so the
 * loops that skip blanks or digits stop there at the latest, and a byte
 * read just past a token is always inside the line. Each field's name
 * and value are recorded as slices of the line; a known key's first
 * value is decoded into the store at once if it holds escapes
 * (scan_str_decode), other escaped strings stay lazy.
 *
 * `high` ends up zero when the line is all ASCII and so is every value
 * decoded from it: then raw and msg are valid UTF-8 (known_utf8).
 */
static bool
scan_decode(struct event *ev, enum input_format fmt, const char *line,
    size_t len)
{
	static const char pad[SCAN_PAD];
	struct input_parser *ip = ev->parser;
	const unsigned char *s = (const unsigned char *)line;
	const uint64_t *stops;
	/* Running pointers, not indexes: fewer live values in the loop. */
	struct input_jfield *f, *fend;
	struct input_jmeta *m;
	enum input_jtype type;
	size_t i, j, n, o;
	unsigned high;
	uint32_t lazyk = 0;
	bool esc, blank;
	int k;

	/*
	 * Everything decoded comes from inside the braces and shrinks, so
	 * room for the line (with its NUL and the pad) is enough: reserve
	 * it once.
	 */
	if (len > ev->store.cap - SCAN_PAD)
		return false;
	if (ev->store.alloc < len + SCAN_PAD + 1) {
		buf_append(&ev->store, line, len);
		buf_append(&ev->store, pad, SCAN_PAD);
		buf_reset(&ev->store);
	}
	ip->ev = ev;
	ip->line = line;
	ip->len = len;
	ip->bytes = fmt != INPUT_RSYSLOG_JSON;
	memset(ip->known, 0, sizeof(ip->known));
	if (ev->jfields == NULL) {
		/* Arrays to point into from the start. */
		(void)json_field_add(ip);
		ev->njfields = 0;
	}

	for (n = len; n > 0 && scan_blank(s[n - 1]); n--)
		;
	if (n < 2 || s[n - 1] != '}')
		return false;
	/* From here on s[n - 1] is the closing brace. */
	high = scan_index(ip, s, n);
	stops = ip->stops;
	f = ev->jfields;
	fend = f + ev->jfields_alloc;
	m = ip->meta;
	i = scan_blanks(s, 0, n);
	if (s[i] != '{')
		return false;
	i = scan_blanks(s, i + 1, n);
	if (s[i] == '}') {
		if (i != n - 1)
			return false;
		goto done;
	}
	for (;;) {
		if (f == fend) {
			j = (size_t)(f - ev->jfields);
			scan_grow(ip, j);
			f = ev->jfields + j;
			fend = ev->jfields + ev->jfields_alloc;
			m = ip->meta + j;
		}

		/* "key" : */
		if (s[i] != '"')
			return false;
		j = scan_stop(stops, i + 1);
		if (j < n && s[j] == '"') {
			f->name = input_slice((const char *)s + i + 1,
			    j - i - 1);
		} else {
			if ((j = scan_str_rest(s, stops, j, n)) == 0)
				return false;
			f->name = scan_unescape(ev, i + 1, j);
		}
		k = json_key_lookup((const unsigned char *)f->name.p,
		    f->name.n);
		/* The first of a known key: its index + 1. */
		if (k >= 0 && ip->known[k] == 0)
			ip->known[k] = (size_t)(f - ev->jfields) + 1;
		else
			k = -1;
		/* The quote was not the last byte, so s[j + 1] is. */
		i = j + 1;
		if (s[i] != ':') {
			i = scan_blanks(s, i, n);
			if (s[i] != ':')
				return false;
		}
		i = scan_skip(s, i + 1, n);

		/* The value, or its raw text if it needs decoding. */
		m->lazy = false;
		if (s[i] == '"') {
			m->type = JT_STRING;
			j = scan_stop(stops, i + 1);
			if (j < n && s[j] == '"') {
				f->value = input_slice((const char *)s + i + 1,
				    j - i - 1);
			} else if (k >= 0) {
				/* The event is made of it: decode now. */
				j = scan_str_decode(s, stops, i + 1, n,
				    scan_room(ev, n - i + 16), &o, &high);
				if (j == 0)
					return false;
				f->value = scan_commit(ev, o);
			} else {
				if ((j = scan_str_rest(s, stops, j, n)) == 0)
					return false;
				f->value = input_slice((const char *)s + i + 1,
				    j - i - 1);
				m->lazy = true;
			}
			i = j + 1;
		} else if (s[i] == '{' || s[i] == '[') {
			/* It may end at the line's last brace: then the
			 * object itself is not closed. */
			if (!scan_nested(s, stops, i, n, &j, &blank) || j >= n)
				return false;
			m->type = JT_NESTED;
			f->value = input_slice((const char *)s + i, j - i);
			m->lazy = blank || (s[i] == '[' && ip->bytes &&
			    json_key_lookup((const unsigned char *)f->name.p,
			    f->name.n) == KEY_MESSAGE);
			if (k >= 0 && m->lazy)
				lazyk |= 1u << k;
			i = j;
		} else {
			if (!scan_scalar(s, stops, i, n, &j, &type, &esc))
				return false;
			m->type = type;
			f->value = input_slice((const char *)s + i, j - i);
			i = j;
		}
		f++;
		m++;

		/* No value ends at the closing brace, so s[i] is in. */
		i = scan_skip(s, i, n);
		if (s[i] == ',') {
			i = scan_skip(s, i + 1, n);
			continue;
		}
		if (s[i] == '}' && i == n - 1)
			break;
		return false;
	}
done:
	ev->njfields = (size_t)(f - ev->jfields);
	/* What the event is made of is decoded now, the rest on demand. */
	for (; lazyk != 0; lazyk &= lazyk - 1) {
		k = __builtin_ctz(lazyk);
		scan_materialize(ev, ip->known[k] - 1);
		if (ip->meta[ip->known[k] - 1].type == JT_BYTES)
			high |= SCAN_HIGH_OUT;
	}
	ev->known_utf8 = high == 0;
	return true;
}

/* Fill in the event from the fields of a decoded JSON line. */
static void
json_event(struct event *ev, enum input_format fmt)
{
	struct input_parser *ip = ev->parser;

	ev->json = true;
	switch (fmt) {
	case INPUT_JOURNAL_JSON:
		ev->format = INPUT_JOURNAL_JSON;
		json_journal(ev);
		break;
	case INPUT_RSYSLOG_JSON:
		ev->format = INPUT_RSYSLOG_JSON;
		json_rsyslog(ev, false);
		break;
	default:
		if (ip->known[KEY_MESSAGE] != 0) {
			ev->format = INPUT_JOURNAL_JSON;
			json_journal(ev);
		} else {
			ev->format = INPUT_RSYSLOG_JSON;
			json_rsyslog(ev, ip->known[KEY_MSG] == 0);
		}
		break;
	}
}

static bool
json_decode(struct event *ev, enum input_format fmt, const char *line,
    size_t len)
{
	if (len > ev->store.cap)
		return false;
	if (ev->store.data == NULL)
		buf_append(&ev->store, "", 0);
	if (input_json_path != INPUT_JSON_YAJL) {
		if (scan_decode(ev, fmt, line, len)) {
			json_event(ev, fmt);
			return true;
		}
		ev->njfields = 0;
		buf_reset(&ev->store);
		if (input_json_path == INPUT_JSON_SCANNER)
			return false;
	}
	if (!json_yajl(ev, fmt, line, len))
		return false;
	json_event(ev, fmt);
	return true;
}

/* Plain text */

/* "<PRI>": 1 to 3 digits, at most 191 (facility 23, severity 7). */
static bool
plain_pri(const char *s, size_t n, size_t *i, int *pri)
{
	size_t j;
	int v = 0;

	if (n < 3 || s[0] != '<')
		return false;
	for (j = 1; j < n && j <= 3 && input_digit(s[j]); j++)
		v = v * 10 + (s[j] - '0');
	if (j == 1 || j >= n || s[j] != '>' || v > 191)
		return false;
	*pri = v;
	*i = j + 1;
	return true;
}

/* Two digits at s[i], or -1. */
static int
plain_2digits(const char *s, size_t n, size_t i)
{
	if (i + 2 > n || !input_digit(s[i]) || !input_digit(s[i + 1]))
		return -1;
	return (s[i] - '0') * 10 + (s[i + 1] - '0');
}


/*
 * The epoch of a local hour. Not mktime: glibc's re-checks the zone
 * (strdup and stat of /etc/localtime) on every call when TZ is unset.
 * Instead take the wall time as if it were UTC and correct it by the
 * zone's offset at that instant, twice to settle across a DST change.
 * Offsets only change on hour boundaries, so the result is cached by
 * hour; two slots cover lines that alternate across a year end.
 */
static time_t
plain_local_hour(struct input_parser *ip, int year, int mon, int mday,
    int hour)
{
	struct tm tm;
	time_t wall, t;
	long key;
	unsigned i;

	key = (((long)year * 12 + mon) * 32 + mday) * 24 + hour;
	for (i = 0; i < 2; i++)
		if (ip->hours[i].key == key)
			return ip->hours[i].t;
	wall = (time_t)(time_days_from_civil(year, (unsigned)mon + 1,
	    (unsigned)mday) * 86400 + hour * 3600);
	t = wall;
	for (i = 0; i < 2; i++) {
		if (localtime_r(&t, &tm) == NULL)
			return (time_t)-1;
		t = wall - tm.tm_gmtoff;
	}
	i = ip->hour_next;
	ip->hour_next = !i;
	ip->hours[i].key = key;
	ip->hours[i].t = t;
	return t;
}

static time_t
plain_local(struct input_parser *ip, int year, int mon, int mday, int hour,
    int minsec)
{
	time_t t = plain_local_hour(ip, year, mon, mday, hour);

	return t == (time_t)-1 ? 0 : t + minsec;
}

/*
 * RFC 3164 timestamps have no year: take the current local year, unless
 * that puts the line more than a day ahead (December's lines read in
 * January), or a year behind when the sender's clock has already passed
 * midnight on New Year's Eve.
 */
static time_t
plain_year(struct input_parser *ip, int mon, int mday, int hour, int minsec)
{
	time_t now = clock_now(), t, t2;
	struct tm tm;

	if (now != ip->now_at || ip->now_year == 0) {
		if (localtime_r(&now, &tm) == NULL)
			return 0;
		ip->now_at = now;
		ip->now_year = tm.tm_year + 1900;
		ip->now_mon = tm.tm_mon;
	}
	t = plain_local(ip, ip->now_year, mon, mday, hour, minsec);
	if (t > now + 86400)
		return plain_local(ip, ip->now_year - 1, mon, mday, hour,
		    minsec);
	if (mon == 0 && ip->now_mon == 11 && t + 86400 < now) {
		t2 = plain_local(ip, ip->now_year + 1, mon, mday, hour,
		    minsec);
		if (t2 != 0 && t2 <= now + 86400)
			return t2;
	}
	return t;
}

/* "Mmm dd hh:mm:ss" (day space-padded or not), optional fraction. */
static bool
plain_rfc3164(struct input_parser *ip, const char *s, size_t n, size_t i,
    time_t *t, size_t *end)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	int mon, day, hh, mm, ss;

	if (n - i < 14)
		return false;
	for (mon = 0; mon < 12; mon++)
		if (memcmp(s + i, months + 3 * mon, 3) == 0)
			break;
	if (mon == 12 || s[i + 3] != ' ')
		return false;
	i += 4;
	if (s[i] == ' ')
		i++;
	if (i >= n || !input_digit(s[i]))
		return false;
	day = s[i++] - '0';
	if (i < n && input_digit(s[i]))
		day = day * 10 + (s[i++] - '0');
	if (i >= n || s[i] != ' ' || day < 1 || day > 31)
		return false;
	i++;
	hh = plain_2digits(s, n, i);
	mm = plain_2digits(s, n, i + 3);
	ss = plain_2digits(s, n, i + 6);
	if (hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60 ||
	    s[i + 2] != ':' || s[i + 5] != ':')
		return false;
	i += 8;
	if (i + 1 < n && s[i] == '.' && input_digit(s[i + 1]))
		for (i++; i < n && input_digit(s[i]); i++)
			;
	if (i < n && s[i] != ' ')
		return false;
	*t = plain_year(ip, mon, day, hh, mm * 60 + ss);
	*end = i;
	return true;
}

/* An RFC 3339 timestamp token (RSYSLOG_FileFormat, forwarding formats). */
static bool
plain_rfc3339(const char *s, size_t n, size_t i, time_t *t, size_t *end)
{
	size_t j;

	if (n - i < 19 || !input_digit(s[i]) || s[i + 4] != '-' ||
	    s[i + 10] != 'T')
		return false;
	for (j = i; j < n && s[j] != ' '; j++)
		;
	if (!time_parse_rfc3339(s + i, j - i, t))
		return false;
	*end = j;
	return true;
}

/*
 * A syslog tag, "name:" or "name[pid]:", followed by a blank or the end.
 * Demanding the colon and the blank keeps ordinary text ("see: x",
 * IPv6 addresses) from being taken for a tag.
 */
static bool
plain_tag(struct event *ev, const char *s, size_t n, size_t i, size_t *end)
{
	size_t j, k;
	struct slice pid;

	for (j = i; j < n && j - i <= INPUT_TAG_MAX && s[j] != ':' &&
	    s[j] != '[' && (unsigned char)s[j] > ' ' && s[j] != 0x7f; j++)
		;
	if (j == i || j - i > INPUT_TAG_MAX || j >= n)
		return false;
	pid = input_slice(input_empty, 0);
	if (s[j] == '[') {
		for (k = j + 1; k < n && k - j - 1 <= INPUT_PID_MAX &&
		    s[k] != ']' && (unsigned char)s[k] > ' '; k++)
			;
		if (k >= n || s[k] != ']')
			return false;
		pid = input_slice(s + j + 1, k - j - 1);
		k++;
	} else
		k = j;
	if (k >= n || s[k] != ':' || (k + 1 < n && s[k + 1] != ' ' &&
	    s[k + 1] != '\t'))
		return false;
	ev->program = input_slice(s + i, j - i);
	ev->pid = pid;
	*end = k + 1;
	return true;
}

/*
 * After a timestamp: "host tag: msg", "host msg", or, from a local
 * socket, "tag: msg" with no host (a hostname never ends in a colon).
 */
static void
plain_host_tag(struct event *ev, const char *s, size_t n, size_t i)
{
	size_t j;

	while (i < n && s[i] == ' ')
		i++;
	if (plain_tag(ev, s, n, i, &j)) {
		ev->msg = input_ltrim(input_slice(s + j, n - j));
		return;
	}
	for (j = i; j < n && s[j] != ' '; j++)
		;
	ev->host = input_slice(s + i, j - i);
	while (j < n && s[j] == ' ')
		j++;
	if (plain_tag(ev, s, n, j, &i))
		j = i;
	ev->msg = input_ltrim(input_slice(s + j, n - j));
}

/* The next space-delimited RFC 5424 field; "-" is empty. */
static struct slice
plain_field(const char *s, size_t n, size_t *i)
{
	size_t a = *i;
	struct slice f;

	while (*i < n && s[*i] != ' ')
		(*i)++;
	f = input_slice(s + a, *i - a);
	if (*i < n)
		(*i)++;
	if (f.n == 1 && f.p[0] == '-')
		f = input_slice(input_empty, 0);
	return f;
}

/*
 * Skip RFC 5424 structured data: one or more "[id name="value"...]".
 * Inside a value a backslash escapes '"', '\' and ']', so quotes are
 * tracked rather than searching for the first ']'.
 */
static bool
plain_sd_skip(const char *s, size_t n, size_t *i)
{
	size_t k = *i;
	bool quoted;

	while (k < n && s[k] == '[') {
		quoted = false;
		for (k++; k < n; k++) {
			if (quoted) {
				if (s[k] == '\\')
					k++;
				else if (s[k] == '"')
					quoted = false;
			} else if (s[k] == '"')
				quoted = true;
			else if (s[k] == ']')
				break;
		}
		if (k >= n)
			return false;
		k++;
	}
	*i = k;
	return true;
}

/* "<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD [MSG]"; i is past the PRI. */
static bool
plain_rfc5424(struct event *ev, const char *s, size_t n, size_t i)
{
	struct slice ts, host, app, procid;
	time_t t = 0;

	if (n - i < 2 || s[i] != '1' || s[i + 1] != ' ')
		return false;
	i += 2;
	ts = plain_field(s, n, &i);
	if (ts.n > 0 && !time_parse_rfc3339(ts.p, ts.n, &t))
		return false;
	host = plain_field(s, n, &i);
	app = plain_field(s, n, &i);
	procid = plain_field(s, n, &i);
	(void)plain_field(s, n, &i); /* MSGID */
	ev->time = t;
	ev->host = host;
	ev->program = app;
	ev->pid = procid;
	/* Unterminated structured data is kept as the message. */
	if (i < n && s[i] == '-')
		i++;
	else if (i < n && s[i] == '[')
		(void)plain_sd_skip(s, n, &i);
	if (i < n && s[i] == ' ')
		i++;
	if (n - i >= 3 && memcmp(s + i, "\xef\xbb\xbf", 3) == 0)
		i += 3;
	ev->msg = input_ltrim(input_slice(s + i, n - i));
	return true;
}

/*
 * Only a line that starts with a PRI or a complete timestamp has a
 * header: "Error: disk failed" is a message, not a tag.
 */
static void
plain_decode(struct event *ev, const char *s, size_t n)
{
	size_t i = 0, end;
	int pri = -1;
	time_t t;

	ev->format = INPUT_PLAIN;
	if (plain_pri(s, n, &i, &pri)) {
		ev->severity = pri % 8;
		ev->facility = pri / 8;
		if (plain_rfc5424(ev, s, n, i))
			return;
	}
	if (plain_rfc3339(s, n, i, &t, &end) ||
	    plain_rfc3164(ev->parser, s, n, i, &t, &end)) {
		ev->time = t;
		plain_host_tag(ev, s, n, end);
		return;
	}
	if (pri >= 0)
		ev->msg = input_ltrim(input_slice(s + i, n - i));
}

/* API */

void
input_event_init(struct event *ev)
{
	if (input_keys_bylen[input_keys[KEY_MESSAGE].len] == 0)
		json_keys_init();
	memset(ev, 0, sizeof(*ev));
	buf_init(&ev->store, INPUT_STORE_MAX);
	ev->parser = xcalloc(1, sizeof(*ev->parser));
	ev->parser->hours[0].key = ev->parser->hours[1].key = -1;
	input_reset(ev, input_empty, 0);
}

void
input_event_free(struct event *ev)
{
	if (ev == NULL)
		return;
	if (ev->parser != NULL) {
		if (ev->parser->yh != NULL)
			yajl_free(ev->parser->yh);
		free(ev->parser->meta);
		free(ev->parser->stops);
		free(ev->parser);
	}
	free(ev->jfields);
	buf_free(&ev->store);
	memset(ev, 0, sizeof(*ev));
}

void
input_decode(struct event *ev, enum input_format fmt, const char *line,
    size_t len)
{
	size_t i;
	bool brace;

	if (line == NULL) {
		line = input_empty;
		len = 0;
	}
	if (len > 0 && line[len - 1] == '\r')
		len--;
	input_reset(ev, line, len);
	if (fmt != INPUT_PLAIN) {
		for (i = 0; i < len && input_space(line[i]); i++)
			;
		brace = i < len && line[i] == '{';
		if (brace && json_decode(ev, fmt, line, len))
			return;
		if (brace || fmt != INPUT_AUTO)
			ev->json_error = true;
		ev->njfields = 0;
		buf_reset(&ev->store);
	}
	plain_decode(ev, line, len);
}

/*
 * Field i's value. Decoding a lazy value only fills in a cache, so the
 * lookup stays const for its callers; the parser holds the event it
 * decoded as mutable.
 */
static const struct slice *
json_field_value(const struct event *ev, size_t i)
{
	if (ev->parser->meta[i].lazy) {
		if (ev->parser->ev != ev)
			fatalx("%s: event moved", __func__);
		scan_materialize(ev->parser->ev, i);
	}
	return &ev->jfields[i].value;
}

const struct slice *
input_json_field(const struct event *ev, const char *name, size_t namelen)
{
	size_t i;
	int k;

	if (!ev->json)
		return NULL;
	/* A key the decoder knows has its first field's index at hand. */
	if ((k = json_key_lookup((const unsigned char *)name, namelen)) >= 0)
		return ev->parser->known[k] != 0 ?
		    json_field_value(ev, ev->parser->known[k] - 1) : NULL;
	for (i = 0; i < ev->njfields; i++)
		if (ev->jfields[i].name.n == namelen &&
		    memcmp(ev->jfields[i].name.p, name, namelen) == 0)
			return json_field_value(ev, i);
	return NULL;
}

static const char *const input_format_names[] = {
	[INPUT_AUTO] = "auto",
	[INPUT_PLAIN] = "plain",
	[INPUT_RSYSLOG_JSON] = "rsyslog-json",
	[INPUT_JOURNAL_JSON] = "journal-json",
};

bool
input_format_parse(const char *s, enum input_format *fmt)
{
	size_t i;

	for (i = 0; i < sizeof(input_format_names) /
	    sizeof(input_format_names[0]); i++) {
		if (strcmp(s, input_format_names[i]) == 0) {
			*fmt = (enum input_format)i;
			return true;
		}
	}
	return false;
}

const char *
input_format_name(enum input_format fmt)
{
	if ((unsigned)fmt >= sizeof(input_format_names) /
	    sizeof(input_format_names[0]))
		return "unknown";
	return input_format_names[fmt];
}

const char *
input_severity_name(int sev)
{
	static const char *const names[] = {
		"emerg", "alert", "crit", "err", "warning", "notice", "info",
		"debug"
	};

	if (sev < 0 || sev > 7)
		return "";
	return names[sev];
}

const char *
input_facility_name(int fac)
{
	static const char *const names[] = {
		"kern", "user", "mail", "daemon", "auth", "syslog", "lpr",
		"news", "uucp", "cron", "authpriv", "ftp", "ntp", "security",
		"console", "solaris-cron", "local0", "local1", "local2",
		"local3", "local4", "local5", "local6", "local7"
	};

	if (fac < 0 || fac > 23)
		return "";
	return names[fac];
}
