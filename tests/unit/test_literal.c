/*
 * test_literal.c: required-literal extraction and the multi-literal
 * scanner. Beside the tables, a randomized property test holds both to
 * the one promise that matters: whenever PCRE2 matches a subject, the
 * extracted literal is in it and the scanner says so.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "literal.h"
#include "util.h"

#define KELVIN "\xe2\x84\xaa"    /* U+212A, caselessly k */
#define LONG_S "\xc5\xbf"        /* U+017F, caselessly s */

/* A fixed-seed generator (xorshift64*), so failures replay. */
static uint64_t t_rng_state;

static void
t_seed(uint64_t s)
{
	t_rng_state = s ? s : 1;
}

/* OMK_TEST_SEED replaces the fixed seeds of the random tests (for
 * longer hunts: for s in $(seq 100); do OMK_TEST_SEED=$s ...; done). */
static void
t_seed_default(uint64_t s)
{
	const char *env = getenv("OMK_TEST_SEED");

	t_seed(env != NULL && *env != '\0' ? strtoull(env, NULL, 0) * 7919 + s :
	    s);
}

static uint32_t
t_rand(void)
{
	t_rng_state ^= t_rng_state >> 12;
	t_rng_state ^= t_rng_state << 25;
	t_rng_state ^= t_rng_state >> 27;
	return (uint32_t)((t_rng_state * 0x2545f4914f6cdd1dULL) >> 32);
}

static uint32_t
t_below(uint32_t n)
{
	return t_rand() % n;
}

