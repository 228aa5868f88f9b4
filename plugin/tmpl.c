#include "tmpl.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

enum tmpl_kind {
	TK_LITERAL,
	TK_CAPTURE,
	TK_LINE,
	TK_RAW,
	TK_HOST,
	TK_PROGRAM,
	TK_PID,
	TK_SEVERITY,
	TK_FACILITY,
	TK_TIME,
	TK_RULE,
	TK_KEY,
	TK_COUNT,
	TK_FIRST_SEEN,
	TK_LAST_SEEN,
	TK_NOW,
	TK_JSON,
};

static const struct {
	const char *name;
	enum tmpl_kind kind;
} tmpl_builtins[] = {
	{ "line", TK_LINE },
	{ "message", TK_LINE },
	{ "raw", TK_RAW },
	{ "host", TK_HOST },
	{ "program", TK_PROGRAM },
	{ "pid", TK_PID },
	{ "severity", TK_SEVERITY },
	{ "facility", TK_FACILITY },
	{ "time", TK_TIME },
	{ "rule", TK_RULE },
	{ "key", TK_KEY },
	{ "count", TK_COUNT },
	{ "first_seen", TK_FIRST_SEEN },
	{ "last_seen", TK_LAST_SEEN },
	{ "now", TK_NOW },
};

struct tmpl_part {
	enum tmpl_kind kind;
	int group;         /* TK_CAPTURE */
	char *text;        /* TK_LITERAL text, TK_JSON field name */
	size_t len;
	char *fallback;    /* NULL: none */
	size_t fallback_len;
};

struct tmpl {
	struct tmpl_part *parts;
	size_t n;
	char *src;
	unsigned uses;
};

void
tmpl_free(struct tmpl *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++) {
		free(t->parts[i].text);
		free(t->parts[i].fallback);
	}
	free(t->parts);
	free(t->src);
	free(t);
}

static struct tmpl_part *tmpl_add(struct tmpl *t, enum tmpl_kind kind);

struct tmpl *
tmpl_new_literal(const char *s)
{
	struct tmpl *t = xcalloc(1, sizeof(*t));
	struct tmpl_part *p;

	t->src = xstrdup(s);
	if (*s != '\0') {
		p = tmpl_add(t, TK_LITERAL);
		p->len = strlen(s);
		p->text = xstrndup(s, p->len);
	}
	return t;
}

static struct tmpl_part *
tmpl_add(struct tmpl *t, enum tmpl_kind kind)
{
	struct tmpl_part *p;

	t->parts = xrealloc(t->parts, (t->n + 1) * sizeof(*t->parts));
	p = &t->parts[t->n++];
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	return p;
}

/* Decode the escapes of a literal run into b. */
static void
tmpl_unescape(struct buf *b, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n) {
			switch (s[i + 1]) {
			case 'n': buf_appendc(b, '\n'); i++; continue;
			case 't': buf_appendc(b, '\t'); i++; continue;
			case '\\': buf_appendc(b, '\\'); i++; continue;
			case '$': buf_appendc(b, '$'); i++; continue;
			default: break;
			}
		}
		buf_appendc(b, s[i]);
	}
}

static void
tmpl_add_literal(struct tmpl *t, const char *s, size_t n)
{
	struct tmpl_part *p;
	struct buf b;

	if (n == 0)
		return;
	buf_init(&b, SIZE_MAX / 2);
	tmpl_unescape(&b, s, n);
	if (t->n > 0 && t->parts[t->n - 1].kind == TK_LITERAL) {
		p = &t->parts[t->n - 1];
		p->text = xrealloc(p->text, p->len + b.len + 1);
		memcpy(p->text + p->len, b.data, b.len + 1);
		p->len += b.len;
		buf_free(&b);
		return;
	}
	p = tmpl_add(t, TK_LITERAL);
	p->text = buf_detach(&b, &p->len);
}

