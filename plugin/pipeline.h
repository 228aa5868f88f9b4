/*
 * pipeline.h: one direction, no back and forth: decode a line, match the
 * rules, render the ticket, hand the request to the sink.
 */
#ifndef OMK_PIPELINE_H
#define OMK_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "conf.h"
#include "dedup.h"
#include "input.h"
#include "rules.h"
#include "sink.h"
#include "spool.h"
#include "util.h"

struct pipeline_stats {
	unsigned long lines;
	unsigned long matched;      /* lines at least one rule matched */
	unsigned long tickets;      /* ticket requests the sink accepted */
	unsigned long ticket_errors;/* requests the sink did not accept */
	unsigned long comments;     /* on_repeat = comment requests */
	unsigned long repeat_tickets;/* on_repeat = ticket summaries */
	unsigned long storm_summaries;
	unsigned long action_errors;/* on_repeat/summary requests to retry */
	unsigned long truncated;    /* lines cut at max_line */
	unsigned long invalid_utf8; /* lines with invalid UTF-8 */
	unsigned long nul_bytes;    /* lines with NUL bytes */
	unsigned long json_errors;  /* lines that looked like JSON but were not */
	unsigned long own_lines;    /* our own journal entries, skipped */
};

struct pipeline {
	const struct conf *conf;
	struct ruleset *rules;
	struct sink *sink;          /* NULL: match only (--test) */
	struct dedup *dedup;        /* owned; survives reloads */
	struct spool *state_spool;  /* where the state file lives; NULL: none */
	enum input_format format;
	struct event ev;
	struct event ev2;           /* a kept line, decoded again (on_repeat) */
	struct pipeline_stats stats;

	/* clock = event: the newest event time seen, and the arrival time
	 * of the last line that carried one (the clock runs on from it). */
	time_t event_clock, event_at;
	time_t last_sweep;
	char own_pid[24];           /* skip journal entries with this _PID */
	int64_t last_full_sweep_ms, last_save_ms;
	unsigned long saves;        /* state saves done */
	int64_t save_cost_ms;       /* how long the last one took */
	struct log_ratelimit action_rl;

	/* Reused for every ticket: no allocation per line once warm. */
	struct buf title, details, email, due, key, body, text, kept;
};

/* The caps every ticket gets (the ticket command too): a title cut to
 * max_chars characters ending in an ellipsis; a value cut to max bytes
 * on a character boundary, marker included. */
#define PIPELINE_DETAILS_MARKER "\n\xe2\x80\xa6[truncated]"
void pipeline_cap_title(struct buf *b, size_t max_chars);
void pipeline_cap_bytes(struct buf *b, size_t max, const char *marker);

/* The pipeline borrows c, rs and s; they must outlive it. */
void pipeline_init(struct pipeline *p, const struct conf *c,
    struct ruleset *rs, struct sink *s, enum input_format fmt);
void pipeline_free(struct pipeline *p);
/* SIGHUP: use a new config, rules and sink; dedup state and counters
 * are kept, so a reload never re-opens tickets for ongoing bursts. */
void pipeline_swap(struct pipeline *p, const struct conf *c,
    struct ruleset *rs, struct sink *s);
/*
 * Keep dedup state in sp's directory: load it now (a damaged file is
 * moved aside), save it every state_interval and at pipeline_finish.
 */
void pipeline_use_state(struct pipeline *p, struct spool *sp);
/*
 * Between lines (call at least once a second): end bursts that are
 * over, send their on_repeat actions, the storm summary when a storm has
 * passed, and save the state when due.
 */
void pipeline_tick(struct pipeline *p);
/*
 * --cursor-file wants the state saved so it can move on: save it now if
 * it changed, a second has passed since the last save, and saves are
 * cheap (the last took under 50 ms; a big table waits for
 * state_interval). Returns true if the state is saved (clean) now.
 */
bool pipeline_save_for_cursor(struct pipeline *p);
/* At exit: what pipeline_tick does, and save the state now. */
void pipeline_finish(struct pipeline *p);
/* Journal input read from our own journal: skip entries whose _PID is
 * ours, so omkapture's log lines never come back to it as alerts. */
void pipeline_skip_own_journal(struct pipeline *p);
/* The pipeline's clock: arrival time, or with clock = event the newest
 * event time, running on at wall speed since that line came. */
time_t pipeline_clock(const struct pipeline *p);
/* The sender created a ticket or added a comment (sender_result_fn). */
void pipeline_delivered(struct pipeline *p, const char *rule,
    const char *key, const char *ref, const char *kind,
    const char *ticket_ref, bool done, const char *ticket_id);
/* The id of the ticket with reference ref, if known (sender_resolve_fn). */
const char *pipeline_ticket_id(struct pipeline *p, const char *ref);

/*
 * Handle one line (no LF). truncated says it was cut at max_line.
 * Returns 0 when the line is fully handled, -1 when a ticket could not
 * be handed over (why says why, one line, for the omprog reply), 1 when
 * it is handled but the sink asks to slow down (why says so).
 */
int pipeline_line(struct pipeline *p, const char *line, size_t len,
    bool truncated, char *why, size_t whylen);

#endif
