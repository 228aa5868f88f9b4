#include "pipeline.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <yajl/yajl_gen.h>

#include "kapture.h"
#include "log.h"

#define TITLE_MARKER "\xe2\x80\xa6"                   /* … */
#define DETAILS_MARKER "\n\xe2\x80\xa6[truncated]"

/* Caps bound what one line can make us allocate; they follow the config. */
static void
pipeline_set_caps(struct pipeline *p, const struct conf *c)
{
	buf_reset(&p->title);
	buf_reset(&p->details);
	buf_reset(&p->email);
	buf_reset(&p->due);
	p->title.cap = (size_t)c->title_max * 4 + 16;
	p->details.cap = (size_t)c->details_max + 16;
	p->email.cap = (size_t)c->field_max + 16;
	p->due.cap = (size_t)c->field_max + 16;
}

void
pipeline_init(struct pipeline *p, const struct conf *c, struct ruleset *rs,
    struct sink *s, enum input_format fmt)
{
	memset(p, 0, sizeof(*p));
	p->conf = c;
	p->rules = rs;
	p->sink = s;
	p->format = fmt;
	p->dedup = dedup_new(100000);
	input_event_init(&p->ev);
	buf_init(&p->key, 4096);
	buf_init(&p->body, SIZE_MAX / 2);
	pipeline_set_caps(p, c);
}

void
pipeline_swap(struct pipeline *p, const struct conf *c, struct ruleset *rs,
    struct sink *s)
{
	p->conf = c;
	p->rules = rs;
	p->sink = s;
	p->format = c->format;
	pipeline_set_caps(p, c);
}

void
pipeline_free(struct pipeline *p)
{
	dedup_free(p->dedup);
	p->dedup = NULL;
	input_event_free(&p->ev);
	buf_free(&p->title);
	buf_free(&p->details);
	buf_free(&p->email);
	buf_free(&p->due);
	buf_free(&p->key);
	buf_free(&p->body);
}

/* Cut the title to title_max characters, ending with a visible marker. */
static void
pipeline_cap_title(struct buf *b, size_t max_chars)
{
	size_t off;

	if (!b->truncated && utf8_count(b->data, b->len) <= max_chars)
		return;
	off = utf8_offset(b->data, b->len, max_chars - 1);
	b->len = off;
	b->truncated = false;
	buf_appends(b, TITLE_MARKER);
}

/* Cut to max bytes on a character boundary, marker included. */
static void
pipeline_cap_bytes(struct buf *b, size_t max, const char *marker)
{
	size_t mlen = strlen(marker);

	if (!b->truncated && b->len <= max)
		return;
	b->len = utf8_cut(b->data, b->len, max - mlen);
	b->truncated = false;
	buf_append(b, marker, mlen);
}

/* The default key: rule name, then every capture, joined by '|'. */
static void
pipeline_default_key(struct buf *key, const struct rules_match *m)
{
	uint32_t i;

	buf_appends(key, m->rule->name);
	for (i = 1; i < m->ovcount && i <= m->rule->ncaptures; i++) {
		buf_appendc(key, '|');
		if (m->ovector[2 * i] != PCRE2_UNSET)
			utf8_append_repaired(key, m->subject + m->ovector[2 * i],
			    m->ovector[2 * i + 1] - m->ovector[2 * i]);
	}
}

static void
pipeline_render(struct buf *out, const struct tmpl *t,
    const struct tmpl_ctx *ctx)
{
	buf_reset(out);
	if (t != NULL)
		tmpl_render(t, ctx, out);
}

