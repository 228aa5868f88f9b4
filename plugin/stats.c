#include "stats.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>

#include "dedup.h"
#include "log.h"

static void
stats_add(struct stats *st, const char *name, bool gauge,
    unsigned long long v, const char *help)
{
	struct stats_item *it;

	if (st->n >= STATS_MAX)
		return;
	it = &st->v[st->n++];
	it->name = name;
	it->help = help;
	it->gauge = gauge;
	it->v = v;
}

void
stats_collect(struct stats *st, const struct pipeline *p,
    const struct sender *s, const struct spool *sp)
{
	const struct pipeline_stats *ps = &p->stats;

	memset(st, 0, sizeof(*st));
	st->rules = p->rules;
	stats_add(st, "lines", false, ps->lines, "input lines read");
	stats_add(st, "matched", false, ps->matched,
	    "lines at least one rule matched");
	if (p->sink != NULL) {
		const struct dedup_stats *ds = dedup_stats(p->dedup);

		stats_add(st, "tickets", false, ps->tickets,
		    "ticket requests accepted (spooled, or printed by --dry-run)");
		stats_add(st, "ticket_errors", false, ps->ticket_errors,
		    "ticket requests the spool refused (re-sent by rsyslog)");
		stats_add(st, "suppressed", false, ds->suppressed,
		    "matches a ticket already covered (dedup)");
		stats_add(st, "pending", false, ds->pending,
		    "matches below their rule's threshold");
		stats_add(st, "held", false, ds->held,
		    "tickets the storm guard held back");
		stats_add(st, "held_matches", false, ds->held_matches,
		    "matches inside bursts the storm guard held back");
		stats_add(st, "bursts_ended", false, ds->bursts_ended,
		    "ticketed bursts that ended");
		stats_add(st, "repeats", false, ds->repeats,
		    "suppressed matches of bursts that ended");
		stats_add(st, "comments", false, ps->comments,
		    "on_repeat = comment requests");
		stats_add(st, "repeat_tickets", false, ps->repeat_tickets,
		    "on_repeat = ticket summaries");
		stats_add(st, "storm_summaries", false, ps->storm_summaries,
		    "storm guard summary tickets");
		stats_add(st, "keys", true, dedup_size(p->dedup),
		    "dedup keys tracked");
		stats_add(st, "keys_evicted", false, ds->evicted,
		    "dedup keys forgotten at max_keys");
	}
	stats_add(st, "truncated", false, ps->truncated,
	    "lines cut at max_line");
	stats_add(st, "nul_bytes", false, ps->nul_bytes,
	    "lines with NUL bytes");
	stats_add(st, "invalid_utf8", false, ps->invalid_utf8,
	    "lines with invalid UTF-8 (repaired)");
	stats_add(st, "json_errors", false, ps->json_errors,
	    "lines that looked like JSON but were not");
	stats_add(st, "own_lines", false, ps->own_lines,
	    "our own journal entries, skipped (--cursor-file)");
	stats_add(st, "regex_limit", false, p->rules->limit_errors,
	    "lines a regex gave up on (match_limit)");
	if (s != NULL && sp != NULL) {
		const struct sender_stats *ss = sender_stats(s);

		stats_add(st, "sent", false, ss->sent,
		    "requests Kapture accepted (tickets and comments)");
		stats_add(st, "retried", false, ss->retried,
		    "attempts that will be retried (5xx, 429, network)");
		stats_add(st, "failed", false, ss->failed,
		    "requests moved to failed/");
		stats_add(st, "auth_failures", false, ss->auth_failures,
		    "attempts refused for the token");
		stats_add(st, "spooled", true, sp->n,
		    "requests waiting in the spool");
		stats_add(st, "spooled_bytes", true, sp->bytes,
		    "bytes waiting in the spool");
		stats_add(st, "oldest_spooled_s", true, sp->n > 0 ?
		    (unsigned long long)((spool_now_ms() - sp->v[0].created_ms)
		    / 1000) : 0, "age of the oldest request in the spool, seconds");
	}
}

static void
gen_str(yajl_gen g, const char *s)
{
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

void
stats_json(const struct stats *st, struct buf *out)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *s;
	size_t i, n;

	yajl_gen_map_open(g);
	for (i = 0; i < st->n; i++) {
		gen_str(g, st->v[i].name);
		yajl_gen_integer(g, (long long)st->v[i].v);
	}
	gen_str(g, "rules");
	yajl_gen_map_open(g);
	for (i = 0; i < st->rules->n; i++) {
		gen_str(g, st->rules->v[i].name);
		yajl_gen_integer(g, (long long)st->rules->v[i].hits);
	}
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &s, &n);
	buf_append(out, s, n);
	yajl_gen_free(g);
}

/* A label value: backslash, double quote and newline escaped. */
static void
prom_label(struct buf *out, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			buf_appends(out, "\\\\");
		else if (*s == '"')
			buf_appends(out, "\\\"");
		else if (*s == '\n')
			buf_appends(out, "\\n");
		else
			buf_appendc(out, *s);
	}
}

void
stats_prometheus(const struct stats *st, struct buf *out)
{
	const struct stats_item *it;
	size_t i;

	for (i = 0; i < st->n; i++) {
		it = &st->v[i];
		buf_printf(out, "# HELP omkapture_%s%s %s\n# TYPE omkapture_%s%s "
		    "%s\nomkapture_%s%s %llu\n", it->name, it->gauge ? "" :
		    "_total", it->help, it->name, it->gauge ? "" : "_total",
		    it->gauge ? "gauge" : "counter", it->name, it->gauge ? "" :
		    "_total", it->v);
	}
	buf_appends(out, "# HELP omkapture_rule_hits_total lines each rule "
	    "matched\n# TYPE omkapture_rule_hits_total counter\n");
	for (i = 0; i < st->rules->n; i++) {
		buf_appends(out, "omkapture_rule_hits_total{rule=\"");
		prom_label(out, st->rules->v[i].name);
		buf_printf(out, "\"} %lu\n", st->rules->v[i].hits);
	}
}

bool
stats_write_file(const char *path, const struct buf *b)
{
	if (file_replace(path, b->data, b->len, 0644) == 0)
		return true;
	log_warnx("stats: cannot write %s: %s", path, strerror(errno));
	return false;
}