static int
t_fold(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/*
 * The reference for "lit occurs in s": case-sensitive is memmem;
 * caseless is what literal.h documents (PCRE2's UTF caseless equality
 * for ASCII): letters fold, k may be U+212A and s may be U+017F.
 */
static bool
t_contains(const char *s, size_t n, const char *lit, size_t len, bool cl)
{
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *l = (const unsigned char *)lit;
	size_t i, j, k;
	int c;

	if (len == 0)
		return true;
	for (i = 0; i < n; i++) {
		for (j = i, k = 0; k < len; k++) {
			c = l[k];
			if (!cl) {
				if (j >= n || p[j] != c)
					break;
				j++;
				continue;
			}
			if (j < n && t_fold(p[j]) == t_fold(c)) {
				j++;
			} else if (t_fold(c) == 'k' && n - j >= 3 &&
			    memcmp(p + j, KELVIN, 3) == 0) {
				j += 3;
			} else if (t_fold(c) == 's' && n - j >= 2 &&
			    memcmp(p + j, LONG_S, 2) == 0) {
				j += 2;
			} else
				break;
		}
		if (k == len)
			return true;
	}
	return false;
}

static bool
t_bit(const uint64_t *cand, uint32_t id)
{
	return (cand[id / 64] >> (id % 64)) & 1;
}

/* Extraction: table */

struct t_lit_case {
	const char *pattern;
	const char *lit;       /* NULL: none expected */
	size_t len;            /* 0: strlen(lit) */
	bool caseless;
};

static const struct t_lit_case t_lit_cases[] = {
	{ "abc", "abc", 0, false },
	{ "Failed password for", "Failed password for", 0, false },
	{ "(?i)abc", "abc", 0, true },
	{ "(?i)Failed password", "Failed password", 0, true },
	/* Quantifiers take the atom before them. */
	{ "ab*", "a", 0, false },
	{ "abc?def", "def", 0, false },
	{ "ab{0,3}cd", "cd", 0, false },
	{ "xy{2}z", "xyyz", 0, false },
	{ "ab{2,}c", "abb", 0, false },
	{ "a{3}", "aaa", 0, false },
	{ "(ab){2}", "abab", 0, false },
	{ "(ab){2,3}c", "ababc", 0, false },
	{ "(abc)?def", "def", 0, false },
	{ "(abc)+def", "abcdef", 0, false },
	{ "(abc)*def", "def", 0, false },
	{ "x(a.b){2}", "ba", 0, false },
	{ "ab+?c", "ab", 0, false },
	{ "ab?+c", "a", 0, false },
	/* Alternation: common prefix and suffix only. */
	{ "a|b", NULL, 0, false },
	{ "abc|abd", "ab", 0, false },
	{ "foo(bar|baz)qux", "fooba", 0, false },
	{ "(foo|foobar)x", "foo", 0, false },
	{ "(xa|ya)bc", "abc", 0, false },
	{ "(a|)bc", "bc", 0, false },
	{ "(?i)(Foo|fOO)", "Foo", 0, true },
	{ "(Foo|(?i)foo)", "Foo", 0, true },
	/* Anchors, \b, \K, lookarounds consume nothing. */
	{ "^\\s*abc$", "abc", 0, false },
	{ "\\bword\\b", "word", 0, false },
	{ "abc\\Kdef", "abcdef", 0, false },
	{ "a(?=bc)d", "ad", 0, false },
	{ "a(?!b)cd", "acd", 0, false },
	{ "a(?<=b)c", "ac", 0, false },
	{ "a(?<!b)cd", "acd", 0, false },
	{ "\\Aab\\z", "ab", 0, false },
	/* Escapes. */
	{ "a\\.b", "a.b", 0, false },
	{ "\\[x\\]", "[x]", 0, false },
	{ "a\\x41b", "aAb", 0, false },
	{ "\\x{e9}t\\x{E9}", "\xc3\xa9t\xc3\xa9", 0, false },
	{ "\\N{U+41}BC", "ABC", 0, false },
	{ "\\o{101}b", "Ab", 0, false },
	{ "x\\0y", "x\0y", 3, false },
	{ "x\\012y", "x\ny", 0, false },
	{ "\\cAx", "\x01x", 0, false },
	{ "a\\tb\\nc", "a\tb\nc", 0, false },
	{ "a\\Eb", "ab", 0, false },
	{ "\\Qa.b*\\E", "a.b*", 0, false },
	{ "x\\Qa.b", "xa.b", 0, false },
	{ "x\\Q\\\\E", "x\\", 0, false },
	{ "a\\d+ failed", " failed", 0, false },
	{ "error: (\\d+) bytes", "error: ", 0, false },
	{ "a\\N{2}bc", "bc", 0, false },
	{ "\\p{Lu}abc\\pL", "abc", 0, false },
	/* Classes. */
	{ "x[.]y", "x.y", 0, false },
	{ "[aA]bc", "abc", 0, true },
	{ "[ab]cd", "cd", 0, false },
	{ "[^a]bc", "bc", 0, false },
	{ "[]a]bc", "bc", 0, false },
	{ "[\\]]x", "]x", 0, false },
	{ "[[:alpha:]]xy", "xy", 0, false },
	{ "[\\Q]\\E]xy", "]xy", 0, false },
	{ "[\\c]]xy", "xy", 0, false },
	/* \E, \Q\E and '^' at the start leave a ']' after them data. */
	{ "[\\E]abc]x", "x", 0, false },
	{ "[\\Q\\E]abc]x", "x", 0, false },
	{ "[^\\E]abc]x", "x", 0, false },
	{ "[\\E^]abc]x", "x", 0, false },
	{ "[\\E^a]bc", "bc", 0, false },
	{ "[^^]bc", "bc", 0, false },
	{ "[a-c]xy", "xy", 0, false },
	{ "(?i)[k]x", "kx", 0, true },
	/* Groups. */
	{ "(?<name>abc)d", "abcd", 0, false },
	{ "(?'n'abc)d", "abcd", 0, false },
	{ "(?P<n>abc)d", "abcd", 0, false },
	{ "(?:abc)d", "abcd", 0, false },
	{ "(?>abc)d", "abcd", 0, false },
	{ "(?|(abc)|(abd))", "ab", 0, false },
	{ "a(?#comment)b", "ab", 0, false },
	/* Options: case is tracked per character, scoped per group. */
	{ "(?i:foo)bar", "foobar", 0, true },
	{ "foo(?i)bar", "foobar", 0, true },
	{ "(?i)foo(?-i)BAR", "fooBAR", 0, true },
	{ "(?i)(?^)abc", "abc", 0, false },
	{ "(?s)a.b(?m)cd$", "bcd", 0, false },
	{ "(?i)\xc3\x84" "bcd", "bcd", 0, true },
	{ "(?i)\\x{e9}te", "te", 0, true },
	{ "\xc3\xa9+x", "\xc3\xa9x", 0, false },
	{ "(ab.c)+", "ab", 0, false },
	{ "(ab.c){1,3}", "ab", 0, false },
	{ "(*UTF)abc", "abc", 0, false },
	{ "(*CRLF)(*LIMIT_MATCH=10)abc", "abc", 0, false },
	{ "a#b c", "a#b c", 0, false },
	/* Give up. */
	{ "(?x)abc", NULL, 0, false },
	{ "(?-x)abc", NULL, 0, false },
	{ "a(?x:b c)", NULL, 0, false },
	{ "(*ACCEPT)abc", NULL, 0, false },
	{ "a(*SKIP)bc", NULL, 0, false },
	{ "(*pla:a)bc", NULL, 0, false },
	{ "(a)\\1bc", NULL, 0, false },
	{ "(?<n>a)\\k<n>bc", NULL, 0, false },
	{ "(a)\\g1bc", NULL, 0, false },
	{ "(?(1)a|b)cd", NULL, 0, false },
	{ "(?C1)abc", NULL, 0, false },
	{ "(a)(?1)bc", NULL, 0, false },
	{ "(?R)?abc", NULL, 0, false },
	{ "a{,3}bc", NULL, 0, false },
	{ "a{ 1}bc", NULL, 0, false },
	{ "a{x}bc", NULL, 0, false },
	{ "{abc}", NULL, 0, false },
	{ "x\\Qab\\E+", NULL, 0, false },
	{ "xa(?#c)*", NULL, 0, false },
	{ "xa(?i)*", NULL, 0, false },
	{ "x\\b*yz", NULL, 0, false },
	{ "abc)", NULL, 0, false },
	{ "(abc", NULL, 0, false },
	{ "[abc", NULL, 0, false },
	{ "[[:al]x", NULL, 0, false },
	{ "\\uabc", NULL, 0, false },
	{ "((((((((((((((((((a))))))))))))))))))", NULL, 0, false },
	{ "", NULL, 0, false },
	{ ".*", NULL, 0, false },
	{ "\xff" "abc", NULL, 0, false },
};

static void
test_literal_table(void **state)
{
	char out[LITERAL_MAX];
	size_t i, len, want;
	bool cl, ok;

	for (i = 0; i < sizeof(t_lit_cases) / sizeof(t_lit_cases[0]); i++) {
		const struct t_lit_case *tc = &t_lit_cases[i];

		ok = literal_required(tc->pattern, PCRE2_UTF, 1, out,
		    sizeof(out), &len, &cl);
		if (tc->lit == NULL) {
			if (ok)
				fail_msg("%s: expected none, got \"%.*s\"",
				    tc->pattern, (int)len, out);
			continue;
		}
		want = tc->len ? tc->len : strlen(tc->lit);
		if (!ok)
			fail_msg("%s: expected \"%s\", got none", tc->pattern,
			    tc->lit);
		if (len != want || memcmp(out, tc->lit, want) != 0 ||
		    cl != tc->caseless)
			fail_msg("%s: expected \"%s\"%s, got \"%.*s\"%s",
			    tc->pattern, tc->lit, tc->caseless ? " (i)" : "",
			    (int)len, out, cl ? " (i)" : "");
	}
}

static void
test_literal_options_and_sizes(void **state)
{
	char out[LITERAL_MAX];
	size_t len;
	bool cl;

	/* Compile options. */
	assert_true(literal_required("abc", PCRE2_UTF | PCRE2_CASELESS, 1,
	    out, sizeof(out), &len, &cl));
	assert_true(cl);
	assert_true(literal_required("abc", PCRE2_UTF | PCRE2_MULTILINE |
	    PCRE2_DOTALL, 1, out, sizeof(out), &len, &cl));
	assert_false(cl);
	assert_false(literal_required("abc", PCRE2_UTF | PCRE2_EXTENDED, 1,
	    out, sizeof(out), &len, &cl));
	assert_false(literal_required("abc", PCRE2_UTF | PCRE2_LITERAL, 1,
	    out, sizeof(out), &len, &cl));
	assert_false(literal_required("abc", 0, 1, out, sizeof(out), &len,
	    &cl));

	/* min_len. */
	assert_false(literal_required("ab.cd", PCRE2_UTF, 3, out, sizeof(out),
	    &len, &cl));
	assert_true(literal_required("ab.cde", PCRE2_UTF, 3, out, sizeof(out),
	    &len, &cl));
	assert_int_equal(len, 3);
	assert_memory_equal(out, "cde", 3);

	/* A short buffer gets a prefix (still required). */
	assert_true(literal_required("abcdef", PCRE2_UTF, 1, out, 4, &len,
	    &cl));
	assert_int_equal(len, 4);
	assert_memory_equal(out, "abcd", 4);
	assert_false(literal_required("abcdef", PCRE2_UTF, 5, out, 4, &len,
	    &cl));

	/* Longer than LITERAL_MAX: a LITERAL_MAX piece. */
	assert_true(literal_required("0123456789012345678901234567890123456789"
	    "0123456789012345678901234567890123456789", PCRE2_UTF, 1, out,
	    sizeof(out), &len, &cl));
	assert_int_equal(len, LITERAL_MAX);
	assert_memory_equal(out, "0123456789", 10);
}

static void
test_literal_any(void **state)
{
	struct literal l[LITERAL_MAX_ALTS];
	size_t n;

	n = literal_required_any("(error|denied|fail)", PCRE2_UTF, 1, l,
	    LITERAL_MAX_ALTS);
	assert_int_equal(n, 3);
	assert_int_equal(l[0].len, 5);
	assert_memory_equal(l[0].s, "error", 5);
	assert_memory_equal(l[1].s, "denied", 6);
	assert_memory_equal(l[2].s, "fail", 4);
	assert_false(l[0].caseless);

	n = literal_required_any("(?i)(error|fail)ed", PCRE2_UTF, 1, l,
	    LITERAL_MAX_ALTS);
	assert_int_equal(n, 2);
	assert_true(l[0].caseless && l[1].caseless);

	/* Duplicates collapse; a branch that may be empty loses it all. */
	assert_int_equal(literal_required_any("ab|ab|cd", PCRE2_UTF, 1, l,
	    LITERAL_MAX_ALTS), 2);
	assert_int_equal(literal_required_any("ab|c*", PCRE2_UTF, 1, l,
	    LITERAL_MAX_ALTS), 0);
	assert_int_equal(literal_required_any("(ab|cd)?x", PCRE2_UTF, 1, l,
	    LITERAL_MAX_ALTS), 1);
	assert_memory_equal(l[0].s, "x", 1);
	/* A common piece may stand in for several alternatives. */
	n = literal_required_any("a1|a2|a3|a4|a5|a6|a7|a8|b9", PCRE2_UTF, 1,
	    l, LITERAL_MAX_ALTS);
	assert_int_equal(n, 2);
	assert_memory_equal(l[0].s, "a", 1);
	assert_memory_equal(l[1].s, "b9", 2);
	/* Too many alternatives, too few slots, too short. */
	assert_int_equal(literal_required_any("a1|b2|c3|d4|e5|f6|g7|h8|i9",
	    PCRE2_UTF, 1, l, LITERAL_MAX_ALTS), 0);
	assert_int_equal(literal_required_any("(ab|cd)", PCRE2_UTF, 1, l, 1),
	    0);
	assert_int_equal(literal_required_any("(abc|de)", PCRE2_UTF, 3, l,
	    LITERAL_MAX_ALTS), 0);
	/* A single answer like literal_required's. */
	n = literal_required_any("xx(abc|abd)yy", PCRE2_UTF, 1, l,
	    LITERAL_MAX_ALTS);
	assert_int_equal(n, 1);
	assert_int_equal(l[0].len, 4);
	assert_memory_equal(l[0].s, "xxab", 4);
}

static size_t
t_utf8(uint32_t cp, unsigned char *b)
{
	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = (unsigned char)(0xc0 | cp >> 6);
		b[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = (unsigned char)(0xe0 | cp >> 12);
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	b[0] = (unsigned char)(0xf0 | cp >> 18);
	b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	b[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * PCRE2 in UTF mode folds exactly two non-ASCII characters onto ASCII
 * (K and s); the scanner's caseless equality relies on that list.
 */
static void
test_literal_pcre2_ascii_folds(void **state)
{
	static const char *const pats[] = { "(?i)[\\x00-\\x7f]",
	    "(?i)(?:a|b|c|d|e|f|g|h|i|j|k|l|m|n|o|p|q|r|s|t|u|v|w|x|y|z)" };
	pcre2_match_data *md;
	pcre2_code *re;
	PCRE2_SIZE off;
	unsigned char b[4];
	uint32_t cp;
	size_t i, n;
	int err;

	for (i = 0; i < 2; i++) {
		re = pcre2_compile((PCRE2_SPTR)pats[i], PCRE2_ZERO_TERMINATED,
		    PCRE2_UTF, &err, &off, NULL);
		assert_non_null(re);
		(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
		md = pcre2_match_data_create(1, NULL);
		for (cp = 0x80; cp <= 0x10ffff; cp++) {
			if (cp >= 0xd800 && cp <= 0xdfff)
				continue;
			n = t_utf8(cp, b);
			if (pcre2_match(re, b, n, 0, 0, md, NULL) >= 0 &&
			    cp != 0x212a && cp != 0x17f)
				fail_msg("%s matches U+%04X", pats[i],
				    (unsigned)cp);
		}
		pcre2_match_data_free(md);
		pcre2_code_free(re);
	}
}

/* Scanner: exact cases */

static void
test_litscan_basic(void **state)
{
	struct litscan *ls = litscan_new();
	uint64_t cand[3];

	litscan_add(ls, "he", 2, false, 0);
	litscan_add(ls, "she", 3, false, 1);
	litscan_add(ls, "his", 3, false, 2);
	litscan_add(ls, "hers", 4, false, 3);
	litscan_add(ls, "Error", 5, false, 64);    /* second word */
	litscan_add(ls, "denied", 6, true, 130);   /* third word */
	litscan_add(ls, "xyz", 3, false, 130);     /* same id: either */
	litscan_build(ls);
	assert_int_equal(litscan_words(ls), 3);
	assert_true(litscan_states(ls) > 1);
	assert_true(litscan_memory(ls) > 0);

	/* Overlapping, and ending at the last byte. */
	memset(cand, 0, sizeof(cand));
	litscan_scan(ls, "ushers", 6, cand);
	assert_true(t_bit(cand, 0) && t_bit(cand, 1) && t_bit(cand, 3));
	assert_false(t_bit(cand, 2));
	assert_int_equal(cand[1], 0);
	assert_int_equal(cand[2], 0);

	/* Starting at the first byte; case-sensitive is exact. */
	memset(cand, 0, sizeof(cand));
	litscan_scan(ls, "Error: access DENIED", 20, cand);
	assert_true(t_bit(cand, 64));
	assert_true(t_bit(cand, 130));
	assert_int_equal(cand[0], 0);
	memset(cand, 0, sizeof(cand));
	litscan_scan(ls, "error: access Denied", 20, cand);
	assert_false(t_bit(cand, 64));
	assert_true(t_bit(cand, 130));
	memset(cand, 0, sizeof(cand));
	litscan_scan(ls, "ERROR", 5, cand);
	assert_false(t_bit(cand, 64));

	/* The other literal of id 130; a literal split by the end. */
	memset(cand, 0, sizeof(cand));
	litscan_scan(ls, "axyzdenie", 9, cand);
	assert_true(t_bit(cand, 130));
	memset(cand, 0, sizeof(cand));
	litscan_scan(ls, "xy", 2, cand);
	litscan_scan(ls, "", 0, cand);
	assert_int_equal(cand[0] | cand[1] | cand[2], 0);
	litscan_free(ls);
	litscan_free(NULL);
}

static void
test_litscan_caseless_folds(void **state)
{
	struct litscan *ls = litscan_new();
	uint64_t cand[1];

	litscan_add(ls, "sshd", 4, true, 0);
	litscan_add(ls, "kernel", 6, true, 1);
	litscan_add(ls, "Kernel", 6, false, 2);
	litscan_add(ls, "\xc3\xa9t\xc3\xa9", 5, true, 3);
	litscan_build(ls);

	memset(cand, 0, sizeof(cand));
	litscan_scan(ls, "SSHD[1]", 7, cand);
	assert_int_equal(cand[0], 1);
	memset(cand, 0, sizeof(cand));
	litscan_scan(ls, LONG_S "Shd", 5, cand);
	assert_int_equal(cand[0], 1);
	memset(cand, 0, sizeof(cand));
	litscan_scan(ls, KELVIN "ERNEL", 8, cand);
	assert_int_equal(cand[0], 2);
	memset(cand, 0, sizeof(cand));
	litscan_scan(ls, "a Kernel b", 10, cand);
	assert_int_equal(cand[0], 6);
	/* Non-ASCII is compared as bytes. */
	memset(cand, 0, sizeof(cand));
	litscan_scan(ls, "\xc3\xa9T\xc3\xa9", 5, cand);
	assert_int_equal(cand[0], 8);
	memset(cand, 0, sizeof(cand));
	litscan_scan(ls, "\xc3\x89t\xc3\xa9", 5, cand);
	assert_int_equal(cand[0], 0);
	litscan_free(ls);
}

static void
test_litscan_always_and_windows(void **state)
{
	struct litscan *ls = litscan_new();
	uint64_t cand[2];
	char big[64];

	litscan_add(ls, "", 0, false, 5);             /* every line */
	/* 40 bytes: cut to LITSCAN_MAX_LEN, found by its window. */
	litscan_add(ls, "0123456789abcdefghij0123456789ABCDEFGHIJ", 40, false,
	    70);
	/* Six k/s caseless: cut to four. */
	litscan_add(ls, "kkkxsss", 7, true, 71);
	litscan_build(ls);
	assert_int_equal(litscan_words(ls), 2);

	memset(cand, 0, sizeof(cand));
	litscan_scan(ls, "nothing", 7, cand);
	assert_int_equal(cand[0], (uint64_t)1 << 5);
	assert_int_equal(cand[1], 0);

	memset(cand, 0, sizeof(cand));
	litscan_scan(ls, "0123456789abcdefghij0123456789AB", 32, cand);
	assert_true(t_bit(cand, 70));
	snprintf(big, sizeof(big), "%s", "KK" KELVIN "X" LONG_S "SS");
	memset(cand, 0, sizeof(cand));
	litscan_scan(ls, big, strlen(big), cand);
	assert_true(t_bit(cand, 71));
	memset(cand, 0, sizeof(cand));
	litscan_scan(ls, "kkkxss", 6, cand);       /* a window of it */
	assert_true(t_bit(cand, 71));
	litscan_free(ls);

	/* Nothing added. */
	ls = litscan_new();
	litscan_build(ls);
	assert_int_equal(litscan_words(ls), 0);
	litscan_scan(ls, "abc", 3, cand);
	litscan_free(ls);
}

/* Many long distinct literals: past 65535 states some are reported on
 * every line instead, never missed. */
static void
test_litscan_state_cap(void **state)
{
	struct litscan *ls = litscan_new();
	char lit[LITSCAN_MAX_LEN], line[LITSCAN_MAX_LEN + 2];
	uint64_t *cand;
	uint32_t i, nlit = 3000;
	size_t k;

	t_seed(7);
	for (i = 0; i < nlit; i++) {
		for (k = 0; k < sizeof(lit); k++)
			lit[k] = (char)('a' + t_below(26));
		litscan_add(ls, lit, sizeof(lit), false, i);
	}
	litscan_build(ls);
	assert_true(litscan_states(ls) <= 65536);
	cand = calloc(litscan_words(ls), sizeof(uint64_t));
	assert_non_null(cand);
	/* Replay the literals: each must be found. */
	t_seed(7);
	for (i = 0; i < nlit; i++) {
		line[0] = '<';
		for (k = 0; k < sizeof(lit); k++)
			line[k + 1] = (char)('a' + t_below(26));
		line[sizeof(line) - 1] = '>';
		memset(cand, 0, litscan_words(ls) * sizeof(uint64_t));
		litscan_scan(ls, line, sizeof(line), cand);
		assert_true(t_bit(cand, i));
	}
	free(cand);
	litscan_free(ls);
}

/* Scanner: random literal sets against the reference */

static const char *const t_scan_alpha[] = { "a", "b", "k", "s", "K", "S",
    "A", " ", "\xc3\xa9", KELVIN, LONG_S };
#define T_SCAN_NALPHA (sizeof(t_scan_alpha) / sizeof(t_scan_alpha[0]))

static size_t
t_random_text(char *buf, size_t maxlen, size_t maxpieces)
{
	size_t n = 0, k, np = t_below((uint32_t)maxpieces + 1);
	const char *piece;

	for (k = 0; k < np; k++) {
		piece = t_scan_alpha[t_below(T_SCAN_NALPHA)];
		if (n + strlen(piece) > maxlen)
			break;
		memcpy(buf + n, piece, strlen(piece));
		n += strlen(piece);
	}
	return n;
}

struct t_lit {
	char s[32];
	size_t len;
	bool cl;
	uint32_t id;
};

static void
test_litscan_random(void **state)
{
	struct t_lit lits[80];
	char subj[128];
	uint64_t cand[4], want[4];
	size_t nlits, n, i, trial, sub, checks = 0;
	struct litscan *ls;

	t_seed_default(0x5eed1);
	for (trial = 0; trial < 2500; trial++) {
		ls = litscan_new();
		nlits = 1 + t_below(80);
		for (i = 0; i < nlits; i++) {
			/* At most 4 k/s pieces keeps every literal whole. */
			do {
				lits[i].len = t_random_text(lits[i].s, 24, 4);
			} while (lits[i].len == 0);
			lits[i].cl = t_below(2);
			lits[i].id = t_below(256);
			litscan_add(ls, lits[i].s, lits[i].len, lits[i].cl,
			    lits[i].id);
		}
		litscan_build(ls);
		assert_true(litscan_words(ls) <= 4);
		for (sub = 0; sub < 40; sub++) {
			n = t_random_text(subj, sizeof(subj), 30);
			/* Plant a literal half the time. */
			if (t_below(2)) {
				i = t_below((uint32_t)nlits);
				if (n + lits[i].len <= sizeof(subj)) {
					memmove(subj + lits[i].len, subj, n);
					memcpy(subj, lits[i].s, lits[i].len);
					n += lits[i].len;
				}
			}
			memset(want, 0, sizeof(want));
			for (i = 0; i < nlits; i++)
				if (t_contains(subj, n, lits[i].s, lits[i].len,
				    lits[i].cl))
					want[lits[i].id / 64] |=
					    (uint64_t)1 << (lits[i].id % 64);
			memset(cand, 0, sizeof(cand));
			litscan_scan(ls, subj, n, cand);
			for (i = 0; i < litscan_words(ls); i++)
				if (cand[i] != want[i])
					fail_msg("trial %zu sub %zu word %zu: "
					    "got %016llx want %016llx", trial,
					    sub, i, (unsigned long long)cand[i],
					    (unsigned long long)want[i]);
			checks++;
		}
		litscan_free(ls);
	}
	print_message("litscan random: %zu subjects checked\n", checks);
	assert_true(checks >= 100000);
}

/*
 * Random regexes: a small AST rendered to PCRE2 syntax, and sampled to
 * make subjects that (often) match.
 */

enum t_kind {
	TK_LIT, TK_CLASS, TK_ESC, TK_ANCHOR, TK_GROUP, TK_LOOK, TK_ALT,
	TK_SEQ, TK_QUANT, TK_OPT, TK_COMMENT,
};

#define T_MAXKIDS 5
#define T_MAXNODES 96

struct t_node {
	enum t_kind k;
	const char *ch;        /* TK_LIT */
	int how;               /* TK_LIT rendering; TK_CLASS / TK_ESC / ...
				  variant */
	int kids[T_MAXKIDS];
	int nkids;
	int min, max, qsuf;
	bool cl;               /* TK_OPT: (?i) or (?-i); TK_GROUP: sets */
};

struct t_re {
	struct t_node n[T_MAXNODES];
	int nn;
};

static const char *const t_chars[] = { "a", "b", "c", "k", "s", "K", "S",
    "x", "A", " ", ".", "-", ":", "]", "\xc3\xa9", "\xc3\x89", LONG_S,
    KELVIN, "{", "#", "/", "1" };
#define T_NCHARS (sizeof(t_chars) / sizeof(t_chars[0]))

static const char *const t_classes[] = { "[ab]", "[aA]", "[^a]", "[a-c]",
    "[.]", "[\\]x]", "[[:digit:]]", "[kK]", "[s]", "[\\d:]", "[]a]",
    "[\\Q]\\E]", "[\\E]a]", "[\\Q\\E^]]", "[^\\E]]" };
static const char *const t_class_sample[] = { "ab", "aA", "bzS", "abc",
    ".", "]x", "05", "kK", "s", "1:", "]a", "]", "]a", "ab", "ab" };
#define T_NCLASSES (sizeof(t_classes) / sizeof(t_classes[0]))

static const char *const t_escs[] = { ".", "\\d", "\\w", "\\s", "\\S",
    "\\N", "\\p{L}" };
static const char *const t_esc_sample[] = { "a.Z", "37", "aZ_", " \t",
    "x.", "ab", "aZ" };
#define T_NESCS (sizeof(t_escs) / sizeof(t_escs[0]))

static const char *const t_anchors[] = { "^", "$", "\\b", "\\B", "\\A",
    "\\z", "\\K", "\\E" };
#define T_NANCHORS (sizeof(t_anchors) / sizeof(t_anchors[0]))

static const char *const t_groups[] = { "(", "(?:", "(?<g>", "(?>",
    "(?i:", "(?-i:", "(?|", "(?'q'", "(?P<p>" };
#define T_NGROUPS (sizeof(t_groups) / sizeof(t_groups[0]))

static const char *const t_looks[] = { "(?=", "(?!", "(?<=", "(?<!" };

static const char *const t_opts[] = { "(?i)", "(?-i)", "(?^)", "(?s)",
    "(?m)", "(?x)", "(?i-m)", "(?^i)" };
#define T_NOPTS (sizeof(t_opts) / sizeof(t_opts[0]))

static int
t_new(struct t_re *re, enum t_kind k)
{
	struct t_node *n;

	if (re->nn >= T_MAXNODES)
		return -1;
	n = &re->n[re->nn];
	memset(n, 0, sizeof(*n));
	n->k = k;
	return re->nn++;
}

static int t_gen_alt(struct t_re *, int);

static int
t_gen_atom(struct t_re *re, int depth)
{
	uint32_t r = t_below(100);
	int id;

	if (r < 50 || depth >= 3) {
		id = t_new(re, TK_LIT);
		if (id >= 0) {
			re->n[id].ch = t_chars[t_below(T_NCHARS)];
			re->n[id].how = (int)t_below(12);
		}
	} else if (r < 60) {
		id = t_new(re, TK_CLASS);
		if (id >= 0)
			re->n[id].how = (int)t_below(T_NCLASSES);
	} else if (r < 67) {
		id = t_new(re, TK_ESC);
		if (id >= 0)
			re->n[id].how = (int)t_below(T_NESCS);
	} else if (r < 72) {
		id = t_new(re, TK_ANCHOR);
		if (id >= 0)
			re->n[id].how = (int)t_below(T_NANCHORS);
	} else if (r < 88) {
		id = t_new(re, TK_GROUP);
		if (id >= 0) {
			re->n[id].how = (int)t_below(T_NGROUPS);
			re->n[id].kids[0] = t_gen_alt(re, depth + 1);
			re->n[id].nkids = 1;
		}
	} else if (r < 92) {
		id = t_new(re, TK_LOOK);
		if (id >= 0) {
			re->n[id].how = (int)t_below(4);
			re->n[id].kids[0] = t_gen_alt(re, depth + 1);
			re->n[id].nkids = 1;
		}
	} else if (r < 98) {
		id = t_new(re, TK_OPT);
		if (id >= 0)
			re->n[id].how = t_below(4) ? (int)t_below(2) :
			    (int)t_below(T_NOPTS);
	} else {
		id = t_new(re, TK_COMMENT);
	}
	return id;
}

static int
t_gen_item(struct t_re *re, int depth)
{
	static const int qs[][2] = { {0, -1}, {1, -1}, {0, 1}, {2, 2},
	    {1, 3}, {0, 2}, {2, -1}, {3, 3} };
	int a = t_gen_atom(re, depth), q, id;

	if (a < 0 || t_below(100) >= 30)
		return a;
	id = t_new(re, TK_QUANT);
	if (id < 0)
		return a;
	q = (int)t_below(sizeof(qs) / sizeof(qs[0]));
	re->n[id].min = qs[q][0];
	re->n[id].max = qs[q][1];
	re->n[id].qsuf = (int)t_below(3);
	re->n[id].kids[0] = a;
	re->n[id].nkids = 1;
	return id;
}

static int
t_gen_seq(struct t_re *re, int depth)
{
	int id = t_new(re, TK_SEQ), n, k;

	if (id < 0)
		return -1;
	n = 1 + (int)t_below(depth == 0 ? 5 : 3);
	for (k = 0; k < n && k < T_MAXKIDS; k++)
		re->n[id].kids[re->n[id].nkids++] = t_gen_item(re, depth);
	return id;
}

static int
t_gen_alt(struct t_re *re, int depth)
{
	int id, n, k;

	if (t_below(100) >= 25)
		return t_gen_seq(re, depth);
	id = t_new(re, TK_ALT);
	if (id < 0)
		return -1;
	n = 2 + (int)t_below(2);
	for (k = 0; k < n; k++)
		re->n[id].kids[re->n[id].nkids++] = t_gen_seq(re, depth);
	return id;
}

static void
t_put(char *buf, size_t sz, size_t *len, const char *s)
{
	size_t n = strlen(s);

	if (*len + n < sz) {
		memcpy(buf + *len, s, n);
		*len += n;
		buf[*len] = '\0';
	}
}

static uint32_t
t_decode(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (p[0] < 0x80)
		return p[0];
	if (p[0] < 0xe0)
		return (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
	return (uint32_t)(p[0] & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 |
	    (p[2] & 0x3f);
}

/* A literal character, written one of several ways. */
static void
t_render_lit(const struct t_node *n, char *buf, size_t sz, size_t *len)
{
	char tmp[32];
	uint32_t cp = t_decode(n->ch);
	int c = (unsigned char)n->ch[0];
	bool special = strchr(".{#]", c) != NULL && c != 0;

	switch (n->how) {
	case 0: case 1: case 2: case 3: case 4:
		/* Raw, but an unescaped '.' would be a dot and '{' is
		 * rendered raw on purpose now and then. */
		if (c == '.' || (special && c != '{' && n->how == 0))
			snprintf(tmp, sizeof(tmp), "\\%s", n->ch);
		else
			snprintf(tmp, sizeof(tmp), "%s", n->ch);
		break;
	case 5:
		if (c < 0x80 && !((c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			snprintf(tmp, sizeof(tmp), "\\%s", n->ch);
		else
			snprintf(tmp, sizeof(tmp), "\\x{%x}", cp);
		break;
	case 6:
		if (cp < 0x100)
			snprintf(tmp, sizeof(tmp), "\\x%02X", cp);
		else
			snprintf(tmp, sizeof(tmp), "\\x{%X}", cp);
		break;
	case 7:
		if (c == ']' || c == '\\' || c == '^' || c == '-' || c == '[')
			snprintf(tmp, sizeof(tmp), "[\\%s]", n->ch);
		else
			snprintf(tmp, sizeof(tmp), "[%s]", n->ch);
		break;
	case 8:
		snprintf(tmp, sizeof(tmp), "\\Q%s\\E", n->ch);
		break;
	case 9:
		snprintf(tmp, sizeof(tmp), "\\N{U+%X}", cp);
		break;
	case 10:
		snprintf(tmp, sizeof(tmp), "\\o{%o}", cp);
		break;
	default:
		if (cp < 0100)
			snprintf(tmp, sizeof(tmp), "\\0%o", cp);
		else
			snprintf(tmp, sizeof(tmp), "\\x{%x}", cp);
		break;
	}
	t_put(buf, sz, len, tmp);
}

static void
t_render(const struct t_re *re, int id, char *buf, size_t sz, size_t *len)
{
	static const char *const qsuf[] = { "", "?", "+" };
	const struct t_node *n;
	char tmp[32];
	int k;

	if (id < 0)
		return;
	n = &re->n[id];
	switch (n->k) {
	case TK_LIT:
		t_render_lit(n, buf, sz, len);
		break;
	case TK_CLASS:
		t_put(buf, sz, len, t_classes[n->how]);
		break;
	case TK_ESC:
		t_put(buf, sz, len, t_escs[n->how]);
		break;
	case TK_ANCHOR:
		t_put(buf, sz, len, t_anchors[n->how]);
		break;
	case TK_GROUP:
	case TK_LOOK:
		t_put(buf, sz, len, n->k == TK_GROUP ? t_groups[n->how] :
		    t_looks[n->how]);
		t_render(re, n->kids[0], buf, sz, len);
		t_put(buf, sz, len, ")");
		break;
	case TK_ALT:
	case TK_SEQ:
		for (k = 0; k < n->nkids; k++) {
			if (k > 0 && n->k == TK_ALT)
				t_put(buf, sz, len, "|");
			t_render(re, n->kids[k], buf, sz, len);
		}
		break;
	case TK_QUANT:
		t_render(re, n->kids[0], buf, sz, len);
		if (n->min == 0 && n->max == -1)
			snprintf(tmp, sizeof(tmp), "*%s", qsuf[n->qsuf]);
		else if (n->min == 1 && n->max == -1)
			snprintf(tmp, sizeof(tmp), "+%s", qsuf[n->qsuf]);
		else if (n->min == 0 && n->max == 1)
			snprintf(tmp, sizeof(tmp), "?%s", qsuf[n->qsuf]);
		else if (n->max == -1)
			snprintf(tmp, sizeof(tmp), "{%d,}%s", n->min,
			    qsuf[n->qsuf]);
		else if (n->min == n->max)
			snprintf(tmp, sizeof(tmp), "{%d}%s", n->min,
			    qsuf[n->qsuf]);
		else
			snprintf(tmp, sizeof(tmp), "{%d,%d}%s", n->min, n->max,
			    qsuf[n->qsuf]);
		t_put(buf, sz, len, tmp);
		break;
	case TK_OPT:
		t_put(buf, sz, len, t_opts[n->how]);
		break;
	case TK_COMMENT:
		t_put(buf, sz, len, "(?#c)");
		break;
	}
}

/* A character as a caseless match might spell it. */
static const char *
t_sample_char(const char *ch, bool cl, char *tmp)
{
	int c = (unsigned char)ch[0];

	if (!cl || t_below(3) == 0)
		return ch;
	if (t_fold(c) == 'k' && t_below(3) == 0)
		return KELVIN;
	if (t_fold(c) == 's' && t_below(3) == 0)
		return LONG_S;
	if (strcmp(ch, KELVIN) == 0)
		return t_below(2) ? "k" : "K";
	if (strcmp(ch, LONG_S) == 0)
		return t_below(2) ? "s" : "S";
	if (strcmp(ch, "\xc3\xa9") == 0)
		return "\xc3\x89";
	if (strcmp(ch, "\xc3\x89") == 0)
		return "\xc3\xa9";
	if (c < 0x80 && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
		tmp[0] = (char)(c ^ 0x20);
		tmp[1] = '\0';
		return tmp;
	}
	return ch;
}

static void
t_sample(const struct t_re *re, int id, bool *cl, char *buf, size_t sz,
    size_t *len)
{
	const struct t_node *n;
	const char *set;
	char tmp[4], one[2];
	bool local;
	int k, reps;

	if (id < 0)
		return;
	n = &re->n[id];
	switch (n->k) {
	case TK_LIT:
		t_put(buf, sz, len, t_sample_char(n->ch, *cl, tmp));
		break;
	case TK_CLASS:
	case TK_ESC:
		set = n->k == TK_CLASS ? t_class_sample[n->how] :
		    t_esc_sample[n->how];
		one[0] = set[t_below((uint32_t)strlen(set))];
		one[1] = '\0';
		t_put(buf, sz, len, t_sample_char(one, *cl, tmp));
		break;
	case TK_ANCHOR:
	case TK_COMMENT:
		break;
	case TK_GROUP:
		local = *cl;
		if (n->how == 4)
			local = true;
		else if (n->how == 5)
			local = false;
		t_sample(re, n->kids[0], &local, buf, sz, len);
		break;
	case TK_LOOK:
		/* A positive lookahead holds if we just write its text. */
		if (n->how == 0 && t_below(2)) {
			local = *cl;
			t_sample(re, n->kids[0], &local, buf, sz, len);
		}
		break;
	case TK_ALT:
		t_sample(re, n->kids[t_below((uint32_t)n->nkids)], cl, buf,
		    sz, len);
		break;
	case TK_SEQ:
		for (k = 0; k < n->nkids; k++)
			t_sample(re, n->kids[k], cl, buf, sz, len);
		break;
	case TK_QUANT:
		reps = n->min + (int)t_below((uint32_t)((n->max == -1 ? 3 :
		    n->max) - n->min + 1));
		for (k = 0; k < reps; k++)
			t_sample(re, n->kids[0], cl, buf, sz, len);
		break;
	case TK_OPT:
		if (n->how == 0 || n->how == 7)
			*cl = true;
		else if (n->how == 1 || n->how == 2)
			*cl = false;
		break;
	}
}

/* Noise: random characters from the literal pool. */
static void
t_noise(char *buf, size_t sz, size_t *len, size_t max)
{
	size_t n = t_below((uint32_t)max + 1), k;

	for (k = 0; k < n; k++)
		t_put(buf, sz, len, t_chars[t_below(T_NCHARS)]);
}

/* Flip the case of a letter or swap a character, to make near misses. */
static void
t_mutate(char *buf, size_t len)
{
	size_t i;

	if (len == 0)
		return;
	i = t_below((uint32_t)len);
	if ((buf[i] >= 'a' && buf[i] <= 'z') || (buf[i] >= 'A' &&
	    buf[i] <= 'Z'))
		buf[i] ^= 0x20;
	else if ((unsigned char)buf[i] < 0x80)
		buf[i] = "abks "[t_below(5)];
}

#define T_BATCH 300
#define T_SUBJECTS 40

struct t_pat {
	struct t_re re;
	char src[512];
	pcre2_code *code;
	struct literal lit[LITERAL_MAX_ALTS];
	size_t nlit;
	char one[LITERAL_MAX];
	size_t onelen;
	bool onecl, hasone;
};

/*
 * Batches of T_BATCH random patterns, one litscan per batch (ids are the
 * pattern's index, as rules would be), and for each pattern subjects
 * sampled from it: every subject is tried against every pattern of the
 * batch, and each match must have the pattern's literal present and its
 * bit set.
 */
static void
test_literal_random(void **state)
{
	static struct t_pat pats[T_BATCH];
	char subj[256], tmp[256];
	pcre2_match_data *md;
	struct litscan *ls;
	uint64_t cand[(T_BATCH + 63) / 64];
	size_t batch, i, j, s, len, k, nbatches = 12;
	size_t checks = 0, matched = 0, covered = 0, npat = 0, ncomp = 0;
	size_t nextract = 0, nany = 0, ncheck_match = 0, nlimit = 0;
	pcre2_match_context *mctx;
	PCRE2_SIZE off;
	bool cl, found;
	int err, rc, root;
	clock_t t0 = clock();

	t_seed_default(0xc0ffee);
	md = pcre2_match_data_create(16, NULL);
	mctx = pcre2_match_context_create(NULL);
	pcre2_set_match_limit(mctx, 100000);
	for (batch = 0; batch < nbatches; batch++) {
		ls = litscan_new();
		for (i = 0; i < T_BATCH; i++) {
			struct t_pat *p = &pats[i];

			memset(&p->re, 0, sizeof(p->re));
			root = t_gen_alt(&p->re, 0);
			len = 0;
			p->src[0] = '\0';
			if (t_below(8) == 0)
				t_put(p->src, sizeof(p->src), &len, "(?i)");
			else if (t_below(40) == 0)
				t_put(p->src, sizeof(p->src), &len, "(*UTF)");
			t_render(&p->re, root, p->src, sizeof(p->src), &len);
			npat++;
			p->code = pcre2_compile((PCRE2_SPTR)p->src,
			    PCRE2_ZERO_TERMINATED, PCRE2_UTF, &err, &off,
			    NULL);
			p->hasone = literal_required(p->src, PCRE2_UTF, 1,
			    p->one, sizeof(p->one), &p->onelen, &p->onecl);
			p->nlit = literal_required_any(p->src, PCRE2_UTF, 1,
			    p->lit, LITERAL_MAX_ALTS);
			if (p->code == NULL)
				continue;
			ncomp++;
			(void)pcre2_jit_compile(p->code, PCRE2_JIT_COMPLETE);
			nextract += p->hasone;
			nany += p->nlit > 0;
			for (k = 0; k < p->nlit; k++)
				litscan_add(ls, p->lit[k].s, p->lit[k].len,
				    p->lit[k].caseless, (uint32_t)i);
			if (p->nlit == 0)
				litscan_add(ls, "", 0, false, (uint32_t)i);
		}
		litscan_build(ls);
		for (i = 0; i < T_BATCH; i++) {
			if (pats[i].code == NULL)
				continue;
			for (s = 0; s < T_SUBJECTS; s++) {
				len = 0;
				subj[0] = '\0';
				t_noise(subj, sizeof(subj), &len, 3);
				cl = strncmp(pats[i].src, "(?i)", 4) == 0;
				/* The root is the first node made. */
				t_sample(&pats[i].re, 0, &cl, subj,
				    sizeof(subj), &len);
				t_noise(subj, sizeof(subj), &len, 3);
				if (t_below(4) == 0)
					t_mutate(subj, len);
				memset(cand, 0, sizeof(cand));
				litscan_scan(ls, subj, len, cand);
				for (j = 0; j < T_BATCH; j++) {
					const struct t_pat *p = &pats[j];

					if (p->code == NULL)
						continue;
					/* Every pattern on its own subjects,
					 * a sample of the others. */
					if (j != i && t_below(16) != 0)
						continue;
					checks++;
					rc = pcre2_match(p->code,
					    (PCRE2_SPTR)subj, len, 0, 0, md,
					    mctx);
					if (rc == PCRE2_ERROR_NOMATCH)
						continue;
					/* Nested quantifiers can backtrack
					 * without end: no answer, no test. */
					if (rc == PCRE2_ERROR_MATCHLIMIT ||
					    rc == PCRE2_ERROR_DEPTHLIMIT ||
					    rc == PCRE2_ERROR_HEAPLIMIT) {
						nlimit++;
						continue;
					}
					if (rc < 0) {
						pcre2_get_error_message(rc,
						    (PCRE2_UCHAR *)tmp,
						    sizeof(tmp));
						fail_msg("/%s/ on \"%s\": %s",
						    p->src, subj, tmp);
					}
					matched++;
					if (p->hasone) {
						ncheck_match++;
						if (!t_contains(subj, len,
						    p->one, p->onelen,
						    p->onecl))
							fail_msg("/%s/ matches "
							    "\"%s\" without "
							    "\"%.*s\"%s",
							    p->src, subj,
							    (int)p->onelen,
							    p->one, p->onecl ?
							    " (i)" : "");
					}
					if (p->nlit > 0) {
						covered++;
						found = false;
						for (k = 0; k < p->nlit; k++)
							found |= t_contains(
							    subj, len,
							    p->lit[k].s,
							    p->lit[k].len,
							    p->lit[k].caseless);
						if (!found)
							fail_msg("/%s/ matches "
							    "\"%s\" without "
							    "any of its %zu "
							    "literals", p->src,
							    subj, p->nlit);
					}
					if (!t_bit(cand, (uint32_t)j))
						fail_msg("/%s/ matches \"%s\" "
						    "but litscan missed it",
						    p->src, subj);
				}
			}
		}
		for (i = 0; i < T_BATCH; i++)
			pcre2_code_free(pats[i].code);
		litscan_free(ls);
	}
	pcre2_match_data_free(md);
	pcre2_match_context_free(mctx);
	print_message("literal random: %zu patterns (%zu compiled, %zu with "
	    "a literal, %zu with a literal set), %zu pcre2 checks, %zu "
	    "matches (%zu against a single literal, %zu against a set), "
	    "%zu over the match limit, %.2fs\n", npat, ncomp, nextract, nany,
	    checks, matched, ncheck_match, covered, nlimit,
	    (double)(clock() - t0) / CLOCKS_PER_SEC);
	assert_true(checks >= 100000);
	/* The property must have been exercised, not vacuously true. */
	assert_true(ncheck_match >= 10000);
	assert_true(nextract * 3 >= ncomp);
}

/*
 * Token soup: patterns glued from syntax fragments at random, so that
 * corners the grammar above never writes (a ']' right after "[\\E", a
 * quantifier after "\\Q\\E", "[:" outside a class...) get compiled too.
 * Most do not compile; those that do meet random subjects over a small
 * alphabet, which match often enough to hold extraction to its promise.
 */
static void
test_literal_soup(void **state)
{
	static const char *const toks[] = { "a", "b", "k", "K", "s", "]",
	    "[", "^", "$", "-", ".", "\\E", "\\Q", "\\Q\\E", "(", "(?:",
	    "(?i)", "(?-i)", "(?i:", ")", ")", "|", "*", "+", "?", "{2}",
	    "{1,2}", "{", "}", "\\.", "\\]", "\\[", "\\\\", "\\x61",
	    "\\x{6b}", "\\c]", "\\d", "[:alpha:]", "[:", ":]", "(?#", ":",
	    "=", "!", "(?=", "(?<=", "(?!", "\\b", "#", " ", "\\N", "\\K",
	    "\xc3\xa9", KELVIN, "\\0", "\\1", ",", "<", ">", "\\o{141}",
	    "\\N{U+61}", "\\ca", "(?^)", "(?|", "(?>", "(?<n>", "(?'n'",
	    "(?P<n>", "{0}", "{0,}", "{,2}", "\\Qa\\E", "\\e", "\\t",
	    "\\h", "\\R", "\\p{L}", "\\X", "\\z", "\\A", "(*UTF)",
	    "(?s)", "(?x)", "(?m)", "(?n)", "(?U)", "[^", "[[:digit:]]",
	    "\\x", "(?C)", "(*SKIP)", "(?(1)", "(?1)", "\\k<n>", "(?i)k",
	    "[a-c]", "[kK]", "\\s", "\\w+", "\\x{17f}" };
	static const char *const subj_alpha[] = { "a", "b", "k", "K", "s",
	    "S", "]", "[", "^", "-", ".", ":", "#", " ", "\xc3\xa9", KELVIN,
	    LONG_S, "\x1d", "1", "\\", "{", "}", "A", "=", "!", ",", "\t",
	    "\x1b", "\x01", "c", "\n" };
	char pat[128], subj[64], lit[LITERAL_MAX];
	struct literal any[LITERAL_MAX_ALTS];
	pcre2_match_data *md = pcre2_match_data_create(8, NULL);
	size_t n, len, litlen, nany, k, i, s;
	size_t npat = 0, ncomp = 0, nlit = 0, checks = 0, hits = 0;
	PCRE2_SIZE off;
	pcre2_code *re;
	bool cl, ok, found;
	int err, rc;

	t_seed_default(0x50a9);
	for (npat = 0; npat < 60000; npat++) {
		len = 0;
		pat[0] = '\0';
		n = 1 + t_below(8);
		/* The first 14 tokens are the touchy ones: favour them. */
		for (k = 0; k < n; k++)
			t_put(pat, sizeof(pat), &len, toks[t_below(2) ?
			    t_below(14) :
			    t_below(sizeof(toks) / sizeof(toks[0]))]);
		ok = literal_required(pat, PCRE2_UTF, 1, lit, sizeof(lit),
		    &litlen, &cl);
		nany = literal_required_any(pat, PCRE2_UTF, 1, any,
		    LITERAL_MAX_ALTS);
		re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
		    PCRE2_UTF, &err, &off, NULL);
		if (re == NULL)
			continue;
		ncomp++;
		if (!ok && nany == 0) {
			pcre2_code_free(re);
			continue;
		}
		nlit++;
		for (s = 0; s < 16; s++) {
			len = 0;
			subj[0] = '\0';
			n = t_below(10);
			for (k = 0; k < n; k++)
				t_put(subj, sizeof(subj), &len, subj_alpha[
				    t_below(sizeof(subj_alpha) /
				    sizeof(subj_alpha[0]))]);
			/* Half the time, characters of the pattern itself:
			 * what a misread piece of syntax would match. */
			for (i = 0; s % 2 == 1 && pat[i] != '\0'; i += k) {
				k = utf8_seqlen((const unsigned char *)pat + i,
				    strlen(pat + i));
				if (k == 0)
					break;
				if (t_below(3) != 0 && len + k < sizeof(subj)) {
					memcpy(subj + len, pat + i, k);
					subj[len += k] = '\0';
				}
			}
			checks++;
			rc = pcre2_match(re, (PCRE2_SPTR)subj, len, 0, 0, md,
			    NULL);
			if (rc < 0)
				continue;
			hits++;
			if (ok && !t_contains(subj, len, lit, litlen, cl))
				fail_msg("/%s/ matches \"%s\" without "
				    "\"%.*s\"%s", pat, subj, (int)litlen, lit,
				    cl ? " (i)" : "");
			for (i = 0, found = nany == 0; i < nany; i++)
				found |= t_contains(subj, len, any[i].s,
				    any[i].len, any[i].caseless);
			if (!found)
				fail_msg("/%s/ matches \"%s\" without any of "
				    "its %zu literals", pat, subj, nany);
		}
		pcre2_code_free(re);
	}
	pcre2_match_data_free(md);
	print_message("literal soup: %zu patterns, %zu compiled, %zu with a "
	    "literal; %zu subjects tried, %zu matched\n", npat, ncomp, nlit,
	    checks, hits);
	assert_true(hits >= 5000);
}

/*
 * Speed: 300 literals like alert rules' over typical log lines. Printed
 * for the record; the bound only catches something badly wrong (it must
 * hold under ASan too).
 */
static void
test_litscan_speed(void **state)
{
	static const char *const words[] = { "sshd", "Failed", "password",
	    "invalid", "user", "kernel", "Out of memory", "segfault",
	    "error", "denied", "timeout", "refused", "CRON", "session",
	    "opened", "closed", "disk", "I/O", "failure", "panic", "nginx",
	    "upstream", "postfix", "reject", "NOQUEUE", "systemd", "unit",
	    "entered", "failed state", "oom-kill", "EXT4-fs", "mount",
	    "authentication", "sudo", "COMMAND", "root", "pam_unix",
	    "connection", "reset", "dovecot", "imap", "login", "auth",
	    "certificate", "expired", "backup", "smartd", "temperature" };
	static const char *const lines[] = {
	    "Nov 27 10:00:01 web1 sshd[2211]: Accepted publickey for deploy "
	    "from 10.0.0.5 port 52211 ssh2",
	    "Nov 27 10:00:02 db2 postgres[771]: LOG:  checkpoint complete: "
	    "wrote 1533 buffers (9.4%)",
	    "Nov 27 10:00:03 web1 nginx: 10.1.2.3 - - \"GET /api/v1/items "
	    "HTTP/1.1\" 200 512",
	    "Nov 27 10:00:04 app3 java[9912]: INFO  c.e.s.OrderService - "
	    "order 88123 shipped",
	};
	struct litscan *ls = litscan_new();
	char lit[64];
	uint64_t cand[5], sink = 0;
	size_t i, nlines = 400000, bytes = 0;
	struct timespec a, b;
	double ns;

	t_seed(99);
	for (i = 0; i < 300; i++) {
		/* Two words with a separator: like "sshd.*Failed" rules'
		 * best literal, or one word alone. */
		if (i < 48)
			snprintf(lit, sizeof(lit), "%s", words[i]);
		else
			snprintf(lit, sizeof(lit), "%s%s%s",
			    words[t_below(48)], t_below(2) ? " " : ": ",
			    words[t_below(48)]);
		litscan_add(ls, lit, strlen(lit), t_below(4) == 0,
		    (uint32_t)i);
	}
	litscan_build(ls);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < nlines; i++) {
		const char *l = lines[i % 4];
		size_t n = strlen(l);

		memset(cand, 0, sizeof(cand));
		litscan_scan(ls, l, n, cand);
		sink += cand[0] ^ cand[4];
		bytes += n;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	ns = ((double)(b.tv_sec - a.tv_sec) * 1e9 +
	    (double)(b.tv_nsec - a.tv_nsec)) / (double)nlines;
	print_message("litscan: 300 literals, %zu states, %zu bytes; %.0f "
	    "ns/line (%.0f-byte lines, %.2f ns/byte) [%llx]\n",
	    litscan_states(ls), litscan_memory(ls),
	    ns, (double)bytes / (double)nlines, ns * (double)nlines /
	    (double)bytes, (unsigned long long)(sink & 0xf));
	assert_true(ns < 50000);
	litscan_free(ls);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literal_table),
		cmocka_unit_test(test_literal_options_and_sizes),
		cmocka_unit_test(test_literal_any),
		cmocka_unit_test(test_literal_pcre2_ascii_folds),
		cmocka_unit_test(test_litscan_basic),
		cmocka_unit_test(test_litscan_caseless_folds),
		cmocka_unit_test(test_litscan_always_and_windows),
		cmocka_unit_test(test_litscan_state_cap),
		cmocka_unit_test(test_litscan_random),
		cmocka_unit_test(test_literal_random),
		cmocka_unit_test(test_literal_soup),
		cmocka_unit_test(test_litscan_speed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
