/*
 * dedup.h: one incident, one ticket, and no storm buries the helpdesk.
 *
 * Matches are grouped by (rule, key) into bursts. A threshold ("N in T")
 * holds a ticket back until the Nth match within a sliding window; after
 * the ticket, matches are counted, not ticketed, until the key has been
 * quiet for `suppress` (the burst ends); a burst still running after
 * `renotify` opens a fresh ticket. A burst that ends with suppressed
 * matches and an on_repeat action queues that action (a comment on its
 * ticket, or a summary ticket) for the caller to send.
 *
 * Over all rules a token bucket (max_tickets = N/T) guards against
 * storms: a ticket over budget is held back (its burst is counted, not
 * ticketed) and recorded per rule; once no ticket has been held back for
 * storm_quiet, one summary of what was held back is due.
 *
 * The caller supplies time (arrival or event clock), so tests need no
 * sleeps. Memory is bounded by max_keys: the least recently seen key is
 * forgotten first, with a warning. State survives restarts through
 * dedup_save/dedup_load (state.c).
 */
#ifndef OMK_DEDUP_H
#define OMK_DEDUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "rules.h"
#include "util.h"

#define DEDUP_REF_LEN 16        /* hex digits of a stable reference */
#define DEDUP_LINE_MAX 8192     /* last line kept for on_repeat, bytes */
#define DEDUP_STORM_KEYS 20     /* keys listed per rule in a storm summary */

enum dedup_verdict {
	DEDUP_FIRE,      /* open a ticket now */
	DEDUP_PENDING,   /* below the threshold: counted silently */
	DEDUP_SUPPRESS,  /* a ticket covers this burst: counted */
	DEDUP_HELD,      /* over the storm budget: held back, counted */
};

struct dedup_entry;

struct dedup_result {
	enum dedup_verdict verdict;
	unsigned long count;   /* matches in the burst, this one included */
	time_t first_seen;     /* the burst's (or the window's) first match */
	time_t last_seen;
	bool renotify;         /* FIRE because the burst outlived renotify */
	bool storm;            /* SUPPRESS inside a burst the guard held */
	struct dedup_entry *entry;
};

/* A burst that ended with work to do (on_repeat), oldest first. */
struct dedup_end {
	struct dedup_end *next;
	char *rule;
	char *key;
	size_t keylen;
	char ref[DEDUP_REF_LEN + 1];   /* the burst's ticket */
	char *ticket_id;               /* NULL: not known (yet) */
	enum rule_on_repeat action;
	time_t first_seen, last_seen, ticket_time;
	unsigned long count;           /* every match of the burst */
	unsigned long suppressed;      /* matches after its ticket */
	char *line;                    /* the last match's input line */
	size_t linelen;
};

struct dedup_stats {
	unsigned long suppressed;  /* matches a ticket already covered */
	unsigned long pending;     /* matches below their threshold */
	unsigned long held;        /* tickets the storm guard held back */
	unsigned long held_matches;/* matches inside held bursts */
	unsigned long bursts_ended;/* ticketed bursts that ended */
	unsigned long repeats;     /* suppressed matches of ended bursts */
	unsigned long evicted;     /* keys forgotten at max_keys */
	unsigned long storms;      /* storm summaries made */
};

struct dedup_config {
	size_t max_keys;           /* 0: 100000 */
	int64_t max_tickets;       /* 0: no storm guard */
	int64_t period;            /* seconds, for max_tickets */
	int64_t storm_quiet;       /* seconds without a held ticket */
};

struct dedup;

/* Caller owns: dedup_free(). */
struct dedup *dedup_new(const struct dedup_config *cfg);
void dedup_free(struct dedup *d);
/* SIGHUP: new limits (the bucket keeps its tokens, capped). */
void dedup_configure(struct dedup *d, const struct dedup_config *cfg);
/*
 * SIGHUP: the rules are now rs. Bursts of rules that still exist (by
 * name) keep their state under the new settings; the rest are dropped.
 * Returns the number of keys dropped.
 */
