#include "dedup.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

#define DEDUP_MAX_WINDOW RULES_MAX_THRESHOLD
#define DEDUP_MAX_ENDS 10000    /* queued on_repeat actions at most */
#define DEDUP_MAX_AWAITS 10000  /* comments awaiting a ticket id */
#define DEDUP_AWAIT_TTL (30 * 86400)
#define DEDUP_RULE_BUCKETS 256

enum { ST_NEW, ST_TICKETED, ST_HELD };

/* What dedup knows of a rule: its name and settings as of the last
 * match or reload. Entries point here, so rules can be reloaded. */
struct dedup_rule {
	struct dedup_rule *hnext;
	char *name;
	uint64_t hash;
	int64_t threshold_n, window, suppress, renotify;
	enum rule_on_repeat on_repeat;
	bool live;
};

struct dedup_entry {
	struct dedup_entry *hnext;        /* hash chain */
	struct dedup_entry *newer, *older;/* LRU list */
	struct dedup_rule *rule;
	uint64_t hash;
	time_t first_seen, last_seen, ticket_time;
	unsigned long count, suppressed;
	char *ticket_id;
	char *line;                       /* on_repeat rules only */
	uint32_t linelen;
	time_t *win;                      /* threshold window, a ring */
	uint32_t win_cap, win_head, win_len;
	uint32_t keylen;
	uint8_t state;
	char ref[DEDUP_REF_LEN + 1];
	char key[];
};

struct storm_rule {
	struct storm_rule *next;
	char *name;
	unsigned long held, matches, more;
	char *keys[DEDUP_STORM_KEYS];
	size_t nkeys;
};

struct dedup_await_rec {
	char ref[DEDUP_REF_LEN + 1];
	char *id;
	time_t since;
};

struct dedup {
	struct dedup_config cfg;
	struct dedup_entry **buckets;
	size_t nbuckets, n;
	struct dedup_entry *newest, *oldest;
	struct dedup_rule *rules[DEDUP_RULE_BUCKETS];
	struct dedup_end *ends, *ends_tail;
	size_t nends;
	struct dedup_await_rec *awaits;
	size_t nawaits, awaits_cap;
	double tokens;
	time_t bucket_t;
	time_t storm_start, storm_last;
	unsigned long storm_held;
	struct storm_rule *storm_rules;
	struct dedup_stats stats;
	bool dirty;
	time_t saved;              /* the clock when the loaded state was saved */
	time_t full_sweep_t;
	struct log_ratelimit evict_rl, ends_rl;
};

static void
dedup_set_config(struct dedup *d, const struct dedup_config *cfg)
{
	d->cfg = *cfg;
	if (d->cfg.max_keys == 0)
		d->cfg.max_keys = 100000;
	if (d->cfg.period <= 0)
		d->cfg.max_tickets = 0;
	if (d->cfg.storm_quiet <= 0)
		d->cfg.storm_quiet = 300;
}

struct dedup *
dedup_new(const struct dedup_config *cfg)
{
	struct dedup *d = xcalloc(1, sizeof(*d));

	dedup_set_config(d, cfg);
	d->nbuckets = 1024;
	d->buckets = xcalloc(d->nbuckets, sizeof(*d->buckets));
	d->tokens = (double)d->cfg.max_tickets;
	return d;
}

void
dedup_configure(struct dedup *d, const struct dedup_config *cfg)
{
	bool was_off = d->cfg.max_tickets == 0;

	dedup_set_config(d, cfg);
	if (was_off || d->tokens > (double)d->cfg.max_tickets)
		d->tokens = (double)d->cfg.max_tickets;
}

static void
dedup_end_free(struct dedup_end *x)
{
	free(x->rule);
	free(x->key);
	free(x->ticket_id);
	free(x->line);
	free(x);
}

static void
dedup_entry_free(struct dedup_entry *e)
{
	free(e->ticket_id);
	free(e->line);
	free(e->win);
	free(e);
}

static void
storm_clear(struct dedup *d)
{
	struct storm_rule *s, *next;
	size_t i;

	for (s = d->storm_rules; s != NULL; s = next) {
		next = s->next;
		for (i = 0; i < s->nkeys; i++)
			free(s->keys[i]);
		free(s->name);
		free(s);
	}
	d->storm_rules = NULL;
	d->storm_start = d->storm_last = 0;
	d->storm_held = 0;
}

void
dedup_free(struct dedup *d)
{
	struct dedup_entry *e, *enext;
	struct dedup_rule *r, *rnext;
	struct dedup_end *x, *xnext;
	size_t i;

	if (d == NULL)
		return;
	for (e = d->newest; e != NULL; e = enext) {
		enext = e->older;
		dedup_entry_free(e);
	}
	for (i = 0; i < DEDUP_RULE_BUCKETS; i++)
		for (r = d->rules[i]; r != NULL; r = rnext) {
			rnext = r->hnext;
			free(r->name);
			free(r);
		}
	for (x = d->ends; x != NULL; x = xnext) {
		xnext = x->next;
		dedup_end_free(x);
	}
	for (i = 0; i < d->nawaits; i++)
		free(d->awaits[i].id);
	free(d->awaits);
	storm_clear(d);
	free(d->buckets);
	free(d);
}

time_t
dedup_saved_time(const struct dedup *d)
{
	return d->saved;
}

size_t
dedup_size(const struct dedup *d)
{
	return d->n;
}

const struct dedup_stats *
dedup_stats(const struct dedup *d)
{
	return &d->stats;
}

bool
dedup_dirty(const struct dedup *d)
{
	return d->dirty;
}

/* --- rules ------------------------------------------------------------ */

static struct dedup_rule *
dedup_rule_find(const struct dedup *d, const char *name, uint64_t *hp)
{
	struct dedup_rule *r;
	uint64_t h = hash_fnv1a(HASH_FNV_INIT, name, strlen(name) + 1);

	if (hp != NULL)
		*hp = h;
	for (r = d->rules[h % DEDUP_RULE_BUCKETS]; r != NULL; r = r->hnext)
		if (r->hash == h && !strcmp(r->name, name))
			return r;
	return NULL;
}

