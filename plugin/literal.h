/*
 * literal.h: the built-in prefilter used when Vectorscan is not there.
 *
 * Two halves. literal_required*() reads a PCRE2 pattern and finds byte
 * strings that every match must contain; litscan finds many such strings
 * in a line in one pass (an Aho-Corasick DFA over byte classes, ASCII
 * letters folded). A rule whose literal is absent from a line cannot
 * match it, so only the rest go to PCRE2.
 *
 * The one promise is no false negatives: if PCRE2 (with PCRE2_UTF) can
 * match a subject, the literal occurs in it. Extraction is conservative:
 * anything it does not fully understand yields "no literal" (the rule is
 * then always a candidate), never a guess.
 *
 * "Caseless" means PCRE2's own caseless equality for the literal's
 * characters, which in UTF mode is ASCII case folding plus two non-ASCII
 * characters that fold onto ASCII letters: U+212A KELVIN SIGN (k) and
 * U+017F LATIN SMALL LETTER LONG S (s). A caseless literal never holds
 * other non-ASCII characters. litscan implements exactly that equality.
 */
#ifndef OMK_LITERAL_H
#define OMK_LITERAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LITERAL_MAX 64        /* longest literal extraction returns */
#define LITERAL_MAX_ALTS 8    /* most literal_required_any returns */

struct literal {
	char s[LITERAL_MAX];  /* not NUL-terminated; may hold NUL bytes */
	size_t len;
	bool caseless;
};

/*
 * Is there one byte string every match of pattern must contain? On true,
 * out (outsz bytes, not NUL-terminated) holds it, *outlen >= min_len, and
 * *caseless says how to compare it (see above). pcre2_options are those
 * the pattern is compiled with; PCRE2_UTF is required, and options that
 * change how a pattern is read (PCRE2_EXTENDED, PCRE2_LITERAL, ...) give
 * false. Nothing is allocated.
 */
bool literal_required(const char *pattern, uint32_t pcre2_options,
    size_t min_len, char *out, size_t outsz, size_t *outlen, bool *caseless);

/*
 * Like literal_required, but may also answer with alternatives: every
 * match contains at least one of out[0..n-1] (so "(error|denied)" is
 * covered). Returns n (0: none found, 1..max), each >= min_len bytes.
 * Add them all to a litscan under the same id.
 */
size_t literal_required_any(const char *pattern, uint32_t pcre2_options,
    size_t min_len, struct literal *out, size_t max);

/*
 * Many literals, one pass. Usage: litscan_new, litscan_add for each
 * literal, litscan_build once, then litscan_scan per line (read-only, so
 * one built litscan may serve several threads).
 *
 * Literals longer than LITSCAN_MAX_LEN bytes, or caseless ones with more
 * than LITSCAN_MAX_FOLDS of k/s, are cut to their best window that fits:
 * a piece of a required literal is still required, so this only adds
 * false positives. An empty literal, or one that would push the
 * automaton past 65535 states, is reported on every line.
 */
/* 24: on the benchmark's 299 rules, 32 made 30% more states for 0.1%
 * fewer candidates, and 16 let 3% more through. */
#define LITSCAN_MAX_LEN 24
#define LITSCAN_MAX_FOLDS 4

struct litscan;

/* Caller owns: litscan_free(). */
struct litscan *litscan_new(void);
/* Copies lit. ids should be small and dense (rule indexes): the bitmaps
 * the scan fills hold max(id) + 1 bits. Several literals may share an id
 * (any of them sets the bit). Not after litscan_build. */
void litscan_add(struct litscan *ls, const char *lit, size_t len,
    bool caseless, uint32_t id);
/* After the last add. */
void litscan_build(struct litscan *ls);
/* uint64_t words the bitmap passed to litscan_scan must have. */
size_t litscan_words(const struct litscan *ls);
/* For every added literal found in s, set bit id (cand[id / 64] bit
 * id % 64); the caller zeroes cand. Allocates nothing. */
void litscan_scan(const struct litscan *ls, const char *s, size_t len,
    uint64_t *cand);
/* Automaton size, for --check and the benchmark notes. */
size_t litscan_states(const struct litscan *ls);
size_t litscan_memory(const struct litscan *ls);
void litscan_free(struct litscan *ls);

#endif