size_t dedup_sync_rules(struct dedup *d, struct ruleset *rs);

/*
 * Record a match of rule with key at time t and say what to do. line is
 * the input line (kept for on_repeat rules; may be NULL). A burst of the
 * key that is over by t is ended first (its on_repeat queued).
 */
void dedup_match(struct dedup *d, const struct rule *rule, const char *key,
    size_t keylen, time_t t, const char *line, size_t linelen,
    struct dedup_result *res);
/* After FIRE: the ticket's stable reference, for its burst. */
void dedup_fired(struct dedup *d, const struct dedup_result *res,
    const char *ref);
/*
 * The ticket a FIRE asked for could not be handed over: forget that it
 * was opened (and refund the storm token), so the re-sent line fires at
 * once instead of being suppressed (losing the alert).
 */
void dedup_undo(struct dedup *d, const struct dedup_result *res);

/*
 * End every burst that is over by now: quiet past suppress (ticketed or
 * held) or past the threshold window (below threshold). Returns how many
 * keys were dropped. Not full: stop at the first key seen more recently
 * than the shortest horizon of any rule (cheap; event times that step
 * back may hide a key behind it until a full sweep).
 */
size_t dedup_sweep(struct dedup *d, time_t now, bool full);

/* The oldest queued on_repeat action, or NULL; pop it once handled. */
struct dedup_end *dedup_end_peek(struct dedup *d);
void dedup_end_pop(struct dedup *d);
size_t dedup_end_count(const struct dedup *d);

/*
 * Kapture created the ticket with reference ref for (rule, key): remember
 * its id (for comments). Returns true if a burst or queued action took it.
 */
bool dedup_ticket_created(struct dedup *d, const char *rule, const char *key,
    const char *ref, const char *ticket_id);
/*
 * A comment was spooled before its ticket's id was known: keep the id
 * when it arrives (dedup_ticket_created), until dedup_await_done.
 */
void dedup_await(struct dedup *d, const char *ref, time_t now);
/* The id of the ticket with reference ref, if a comment awaits it. */
const char *dedup_await_id(const struct dedup *d, const char *ref);
void dedup_await_done(struct dedup *d, const char *ref);

/*
 * A ticket not made by dedup_match (an on_repeat summary) asks the storm
 * guard: true takes a token; false records it as held back.
 */
bool dedup_storm_admit(struct dedup *d, const char *rule, const char *key,
    size_t keylen, time_t t);
/* Storm guard: is a summary due at now? */
bool dedup_storm_due(const struct dedup *d, time_t now);
/* When the current storm started (0: none); for the summary's reference. */
time_t dedup_storm_started(const struct dedup *d);
void dedup_storm_summary(const struct dedup *d, struct buf *title,
    struct buf *details);
/* The summary is on its way: forget the storm. */
void dedup_storm_done(struct dedup *d);

size_t dedup_size(const struct dedup *d);
const struct dedup_stats *dedup_stats(const struct dedup *d);
/* Something changed since the last dedup_save. */
bool dedup_dirty(const struct dedup *d);

/*
 * State file (state.c): every key's burst, the queued actions, the
 * awaited ticket ids and the storm guard, as text. dedup_save writes it
 * to fp and clears dirty; dedup_load reads it (on top of an empty d),
 * skipping keys of rules not in rs. dedup_load returns -1 with a reason
 * in err if the text is not a state file or is damaged; d then holds
 * part of it and must be thrown away (dedup_free).
 */
int dedup_save(struct dedup *d, FILE *fp, time_t now);
int dedup_load(struct dedup *d, struct ruleset *rs, const char *data,
    size_t len, char *err, size_t errlen);
/* The `now` the loaded state was saved with (0: none loaded). */
time_t dedup_saved_time(const struct dedup *d);

#endif