static void
dedup_rule_update(struct dedup_rule *dr, const struct rule *r)
{
	dr->threshold_n = r->threshold_n;
	dr->window = r->threshold_window;
	dr->suppress = r->suppress;
	dr->renotify = r->renotify;
	dr->on_repeat = r->on_repeat;
	dr->live = true;
}

/* The record for rule r, made on first use, kept current. */
static struct dedup_rule *
dedup_rule_get(struct dedup *d, const struct rule *r)
{
	struct dedup_rule *dr;
	uint64_t h;

	if ((dr = dedup_rule_find(d, r->name, &h)) == NULL) {
		dr = xcalloc(1, sizeof(*dr));
		dr->name = xstrdup(r->name);
		dr->hash = h;
		dr->hnext = d->rules[h % DEDUP_RULE_BUCKETS];
		d->rules[h % DEDUP_RULE_BUCKETS] = dr;
	}
	dedup_rule_update(dr, r);
	return dr;
}

/* --- the table and its LRU list --------------------------------------- */

static uint64_t
dedup_hash(const struct dedup_rule *dr, const char *key, size_t keylen)
{
	return hash_fnv1a(dr->hash, key, keylen);
}

static void
lru_unlink(struct dedup *d, struct dedup_entry *e)
{
	if (e->newer != NULL)
		e->newer->older = e->older;
	else
		d->newest = e->older;
	if (e->older != NULL)
		e->older->newer = e->newer;
	else
		d->oldest = e->newer;
	e->newer = e->older = NULL;
}

static void
lru_push(struct dedup *d, struct dedup_entry *e)
{
	e->older = d->newest;
	e->newer = NULL;
	if (d->newest != NULL)
		d->newest->newer = e;
	d->newest = e;
	if (d->oldest == NULL)
		d->oldest = e;
}

