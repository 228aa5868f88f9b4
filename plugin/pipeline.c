#include "pipeline.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kapture.h"
#include "log.h"
#include "state.h"

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

static void
pipeline_dedup_config(const struct conf *c, struct dedup_config *dc)
{
	memset(dc, 0, sizeof(*dc));
	dc->max_keys = (size_t)c->max_keys;
	dc->max_tickets = c->max_tickets;
	dc->period = c->max_tickets_period;
	dc->storm_quiet = c->storm_quiet;
}

void
pipeline_init(struct pipeline *p, const struct conf *c, struct ruleset *rs,
    struct sink *s, enum input_format fmt)
{
	struct dedup_config dc;

	memset(p, 0, sizeof(*p));
	p->conf = c;
	p->rules = rs;
	p->sink = s;
	p->format = fmt;
	pipeline_dedup_config(c, &dc);
	p->dedup = dedup_new(&dc);
	input_event_init(&p->ev);
	input_event_init(&p->ev2);
	buf_init(&p->key, 4096);
	buf_init(&p->body, SIZE_MAX / 2);
	buf_init(&p->text, SIZE_MAX / 2);
	buf_init(&p->kept, DEDUP_LINE_MAX + 64);
	pipeline_set_caps(p, c);
	p->last_full_sweep_ms = p->last_save_ms = spool_now_ms();
}

void
pipeline_swap(struct pipeline *p, const struct conf *c, struct ruleset *rs,
    struct sink *s)
{
	struct dedup_config dc;
	size_t dropped;

	p->conf = c;
	p->rules = rs;
	p->sink = s;
	p->format = c->format;
	pipeline_set_caps(p, c);
	pipeline_dedup_config(c, &dc);
	dedup_configure(p->dedup, &dc);
	if ((dropped = dedup_sync_rules(p->dedup, rs)) > 0)
		log_info("dedup: %zu key%s of removed rules forgotten", dropped,
		    dropped == 1 ? "" : "s");
}

void
pipeline_use_state(struct pipeline *p, struct spool *sp)
{
	struct dedup_config dc;

	pipeline_dedup_config(p->conf, &dc);
	p->state_spool = sp;
	state_load(&p->dedup, &dc, p->rules, sp);
	p->last_save_ms = spool_now_ms();
	/* The event clock goes on from where the last run left it. */
	if (p->conf->clock_event && dedup_saved_time(p->dedup) > 0) {
		p->event_clock = dedup_saved_time(p->dedup);
		p->event_at = clock_now();
	}
}

void
pipeline_free(struct pipeline *p)
{
	dedup_free(p->dedup);
	p->dedup = NULL;
	input_event_free(&p->ev);
	input_event_free(&p->ev2);
	buf_free(&p->title);
	buf_free(&p->details);
	buf_free(&p->email);
	buf_free(&p->due);
	buf_free(&p->key);
	buf_free(&p->body);
	buf_free(&p->text);
	buf_free(&p->kept);
}

void
pipeline_skip_own_journal(struct pipeline *p)
{
	snprintf(p->own_pid, sizeof(p->own_pid), "%ld", (long)getpid());
}

time_t
pipeline_clock(const struct pipeline *p)
{
	time_t now = clock_now();

	if (!p->conf->clock_event || p->event_clock == 0)
		return now;
	return p->event_clock + (now > p->event_at ? now - p->event_at : 0);
}

/* The time of the line in p->ev: its arrival, or (clock = event) its
 * own timestamp, which also moves the event clock on. */
static time_t
pipeline_line_time(struct pipeline *p)
{
	if (!p->conf->clock_event)
		return clock_now();
	if (p->ev.time == 0)
		return pipeline_clock(p);
	if (p->ev.time > p->event_clock)
		p->event_clock = p->ev.time;
	p->event_at = clock_now();
	return p->ev.time;
}

/* Cut the title to title_max characters, ending with a visible marker. */
void
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
void
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

