/*
 * rules.h: rule files (*.rules) and matching.
 *
 * A rule file is INI: one [section] per rule, tried in file order, files
 * sorted by name. The first rule that matches wins unless it says
 * "continue = yes". Regexes are compiled once, with JIT where available,
 * and run under a match limit so a pathological pattern cannot hang the
 * helper.
 */
#ifndef OMK_RULES_H
#define OMK_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "diag.h"
#include "fields.h"
#include "input.h"
#include "log.h"
#include "prefilter.h"
#include "tmpl.h"

/* threshold = N in T: N at most this (dedup keeps a time per match). */
#define RULES_MAX_THRESHOLD 1000

enum rule_match_on { MATCH_MESSAGE, MATCH_RAW, MATCH_JSON };
enum rule_on_repeat { REPEAT_NONE, REPEAT_COMMENT, REPEAT_TICKET };

struct rule {
	char *name;
	char *file;
	int line;

	char *match_src;
	pcre2_code *re;
	enum rule_match_on match_on;
	char *json_field;          /* MATCH_JSON */
	pcre2_code *ignore;        /* NULL: none */
	char **programs;           /* NULL: any program */
	size_t nprograms;
	uint32_t ncaptures;

	struct tmpl *title;
	struct tmpl *details;
	struct tmpl *email;        /* NULL: no email_id */
	struct tmpl *due;          /* NULL: no due_date, or due_offset */
	int64_t due_offset;        /* seconds, when due_relative */
	bool due_relative;
	struct tmpl *key;          /* NULL: rule name + every capture */
	struct field_node *fields;

	int64_t threshold_n;       /* fire on the Nth match ... */
	int64_t threshold_window;  /* ... within this many seconds */
	int64_t suppress;
	int64_t renotify;
	enum rule_on_repeat on_repeat;
	bool cont;

	unsigned long hits;
};

struct rules_file {
	char *path;
	size_t nrules;
};

struct ruleset {
	struct rule *v;
	size_t n;
	struct rules_file *files;
	size_t nfiles;

	pcre2_match_data *md;
	pcre2_match_data *md_ignore;
	pcre2_match_context *mctx;
	pcre2_jit_stack *jit_stack;
	struct log_ratelimit limit_rl;
	/* Per line: each subject once, checked (and repaired) for UTF-8,
	 * by enum rule_match_on (json: no cache). */
	struct buf repaired[3];
	bool checked[2];
	int raw_state;             /* raw line's UTF-8: 0 unchecked, 1 ok, 2 bad */
	bool msg_invalid;          /* the message had invalid UTF-8 */
	const char *subj[2];
	size_t subjn[2];
	/* The prefilter and, per line, the rules it leaves as candidates. */
	struct prefilter *pf;
	uint64_t *cand;
	bool has_covered[2];       /* a subject worth scanning */
	/* Every rule section read, for duplicate names. */
	struct {
		char *name;
		char *file;
		int line;
	} *seen;
	size_t nseen;
	unsigned long limit_errors; /* lines a rule gave up on */
};

/* Where a match stands: rules_next() fills it, one matching rule a call. */
struct rules_match {
	size_t next;               /* set to 0 before the first call */
	const struct rule *rule;
	const char *subject;
	size_t subject_len;
	const PCRE2_SIZE *ovector;
	uint32_t ovcount;
};

/*
 * Load every rule file the config names (conf->rule_paths), applying its
 * [defaults]. Every problem goes to d as file:line. Returns a ruleset
 * (possibly with errors in d: the caller decides) that the caller owns:
 * rules_free().
 */
struct ruleset *rules_load(const struct conf *c, struct diags *d);
/* Load rule text from a buffer (tests, fuzzing). */
struct ruleset *rules_load_buf(const struct conf *c, const char *name,
    const char *data, size_t len, struct diags *d);
void rules_free(struct ruleset *rs);

/*
 * Find the next rule (from m->next) that matches ev. Returns false when
 * no further rule matches. The captures in m stay valid until the next
 * call.
 */
bool rules_next(struct ruleset *rs, const struct event *ev,
    struct rules_match *m);

/*
 * Match one rule against ev, whatever the prefilter says (no hit
 * counted): on_repeat renders a rule's templates against a kept line.
 * Starts a new line: do not mix with a rules_next walk in progress.
 */
bool rules_match_rule(struct ruleset *rs, const struct rule *rule,
    const struct event *ev, struct rules_match *m);

/*
 * Build the prefilter for the loaded rules (after rules_load). engine is
 * an enum prefilter_engine. Until then every rule is tried.
 */
void rules_prefilter(struct ruleset *rs, int engine);
/* After rules_next on a line: was its text valid UTF-8 (the raw line,
 * or for JSON input the message; see rules_line_start)? */
bool rules_line_valid(const struct ruleset *rs);
/* Print every rule key with its help (for --help-config). */
void rules_print_help(FILE *fp);
/* True if key is a rule key (for [defaults] checks). */
bool rules_is_key(const char *key);

#endif