static void
dedup_remove(struct dedup *d, struct dedup_entry *e)
{
	struct dedup_entry **pp = &d->buckets[e->hash & (d->nbuckets - 1)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	lru_unlink(d, e);
	dedup_entry_free(e);
	d->n--;
	d->dirty = true;
}

static void
dedup_grow(struct dedup *d)
{
	struct dedup_entry **nb, *e, *next;
	size_t i, n = d->nbuckets * 2;

	nb = xcalloc(n, sizeof(*nb));
	for (i = 0; i < d->nbuckets; i++)
		for (e = d->buckets[i]; e != NULL; e = next) {
			next = e->hnext;
			e->hnext = nb[e->hash & (n - 1)];
			nb[e->hash & (n - 1)] = e;
		}
	free(d->buckets);
	d->buckets = nb;
	d->nbuckets = n;
}

static struct dedup_entry *
dedup_find(const struct dedup *d, const struct dedup_rule *dr,
    const char *key, size_t keylen)
{
	struct dedup_entry *e;
	uint64_t h = dedup_hash(dr, key, keylen);

	for (e = d->buckets[h & (d->nbuckets - 1)]; e != NULL; e = e->hnext)
		if (e->hash == h && e->rule == dr && e->keylen == keylen &&
		    memcmp(e->key, key, keylen) == 0)
			return e;
	return NULL;
}

static void burst_end(struct dedup *d, struct dedup_entry *e);

/* Forget the least recently seen key: a full table must not stop
 * matching, and the oldest burst is the least likely to recur. */
static void
dedup_evict_one(struct dedup *d)
{
	struct dedup_entry *e = d->oldest;
	unsigned long shown;

	if (e == NULL)
		return;
	if ((shown = log_ratelimit_ok(&d->evict_rl, 60)) > 0)
		log_warnx("dedup: %zu keys tracked (max_keys); forgetting the "
		    "least recently seen, rule [%s] (%lu since the last "
		    "warning)", d->cfg.max_keys, e->rule->name, shown);
	/* Its repeats are reported now rather than never. */
	burst_end(d, e);
	dedup_remove(d, e);
	d->stats.evicted++;
}

static struct dedup_entry *
dedup_add(struct dedup *d, struct dedup_rule *dr, const char *key,
    size_t keylen, time_t t)
{
	struct dedup_entry *e;
	size_t b;

	/* Full: first drop bursts that are over (once per second: the
	 * sweep stops at the first young key, but old long bursts may come
	 * first), then forget the least recently seen. */
	if (d->n >= d->cfg.max_keys && t != d->full_sweep_t) {
		d->full_sweep_t = t;
		dedup_sweep(d, t, false);
	}
	while (d->n >= d->cfg.max_keys && d->oldest != NULL)
		dedup_evict_one(d);
	if (d->n >= d->nbuckets)
		dedup_grow(d);
	e = xcalloc(1, sizeof(*e) + keylen + 1);
	e->rule = dr;
	e->hash = dedup_hash(dr, key, keylen);
	memcpy(e->key, key, keylen);
	e->keylen = (uint32_t)keylen;
	b = e->hash & (d->nbuckets - 1);
	e->hnext = d->buckets[b];
	d->buckets[b] = e;
	lru_push(d, e);
	d->n++;
	return e;
}

/* --- bursts ------------------------------------------------------------ */

static void
dedup_end_queue(struct dedup *d, struct dedup_end *x)
{
	struct dedup_end *old;
	unsigned long shown;

	if (d->nends >= DEDUP_MAX_ENDS && (old = d->ends) != NULL) {
		if ((shown = log_ratelimit_ok(&d->ends_rl, 60)) > 0)
			log_warnx("dedup: %d on_repeat actions queued; dropping "
			    "the oldest, for rule [%s] ticket ref %s (%lu since "
			    "the last warning)", DEDUP_MAX_ENDS, old->rule,
			    old->ref, shown);
		d->ends = old->next;
		if (d->ends == NULL)
			d->ends_tail = NULL;
		d->nends--;
		dedup_end_free(old);
	}
	x->next = NULL;
	if (d->ends_tail != NULL)
		d->ends_tail->next = x;
	else
		d->ends = x;
	d->ends_tail = x;
	d->nends++;
	d->dirty = true;
}

/*
 * The burst in e is over: report its repeats (queue the on_repeat action,
 * or log them) and make e a fresh, empty burst.
 */
static void
burst_end(struct dedup *d, struct dedup_entry *e)
{
	struct dedup_end *x;
	char first[20], last[20];

	if (e->state == ST_TICKETED) {
		d->stats.bursts_ended++;
		d->stats.repeats += e->suppressed;
		if (e->suppressed > 0 && e->rule->on_repeat != REPEAT_NONE) {
			x = xcalloc(1, sizeof(*x));
			x->rule = xstrdup(e->rule->name);
			x->key = xstrndup(e->key, e->keylen);
			x->keylen = e->keylen;
			memcpy(x->ref, e->ref, sizeof(x->ref));
			x->ticket_id = e->ticket_id;
			e->ticket_id = NULL;
			x->action = e->rule->on_repeat;
			x->first_seen = e->first_seen;
			x->last_seen = e->last_seen;
			x->ticket_time = e->ticket_time;
			x->count = e->count;
			x->suppressed = e->suppressed;
			x->line = e->line;
			x->linelen = e->linelen;
			e->line = NULL;
			e->linelen = 0;
			dedup_end_queue(d, x);
		} else if (e->suppressed > 0) {
			time_format_local(e->first_seen, first);
			time_format_local(e->last_seen, last);
			log_info("rule [%s] key \"%.*s\": burst over, %lu "
			    "matches from %s to %s, %lu after its ticket (ref "
			    "%s)", e->rule->name, (int)e->keylen, e->key,
			    e->count, first, last, e->suppressed, e->ref);
		}
	}
	e->state = ST_NEW;
	e->count = e->suppressed = 0;
	e->ref[0] = '\0';
	e->ticket_time = 0;
	free(e->ticket_id);
	e->ticket_id = NULL;
	free(e->line);
	e->line = NULL;
	e->linelen = 0;
	e->win_len = 0;
	d->dirty = true;
}

static void
dedup_keep_line(struct dedup_entry *e, const char *line, size_t len)
{
	if (len > DEDUP_LINE_MAX)
		len = DEDUP_LINE_MAX;
	if (e->line == NULL || e->linelen < len) {
		free(e->line);
		e->line = xmalloc(len + 1);
	}
	memcpy(e->line, line, len);
	e->line[len] = '\0';
	e->linelen = (uint32_t)len;
}

/* Add t to the window and drop what fell out; returns matches in it. */
static size_t
dedup_window_add(struct dedup_entry *e, size_t n, time_t window, time_t t)
{
	size_t cap = n > DEDUP_MAX_WINDOW ? DEDUP_MAX_WINDOW : n;

	if (e->win_cap != cap) {
		time_t *nw = xcalloc(cap, sizeof(*nw));
		uint32_t keep = e->win_len < cap ? e->win_len : (uint32_t)cap;
		uint32_t i;

		/* A new N (reload): keep the newest matches. */
		for (i = 0; i < keep; i++)
			nw[i] = e->win[(e->win_head + e->win_len - keep + i) %
			    e->win_cap];
		free(e->win);
		e->win = nw;
		e->win_cap = (uint32_t)cap;
		e->win_head = 0;
		e->win_len = keep;
	}
	while (e->win_len > 0 && t - e->win[e->win_head] >= window) {
		e->win_head = (e->win_head + 1) % e->win_cap;
		e->win_len--;
	}
	if (e->win_len == e->win_cap) {
		e->win_head = (e->win_head + 1) % e->win_cap;
		e->win_len--;
	}
	e->win[(e->win_head + e->win_len) % e->win_cap] = t;
	e->win_len++;
	return e->win_len;
}

/* --- the storm guard ---------------------------------------------------- */

/* Take a token from the bucket (refilled N per period); false if none. */
static bool
storm_take(struct dedup *d, time_t t)
{
	double n = (double)d->cfg.max_tickets;

	if (d->cfg.max_tickets == 0)
		return true;
	if (d->bucket_t == 0)
		d->bucket_t = t;
	if (t > d->bucket_t) {
		d->tokens += (double)(t - d->bucket_t) * n /
		    (double)d->cfg.period;
		if (d->tokens > n)
			d->tokens = n;
		d->bucket_t = t;
	}
	if (d->tokens < 1.0)
		return false;
	d->tokens -= 1.0;
	return true;
}

static struct storm_rule *
storm_rule_get(struct dedup *d, const char *name)
{
	struct storm_rule *s, **pp;

	for (pp = &d->storm_rules; (s = *pp) != NULL; pp = &s->next)
		if (!strcmp(s->name, name))
			return s;
	s = xcalloc(1, sizeof(*s));
	s->name = xstrdup(name);
	*pp = s;
	return s;
}

static void
storm_hold(struct dedup *d, const char *rule, const char *key, size_t keylen,
    time_t t)
{
	struct storm_rule *s = storm_rule_get(d, rule);

	if (d->storm_start == 0) {
		d->storm_start = t;
		log_warnx("storm guard: more than %lld tickets in %llds; "
		    "holding tickets back (first: rule [%s]) until it passes",
		    (long long)d->cfg.max_tickets, (long long)d->cfg.period,
		    rule);
	}
	if (t > d->storm_last)
		d->storm_last = t;
	d->storm_held++;
	d->stats.held++;
	d->dirty = true;
	s->held++;
	if (s->nkeys < DEDUP_STORM_KEYS)
		s->keys[s->nkeys++] = xstrndup(key, keylen);
	else
		s->more++;
}

bool
dedup_storm_admit(struct dedup *d, const char *rule, const char *key,
    size_t keylen, time_t t)
{
	if (storm_take(d, t))
		return true;
	storm_hold(d, rule, key, keylen, t);
	return false;
}

bool
dedup_storm_due(const struct dedup *d, time_t now)
{
	return d->storm_start != 0 &&
	    now - d->storm_last >= d->cfg.storm_quiet;
}

time_t
dedup_storm_started(const struct dedup *d)
{
	return d->storm_start;
}

/* A key for a list: printable, short. */
static void
storm_key(struct buf *b, const char *k)
{
	size_t n = strlen(k);

	buf_appendc(b, '"');
	if (n > 80) {
		buf_append(b, k, utf8_cut(k, n, 80));
		buf_appends(b, "\xe2\x80\xa6");
	} else {
		buf_append(b, k, n);
	}
	buf_appendc(b, '"');
}

void
dedup_storm_summary(const struct dedup *d, struct buf *title,
    struct buf *details)
{
	const struct storm_rule *s;
	char from[20], to[20];
	size_t i;

	time_format_local(d->storm_start, from);
	time_format_local(d->storm_last, to);
	buf_printf(title, "omkapture storm guard: %lu ticket%s held back",
	    d->storm_held, d->storm_held == 1 ? "" : "s");
	buf_printf(details, "From %s to %s more alerts came than the storm "
	    "guard allows (max_tickets = %lld per %llds), so %lu ticket%s "
	    "were held back:\n", from, to, (long long)d->cfg.max_tickets,
	    (long long)d->cfg.period, d->storm_held,
	    d->storm_held == 1 ? "" : "s");
	for (s = d->storm_rules; s != NULL; s = s->next) {
		if (s->held == 0)
			continue;
		buf_printf(details, "\n[%s]: %lu held back", s->name, s->held);
		if (s->matches > 0)
			buf_printf(details, ", %lu more match%s of these keys",
			    s->matches, s->matches == 1 ? "" : "es");
		buf_appends(details, "; keys: ");
		for (i = 0; i < s->nkeys; i++) {
			if (i > 0)
				buf_appends(details, ", ");
			storm_key(details, s->keys[i]);
		}
		if (s->more > 0)
			buf_printf(details, " and %lu more", s->more);
	}
	buf_appendc(details, '\n');
}

void
dedup_storm_done(struct dedup *d)
{
	d->stats.storms++;
	storm_clear(d);
	d->dirty = true;
}

/* --- matching ----------------------------------------------------------- */

/* Open a ticket for e's burst if the storm guard has budget. */
static void
dedup_fire(struct dedup *d, struct dedup_entry *e, time_t t,
    struct dedup_result *res)
{
	e->ticket_time = t;
	if (!storm_take(d, t)) {
		e->state = ST_HELD;
		storm_hold(d, e->rule->name, e->key, e->keylen, t);
		res->verdict = DEDUP_HELD;
		return;
	}
	e->state = ST_TICKETED;
	res->verdict = DEDUP_FIRE;
}

void
dedup_match(struct dedup *d, const struct rule *rule, const char *key,
    size_t keylen, time_t t, const char *line, size_t linelen,
    struct dedup_result *res)
{
	struct dedup_rule *dr = dedup_rule_get(d, rule);
	struct dedup_entry *e = dedup_find(d, dr, key, keylen);
	size_t n;

	memset(res, 0, sizeof(*res));
	if (e == NULL)
		e = dedup_add(d, dr, key, keylen, t);
	else if (t < e->last_seen)
		t = e->last_seen;   /* event times may step back */
	res->entry = e;
	d->dirty = true;
	lru_unlink(d, e);
	lru_push(d, e);

	/* A burst quiet for `suppress` is over: report it, start anew. */
	if (e->state != ST_NEW && t - e->last_seen >= (time_t)dr->suppress)
		burst_end(d, e);
	/* A burst older than renotify gets a fresh ticket. */
	if (e->state != ST_NEW && dr->renotify > 0 &&
	    t - e->ticket_time >= (time_t)dr->renotify) {
		burst_end(d, e);
		res->renotify = true;
	}
	if (e->count == 0)
		e->first_seen = t;
	e->count++;
	e->last_seen = t;
	if (dr->on_repeat != REPEAT_NONE && line != NULL)
		dedup_keep_line(e, line, linelen);
	res->count = e->count;
	res->first_seen = e->first_seen;
	res->last_seen = t;

	if (e->state == ST_TICKETED) {
		e->suppressed++;
		d->stats.suppressed++;
		res->verdict = DEDUP_SUPPRESS;
		return;
	}
	if (e->state == ST_HELD) {
		e->suppressed++;
		d->stats.held_matches++;
		if (d->storm_start != 0)
			storm_rule_get(d, dr->name)->matches++;
		res->verdict = DEDUP_SUPPRESS;
		res->storm = true;
		return;
	}
	/* A renotify fires at once: the burst crossed its threshold long
	 * ago. */
	if (dr->threshold_n > 1 && !res->renotify) {
		n = dedup_window_add(e, (size_t)dr->threshold_n,
		    (time_t)dr->window, t);
		if (n < (size_t)dr->threshold_n && n < DEDUP_MAX_WINDOW) {
			d->stats.pending++;
			res->count = n;
			res->first_seen = e->win[e->win_head];
			res->verdict = DEDUP_PENDING;
			return;
		}
		/* The burst that crossed the threshold starts at the
		 * oldest match still in the window. */
		e->first_seen = e->win[e->win_head];
		e->count = n;
		res->first_seen = e->first_seen;
		res->count = n;
		e->win_len = 0;
	}
	dedup_fire(d, e, t, res);
}

void
dedup_fired(struct dedup *d, const struct dedup_result *res, const char *ref)
{
	struct dedup_entry *e = res->entry;

	if (e == NULL || res->verdict != DEDUP_FIRE)
		return;
	snprintf(e->ref, sizeof(e->ref), "%s", ref);
	d->dirty = true;
}

void
dedup_undo(struct dedup *d, const struct dedup_result *res)
{
	struct dedup_entry *e = res->entry;
	size_t i, n;

	if (res->verdict != DEDUP_FIRE || e == NULL)
		return;
	if (d->cfg.max_tickets > 0 &&
	    (d->tokens += 1.0) > (double)d->cfg.max_tickets)
		d->tokens = (double)d->cfg.max_tickets;
	e->state = ST_NEW;
	e->ref[0] = '\0';
	e->ticket_time = 0;
	d->dirty = true;
	if (e->rule->threshold_n > 1 && e->win_cap > 0) {
		/* Keep the threshold crossed: the re-sent line must fire
		 * at once, not wait for N more matches. */
		n = (size_t)e->rule->threshold_n - 1;
		if (n > e->win_cap - 1)
			n = e->win_cap - 1;
		e->win_head = 0;
		e->win_len = (uint32_t)n;
		for (i = 0; i < n; i++)
			e->win[i] = e->last_seen;
		e->count = n;
	} else {
		e->count = 0;
	}
}

static int64_t
dedup_horizon(const struct dedup_entry *e)
{
	if (e->state == ST_NEW && e->rule->threshold_n > 1)
		return e->rule->window;
	return e->rule->suppress;
}

size_t
dedup_sweep(struct dedup *d, time_t now, bool full)
{
	struct dedup_entry *e, *newer;
	const struct dedup_rule *dr;
	int64_t shortest = INT64_MAX;
	size_t i, dropped = 0;

	/* Keys are in the order they were last seen: once one is younger
	 * than any rule's horizon, so are all after it (with event times
	 * out of order, nearly: a full sweep now and then catches those). */
	for (i = 0; i < DEDUP_RULE_BUCKETS; i++)
		for (dr = d->rules[i]; dr != NULL; dr = dr->hnext) {
			if (dr->suppress < shortest)
				shortest = dr->suppress;
			if (dr->threshold_n > 1 && dr->window < shortest)
				shortest = dr->window;
		}
	for (e = d->oldest; e != NULL; e = newer) {
		newer = e->newer;
		if (!full && now - e->last_seen < (time_t)shortest)
			break;
		if (now - e->last_seen < (time_t)dedup_horizon(e))
			continue;
		burst_end(d, e);
		dedup_remove(d, e);
		dropped++;
	}
	return dropped;
}

size_t
dedup_sync_rules(struct dedup *d, struct ruleset *rs)
{
	struct dedup_rule *dr, **pp;
	struct dedup_entry *e, *newer;
	size_t i, dropped = 0;

	for (i = 0; i < DEDUP_RULE_BUCKETS; i++)
		for (dr = d->rules[i]; dr != NULL; dr = dr->hnext)
			dr->live = false;
	for (i = 0; i < rs->n; i++)
		if ((dr = dedup_rule_find(d, rs->v[i].name, NULL)) != NULL)
			dedup_rule_update(dr, &rs->v[i]);
	for (e = d->oldest; e != NULL; e = newer) {
		newer = e->newer;
		if (!e->rule->live) {
			dedup_remove(d, e);
			dropped++;
		}
	}
	for (i = 0; i < DEDUP_RULE_BUCKETS; i++) {
		pp = &d->rules[i];
		while ((dr = *pp) != NULL) {
			if (!dr->live) {
				*pp = dr->hnext;
				free(dr->name);
				free(dr);
			} else {
				pp = &dr->hnext;
			}
		}
	}
	return dropped;
}

/* --- queued actions and ticket ids ------------------------------------- */

struct dedup_end *
dedup_end_peek(struct dedup *d)
{
	return d->ends;
}

void
dedup_end_pop(struct dedup *d)
{
	struct dedup_end *x = d->ends;

	if (x == NULL)
		return;
	d->ends = x->next;
	if (d->ends == NULL)
		d->ends_tail = NULL;
	d->nends--;
	dedup_end_free(x);
	d->dirty = true;
}

size_t
dedup_end_count(const struct dedup *d)
{
	return d->nends;
}

bool
dedup_ticket_created(struct dedup *d, const char *rule, const char *key,
    const char *ref, const char *ticket_id)
{
	struct dedup_rule *dr;
	struct dedup_entry *e;
	struct dedup_end *x;
	bool took = false;
	size_t i;

	if (ticket_id == NULL || *ticket_id == '\0')
		return false;
	if ((dr = dedup_rule_find(d, rule, NULL)) != NULL &&
	    (e = dedup_find(d, dr, key, strlen(key))) != NULL &&
	    !strcmp(e->ref, ref) && e->ticket_id == NULL) {
		e->ticket_id = xstrdup(ticket_id);
		took = true;
	}
	for (x = d->ends; x != NULL; x = x->next)
		if (x->ticket_id == NULL && !strcmp(x->ref, ref)) {
			x->ticket_id = xstrdup(ticket_id);
			took = true;
		}
	for (i = 0; i < d->nawaits; i++)
		if (d->awaits[i].id == NULL && !strcmp(d->awaits[i].ref, ref)) {
			d->awaits[i].id = xstrdup(ticket_id);
			took = true;
		}
	if (took)
		d->dirty = true;
	return took;
}

static void
dedup_await_remove(struct dedup *d, size_t i)
{
	free(d->awaits[i].id);
	memmove(&d->awaits[i], &d->awaits[i + 1],
	    (d->nawaits - i - 1) * sizeof(d->awaits[0]));
	d->nawaits--;
	d->dirty = true;
}

static void
dedup_await_add(struct dedup *d, const char *ref, const char *id, time_t now)
{
	struct dedup_await_rec *a;
	size_t i;

	for (i = 0; i < d->nawaits; i++)
		if (!strcmp(d->awaits[i].ref, ref))
			return;
	/* Old ones belong to tickets that will never come. */
	for (i = 0; i < d->nawaits;)
		if (now - d->awaits[i].since > DEDUP_AWAIT_TTL ||
		    d->nawaits >= DEDUP_MAX_AWAITS)
			dedup_await_remove(d, i);
		else
			i++;
	if (d->nawaits == d->awaits_cap) {
		d->awaits_cap = d->awaits_cap ? d->awaits_cap * 2 : 16;
		d->awaits = xrealloc(d->awaits, d->awaits_cap * sizeof(*a));
	}
	a = &d->awaits[d->nawaits++];
	memset(a, 0, sizeof(*a));
	snprintf(a->ref, sizeof(a->ref), "%s", ref);
	a->id = id != NULL ? xstrdup(id) : NULL;
	a->since = now;
	d->dirty = true;
}

void
dedup_await(struct dedup *d, const char *ref, time_t now)
{
	dedup_await_add(d, ref, NULL, now);
}

const char *
dedup_await_id(const struct dedup *d, const char *ref)
{
	size_t i;

	for (i = 0; i < d->nawaits; i++)
		if (!strcmp(d->awaits[i].ref, ref))
			return d->awaits[i].id;
	return NULL;
}

void
dedup_await_done(struct dedup *d, const char *ref)
{
	size_t i;

	for (i = 0; i < d->nawaits; i++)
		if (!strcmp(d->awaits[i].ref, ref)) {
			dedup_await_remove(d, i);
			return;
		}
}

/* --- the state file ----------------------------------------------------- */

#define STATE_MAGIC "omkapture-state 1"

/* A string field: '=' then the bytes, with space, '\\' and control bytes
 * as \xNN, so fields split on spaces. */
static void
state_str(FILE *fp, const char *s, size_t n)
{
	size_t i;

	putc('=', fp);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c == 0x7f || c == '\\')
			fprintf(fp, "\\x%02x", c);
		else
			putc(c, fp);
	}
}

