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
#include "util.h"

struct pipeline_stats {
	unsigned long lines;
	unsigned long matched;      /* lines at least one rule matched */
	unsigned long tickets;      /* requests the sink accepted */
	unsigned long suppressed;   /* matches a ticket already covers */
	unsigned long pending;      /* matches below their threshold */
	unsigned long ticket_errors;/* requests the sink did not accept */
	unsigned long truncated;    /* lines cut at max_line */
	unsigned long invalid_utf8; /* lines with invalid UTF-8 */
	unsigned long nul_bytes;    /* lines with NUL bytes */
	unsigned long json_errors;  /* lines that looked like JSON but were not */
};

struct pipeline {
	const struct conf *conf;
	struct ruleset *rules;
	struct sink *sink;          /* NULL: match only (--test) */
	struct dedup *dedup;        /* owned; survives reloads */
	enum input_format format;
	struct event ev;
	struct pipeline_stats stats;

	/* Reused for every ticket: no allocation per line once warm. */
	struct buf title, details, email, due, key, body;
};

/* The pipeline borrows c, rs and s; they must outlive it. */
void pipeline_init(struct pipeline *p, const struct conf *c,
    struct ruleset *rs, struct sink *s, enum input_format fmt);
void pipeline_free(struct pipeline *p);
/* SIGHUP: use a new config, rules and sink; dedup state and counters
 * are kept, so a reload never re-opens tickets for ongoing bursts. */
void pipeline_swap(struct pipeline *p, const struct conf *c,
    struct ruleset *rs, struct sink *s);
/*
 * Handle one line (no LF). truncated says it was cut at max_line.
 * Returns 0 when the line is fully handled, -1 when a ticket could not
 * be handed over (why says why, one line, for the omprog reply), 1 when
 * it is handled but the sink asks to slow down (why says so).
 */
int pipeline_line(struct pipeline *p, const char *line, size_t len,
    bool truncated, char *why, size_t whylen);
/* Counters as one JSON object line (SIGUSR1, --test --json). */
void pipeline_stats_json(const struct pipeline *p, struct buf *out);

#endif