/* A reference: 16 hex digits of a hash over the parts. */
static void
pipeline_ref(char ref[DEDUP_REF_LEN + 1], const char *a, size_t an,
    const char *b, size_t bn, const char *c, size_t cn, int64_t t)
{
	uint64_t h = hash_fnv1a(HASH_FNV_INIT, a, an);
	char num[24];

	h = hash_fnv1a(h, "", 1);
	h = hash_fnv1a(h, b, bn);
	h = hash_fnv1a(h, "", 1);
	h = hash_fnv1a(h, c, cn);
	snprintf(num, sizeof(num), "%" PRId64, t);
	h = hash_fnv1a(h, num, strlen(num));
	snprintf(ref, DEDUP_REF_LEN + 1, "%016" PRIx64, h);
}

/*
 * Render rule r's ticket with ctx into p->body: title (after
 * title_prefix), details (after details_prefix, both may be NULL), email,
 * due date, fields and the reference.
 */
static void
pipeline_build(struct pipeline *p, const struct rule *r,
    const struct tmpl_ctx *ctx, const char *title_prefix,
    const char *details_prefix, const char *ref)
{
	const struct conf *c = p->conf;
	struct kapture_ticket t;
	char due[20];

	buf_reset(&p->title);
	if (title_prefix != NULL)
		buf_appends(&p->title, title_prefix);
	if (r->title != NULL)
		tmpl_render(r->title, ctx, &p->title);
	if (p->title.len == 0 || (title_prefix != NULL &&
	    p->title.len == strlen(title_prefix)))
		buf_appends(&p->title, r->name); /* the API requires a title */
	pipeline_cap_title(&p->title, (size_t)c->title_max);
	buf_reset(&p->details);
	if (details_prefix != NULL)
		buf_appends(&p->details, details_prefix);
	if (r->details != NULL)
		tmpl_render(r->details, ctx, &p->details);
	pipeline_cap_bytes(&p->details, (size_t)c->details_max, DETAILS_MARKER);
	pipeline_render(&p->email, r->email, ctx);
	pipeline_cap_bytes(&p->email, (size_t)c->field_max, "");
	buf_reset(&p->due);
	if (r->due_relative) {
		time_format_local(ctx->now + (time_t)r->due_offset, due);
		buf_appends(&p->due, due);
	} else if (r->due != NULL) {
		tmpl_render(r->due, ctx, &p->due);
		pipeline_cap_bytes(&p->due, (size_t)c->field_max, "");
	}
	memset(&t, 0, sizeof(t));
	t.title = p->title.data;
	t.details = p->details.len ? p->details.data : NULL;
	t.due_date = p->due.len ? p->due.data : NULL;
	t.email = p->email.len ? p->email.data : NULL;
	t.fields = r->fields;
	t.ctx = ctx;
	t.ref_field = c->ref_field;
	t.ref = ref;
	buf_reset(&p->body);
	kapture_body(&p->body, c->body_object, &t, (size_t)c->field_max);
}

static int
pipeline_submit(struct pipeline *p, const char *url, const char *rule,
    const char *key, const char *ref, const char *kind,
    const char *ticket_ref, char *why, size_t whylen)
{
	struct sink_req req;

	memset(&req, 0, sizeof(req));
	req.rule = rule;
	req.key = key;
	req.ref = ref;
	req.url = url;
	req.kind = kind;
	req.ticket_ref = ticket_ref;
	req.body = p->body.data;
	req.len = p->body.len;
	return p->sink->submit(p->sink, &req, why, whylen);
}

static void
pipeline_say_dedup(const struct pipeline *p, const struct rule *r,
    const struct dedup_result *dd)
{
	char first[20];

	if (log_level() < LOG_LEVEL_DEBUG)
		return;
	time_format_local(dd->first_seen, first);
	if (dd->verdict == DEDUP_PENDING)
		log_debug("dedup: rule [%s] key \"%s\": below threshold, %lu "
		    "of %lld within %llds", r->name, p->key.data, dd->count,
		    (long long)r->threshold_n,
		    (long long)r->threshold_window);
	else if (dd->verdict == DEDUP_HELD)
		log_debug("dedup: rule [%s] key \"%s\": held back by the "
		    "storm guard (max_tickets)", r->name, p->key.data);
	else
		log_debug("dedup: rule [%s] key \"%s\": suppressed%s, %lu "
		    "matches since %s", r->name, p->key.data, dd->storm ?
		    " (held by the storm guard)" : "", dd->count, first);
}