/* The last field of a record, the rest of the line: like state_str, but
 * spaces stay (a log line is mostly spaces and words). */
static void
state_rest(FILE *fp, const char *s, size_t n)
{
	size_t i;

	putc('=', fp);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || c == '\\')
			fprintf(fp, "\\x%02x", c);
		else
			putc(c, fp);
	}
}

/* An optional string: '-' for none. */
static void
state_opt(FILE *fp, const char *s)
{
	if (s == NULL)
		putc('-', fp);
	else
		state_str(fp, s, strlen(s));
}

int
dedup_save(struct dedup *d, FILE *fp, time_t now)
{
	const struct dedup_entry *e;
	const struct dedup_end *x;
	const struct storm_rule *s;
	unsigned long records = 0;
	size_t i;
	uint32_t j;

	fprintf(fp, STATE_MAGIC "\nsaved %" PRId64 "\n", (int64_t)now);
	fprintf(fp, "bucket %.6f %" PRId64 "\n", d->tokens,
	    (int64_t)d->bucket_t);
	records += 2;
	if (d->storm_start != 0) {
		fprintf(fp, "storm %" PRId64 " %" PRId64 " %lu\n",
		    (int64_t)d->storm_start, (int64_t)d->storm_last,
		    d->storm_held);
		records++;
		for (s = d->storm_rules; s != NULL; s = s->next) {
			fputs("storm-rule ", fp);
			state_str(fp, s->name, strlen(s->name));
			fprintf(fp, " %lu %lu %lu\n", s->held, s->matches,
			    s->more);
			records++;
			for (i = 0; i < s->nkeys; i++) {
				fputs("storm-key ", fp);
				state_str(fp, s->keys[i], strlen(s->keys[i]));
				putc('\n', fp);
				records++;
			}
		}
	}
	/* Oldest first, so loading rebuilds the same LRU order. */
	for (e = d->oldest; e != NULL; e = e->newer) {
		fputs("key ", fp);
		state_str(fp, e->rule->name, strlen(e->rule->name));
		putc(' ', fp);
		state_str(fp, e->key, e->keylen);
		fprintf(fp, " %u %" PRId64 " %" PRId64 " %" PRId64 " %lu %lu ",
		    e->state, (int64_t)e->first_seen, (int64_t)e->last_seen,
		    (int64_t)e->ticket_time, e->count, e->suppressed);
		state_str(fp, e->ref, strlen(e->ref));
		putc(' ', fp);
		state_opt(fp, e->ticket_id);
		putc(' ', fp);
		if (e->win_len == 0)
			putc('-', fp);
		for (j = 0; j < e->win_len; j++)
			fprintf(fp, "%s%" PRId64, j ? "," : "", (int64_t)
			    e->win[(e->win_head + j) % e->win_cap]);
		putc('\n', fp);
		records++;
		if (e->line != NULL) {
			fputs("line ", fp);
			state_rest(fp, e->line, e->linelen);
			putc('\n', fp);
			records++;
		}
	}
	for (x = d->ends; x != NULL; x = x->next) {
		fputs("end ", fp);
		state_str(fp, x->rule, strlen(x->rule));
		putc(' ', fp);
		state_str(fp, x->key, x->keylen);
		putc(' ', fp);
		state_str(fp, x->ref, strlen(x->ref));
		putc(' ', fp);
		state_opt(fp, x->ticket_id);
		fprintf(fp, " %d %" PRId64 " %" PRId64 " %" PRId64 " %lu %lu\n",
		    (int)x->action, (int64_t)x->first_seen,
		    (int64_t)x->last_seen, (int64_t)x->ticket_time, x->count,
		    x->suppressed);
		records++;
		if (x->line != NULL) {
			fputs("line ", fp);
			state_rest(fp, x->line, x->linelen);
			putc('\n', fp);
			records++;
		}
	}
	for (i = 0; i < d->nawaits; i++) {
		fputs("await ", fp);
		state_str(fp, d->awaits[i].ref, strlen(d->awaits[i].ref));
		putc(' ', fp);
		state_opt(fp, d->awaits[i].id);
		fprintf(fp, " %" PRId64 "\n", (int64_t)d->awaits[i].since);
		records++;
	}
	fprintf(fp, "end-of-state %lu\n", records);
	if (fflush(fp) != 0 || ferror(fp))
		return -1;
	d->dirty = false;
	return 0;
}

