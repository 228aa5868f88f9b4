#include "dedup.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

#define DEDUP_MAX_WINDOW 1000   /* threshold N kept per key at most */

struct dedup_entry {
	struct dedup_entry *next;  /* hash chain */
	uint64_t hash;
	char *rule_name;           /* identity is (rule name, key) */
	time_t suppress;           /* the rule's, as of the last match: */
	time_t window;             /* rules are freed on reload, entries not */
	char *key;
	size_t keylen;
	time_t first_seen;
	time_t last_seen;
	time_t ticket_time;        /* when the burst's ticket fired */
	unsigned long count;
	bool ticketed;
	/* Threshold window: the times of the last matches, a ring. */
	time_t *win;
	size_t win_cap, win_head, win_len;
};

struct dedup {
	struct dedup_entry **buckets;
	size_t nbuckets;
	size_t n;
	size_t max_keys;
	unsigned long evicted;
	struct log_ratelimit evict_rl;
};

struct dedup *
dedup_new(size_t max_keys)
{
	struct dedup *d = xcalloc(1, sizeof(*d));

	d->nbuckets = 1024;
	d->buckets = xcalloc(d->nbuckets, sizeof(*d->buckets));
	d->max_keys = max_keys ? max_keys : 100000;
	return d;
}

static void
dedup_entry_free(struct dedup_entry *e)
{
	free(e->rule_name);
	free(e->key);
	free(e->win);
	free(e);
}

void
dedup_free(struct dedup *d)
{
	struct dedup_entry *e, *next;
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->nbuckets; i++)
		for (e = d->buckets[i]; e != NULL; e = next) {
			next = e->next;
			dedup_entry_free(e);
		}
	free(d->buckets);
	free(d);
}

size_t
dedup_size(const struct dedup *d)
{
	return d->n;
}

unsigned long
dedup_evicted(const struct dedup *d)
{
	return d->evicted;
}

static void
dedup_grow(struct dedup *d)
{
	struct dedup_entry **nb, *e, *next;
	size_t i, n = d->nbuckets * 2;

	nb = xcalloc(n, sizeof(*nb));
	for (i = 0; i < d->nbuckets; i++)
		for (e = d->buckets[i]; e != NULL; e = next) {
			next = e->next;
			e->next = nb[e->hash & (n - 1)];
			nb[e->hash & (n - 1)] = e;
		}
	free(d->buckets);
	d->buckets = nb;
	d->nbuckets = n;
}

/* Drop the least recently seen entry: a full table must not stop
 * matching, and the oldest burst is the least likely to recur. */
static void
dedup_evict_one(struct dedup *d)
{
	struct dedup_entry **pp, **oldest = NULL;
	size_t i;
	unsigned long shown;

	for (i = 0; i < d->nbuckets; i++)
		for (pp = &d->buckets[i]; *pp != NULL; pp = &(*pp)->next)
			if (oldest == NULL ||
			    (*pp)->last_seen < (*oldest)->last_seen)
				oldest = pp;
	if (oldest == NULL)
		return;
	{
		struct dedup_entry *e = *oldest;

		*oldest = e->next;
		if ((shown = log_ratelimit_ok(&d->evict_rl, 60)) > 0)
			log_warnx("dedup: %zu keys tracked (max_keys); "
			    "forgetting the least recently seen, rule [%s] "
			    "(%lu since the last warning)", d->max_keys,
			    e->rule_name, shown);
		dedup_entry_free(e);
	}
	d->n--;
	d->evicted++;
}

/*
 * Remove entries whose bursts are over: quiet past suppress (ticketed)
 * or past the threshold window (pending). Run when the table fills.
 */
static void
dedup_prune(struct dedup *d, time_t now)
{
	struct dedup_entry **pp, *e;
	time_t horizon;
	size_t i;

	for (i = 0; i < d->nbuckets; i++) {
		pp = &d->buckets[i];
		while ((e = *pp) != NULL) {
			horizon = e->ticketed ? e->suppress : e->window;
			if (now - e->last_seen > horizon) {
				*pp = e->next;
				dedup_entry_free(e);
				d->n--;
				continue;
			}
			pp = &e->next;
		}
	}
}