/* One RFC 5424 header field: '-' when empty, no blanks or controls. */
static void
pipeline_5424_field(struct buf *b, const struct slice *f)
{
	size_t i;

	if (f->n == 0) {
		buf_appendc(b, '-');
		return;
	}
	for (i = 0; i < f->n && i < 255; i++)
		buf_appendc(b, (unsigned char)f->p[i] <= ' ' ? '_' : f->p[i]);
}

/*
 * The line dedup keeps for on_repeat (the burst's last match, rendered
 * again when it ends). A line over DEDUP_LINE_MAX is not cut (half a JSON
 * line is no JSON): it is rewritten as an RFC 5424 line with the event's
 * time, host, program, pid and as much of the message as fits.
 */
static void
pipeline_kept_line(struct pipeline *p, const char **line, size_t *len)
{
	const struct event *ev = &p->ev;
	struct buf *b = &p->kept;
	char ts[32];
	struct tm tm;
	size_t room, cut;

	if (ev->raw.n <= DEDUP_LINE_MAX) {
		*line = ev->raw.p;
		*len = ev->raw.n;
		return;
	}
	buf_reset(b);
	buf_printf(b, "<%d>1 ", (ev->facility >= 0 ? ev->facility : 1) * 8 +
	    (ev->severity >= 0 ? ev->severity : 5));
	if (ev->time != 0 && gmtime_r(&ev->time, &tm) != NULL &&
	    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm) > 0)
		buf_appends(b, ts);
	else
		buf_appendc(b, '-');
	buf_appendc(b, ' ');
	pipeline_5424_field(b, &ev->host);
	buf_appendc(b, ' ');
	pipeline_5424_field(b, &ev->program);
	buf_appendc(b, ' ');
	pipeline_5424_field(b, &ev->pid);
	buf_appends(b, " - - ");
	room = DEDUP_LINE_MAX - b->len - sizeof(TITLE_MARKER);
	cut = ev->msg.n > room ? utf8_cut(ev->msg.p, ev->msg.n, room) :
	    ev->msg.n;
	buf_append(b, ev->msg.p, cut);
	if (cut < ev->msg.n)
		buf_appends(b, TITLE_MARKER);
	*line = b->data;
	*len = b->len;
}

static int
pipeline_ticket(struct pipeline *p, const struct rules_match *m,
    time_t now, char *why, size_t whylen)
{
	const struct rule *r = m->rule;
	struct tmpl_ctx ctx;
	struct dedup_result dd;
	char ref[DEDUP_REF_LEN + 1];
	const char *kept;
	size_t keptn;
	int rc;

	memset(&ctx, 0, sizeof(ctx));
	ctx.ev = &p->ev;
	ctx.subject = m->subject;
	ctx.ovector = m->ovector;
	ctx.ovcount = m->ovcount;
	ctx.rule = r->name;
	ctx.now = now;
	ctx.count = 1;
	ctx.first_seen = ctx.last_seen = now;

	buf_reset(&p->key);
	if (r->key != NULL)
		tmpl_render(r->key, &ctx, &p->key);
	else
		pipeline_default_key(&p->key, m);
	ctx.key = p->key.data;
	ctx.key_len = p->key.len;

	kept = NULL;
	keptn = 0;
	if (r->on_repeat != REPEAT_NONE)
		pipeline_kept_line(p, &kept, &keptn);
	dedup_match(p->dedup, r, p->key.data, p->key.len, now, kept, keptn,
	    &dd);
	if (dd.verdict != DEDUP_FIRE) {
		pipeline_say_dedup(p, r, &dd);
		return 0;
	}
	ctx.count = dd.count;
	ctx.first_seen = dd.first_seen;
	ctx.last_seen = dd.last_seen;

	/* The stable reference: the same line re-sent after a crash (to a
	 * helper that has no dedup state yet) carries the same value, so
	 * duplicates can be recognised: rule, key, the line that fired and
	 * its own time; the burst's first arrival only when the line
	 * carries no time. */
	pipeline_ref(ref, r->name, strlen(r->name), p->key.data, p->key.len,
	    p->ev.raw.p, p->ev.raw.n, (int64_t)(p->ev.time ? p->ev.time :
	    ctx.first_seen));
	pipeline_build(p, r, &ctx, NULL, NULL, ref);
	rc = pipeline_submit(p, p->conf->url, r->name, p->key.data, ref, NULL,
	    NULL, why, whylen);
	if (rc == SINK_ACCEPTED || rc == SINK_KEPT) {
		p->stats.tickets++;
		dedup_fired(p->dedup, &dd, ref);
	} else {
		p->stats.ticket_errors++;
		dedup_undo(p->dedup, &dd);
	}
	return rc;
}