/* Resolve a variable name to a part; false (and a diagnostic) if unknown. */
static bool
tmpl_resolve(struct tmpl *t, struct tmpl_part *p, const char *name,
    size_t len, const pcre2_code *re, struct diags *d, const char *file,
    int line, const char *what)
{
	uint32_t ncap = 0;
	char tmp[256];
	size_t i;
	int num;

	if (re != NULL)
		pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &ncap);
	if (len == 0) {
		diag_error(d, file, line, "%s: empty ${} in template", what);
		return false;
	}
	if (len >= sizeof(tmp)) {
		diag_error(d, file, line, "%s: variable name too long", what);
		return false;
	}
	memcpy(tmp, name, len);
	tmp[len] = '\0';
	if (isdigit((unsigned char)tmp[0])) {
		for (i = 0; i < len; i++)
			if (!isdigit((unsigned char)tmp[i]))
				goto bad;
		num = atoi(tmp);
		if (len > 2 || (uint32_t)num > ncap) {
			diag_error(d, file, line,
			    "%s: ${%s} but the regex has %u capture group%s",
			    what, tmp, ncap, ncap == 1 ? "" : "s");
			return false;
		}
		p->kind = TK_CAPTURE;
		p->group = num;
		if (num > 0)
			t->uses |= TMPL_USES_CAPTURES;
		return true;
	}
	if (strncmp(tmp, "json.", 5) == 0) {
		if (len == 5)
			goto bad;
		p->kind = TK_JSON;
		p->text = xstrndup(tmp + 5, len - 5);
		p->len = len - 5;
		t->uses |= TMPL_USES_JSON;
		return true;
	}
	for (i = 0; i < len; i++)
		if (!(isalnum((unsigned char)tmp[i]) || tmp[i] == '_'))
			goto bad;
	/* A named capture wins over a built-in of the same name: the rule
	 * author chose the name on purpose. */
	if (re != NULL) {
		num = pcre2_substring_number_from_name(re, (PCRE2_SPTR)tmp);
		if (num > 0) {
			p->kind = TK_CAPTURE;
			p->group = num;
			t->uses |= TMPL_USES_CAPTURES;
			return true;
		}
	}
	for (i = 0; i < sizeof(tmpl_builtins) / sizeof(tmpl_builtins[0]); i++) {
		if (strcmp(tmpl_builtins[i].name, tmp) == 0) {
			p->kind = tmpl_builtins[i].kind;
			if (p->kind == TK_KEY)
				t->uses |= TMPL_USES_KEY;
			return true;
		}
	}
	if (re == NULL)
		diag_error(d, file, line, "%s: unknown variable ${%s}", what,
		    tmp);
	else
		diag_error(d, file, line, "%s: ${%s} names no capture group "
		    "of the regex and no built-in variable", what, tmp);
	return false;
bad:
	diag_error(d, file, line, "%s: malformed variable ${%s}", what, tmp);
	return false;
}

struct tmpl *
tmpl_compile(const char *src, const pcre2_code *re, struct diags *d,
    const char *file, int line, const char *what)
{
	struct tmpl *t;
	const char *p = src, *lit = src, *close, *name, *sep;
	size_t errors = d->errors;
	struct tmpl_part *part;
	struct buf fb;

	t = xcalloc(1, sizeof(*t));
	t->src = xstrdup(src);
	while (*p != '\0') {
		if (p[0] == '\\' && p[1] != '\0') {
			p += 2;
			continue;
		}
		if (p[0] != '$' || p[1] != '{') {
			p++;
			continue;
		}
		tmpl_add_literal(t, lit, (size_t)(p - lit));
		name = p + 2;
		if ((close = strchr(name, '}')) == NULL) {
			diag_error(d, file, line, "%s: unterminated \"${\"",
			    what);
			goto fail;
		}
		sep = strstr(name, ":-");
		if (sep != NULL && sep > close)
			sep = NULL;
		part = tmpl_add(t, TK_LITERAL);
		if (tmpl_resolve(t, part, name,
		    (size_t)((sep ? sep : close) - name), re, d, file, line,
		    what) && sep != NULL) {
			buf_init(&fb, SIZE_MAX / 2);
			tmpl_unescape(&fb, sep + 2, (size_t)(close - sep - 2));
			part->fallback = buf_detach(&fb, &part->fallback_len);
		}
		p = lit = close + 1;
	}
	tmpl_add_literal(t, lit, (size_t)(p - lit));
	if (d->errors != errors)
		goto fail;
	return t;
fail:
	tmpl_free(t);
	return NULL;
}

