/*
 * tmpl.h: the template language of rule values.
 *
 * "${name}" a named capture, "${1}".."${9}" and "${0}" numbered ones,
 * "${name:-fallback}" a fallback used when the value is empty, built-ins
 * (line raw host program pid severity facility time rule key count
 * first_seen last_seen), "${json.NAME}" a top-level field of JSON input.
 * "\n", "\t", "\\" and "\$" are escapes. Templates are compiled once at
 * load time against the rule's regex, so a name the regex lacks is a
 * load-time error, never an empty field at 3 a.m.
 */
#ifndef OMK_TMPL_H
#define OMK_TMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "diag.h"
#include "input.h"
#include "util.h"

struct tmpl;

/* What a rendering can see. Fields not known yet may be zero/NULL. */
struct tmpl_ctx {
	const struct event *ev;
	const char *subject;      /* the text the regex ran on */
	const PCRE2_SIZE *ovector;/* capture offsets into subject */
	uint32_t ovcount;         /* pairs in ovector */
	const char *rule;
	const char *key;
	size_t key_len;
	unsigned long count;
	time_t first_seen;
	time_t last_seen;
	time_t now;
};

/* Which built-ins a template uses (bit per TMPL_USES_*). */
#define TMPL_USES_KEY 0x01
#define TMPL_USES_JSON 0x02
#define TMPL_USES_CAPTURES 0x04

/*
 * Compile src. re (may be NULL: no captures) resolves capture names and
 * numbers. Errors go to d as file:line with `what` (the key being parsed)
 * named. Returns NULL on error. The caller owns the result: tmpl_free().
 */
struct tmpl *tmpl_compile(const char *src, const pcre2_code *re,
    struct diags *d, const char *file, int line, const char *what);
void tmpl_free(struct tmpl *t);
/* A template that renders s exactly (no variables, no escapes). */
struct tmpl *tmpl_new_literal(const char *s);
/* Append the rendering to out; invalid UTF-8 and NULs become U+FFFD. */
void tmpl_render(const struct tmpl *t, const struct tmpl_ctx *ctx,
    struct buf *out);
unsigned tmpl_uses(const struct tmpl *t);
const char *tmpl_source(const struct tmpl *t);
/* True if the template has no variables (rendering is constant). */
bool tmpl_is_literal(const struct tmpl *t);

#endif