/* The message of a kept line, for comments and summaries. */
static void
pipeline_kept_message(struct pipeline *p, const struct dedup_end *x)
{
	/* A line kept whole decodes as it came; one rewritten because it
	 * was too long is RFC 5424. */
	input_decode(&p->ev2, x->line != NULL && x->line[0] == '{' ?
	    p->format : INPUT_PLAIN, x->line ? x->line : "",
	    x->line ? x->linelen : 0);
}

static const struct rule *
pipeline_rule_named(const struct pipeline *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->rules->n; i++)
		if (!strcmp(p->rules->v[i].name, name))
			return &p->rules->v[i];
	return NULL;
}

/* One sentence on a burst's repeats. */
static void
pipeline_repeat_text(struct buf *b, const struct dedup_end *x)
{
	char first[20], last[20];

	time_format_local(x->first_seen, first);
	time_format_local(x->last_seen, last);
	buf_printf(b, "omkapture: repeated %lu more time%s after the ticket "
	    "was opened (%lu match%s from %s to %s).", x->suppressed,
	    x->suppressed == 1 ? "" : "s", x->count,
	    x->count == 1 ? "" : "es", first, last);
}

/* on_repeat = comment: a comment on the burst's ticket. */
static int
pipeline_comment(struct pipeline *p, const struct dedup_end *x, time_t now,
    char *why, size_t whylen)
{
	const struct conf *c = p->conf;
	const char *id = x->ticket_id;
	char ref[DEDUP_REF_LEN + 1], ph[64];
	int rc;

	if (c->update_url == NULL) {
		log_warnx("rule [%s]: no [kapture] update_url any more; the "
		    "comment for ticket ref %s is dropped", x->rule, x->ref);
		return SINK_ACCEPTED;
	}
	if (id == NULL)
		id = dedup_await_id(p->dedup, x->ref);
	pipeline_kept_message(p, x);
	buf_reset(&p->text);
	pipeline_repeat_text(&p->text, x);
	buf_appends(&p->text, "\nLast: ");
	utf8_append_repaired(&p->text, p->ev2.msg.p ? p->ev2.msg.p : "",
	    p->ev2.msg.n);
	pipeline_cap_bytes(&p->text, (size_t)c->details_max, DETAILS_MARKER);
	if (id == NULL)
		/* Kapture has not created the ticket yet: the sender puts
		 * its id in when it sends this (after the ticket: same key). */
		snprintf(ph, sizeof(ph), SPOOL_TICKET_PLACEHOLDER "%s", x->ref);
	buf_reset(&p->body);
	kapture_comment_body(&p->body, c->body_object, id ? id : ph,
	    p->text.data, c->comment_sub_status);
	pipeline_ref(ref, x->ref, strlen(x->ref), "comment", 7, "", 0,
	    (int64_t)x->last_seen);
	rc = pipeline_submit(p, c->update_url, x->rule, x->key, ref, "comment",
	    id ? NULL : x->ref, why, whylen);
	if (rc != SINK_REFUSED) {
		p->stats.comments++;
		if (id == NULL)
			dedup_await(p->dedup, x->ref, now);
	}
	return rc;
}

/* on_repeat = ticket: a summary ticket, the rule's own templates against
 * the burst's last line, through the storm guard. */