/* Decode a '=' field in place; its length in *n. False if malformed. */
static bool
state_unstr(char *s, size_t *n)
{
	char *w = s, *r = s + 1;

	if (*s != '=')
		return false;
	while (*r != '\0') {
		if (*r == '\\') {
			if (r[1] != 'x' || hex_digit(r[2]) < 0 ||
			    hex_digit(r[3]) < 0)
				return false;
			*w++ = (char)(hex_digit(r[2]) * 16 + hex_digit(r[3]));
			r += 4;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	*n = (size_t)(w - s);
	return true;
}

/* An optional string: NULL for '-'. */
static bool
state_unopt(char *s, char **out)
{
	size_t n;

	if (!strcmp(s, "-")) {
		*out = NULL;
		return true;
	}
	if (!state_unstr(s, &n) || memchr(s, '\0', n) != NULL)
		return false;
	*out = s;
	return true;
}

static bool
state_i64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' ||
	    v < -1000000000000LL || v > 1000000000000LL)
		return false;
	*out = v;
	return true;
}

static bool
state_ul(const char *s, unsigned long *out)
{
	int64_t v;

	if (!state_i64(s, &v) || v < 0)
		return false;
	*out = (unsigned long)v;
	return true;
}

#define STATE_MAXF 16

/* Split line on single spaces into f; returns the count. A "line"
 * record's one field is the rest of the line, spaces and all. */