static void
tmpl_put(struct buf *out, const char *s, size_t n)
{
	if (n > 0)
		utf8_append_repaired(out, s, n);
}

static void
tmpl_put_time(struct buf *out, time_t t)
{
	char ts[20];

	if (t == 0)
		return;
	time_format_local(t, ts);
	buf_append(out, ts, 19);
}

/* Render one variable part; returns bytes appended. */
static size_t
tmpl_render_var(const struct tmpl_part *p, const struct tmpl_ctx *c,
    struct buf *out)
{
	const struct event *ev = c->ev;
	const struct slice *js;
	size_t before = out->len;
	const char *name;
	char num[32];

	switch (p->kind) {
	case TK_LITERAL:
		buf_append(out, p->text, p->len);
		break;
	case TK_CAPTURE:
		if (c->ovector != NULL && (uint32_t)p->group < c->ovcount &&
		    c->ovector[2 * p->group] != PCRE2_UNSET)
			tmpl_put(out, c->subject + c->ovector[2 * p->group],
			    c->ovector[2 * p->group + 1] -
			    c->ovector[2 * p->group]);
		break;
	case TK_LINE:
		if (ev != NULL)
			tmpl_put(out, ev->msg.p, ev->msg.n);
		break;
	case TK_RAW:
		if (ev != NULL)
			tmpl_put(out, ev->raw.p, ev->raw.n);
		break;
	case TK_HOST:
		if (ev != NULL)
			tmpl_put(out, ev->host.p, ev->host.n);
		break;
	case TK_PROGRAM:
		if (ev != NULL)
			tmpl_put(out, ev->program.p, ev->program.n);
		break;
	case TK_PID:
		if (ev != NULL)
			tmpl_put(out, ev->pid.p, ev->pid.n);
		break;
	case TK_SEVERITY:
		if (ev != NULL)
			buf_appends(out, input_severity_name(ev->severity));
		break;
	case TK_FACILITY:
		if (ev != NULL)
			buf_appends(out, input_facility_name(ev->facility));
		break;
	case TK_TIME:
		tmpl_put_time(out, ev != NULL && ev->time != 0 ? ev->time :
		    c->now);
		break;
	case TK_RULE:
		if (c->rule != NULL)
			buf_appends(out, c->rule);
		break;
	case TK_KEY:
		if (c->key != NULL)
			tmpl_put(out, c->key, c->key_len);
		break;
	case TK_COUNT:
		snprintf(num, sizeof(num), "%lu", c->count);
		buf_appends(out, num);
		break;
	case TK_FIRST_SEEN:
		tmpl_put_time(out, c->first_seen);
		break;
	case TK_LAST_SEEN:
		tmpl_put_time(out, c->last_seen);
		break;
	case TK_NOW:
		tmpl_put_time(out, c->now);
		break;
	case TK_JSON:
		name = p->text;
		if (ev != NULL &&
		    (js = input_json_field(ev, name, p->len)) != NULL)
			tmpl_put(out, js->p, js->n);
		break;
	}
	return out->len - before;
}

void
tmpl_render(const struct tmpl *t, const struct tmpl_ctx *ctx,
    struct buf *out)
{
	const struct tmpl_part *p;
	size_t i;

	for (i = 0; i < t->n; i++) {
		p = &t->parts[i];
		if (p->kind == TK_LITERAL) {
			tmpl_put(out, p->text, p->len);
			continue;
		}
		if (tmpl_render_var(p, ctx, out) == 0 && p->fallback != NULL)
			tmpl_put(out, p->fallback, p->fallback_len);
	}
}

unsigned
tmpl_uses(const struct tmpl *t)
{
	return t->uses;
}

const char *
tmpl_source(const struct tmpl *t)
{
	return t->src;
}

bool
tmpl_is_literal(const struct tmpl *t)
{
	return t->n == 0 || (t->n == 1 && t->parts[0].kind == TK_LITERAL);
}