static int
pipeline_repeat_ticket(struct pipeline *p, const struct dedup_end *x,
    time_t now, char *why, size_t whylen)
{
	const struct rule *r = pipeline_rule_named(p, x->rule);
	struct rules_match m;
	struct tmpl_ctx ctx;
	char ref[DEDUP_REF_LEN + 1], prefix[64];
	int rc;

	if (r == NULL) {
		log_info("rule [%s] is gone: no summary ticket for its burst "
		    "(ref %s, %lu repeats)", x->rule, x->ref, x->suppressed);
		return SINK_ACCEPTED;
	}
	if (!dedup_storm_admit(p->dedup, x->rule, x->key, x->keylen, now))
		return SINK_ACCEPTED;
	pipeline_kept_message(p, x);
	memset(&ctx, 0, sizeof(ctx));
	ctx.ev = &p->ev2;
	if (rules_match_rule(p->rules, r, &p->ev2, &m)) {
		ctx.subject = m.subject;
		ctx.ovector = m.ovector;
		ctx.ovcount = m.ovcount;
	}
	ctx.rule = r->name;
	ctx.key = x->key;
	ctx.key_len = x->keylen;
	ctx.count = x->count;
	ctx.first_seen = x->first_seen;
	ctx.last_seen = x->last_seen;
	ctx.now = now;
	buf_reset(&p->text);
	pipeline_repeat_text(&p->text, x);
	buf_appends(&p->text, "\n\n");
	snprintf(prefix, sizeof(prefix), "Repeated %lu times: ", x->suppressed);
	pipeline_ref(ref, x->ref, strlen(x->ref), "repeat", 6, "", 0,
	    (int64_t)x->last_seen);
	pipeline_build(p, r, &ctx, prefix, p->text.data, ref);
	rc = pipeline_submit(p, p->conf->url, x->rule, x->key, ref, NULL, NULL,
	    why, whylen);
	if (rc != SINK_REFUSED)
		p->stats.repeat_tickets++;
	return rc;
}

/* The storm guard's summary: what it held back. */
static int
pipeline_storm_summary(struct pipeline *p, time_t now, char *why,
    size_t whylen)
{
	const struct conf *c = p->conf;
	struct kapture_ticket t;
	char ref[DEDUP_REF_LEN + 1];
	const char *email = NULL;
	size_t i;
	int rc;

	for (i = 0; i < c->ndefaults; i++)
		if (!strcmp(c->defaults[i].key, "email") &&
		    strstr(c->defaults[i].value, "${") == NULL &&
		    *c->defaults[i].value != '\0')
			email = c->defaults[i].value;
	buf_reset(&p->title);
	buf_reset(&p->details);
	dedup_storm_summary(p->dedup, &p->title, &p->details);
	pipeline_cap_title(&p->title, (size_t)c->title_max);
	pipeline_cap_bytes(&p->details, (size_t)c->details_max, DETAILS_MARKER);
	pipeline_ref(ref, "storm", 5, "", 0, "", 0,
	    (int64_t)dedup_storm_started(p->dedup));
	memset(&t, 0, sizeof(t));
	t.title = p->title.data;
	t.details = p->details.data;
	t.email = email;
	t.ref_field = c->ref_field;
	t.ref = ref;
	buf_reset(&p->body);
	kapture_body(&p->body, c->body_object, &t, (size_t)c->field_max);
	(void)now;
	rc = pipeline_submit(p, c->url, "omkapture-storm-guard", "storm", ref,
	    NULL, NULL, why, whylen);
	if (rc != SINK_REFUSED) {
		p->stats.storm_summaries++;
		dedup_storm_done(p->dedup);
	}
	return rc;
}

/* Send the queued on_repeat actions and a due storm summary; what the
 * sink cannot take now stays queued for the next tick. */
static void
pipeline_actions(struct pipeline *p, time_t now)
{
	struct dedup_end *x;
	char why[512];
	unsigned long shown;
	int rc;

	if (p->sink == NULL)
		return;
	while ((x = dedup_end_peek(p->dedup)) != NULL) {
		why[0] = '\0';
		if (x->action == REPEAT_COMMENT)
			rc = pipeline_comment(p, x, now, why, sizeof(why));
		else
			rc = pipeline_repeat_ticket(p, x, now, why,
			    sizeof(why));
		if (rc == SINK_REFUSED)
			goto refused;
		dedup_end_pop(p->dedup);
	}
	if (dedup_storm_due(p->dedup, now) &&
	    (rc = pipeline_storm_summary(p, now, why, sizeof(why))) ==
	    SINK_REFUSED)
		goto refused;
	return;
refused:
	p->stats.action_errors++;
	if ((shown = log_ratelimit_ok(&p->action_rl, 60)) > 0)
		log_warnx("on_repeat/storm summary request not spooled (%s); "
		    "%zu waiting, retried every second (%lu since the last "
		    "warning)", why, dedup_end_count(p->dedup), shown);
}