static int
pipeline_ticket(struct pipeline *p, const struct rules_match *m,
    time_t now, char *why, size_t whylen)
{
	const struct conf *c = p->conf;
	const struct rule *r = m->rule;
	struct kapture_ticket t;
	struct tmpl_ctx ctx;
	struct sink_req req;
	struct dedup_result dd;
	char due[20], ref[17];
	uint64_t h;
	int rc;

	memset(&ctx, 0, sizeof(ctx));
	ctx.ev = &p->ev;
	ctx.subject = m->subject;
	ctx.ovector = m->ovector;
	ctx.ovcount = m->ovcount;
	ctx.rule = r->name;
	ctx.now = now;
	ctx.count = 1;
	ctx.first_seen = ctx.last_seen = p->ev.time ? p->ev.time : now;

	buf_reset(&p->key);
	if (r->key != NULL)
		tmpl_render(r->key, &ctx, &p->key);
	else
		pipeline_default_key(&p->key, m);
	ctx.key = p->key.data;
	ctx.key_len = p->key.len;

	dedup_match(p->dedup, r, p->key.data, p->key.len, now, &dd);
	if (dd.verdict != DEDUP_FIRE) {
		if (dd.verdict == DEDUP_SUPPRESS)
			p->stats.suppressed++;
		else
			p->stats.pending++;
		log_debug("rule [%s] key \"%s\": %s (%lu in this burst)",
		    r->name, p->key.data, dd.verdict == DEDUP_SUPPRESS ?
		    "suppressed" : "below threshold", dd.count);
		return 0;
	}
	ctx.count = dd.count;
	ctx.first_seen = dd.first_seen;
	ctx.last_seen = dd.last_seen;

	pipeline_render(&p->title, r->title, &ctx);
	if (p->title.len == 0)
		buf_appends(&p->title, r->name); /* the API requires a title */
	pipeline_cap_title(&p->title, (size_t)c->title_max);
	pipeline_render(&p->details, r->details, &ctx);
	pipeline_cap_bytes(&p->details, (size_t)c->details_max, DETAILS_MARKER);
	pipeline_render(&p->email, r->email, &ctx);
	pipeline_cap_bytes(&p->email, (size_t)c->field_max, "");
	buf_reset(&p->due);
	if (r->due_relative) {
		time_format_local(now + (time_t)r->due_offset, due);
		buf_appends(&p->due, due);
	} else if (r->due != NULL) {
		tmpl_render(r->due, &ctx, &p->due);
		pipeline_cap_bytes(&p->due, (size_t)c->field_max, "");
	}

	/* The stable reference: the same line re-sent after a crash (to a
	 * helper that has no dedup state yet) carries the same value, so
	 * duplicates can be recognised: rule, key, the line that fired and
	 * its own time; the burst's first arrival only when the line
	 * carries no time. */
	h = hash_fnv1a(HASH_FNV_INIT, r->name, strlen(r->name) + 1);
	h = hash_fnv1a(h, p->key.data, p->key.len + 1);
	h = hash_fnv1a(h, p->ev.raw.p, p->ev.raw.n);
	snprintf(due, sizeof(due), "%" PRId64, (int64_t)(p->ev.time ?
	    p->ev.time : ctx.first_seen));
	h = hash_fnv1a(h, due, strlen(due));
	snprintf(ref, sizeof(ref), "%016" PRIx64, h);

	memset(&t, 0, sizeof(t));
	t.title = p->title.data;
	t.details = p->details.len ? p->details.data : NULL;
	t.due_date = p->due.len ? p->due.data : NULL;
	t.email = p->email.len ? p->email.data : NULL;
	t.fields = r->fields;
	t.ctx = &ctx;
	t.ref_field = c->ref_field;
	t.ref = ref;
	buf_reset(&p->body);
	kapture_body(&p->body, c->body_object, &t, (size_t)c->field_max);

	memset(&req, 0, sizeof(req));
	req.rule = r->name;
	req.key = p->key.data;
	req.ref = ref;
	req.url = c->url;
	req.body = p->body.data;
	req.len = p->body.len;
	rc = p->sink->submit(p->sink, &req, why, whylen);
	if (rc == SINK_ACCEPTED || rc == SINK_KEPT) {
		p->stats.tickets++;
	} else {
		p->stats.ticket_errors++;
		dedup_undo(p->dedup, r, &dd);
	}
	return rc;
}

int
pipeline_line(struct pipeline *p, const char *line, size_t len,
    bool truncated, char *why, size_t whylen)
{
	struct rules_match m;
	bool any = false;
	time_t now;
	int rc = 0;

	p->stats.lines++;
	if (truncated)
		p->stats.truncated++;
	if (memchr(line, '\0', len) != NULL)
		p->stats.nul_bytes++;
	input_decode(&p->ev, p->format, line, len);
	if (p->ev.json_error)
		p->stats.json_errors++;
	memset(&m, 0, sizeof(m));
	now = clock_now();
	while (rules_next(p->rules, &p->ev, &m)) {
		any = true;
		if (p->sink == NULL)
			continue;
		/* Every matching rule gets its ticket, even after one
		 * failed: the failed one is reported, the caller retries. */
		switch (pipeline_ticket(p, &m, now, why, whylen)) {
		case SINK_ACCEPTED:
			break;
		case SINK_KEPT:
			if (rc == 0)
				rc = 1;
			break;
		default:
			rc = -1;
			break;
		}
	}
	if (any)
		p->stats.matched++;
	/* rules_next checked the line once for all of its uses. */
	if (!rules_line_valid(p->rules))
		p->stats.invalid_utf8++;
	return rc;
}

static void
gen_num(yajl_gen g, const char *k, unsigned long v)
{
	yajl_gen_string(g, (const unsigned char *)k, strlen(k));
	yajl_gen_integer(g, (long long)v);
}

void
pipeline_stats_json(const struct pipeline *p, struct buf *out)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *s;
	size_t i, n;

	yajl_gen_map_open(g);
	gen_num(g, "lines", p->stats.lines);
	gen_num(g, "matched", p->stats.matched);
	if (p->sink != NULL) {
		gen_num(g, "tickets", p->stats.tickets);
		gen_num(g, "ticket_errors", p->stats.ticket_errors);
		gen_num(g, "suppressed", p->stats.suppressed);
		gen_num(g, "pending", p->stats.pending);
		gen_num(g, "keys", dedup_size(p->dedup));
	}
	gen_num(g, "truncated", p->stats.truncated);
	gen_num(g, "nul_bytes", p->stats.nul_bytes);
	gen_num(g, "invalid_utf8", p->stats.invalid_utf8);
	gen_num(g, "json_errors", p->stats.json_errors);
	gen_num(g, "regex_limit", p->rules->limit_errors);
	yajl_gen_string(g, (const unsigned char *)"rules", 5);
	yajl_gen_map_open(g);
	for (i = 0; i < p->rules->n; i++)
		gen_num(g, p->rules->v[i].name, p->rules->v[i].hits);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &s, &n);
	buf_append(out, s, n);
	yajl_gen_free(g);
}
