/*
 * input.h: decoding one input line into an event.
 *
 * Formats: plain text (with an optional RFC 3164 or RFC 5424 header),
 * rsyslog JSON (%jsonmesg%) and journal JSON (journalctl -o json). Rules
 * see the message by default, so one rule matches the same event whichever
 * way it arrives. Decoding never fails: a line that claims to be JSON but
 * does not parse is treated as plain text and counted.
 *
 * Ownership: an event owns its buffers and is reused for every line
 * (input_decode resets it), so the hot path does not allocate once the
 * buffers have grown to the working size.
 */
#ifndef OMK_INPUT_H
#define OMK_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "util.h"

enum input_format {
	INPUT_AUTO = 0,
	INPUT_PLAIN,
	INPUT_RSYSLOG_JSON,
	INPUT_JOURNAL_JSON,
};

/* Private to input.c: the reused JSON parser and its per-line state. */
struct input_parser;

/* A slice of a string owned by the event (or the raw line). */
struct slice {
	const char *p;
	size_t n;
};

struct input_jfield {
	struct slice name;
	/*
	 * Strings unescaped; numbers, true/false/null as written;
	 * objects/arrays as compact JSON text. Read values through
	 * input_json_field(): a value that needs decoding (escapes, blanks
	 * in a nested value, a byte array) is decoded on its first lookup
	 * and until then may still be its raw text.
	 */
	struct slice value;
};

struct event {
	struct slice raw;      /* the whole input line, without CR/LF */
	struct slice msg;      /* the message: what ${line} is and rules match by default */
	struct slice host;     /* hostname, may be empty */
	struct slice program;  /* program name / tag without pid and ':' */
	struct slice pid;      /* may be empty */
	int severity;          /* 0..7, or -1 unknown */
	int facility;          /* 0..23, or -1 unknown */
	time_t time;           /* the event's own time, or 0 if the line carries none */
	enum input_format format; /* what the line was decoded as (never AUTO) */
	bool json;             /* decoded from JSON: json fields are valid */
	bool json_error;       /* looked like JSON but did not parse: decoded as plain */
	/*
	 * The decoder saw that raw and msg are valid UTF-8 (a JSON line
	 * that is all ASCII, and whose message decodes to ASCII), so
	 * matching need not check them again; false: not known.
	 */
	bool known_utf8;

	/* Top-level JSON fields, in input order (for ${json.NAME}). */
	struct input_jfield *jfields;
	size_t njfields;
	size_t jfields_alloc;

	/* Storage the slices point into; private to input.c. */
	struct buf store;
	struct input_parser *parser; /* private to input.c */
};

void input_event_init(struct event *ev);
void input_event_free(struct event *ev);

/*
 * Decode line[0..len) (no trailing newline; may contain any bytes) as
 * `fmt`. The event's slices point into `line` or into the event's own
 * storage: `line` must outlive the use of the event.
 */
void input_decode(struct event *ev, enum input_format fmt, const char *line,
    size_t len);

/*
 * Look up a top-level JSON field (the first of duplicates); NULL if
 * absent or the line was not JSON. Decodes the value on first use, so
 * the event must not be shared between threads.
 */
const struct slice *input_json_field(const struct event *ev, const char *name,
    size_t namelen);

/*
 * For tests: which JSON decoder input_decode uses. By default the
 * scanner, with yajl for whatever the scanner leaves; the others use
 * only one of them (with the scanner alone, a line it leaves is taken
 * as not JSON).
 */
enum input_json_path {
	INPUT_JSON_DEFAULT = 0,
	INPUT_JSON_YAJL,
	INPUT_JSON_SCANNER,
};
extern enum input_json_path input_json_path;

/* "auto", "plain", "rsyslog-json", "journal-json" -> format; false if unknown. */
bool input_format_parse(const char *s, enum input_format *fmt);
const char *input_format_name(enum input_format fmt);

/* Severity / facility keywords (err, auth, ...); "" for -1. */
const char *input_severity_name(int sev);
const char *input_facility_name(int fac);

#endif