static void
pipeline_save(struct pipeline *p)
{
	int64_t t0 = spool_now_ms();

	if (p->state_spool == NULL)
		return;
	if (state_save(p->dedup, p->state_spool, pipeline_clock(p))) {
		p->last_save_ms = spool_now_ms();
		p->save_cost_ms = p->last_save_ms - t0;
		p->saves++;
	}
}

bool
pipeline_save_for_cursor(struct pipeline *p)
{
	if (p->state_spool == NULL || !dedup_dirty(p->dedup))
		return true;
	if (p->save_cost_ms < 50 && spool_now_ms() - p->last_save_ms >= 1000)
		pipeline_save(p);
	return !dedup_dirty(p->dedup);
}

void
pipeline_tick(struct pipeline *p)
{
	time_t now = pipeline_clock(p);
	int64_t ms = spool_now_ms();
	bool full = ms - p->last_full_sweep_ms >= 60000;

	if (p->sink == NULL)
		return;
	/* clock = event and no event seen yet: no time has passed. */
	if (p->conf->clock_event && p->event_clock == 0)
		return;
	if (now - p->last_sweep >= 1 || full) {
		dedup_sweep(p->dedup, now, full);
		p->last_sweep = now;
		if (full)
			p->last_full_sweep_ms = ms;
	}
	if (dedup_end_peek(p->dedup) != NULL || dedup_storm_started(p->dedup))
		pipeline_actions(p, now);
	if (p->state_spool != NULL && dedup_dirty(p->dedup) &&
	    ms - p->last_save_ms >= p->conf->state_interval * 1000)
		pipeline_save(p);
}

void
pipeline_finish(struct pipeline *p)
{
	pipeline_tick(p);
	if (p->state_spool != NULL && dedup_dirty(p->dedup))
		pipeline_save(p);
}

void
pipeline_delivered(struct pipeline *p, const char *rule, const char *key,
    const char *ref, const char *kind, const char *ticket_ref, bool done,
    const char *ticket_id)
{
	if (kind != NULL && !strcmp(kind, "comment")) {
		/* Sent or refused for good: nothing awaits that id now. */
		if (ticket_ref != NULL)
			dedup_await_done(p->dedup, ticket_ref);
		return;
	}
	if (done && ticket_id != NULL && *ticket_id != '\0' &&
	    dedup_ticket_created(p->dedup, rule, key, ref, ticket_id) &&
	    p->state_spool != NULL)
		/* A comment may need this id after a crash: save soon. */
		p->last_save_ms -= p->conf->state_interval * 1000 - 1000;
}

const char *
pipeline_ticket_id(struct pipeline *p, const char *ref)
{
	return dedup_await_id(p->dedup, ref);
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
	input_decode(&p->ev, p->format, line, len);
	if (p->ev.json_error)
		p->stats.json_errors++;
	/* Valid JSON holds no raw NUL: only other lines need the look. */
	if (!p->ev.json && memchr(line, '\0', len) != NULL)
		p->stats.nul_bytes++;
	if (p->own_pid[0] != '\0' && p->ev.json) {
		const struct slice *pid = input_json_field(&p->ev, "_PID", 4);

		if (pid != NULL && pid->n == strlen(p->own_pid) &&
		    memcmp(pid->p, p->own_pid, pid->n) == 0) {
			p->stats.own_lines++;
			return 0;
		}
	}
	memset(&m, 0, sizeof(m));
	now = p->sink != NULL ? pipeline_line_time(p) : 0;
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
	/* Bursts a match ended, a storm that passed by this line's time. */
	if (p->sink != NULL && (dedup_end_peek(p->dedup) != NULL ||
	    dedup_storm_started(p->dedup) != 0 ||
	    (p->conf->clock_event && p->event_clock - p->last_sweep >= 1)))
		pipeline_tick(p);
	return rc;
}