static int
state_split(char *line, char **f)
{
	int n = 0;
	char *p = line;

	if (!strncmp(line, "line ", 5)) {
		line[4] = '\0';
		f[0] = line;
		f[1] = line + 5;
		return 2;
	}
	while (n < STATE_MAXF) {
		f[n++] = p;
		if ((p = strchr(p, ' ')) == NULL)
			break;
		*p++ = '\0';
	}
	return p == NULL ? n : STATE_MAXF + 1;
}

/* The rule record for a rule named in the state file, if it still exists. */
static struct dedup_rule *
state_rule(struct dedup *d, const char *name)
{
	struct dedup_rule *dr = dedup_rule_find(d, name, NULL);

	return dr != NULL && dr->live ? dr : NULL;
}

static bool
state_window(struct dedup_entry *e, char *s)
{
	int64_t t;
	char *comma;
	size_t n = 1, cap;

	if (!strcmp(s, "-"))
		return true;
	for (comma = s; (comma = strchr(comma, ',')) != NULL; comma++)
		n++;
	cap = e->rule->threshold_n > DEDUP_MAX_WINDOW ? DEDUP_MAX_WINDOW :
	    (size_t)(e->rule->threshold_n > 1 ? e->rule->threshold_n : 1);
	e->win = xcalloc(cap, sizeof(*e->win));
	e->win_cap = (uint32_t)cap;
	for (; s != NULL; s = comma) {
		if ((comma = strchr(s, ',')) != NULL)
			*comma++ = '\0';
		if (!state_i64(s, &t))
			return false;
		/* A smaller threshold since: keep the newest. */
		if (e->win_len == e->win_cap) {
			e->win_head = (e->win_head + 1) % e->win_cap;
			e->win_len--;
		}
		e->win[(e->win_head + e->win_len) % e->win_cap] = (time_t)t;
		e->win_len++;
	}
	return true;
}