static struct dedup_entry *
dedup_lookup(struct dedup *d, const struct rule *rule, const char *key,
    size_t keylen, time_t t)
{
	struct dedup_entry *e;
	uint64_t h;
	size_t b;

	h = hash_fnv1a(HASH_FNV_INIT, rule->name, strlen(rule->name) + 1);
	h = hash_fnv1a(h, key, keylen);
	for (e = d->buckets[h & (d->nbuckets - 1)]; e != NULL; e = e->next)
		if (e->hash == h && e->keylen == keylen &&
		    memcmp(e->key, key, keylen) == 0 &&
		    strcmp(e->rule_name, rule->name) == 0)
			return e;
	if (d->n >= d->max_keys) {
		dedup_prune(d, t);
		while (d->n >= d->max_keys)
			dedup_evict_one(d);
	}
	if (d->n >= d->nbuckets)
		dedup_grow(d);
	e = xcalloc(1, sizeof(*e));
	e->hash = h;
	e->rule_name = xstrdup(rule->name);
	e->key = xstrndup(key, keylen);
	e->keylen = keylen;
	b = h & (d->nbuckets - 1);
	e->next = d->buckets[b];
	d->buckets[b] = e;
	d->n++;
	return e;
}

/* Add t to the window and drop what fell out; returns matches in it. */
static size_t
dedup_window_add(struct dedup_entry *e, size_t n, time_t window, time_t t)
{
	size_t cap = n > DEDUP_MAX_WINDOW ? DEDUP_MAX_WINDOW : n;

	if (e->win_cap != cap) {
		free(e->win);
		e->win = xcalloc(cap, sizeof(*e->win));
		e->win_cap = cap;
		e->win_head = e->win_len = 0;
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

void
dedup_match(struct dedup *d, const struct rule *rule, const char *key,
    size_t keylen, time_t t, struct dedup_result *res)
{
	struct dedup_entry *e = dedup_lookup(d, rule, key, keylen, t);
	size_t n;

	memset(res, 0, sizeof(*res));
	e->suppress = (time_t)rule->suppress;
	e->window = (time_t)rule->threshold_window;
	res->entry = e;
	res->prev_ticket = e->ticket_time;
	res->prev_ticketed = e->ticketed;

	/* A ticketed burst ends after `suppress` of quiet. */
	if (e->ticketed && t - e->last_seen >= (time_t)rule->suppress) {
		e->ticketed = false;
		e->count = 0;
	}
	if (e->count == 0)
		e->first_seen = t;
	e->count++;
	e->last_seen = t;
	res->count = e->count;
	res->first_seen = e->first_seen;
	res->last_seen = t;

	if (e->ticketed) {
		if (rule->renotify > 0 &&
		    t - e->ticket_time >= (time_t)rule->renotify) {
			e->ticket_time = t;
			res->verdict = DEDUP_FIRE;
			res->renotify = true;
			/* A fresh ticket is a fresh reference. */
			res->first_seen = t;
			return;
		}
		res->verdict = DEDUP_SUPPRESS;
		return;
	}
	if (rule->threshold_n > 1) {
		n = dedup_window_add(e, (size_t)rule->threshold_n,
		    (time_t)rule->threshold_window, t);
		if (n < (size_t)rule->threshold_n &&
		    n < DEDUP_MAX_WINDOW) {
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
	e->ticketed = true;
	e->ticket_time = t;
	res->verdict = DEDUP_FIRE;
}

void
dedup_undo(struct dedup *d, const struct rule *rule,
    const struct dedup_result *res)
{
	struct dedup_entry *e = res->entry;
	size_t i, n;

	(void)d;
	if (res->verdict != DEDUP_FIRE || e == NULL)
		return;
	e->ticketed = res->prev_ticketed;
	e->ticket_time = res->prev_ticket;
	if (e->ticketed)
		return;
	if (rule->threshold_n > 1 && e->win_cap > 0) {
		/* Keep the threshold crossed: the re-sent line must fire
		 * at once, not wait for N more matches. */
		n = (size_t)rule->threshold_n - 1;
		if (n > e->win_cap - 1)
			n = e->win_cap - 1;
		e->win_head = 0;
		e->win_len = n;
		for (i = 0; i < n; i++)
			e->win[i] = e->last_seen;
		e->count = n;
	} else {
		e->count = 0;
	}
}
