/*
 * prefilter.h: rule out almost every rule for a line in one pass.
 *
 * Large sites run hundreds of rules and most lines match none; trying
 * every regex on every line is what makes SEC and fail2ban slow. Before
 * PCRE2 runs, a prefilter scans the line once and says which rules may
 * match; PCRE2 then confirms those, in rule order, and extracts captures,
 * so the semantics (file order, first match wins, continue, ignore,
 * program) do not change.
 *
 * Engines: required literals (literal.h) scanned in one pass, the
 * default; Vectorscan/Hyperscan in prefilter mode when built with libhs,
 * on request only (Debian 12's 5.4.9 misses matches, see prefilter.c);
 * or none ("naive": every rule is tried, kept to check the others
 * against). A
 * rule an engine cannot handle is always a candidate. Rules matching a
 * JSON field are always candidates (their subject differs per rule).
 */
#ifndef OMK_PREFILTER_H
#define OMK_PREFILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum prefilter_engine {
	PREFILTER_AUTO,     /* literal (see prefilter.c for why not hs) */
	PREFILTER_NAIVE,
	PREFILTER_LITERAL,
	PREFILTER_HS,
};

/* Subjects a rule can be matched against, as rules.h's match_on. */
#define PREFILTER_SUBJECTS 2

/* One rule, as the prefilter sees it. */
struct prefilter_rule {
	const char *pattern;   /* PCRE2 source, compiled with PCRE2_UTF */
	int subject;           /* 0: message, 1: raw, -1: other (JSON field) */
};

struct prefilter;

/*
 * Build for n rules. Never fails: what cannot be prefiltered is always a
 * candidate (a rule, a subject, or with PREFILTER_NAIVE everything).
 * Caller owns: prefilter_free().
 */
struct prefilter *prefilter_new(const struct prefilter_rule *v, size_t n,
    enum prefilter_engine engine);
void prefilter_free(struct prefilter *pf);

/* Bitmap words for n rules. */
#define PREFILTER_WORDS(n) (((n) + 63) / 64)

/* Rules that are candidates on every line (not covered). */
const uint64_t *prefilter_always(const struct prefilter *pf);
/*
 * Scan the subject (valid UTF-8) and OR into cand a bit for every rule on
 * that subject that may match it. No allocation.
 */
void prefilter_scan(struct prefilter *pf, int subject, const char *s,
    size_t n, uint64_t *cand);

/* Is rule i covered (ruled out when the scan does not name it)? */
bool prefilter_covers(const struct prefilter *pf, size_t i);
/* Why rule i is not covered ("" when it is). */
const char *prefilter_why(const struct prefilter *pf, size_t i);
size_t prefilter_ncovered(const struct prefilter *pf);
/* "vectorscan 5.4.9", "literal", "naive". */
const char *prefilter_name(const struct prefilter *pf);
/* Parse "auto", "hs", "literal", "naive". */
bool prefilter_engine_parse(const char *s, enum prefilter_engine *out);
/* Was this binary built with libhs? */
bool prefilter_have_hs(void);

#endif