static const char *
state_line(struct dedup *d, char **f, int nf, struct dedup_entry **last_e,
    struct dedup_end **last_x, struct storm_rule **last_s,
    unsigned long *dropped)
{
	struct dedup_rule *dr;
	struct dedup_entry *e;
	struct dedup_end *x;
	struct storm_rule *s;
	size_t n, kn;
	int64_t a, b, c;
	unsigned long u1, u2, u3;
	char *opt;

	if (!strcmp(f[0], "saved") && nf == 2) {
		if (!state_i64(f[1], &a))
			return "bad saved time";
		d->saved = (time_t)a;
		return NULL;
	}
	if (!strcmp(f[0], "bucket") && nf == 3) {
		char *dend;
		double tk;

		if (!state_i64(f[2], &a))
			return "bad bucket";
		errno = 0;
		tk = strtod(f[1], &dend);
		if (errno != 0 || dend == f[1] || *dend != '\0' ||
		    !(tk >= 0 && tk <= 1e12))
			return "bad bucket";
		d->tokens = tk;
		/* Never used (or saved with the guard off): full. */
		if (a == 0 || d->tokens > (double)d->cfg.max_tickets)
			d->tokens = (double)d->cfg.max_tickets;
		d->bucket_t = (time_t)a;
		return NULL;
	}
	if (!strcmp(f[0], "storm") && nf == 4) {
		if (!state_i64(f[1], &a) || !state_i64(f[2], &b) ||
		    !state_ul(f[3], &u1) || a == 0)
			return "bad storm record";
		d->storm_start = (time_t)a;
		d->storm_last = (time_t)b;
		d->storm_held = u1;
		return NULL;
	}
	if (!strcmp(f[0], "storm-rule") && nf == 5) {
		if (d->storm_start == 0 || !state_unstr(f[1], &n) ||
		    !state_ul(f[2], &u1) || !state_ul(f[3], &u2) ||
		    !state_ul(f[4], &u3))
			return "bad storm-rule record";
		s = storm_rule_get(d, f[1]);
		s->held = u1;
		s->matches = u2;
		s->more = u3;
		*last_s = s;
		return NULL;
	}
	if (!strcmp(f[0], "storm-key") && nf == 2) {
		if (*last_s == NULL || !state_unstr(f[1], &n))
			return "bad storm-key record";
		if ((*last_s)->nkeys < DEDUP_STORM_KEYS)
			(*last_s)->keys[(*last_s)->nkeys++] = xstrndup(f[1], n);
		return NULL;
	}
	if (!strcmp(f[0], "key") && nf == 12) {
		*last_e = NULL;
		*last_x = NULL;
		if (!state_unstr(f[1], &n) || !state_unstr(f[2], &kn) ||
		    !state_i64(f[4], &a) || !state_i64(f[5], &b) ||
		    !state_i64(f[6], &c) || !state_ul(f[7], &u1) ||
		    !state_ul(f[8], &u2) || !state_unstr(f[9], &n) ||
		    n > DEDUP_REF_LEN || !state_unopt(f[10], &opt) ||
		    strlen(f[3]) != 1 || f[3][0] < '0' || f[3][0] > '2')
			return "bad key record";
		if ((dr = state_rule(d, f[1])) == NULL) {
			(*dropped)++;
			return NULL;
		}
		if (dedup_find(d, dr, f[2], kn) != NULL)
			return "the same key twice";
		e = dedup_add(d, dr, f[2], kn, 0);
		e->state = (uint8_t)(f[3][0] - '0');
		e->first_seen = (time_t)a;
		e->last_seen = (time_t)b;
		e->ticket_time = (time_t)c;
		e->count = u1;
		e->suppressed = u2;
		memcpy(e->ref, f[9], n + 1);
		e->ticket_id = opt != NULL ? xstrdup(opt) : NULL;
		if (!state_window(e, f[11]))
			return "bad threshold window";
		*last_e = e;
		return NULL;
	}
	if (!strcmp(f[0], "line") && nf == 2) {
		if (!state_unstr(f[1], &n))
			return "bad line record";
		if (*last_e != NULL) {
			dedup_keep_line(*last_e, f[1], n);
		} else if (*last_x != NULL) {
			free((*last_x)->line);
			(*last_x)->line = xstrndup(f[1], n);
			(*last_x)->linelen = n;
		}
		return NULL;
	}
	if (!strcmp(f[0], "end") && nf == 11) {
		*last_e = NULL;
		*last_x = NULL;
		if (!state_unstr(f[1], &n) || !state_unstr(f[2], &kn) ||
		    !state_unstr(f[3], &n) || n > DEDUP_REF_LEN ||
		    !state_unopt(f[4], &opt) || !state_i64(f[5], &a) ||
		    a < REPEAT_NONE || a > REPEAT_TICKET)
			return "bad end record";
		x = xcalloc(1, sizeof(*x));
		x->action = (enum rule_on_repeat)a;
		if (!state_i64(f[6], &a) || !state_i64(f[7], &b) ||
		    !state_i64(f[8], &c) || !state_ul(f[9], &x->count) ||
		    !state_ul(f[10], &x->suppressed)) {
			free(x);
			return "bad end record";
		}
		x->rule = xstrdup(f[1]);
		x->key = xstrndup(f[2], kn);
		x->keylen = kn;
		memcpy(x->ref, f[3], n + 1);
		x->ticket_id = opt != NULL ? xstrdup(opt) : NULL;
		x->first_seen = (time_t)a;
		x->last_seen = (time_t)b;
		x->ticket_time = (time_t)c;
		dedup_end_queue(d, x);
		*last_x = x;
		return NULL;
	}
	if (!strcmp(f[0], "await") && nf == 4) {
		if (!state_unstr(f[1], &n) || n > DEDUP_REF_LEN ||
		    !state_unopt(f[2], &opt) || !state_i64(f[3], &a))
			return "bad await record";
		dedup_await_add(d, f[1], opt, (time_t)a);
		return NULL;
	}
	return "unknown record";
}

