/*
 * fuzz_input.c: decoding one input line (input.h) in every format: auto,
 * plain (RFC 3164/5424 headers), rsyslog JSON and journal JSON. One event
 * decodes all four in turn, as the pipeline reuses one for every line;
 * then the line is decoded again with each JSON decoder alone (yajl, the
 * scanner), which the default path only reaches when the other gives up.
 * After each decoding every slice is read in full (ASan checks it points
 * at live memory) and JSON fields are looked up: the names the templates
 * and rules use, and every field the line has (lazy values are decoded
 * on lookup).
 */
#include <stdbool.h>

#include "fuzz.h"
#include "input.h"

static const char *const fuzz_names[] = {
	"msg", "MESSAGE", "hostname", "_HOSTNAME", "programname",
	"syslogtag", "SYSLOG_IDENTIFIER", "PRIORITY", "procid", "_PID",
	"timereported", "__REALTIME_TIMESTAMP", "severity", "facility",
	"missing", "",
};

static volatile unsigned fuzz_sink;

static void
fuzz_touch(const struct slice *s)
{
	unsigned h = 0;
	size_t i;

	if (s->n > 0 && s->p == NULL)
		abort();
	for (i = 0; i < s->n; i++)
		h = h * 31 + (unsigned char)s->p[i];
	fuzz_sink += h;
}

static void
fuzz_check(struct event *ev)
{
	const struct slice *v;
	char name[256];
	size_t i, n;

	if (ev->format == INPUT_AUTO || ev->severity < -1 ||
	    ev->severity > 7 || ev->facility < -1 || ev->facility > 23)
		abort();
	fuzz_touch(&ev->raw);
	fuzz_touch(&ev->msg);
	fuzz_touch(&ev->host);
	fuzz_touch(&ev->program);
	fuzz_touch(&ev->pid);
	(void)input_severity_name(ev->severity);
	(void)input_facility_name(ev->facility);
	for (i = 0; i < sizeof(fuzz_names) / sizeof(fuzz_names[0]); i++)
		if ((v = input_json_field(ev, fuzz_names[i],
		    strlen(fuzz_names[i]))) != NULL)
			fuzz_touch(v);
	if (!ev->json)
		return;
	for (i = 0; i < ev->njfields; i++) {
		/* A copy: the lookup may decode into the event's storage. */
		n = ev->jfields[i].name.n;
		if (n > sizeof(name))
			continue;
		memcpy(name, ev->jfields[i].name.p, n);
		if ((v = input_json_field(ev, name, n)) == NULL)
			abort(); /* a field the event lists must be found */
		fuzz_touch(v);
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_pin_process();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum input_format formats[] = { INPUT_AUTO, INPUT_PLAIN,
	    INPUT_RSYSLOG_JSON, INPUT_JOURNAL_JSON };
	static const enum input_json_path paths[] = { INPUT_JSON_YAJL,
	    INPUT_JSON_SCANNER };
	const char *line = (const char *)data;
	struct event ev;
	size_t i;

	input_json_path = INPUT_JSON_DEFAULT;
	input_event_init(&ev);
	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		input_decode(&ev, formats[i], line, size);
		fuzz_check(&ev);
	}
	input_event_free(&ev);

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		input_json_path = paths[i];
		input_event_init(&ev);
		input_decode(&ev, INPUT_AUTO, line, size);
		fuzz_check(&ev);
		input_event_free(&ev);
	}
	input_json_path = INPUT_JSON_DEFAULT;
	return 0;
}
