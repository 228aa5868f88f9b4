/*
 * stats.h: the counters, gathered once from every part (pipeline, dedup,
 * sender, spool) and written two ways: one JSON line (SIGUSR1, on
 * stderr) and the Prometheus text format ([stats] prometheus_file, for
 * node_exporter's textfile collector). One list of names, so the two
 * cannot disagree.
 */
#ifndef OMK_STATS_H
#define OMK_STATS_H

#include <stdbool.h>
#include <stddef.h>

#include "pipeline.h"
#include "sender.h"
#include "spool.h"
#include "util.h"

#define STATS_MAX 48

struct stats_item {
	const char *name;     /* JSON key; Prometheus omkapture_<name>[_total] */
	const char *help;
	bool gauge;           /* else a counter */
	unsigned long long v;
};

struct stats {
	struct stats_item v[STATS_MAX];
	size_t n;
	const struct ruleset *rules;  /* per-rule hits */
};

/* Gather the counters; s and sp may be NULL (no sending). */
void stats_collect(struct stats *st, const struct pipeline *p,
    const struct sender *s, const struct spool *sp);
/* {"lines":N,...,"rules":{"NAME":HITS,...}} without a newline. */
void stats_json(const struct stats *st, struct buf *out);
/* The Prometheus text exposition format, HELP and TYPE lines included. */
void stats_prometheus(const struct stats *st, struct buf *out);
/* Replace path with b atomically (temp file beside it, fsync, rename);
 * false with a warning logged. */
bool stats_write_file(const char *path, const struct buf *b);

#endif