int
dedup_load(struct dedup *d, struct ruleset *rs, const char *data, size_t len,
    char *err, size_t errlen)
{
	struct dedup_entry *last_e = NULL;
	struct dedup_end *last_x = NULL;
	struct storm_rule *last_s = NULL;
	const char *p = data, *end = data + len, *nl, *why = NULL;
	char *line = NULL, *f[STATE_MAXF + 1] = { NULL };
	unsigned long records = 0, dropped = 0;
	int64_t want;
	size_t i, lineno = 0;
	int nf;

	/* Records for every rule that exists, so keys can find theirs. */
	for (i = 0; i < rs->n; i++)
		dedup_rule_get(d, &rs->v[i]);
	for (;;) {
		if (p >= end) {
			why = "truncated (no end-of-state line)";
			break;
		}
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL) {
			why = "truncated (last line unterminated)";
			break;
		}
		lineno++;
		free(line);
		line = xstrndup(p, (size_t)(nl - p));
		if (strlen(line) != (size_t)(nl - p)) {
			why = "NUL byte";
			break;
		}
		p = nl + 1;
		if (lineno == 1) {
			if (strcmp(line, STATE_MAGIC) != 0) {
				why = "not an omkapture state file";
				break;
			}
			continue;
		}
		nf = state_split(line, f);
		if (!strcmp(f[0], "end-of-state") && nf == 2) {
			if (!state_i64(f[1], &want) ||
			    want != (int64_t)records)
				why = "record count does not match";
			else if (p != end)
				why = "data after end-of-state";
			break;
		}
		if (nf > STATE_MAXF) {
			why = "too many fields";
			break;
		}
		if ((why = state_line(d, f, nf, &last_e, &last_x, &last_s,
		    &dropped)) != NULL)
			break;
		records++;
	}
	free(line);
	if (why != NULL) {
		snprintf(err, errlen, "line %zu: %s", lineno,
		    why ? why : "malformed");
		return -1;
	}
	if (dropped > 0)
		log_info("state: %lu key%s of rules that no longer exist "
		    "dropped", dropped, dropped == 1 ? "" : "s");
	/* Dropped keys must not come back with the rule: save soon. */
	d->dirty = dropped > 0;
	return 0;
}
