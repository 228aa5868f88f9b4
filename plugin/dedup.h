/*
 * dedup.h: one incident, one ticket. Matches are grouped by (rule, key)
 * into bursts: a threshold ("N in T") holds a ticket back until the Nth
 * match within a sliding window, then matches are counted, not ticketed,
 * until the key has been quiet for `suppress` (the burst ends); a burst
 * still running after `renotify` opens a fresh ticket.
 *
 * State is in memory here; the caller supplies time, so tests need no
 * sleeps. Memory is bounded by max_keys (least recently seen evicted).
 */
#ifndef OMK_DEDUP_H
#define OMK_DEDUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "rules.h"

enum dedup_verdict {
	DEDUP_FIRE,      /* open a ticket now */
	DEDUP_PENDING,   /* below the threshold: counted silently */
	DEDUP_SUPPRESS,  /* a ticket covers this burst: counted */
};

struct dedup_entry;

struct dedup_result {
	enum dedup_verdict verdict;
	unsigned long count;   /* matches in the burst, this one included */
	time_t first_seen;     /* the burst's (or the window's) first match */
	time_t last_seen;
	struct dedup_entry *entry;
	time_t prev_ticket;    /* for dedup_undo */
	bool prev_ticketed;
	bool renotify;         /* FIRE because the burst outlived renotify */
};

struct dedup;

/* Caller owns: dedup_free(). */
struct dedup *dedup_new(size_t max_keys);
void dedup_free(struct dedup *d);
/* Record a match of rule with key at time t and say what to do. */
void dedup_match(struct dedup *d, const struct rule *rule, const char *key,
    size_t keylen, time_t t, struct dedup_result *res);
/*
 * The ticket a FIRE asked for could not be handed over: forget that it
 * was opened, so the re-sent line fires again instead of being
 * suppressed (losing the alert).
 */
void dedup_undo(struct dedup *d, const struct rule *rule,
    const struct dedup_result *res);
size_t dedup_size(const struct dedup *d);
unsigned long dedup_evicted(const struct dedup *d);

#endif
