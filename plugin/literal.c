/*
 * literal.c: required-literal extraction from PCRE2 patterns, and a
 * one-pass multi-literal scanner. See literal.h for the contract.
 */
#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include "literal.h"

#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

/*
 * Extraction.
 *
 * A recursive-descent reader of PCRE2 syntax that, instead of a tree,
 * computes for each piece of the pattern what every match of it looks
 * like (the approach of RE2's prefilter, kept small):
 *
 *   exact  every match is exactly `pre` (then suf == pre);
 *   pre    every match starts with it;  suf  every match ends with it;
 *   one    every match contains it (the best such string seen);
 *   any    every match contains at least one of these (alternation).
 *
 * Concatenation joins a's suffix to b's prefix (a required string may
 * straddle the two), alternation keeps the common prefix and suffix and
 * the union of the branches' sets, and a quantifier with a minimum of 0
 * forgets everything. Zero-width items (anchors, \b, lookarounds) add
 * nothing and join nothing: the characters around them are still
 * consumed next to each other.
 *
 * Strings carry a caseless flag: the OR of their characters'. Comparing a
 * case-sensitive character caselessly only adds false positives, so
 * mixing is safe. Under (?i) a non-ASCII character is opaque (Unicode
 * folding is not ours to copy), and so is anything we do not parse
 * exactly as PCRE2 does: lit_fail() gives up on the whole pattern.
 */

#define LIT_CAP LITERAL_MAX
#define LIT_MAX_DEPTH 16   /* group nesting; deeper patterns give up */
#define LIT_INF UINT32_MAX

struct lit_str {
	unsigned char b[LIT_CAP];
	size_t len;
	bool cl;
};

struct lit_set {
	struct lit_str s[LITERAL_MAX_ALTS];
	size_t n;                  /* 0: nothing known */
};

struct lit_info {
	bool exact;
	struct lit_str pre, suf, one;
	struct lit_set any;
};

struct lit_parser {
	const unsigned char *p, *end;
	int depth;
	bool fail;
};

enum lit_item { LIT_ATOM, LIT_NONE };

static int
lit_fold(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static bool
lit_isalpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
lit_isdigit(int c)
{
	return c >= '0' && c <= '9';
}

static bool
lit_isalnum(int c)
{
	return lit_isalpha(c) || lit_isdigit(c);
}

static void
lit_fail(struct lit_parser *ps)
{
	ps->fail = true;
}

/* Spaces are everywhere in log lines: a literal made of them says less. */
static long
lit_str_score(const struct lit_str *s)
{
	long sc = 0;
	size_t i;

	for (i = 0; i < s->len; i++)
		sc += s->b[i] == ' ' ? 1 : 2;
	return sc;
}

/* A set is as good as its weakest member, and a little worse per member. */
static long
lit_set_score(const struct lit_set *set)
{
	long sc, min = 0;
	size_t i;

	for (i = 0; i < set->n; i++) {
		sc = lit_str_score(&set->s[i]);
		if (i == 0 || sc < min)
			min = sc;
	}
	return set->n == 0 ? 0 : min - (long)(set->n - 1);
}

/* d = a ++ b, cut to LIT_CAP keeping the start or the end (any piece of a
 * required string is required). d may alias a or b. */
static void
lit_str_cat(struct lit_str *d, const struct lit_str *a, const struct lit_str *b,
    bool keep_end)
{
	unsigned char tmp[2 * LIT_CAP];
	size_t n = a->len + b->len, off = 0;
	bool cl = (a->len > 0 && a->cl) || (b->len > 0 && b->cl);

	memcpy(tmp, a->b, a->len);
	memcpy(tmp + a->len, b->b, b->len);
	if (n > LIT_CAP) {
		if (keep_end)
			off = n - LIT_CAP;
		n = LIT_CAP;
	}
	memcpy(d->b, tmp + off, n);
	d->len = n;
	d->cl = n > 0 && cl;
}

static bool
lit_str_equal(const struct lit_str *a, const struct lit_str *b)
{
	return a->len == b->len && a->cl == b->cl &&
	    memcmp(a->b, b->b, a->len) == 0;
}

/* Same character, as far as a match is concerned. */
static bool
lit_byte_eq(int x, int y, bool cl)
{
	return x == y || (cl && lit_fold(x) == lit_fold(y));
}

static void
lit_str_common_prefix(struct lit_str *d, const struct lit_str *a,
    const struct lit_str *b)
{
	bool cl = a->cl || b->cl;
	size_t n = 0;

	while (n < a->len && n < b->len && lit_byte_eq(a->b[n], b->b[n], cl))
		n++;
	memmove(d->b, a->b, n);
	d->len = n;
	d->cl = n > 0 && cl;
}

static void
lit_str_common_suffix(struct lit_str *d, const struct lit_str *a,
    const struct lit_str *b)
{
	bool cl = a->cl || b->cl;
	size_t n = 0;

	while (n < a->len && n < b->len &&
	    lit_byte_eq(a->b[a->len - 1 - n], b->b[b->len - 1 - n], cl))
		n++;
	memmove(d->b, a->b + a->len - n, n);
	d->len = n;
	d->cl = n > 0 && cl;
}

static void
lit_info_exact(struct lit_info *i, const unsigned char *s, size_t n, bool cl)
{
	memset(i, 0, sizeof(*i));
	i->exact = true;
	if (n > 0)
		memcpy(i->pre.b, s, n);
	i->pre.len = n;
	i->pre.cl = n > 0 && cl;
	i->suf = i->one = i->pre;
	if (n > 0) {
		i->any.s[0] = i->pre;
		i->any.n = 1;
	}
}

/* Matches something we know nothing about (possibly nothing at all). */
static void
lit_info_unknown(struct lit_info *i)
{
	memset(i, 0, sizeof(*i));
}

/* Keep the invariants: one is the best of pre/suf/one, any no worse. */
static void
lit_info_offer(struct lit_info *i, const struct lit_str *s)
{
	if (lit_str_score(s) > lit_str_score(&i->one))
		i->one = *s;
}

static void
lit_info_settle(struct lit_info *i)
{
	lit_info_offer(i, &i->pre);
	lit_info_offer(i, &i->suf);
	if (i->one.len > 0 && lit_str_score(&i->one) > lit_set_score(&i->any)) {
		i->any.s[0] = i->one;
		i->any.n = 1;
	}
}

/* a = a followed by b. */
static void
lit_info_cat(struct lit_info *a, const struct lit_info *b)
{
	struct lit_str j, x;

	lit_str_cat(&j, &a->suf, &b->pre, false);
	if (a->exact && b->exact) {
		lit_str_cat(&x, &a->pre, &b->pre, false);
		if (a->pre.len + b->pre.len <= LIT_CAP) {
			a->pre = a->suf = x;
		} else {
			a->exact = false;
			a->pre = x;
			lit_str_cat(&a->suf, &a->suf, &b->suf, true);
		}
	} else {
		if (a->exact)
			lit_str_cat(&a->pre, &a->pre, &b->pre, false);
		if (b->exact)
			lit_str_cat(&a->suf, &a->suf, &b->suf, true);
		else
			a->suf = b->suf;
		a->exact = false;
	}
	lit_info_offer(a, &b->one);
	lit_info_offer(a, &j);
	if (lit_set_score(&b->any) > lit_set_score(&a->any))
		a->any = b->any;
	lit_info_settle(a);
}

/* a = a | b. */
static void
lit_info_alt(struct lit_info *a, const struct lit_info *b)
{
	struct lit_set u;
	size_t i, k;

	if (a->exact && b->exact && lit_str_equal(&a->pre, &b->pre))
		return;
	a->exact = false;
	lit_str_common_prefix(&a->pre, &a->pre, &b->pre);
	lit_str_common_suffix(&a->suf, &a->suf, &b->suf);
	/* Each branch contains one of its own set: the union covers both. */
	u.n = 0;
	if (a->any.n > 0 && b->any.n > 0 &&
	    a->any.n + b->any.n <= LITERAL_MAX_ALTS) {
		u = a->any;
		for (i = 0; i < b->any.n; i++) {
			for (k = 0; k < u.n; k++)
				if (lit_str_equal(&u.s[k], &b->any.s[i]))
					break;
			if (k == u.n)
				u.s[u.n++] = b->any.s[i];
		}
	}
	a->any = u;
	memset(&a->one, 0, sizeof(a->one));
	lit_info_settle(a);
}

/* The item matched min..max times (max LIT_INF: unbounded). */
static void
lit_info_repeat(struct lit_info *i, uint32_t min, uint32_t max)
{
	struct lit_str x, p, s, j;
	uint32_t k;

	if (min == 0 || min > max) {
		lit_info_unknown(i);
		return;
	}
	if (min == 1 && max == 1)
		return;
	if (i->exact) {
		/* x^min starts and ends every match; with min == max it is
		 * the match. Past LIT_CAP more copies change nothing. */
		x = i->pre;
		p = s = x;
		for (k = 1; k < min && k <= LIT_CAP; k++) {
			lit_str_cat(&p, &p, &x, false);
			lit_str_cat(&s, &s, &x, true);
		}
		i->exact = min == max && (size_t)min * x.len <= LIT_CAP;
		i->pre = p;
		i->suf = s;
	} else if (min >= 2) {
		/* Two copies back to back: the end of one meets the start
		 * of the next. */
		lit_str_cat(&j, &i->suf, &i->pre, false);
		lit_info_offer(i, &j);
	}
	lit_info_settle(i);
}

static bool
lit_utf8_encode(uint32_t cp, unsigned char *o, size_t *n)
{
	if (cp >= 0xd800 && cp <= 0xdfff)
		return false;
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		*n = 1;
	} else if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | cp >> 6);
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		*n = 2;
	} else if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | cp >> 12);
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		*n = 3;
	} else if (cp <= 0x10ffff) {
		o[0] = (unsigned char)(0xf0 | cp >> 18);
		o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		o[3] = (unsigned char)(0x80 | (cp & 0x3f));
		*n = 4;
	} else
		return false;
	return true;
}

/* One character (UTF-8 bytes) as an item. Under (?i) only ASCII is
 * ours to fold; anything else becomes unknown. */
static void
lit_char(struct lit_info *i, const unsigned char *s, size_t n, bool cl)
{
	if (cl && s[0] >= 0x80)
		lit_info_unknown(i);
	else
		lit_info_exact(i, s, n, cl && lit_isalpha(s[0]));
}

static void
lit_codepoint(struct lit_parser *ps, struct lit_info *i, uint32_t cp, bool cl)
{
	unsigned char u[4];
	size_t n;

	if (!lit_utf8_encode(cp, u, &n)) {
		lit_fail(ps);
		return;
	}
	lit_char(i, u, n, cl);
}

/* A raw (UTF-8) character of the pattern at ps->p. */
static void
lit_raw_char(struct lit_parser *ps, struct lit_info *i, bool cl)
{
	size_t n = utf8_seqlen(ps->p, (size_t)(ps->end - ps->p));

	if (n == 0) {
		lit_fail(ps);
		return;
	}
	lit_char(i, ps->p, n, cl);
	ps->p += n;
}

/* Hex or octal digits up to `close` (or at most maxd digits when close
 * is 0). Returns false if malformed; PCRE2 reads some of those forms
 * differently across versions, so we do not guess. */
static bool
lit_number(struct lit_parser *ps, int base, int close, int maxd, uint32_t *out)
{
	uint32_t v = 0;
	int d, nd = 0;

	while (ps->p < ps->end && (close != 0 || nd < maxd)) {
		d = hex_digit(*ps->p);
		if (d < 0 || d >= base)
			break;
		if (v > 0x10ffff)
			return false;
		v = v * (uint32_t)base + (uint32_t)d;
		nd++;
		ps->p++;
	}
	if (nd == 0)
		return false;
	if (close != 0) {
		if (ps->p >= ps->end || *ps->p != close)
			return false;
		ps->p++;
	}
	*out = v;
	return true;
}

/*
 * An escape outside a class; ps->p is past the backslash. \Q..\E is
 * handled by the caller (it is many items).
 */
static enum lit_item
lit_escape(struct lit_parser *ps, struct lit_info *i, bool cl)
{
	static const char opaque[] = "dDwWsShHvVRXC";
	static const char zerow[] = "bBAzZGKE";
	uint32_t cp;
	int c;

	if (ps->p >= ps->end) {
		lit_fail(ps);
		return LIT_NONE;
	}
	c = *ps->p;
	if (c >= 0x80) {
		lit_raw_char(ps, i, cl);
		return LIT_ATOM;
	}
	ps->p++;
	if (!lit_isalnum(c)) {
		cp = (uint32_t)c;
		goto lit;
	}
	if (strchr(zerow, c) != NULL)
		return LIT_NONE;
	if (strchr(opaque, c) != NULL) {
		lit_info_unknown(i);
		return LIT_ATOM;
	}
	switch (c) {
	case 'a': cp = 7; goto lit;
	case 'e': cp = 0x1b; goto lit;
	case 'f': cp = '\f'; goto lit;
	case 'n': cp = '\n'; goto lit;
	case 'r': cp = '\r'; goto lit;
	case 't': cp = '\t'; goto lit;
	case '0':
		/* \0 and up to two more octal digits. */
		cp = 0;
		if (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '7' &&
		    !lit_number(ps, 8, 0, 2, &cp))
			break;
		goto lit;
	case 'o':
		if (ps->p < ps->end && *ps->p == '{') {
			ps->p++;
			if (lit_number(ps, 8, '}', 0, &cp))
				goto lit;
		}
		break;
	case 'x':
		if (ps->p < ps->end && *ps->p == '{') {
			ps->p++;
			if (lit_number(ps, 16, '}', 0, &cp))
				goto lit;
		} else if (lit_number(ps, 16, 0, 2, &cp))
			goto lit;
		break;
	case 'c':
		if (ps->p < ps->end && *ps->p >= 0x20 && *ps->p < 0x7f) {
			c = *ps->p++;
			if (c >= 'a' && c <= 'z')
				c -= 'a' - 'A';
			cp = (uint32_t)(c ^ 0x40);
			goto lit;
		}
		break;
	case 'N':
		/* \N{U+hh..} is a character; plain \N is "not a newline"
		 * (and may be followed by a {n} quantifier). */
		if (ps->end - ps->p >= 3 && memcmp(ps->p, "{U+", 3) == 0) {
			ps->p += 3;
			if (lit_number(ps, 16, '}', 0, &cp))
				goto lit;
			break;
		}
		lit_info_unknown(i);
		return LIT_ATOM;
	case 'p':
	case 'P':
		if (ps->p < ps->end && *ps->p == '{') {
			while (ps->p < ps->end && *ps->p != '}')
				ps->p++;
			if (ps->p == ps->end)
				break;
		} else if (ps->p == ps->end)
			break;
		ps->p++;
		lit_info_unknown(i);
		return LIT_ATOM;
	default:
		/* Backreferences, \g, \k, octal \ddd (whose reading depends
		 * on the number of groups) and unknown escapes. */
		break;
	}
	lit_fail(ps);
	return LIT_NONE;
lit:
	lit_codepoint(ps, i, cp, cl);
	return LIT_ATOM;
}

/*
 * A character class; ps->p is past the '['. Only finding its end exactly
 * matters (so the rest of the pattern is read right); a class of one
 * character, or of one ASCII letter in both cases ([kK]), is that
 * character, anything else is unknown.
 */
static void
lit_class(struct lit_parser *ps, struct lit_info *info, bool cl)
{
	unsigned char set[128];
	const unsigned char *q;
	bool complex = false, first = true;
	size_t nset = 0, k;
	int c, d;

	memset(set, 0, sizeof(set));
	/* As PCRE2 (and Perl) do: \E and \Q\E before or after the '^' are
	 * skipped, and a ']' right after all that is a character. */
	for (;;) {
		if (ps->end - ps->p >= 2 && ps->p[0] == '\\' &&
		    ps->p[1] == 'E')
			ps->p += 2;
		else if (ps->end - ps->p >= 4 &&
		    memcmp(ps->p, "\\Q\\E", 4) == 0)
			ps->p += 4;
		else if (!complex && ps->p < ps->end && *ps->p == '^') {
			complex = true;
			ps->p++;
		} else
			break;
	}
	for (;;) {
		if (ps->p >= ps->end) {
			lit_fail(ps);
			return;
		}
		c = *ps->p;
		if (c == ']' && !first) {
			ps->p++;
			break;
		}
		first = false;
		if (c == '\\') {
			if (ps->end - ps->p < 2) {
				lit_fail(ps);
				return;
			}
			d = ps->p[1];
			ps->p += 2;
			if (d == 'Q') {
				while (ps->p < ps->end && !(ps->p[0] == '\\' &&
				    ps->end - ps->p >= 2 && ps->p[1] == 'E')) {
					if (*ps->p >= 0x80)
						complex = true;
					else
						set[*ps->p] = 1;
					ps->p++;
				}
				if (ps->p < ps->end)
					ps->p += 2;
			} else if (d == 'E') {
				/* nothing */
			} else if (d == 'c') {
				/* \c] is a control character, not the end. */
				if (ps->p >= ps->end) {
					lit_fail(ps);
					return;
				}
				ps->p++;
				complex = true;
			} else if (d < 0x80 && !lit_isalnum(d))
				set[d] = 1;
			else
				/* \d, \x41, \x{..}, \p{..}, \b, non-ASCII:
				 * what follows holds no ']' of ours. */
				complex = true;
			continue;
		}
		if (c == '[' && ps->end - ps->p >= 2 &&
		    (ps->p[1] == ':' || ps->p[1] == '.' || ps->p[1] == '=')) {
			/* Only a well-formed [:name:]; PCRE2's rules for
			 * anything else are subtle. */
			d = ps->p[1];
			q = ps->p + 2;
			while (q < ps->end && *q >= 'a' && *q <= 'z')
				q++;
			if (q == ps->p + 2 || ps->end - q < 2 || q[0] != d ||
			    q[1] != ']') {
				lit_fail(ps);
				return;
			}
			ps->p = q + 2;
			complex = true;
			continue;
		}
		if (c >= 0x80) {
			k = utf8_seqlen(ps->p, (size_t)(ps->end - ps->p));
			if (k == 0) {
				lit_fail(ps);
				return;
			}
			ps->p += k;
			complex = true;
			continue;
		}
		if (c == '-')
			complex = true;
		else
			set[c] = 1;
		ps->p++;
	}
	if (!complex)
		for (k = 0; k < sizeof(set); k++)
			nset += set[k];
	if (!complex && nset == 1) {
		for (k = 0; !set[k]; k++)
			;
		set[0] = (unsigned char)k;
		lit_info_exact(info, set, 1, cl && lit_isalpha(set[0]));
	} else if (!complex && nset == 2) {
		for (k = 'a'; k <= 'z'; k++)
			if (set[k] && set[k - ('a' - 'A')])
				break;
		if (k <= 'z') {
			set[0] = (unsigned char)k;
			lit_info_exact(info, set, 1, true);
		} else
			lit_info_unknown(info);
	} else
		lit_info_unknown(info);
}

static void lit_alt(struct lit_parser *, bool *, struct lit_info *);

/*
 * Inline options: (?i) (?-i) (?^) (?i:...). Returns true with *cl set on
 * a well-formed list; x (extended: whitespace and # change meaning) and
 * letters we do not know give up.
 */
static bool
lit_options(struct lit_parser *ps, bool *cl)
{
	bool on = true, dash = false, v = *cl;
	int c;

	if (ps->p < ps->end && *ps->p == '^') {
		v = false;
		ps->p++;
	}
	for (; ps->p < ps->end; ps->p++) {
		c = *ps->p;
		if (c == ')' || c == ':') {
			*cl = v;
			return true;
		}
		if (c == '-' && !dash) {
			dash = true;
			on = false;
		} else if (c == 'i')
			v = on;
		else if (c != 'm' && c != 'n' && c != 's' && c != 'J' &&
		    c != 'U')
			return false;
	}
	return false;
}

static void
lit_skip_name(struct lit_parser *ps, int close)
{
	const unsigned char *start = ps->p;

	while (ps->p < ps->end && (lit_isalnum(*ps->p) || *ps->p == '_'))
		ps->p++;
	if (ps->p == start || ps->p >= ps->end || *ps->p != close)
		lit_fail(ps);
	else
		ps->p++;
}

/* A parenthesis; ps->p is past the '('. */
static enum lit_item
lit_group(struct lit_parser *ps, bool *cl, struct lit_info *i)
{
	bool local = *cl, zerowidth = false;
	int c;

	if (ps->p < ps->end && *ps->p == '*') {
		/* Verbs and (*pla:...)-style assertions. */
		lit_fail(ps);
		return LIT_NONE;
	}
	if (ps->p < ps->end && *ps->p == '?') {
		ps->p++;
		c = ps->p < ps->end ? *ps->p : 0;
		switch (c) {
		case ':':
		case '>':
		case '|':
			ps->p++;
			break;
		case '=':
		case '!':
			ps->p++;
			zerowidth = true;
			break;
		case '<':
			ps->p++;
			if (ps->p < ps->end &&
			    (*ps->p == '=' || *ps->p == '!')) {
				ps->p++;
				zerowidth = true;
			} else
				lit_skip_name(ps, '>');
			break;
		case '\'':
			ps->p++;
			lit_skip_name(ps, '\'');
			break;
		case 'P':
			ps->p++;
			if (ps->p < ps->end && *ps->p == '<') {
				ps->p++;
				lit_skip_name(ps, '>');
			} else
				lit_fail(ps);
			break;
		case '#':
			while (ps->p < ps->end && *ps->p != ')')
				ps->p++;
			if (ps->p == ps->end)
				lit_fail(ps);
			else
				ps->p++;
			return LIT_NONE;
		default:
			if (!lit_options(ps, &local)) {
				lit_fail(ps);
				return LIT_NONE;
			}
			if (*ps->p++ == ')') {
				/* To the end of the enclosing group,
				 * later branches included. */
				*cl = local;
				return LIT_NONE;
			}
			break;
		}
		if (ps->fail)
			return LIT_NONE;
	}
	if (++ps->depth > LIT_MAX_DEPTH) {
		lit_fail(ps);
		return LIT_NONE;
	}
	lit_alt(ps, &local, i);
	ps->depth--;
	if (ps->fail)
		return LIT_NONE;
	if (ps->p >= ps->end || *ps->p != ')') {
		lit_fail(ps);
		return LIT_NONE;
	}
	ps->p++;
	return zerowidth ? LIT_NONE : LIT_ATOM;
}

/* A quantifier at ps->p, if any: *, +, ?, {n}, {n,}, {n,m}, then an
 * optional lazy/possessive mark. Anything else starting with '{' gives
 * up: PCRE2 10.43 reads {,m} and spaces where 10.42 sees text. */
static bool
lit_quantifier(struct lit_parser *ps, uint32_t *min, uint32_t *max)
{
	uint32_t v;
	int c = *ps->p;

	if (c == '*' || c == '+' || c == '?') {
		*min = c == '+' ? 1 : 0;
		*max = c == '?' ? 1 : LIT_INF;
		ps->p++;
	} else if (c == '{') {
		ps->p++;
		if (!lit_number(ps, 10, 0, 5, &v))
			return false;
		*min = *max = v;
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			*max = LIT_INF;
			if (ps->p < ps->end && lit_isdigit(*ps->p)) {
				if (!lit_number(ps, 10, 0, 5, &v))
					return false;
				*max = v;
			}
		}
		if (ps->p >= ps->end || *ps->p != '}')
			return false;
		ps->p++;
	} else
		return false;
	if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '?'))
		ps->p++;
	return true;
}

/* One branch: items up to '|', ')' or the end. */
static void
lit_seq(struct lit_parser *ps, bool *cl, struct lit_info *out)
{
	struct lit_info atom;
	uint32_t min, max;
	bool have = false;
	int c;

	lit_info_exact(out, NULL, 0, false);
	while (!ps->fail && ps->p < ps->end && *ps->p != '|' &&
	    *ps->p != ')') {
		c = *ps->p;
		if (c == '*' || c == '+' || c == '?' || c == '{') {
			/* Only after an item we know is repeatable: after
			 * (?i), a comment, \E or an assertion PCRE2 may
			 * apply it elsewhere or refuse it. */
			if (!have || !lit_quantifier(ps, &min, &max)) {
				lit_fail(ps);
				return;
			}
			lit_info_repeat(&atom, min, max);
			lit_info_cat(out, &atom);
			have = false;
			continue;
		}
		if (have) {
			lit_info_cat(out, &atom);
			have = false;
		}
		if (c == '\\' && ps->end - ps->p >= 2 && ps->p[1] == 'Q') {
			/* Quoted characters, each an item; a quantifier
			 * right after \E gives up (see above). */
			ps->p += 2;
			while (!ps->fail && ps->p < ps->end &&
			    !(ps->p[0] == '\\' && ps->end - ps->p >= 2 &&
			    ps->p[1] == 'E')) {
				lit_raw_char(ps, &atom, *cl);
				if (!ps->fail)
					lit_info_cat(out, &atom);
			}
			if (ps->p < ps->end)
				ps->p += 2;
			continue;
		}
		ps->p++;
		switch (c) {
		case '\\':
			have = lit_escape(ps, &atom, *cl) == LIT_ATOM;
			break;
		case '(':
			have = lit_group(ps, cl, &atom) == LIT_ATOM;
			break;
		case '[':
			lit_class(ps, &atom, *cl);
			have = true;
			break;
		case '.':
			lit_info_unknown(&atom);
			have = true;
			break;
		case '^':
		case '$':
			break;
		default:
			ps->p--;
			lit_raw_char(ps, &atom, *cl);
			have = true;
			break;
		}
	}
	if (have && !ps->fail)
		lit_info_cat(out, &atom);
}

static void
lit_alt(struct lit_parser *ps, bool *cl, struct lit_info *out)
{
	struct lit_info br;
	bool first = true;

	for (;;) {
		lit_seq(ps, cl, first ? out : &br);
		if (ps->fail)
			return;
		if (!first)
			lit_info_alt(out, &br);
		first = false;
		if (ps->p < ps->end && *ps->p == '|') {
			ps->p++;
			continue;
		}
		return;
	}
}

/* Leading (*UTF), (*CRLF), (*LIMIT_MATCH=n)...: settings that change
 * nothing we read. Anything else there gives up. */
static bool
lit_skip_settings(struct lit_parser *ps)
{
	static const char *const names[] = { "UTF", "UCP", "CR", "LF",
	    "CRLF", "ANYCRLF", "ANY", "NUL", "BSR_ANYCRLF", "BSR_UNICODE",
	    "NO_AUTO_POSSESS", "NO_DOTSTAR_ANCHOR", "NO_JIT", "NO_START_OPT",
	    "NOTEMPTY", "NOTEMPTY_ATSTART", NULL };
	static const char *const limits[] = { "LIMIT_MATCH=", "LIMIT_DEPTH=",
	    "LIMIT_HEAP=", "LIMIT_RECURSION=", NULL };
	const unsigned char *q, *e;
	size_t n, k;

	while (ps->end - ps->p >= 2 && ps->p[0] == '(' && ps->p[1] == '*') {
		q = ps->p + 2;
		if ((e = memchr(q, ')', (size_t)(ps->end - q))) == NULL)
			return false;
		n = (size_t)(e - q);
		for (k = 0; names[k] != NULL; k++)
			if (strlen(names[k]) == n &&
			    memcmp(q, names[k], n) == 0)
				break;
		if (names[k] == NULL) {
			for (k = 0; limits[k] != NULL; k++)
				if (strlen(limits[k]) < n && memcmp(q,
				    limits[k], strlen(limits[k])) == 0)
					break;
			if (limits[k] == NULL)
				return false;
			for (q += strlen(limits[k]); q < e; q++)
				if (!lit_isdigit(*q))
					return false;
		}
		ps->p = e + 1;
	}
	return true;
}

/* Options that leave the syntax and what a match contains as we read
 * them. */
#define LIT_OK_OPTIONS (PCRE2_UTF | PCRE2_CASELESS | PCRE2_MULTILINE | \
    PCRE2_DOTALL | PCRE2_UNGREEDY | PCRE2_NO_AUTO_CAPTURE | \
    PCRE2_DOLLAR_ENDONLY | PCRE2_DUPNAMES | PCRE2_UCP | \
    PCRE2_NO_AUTO_POSSESS | PCRE2_NO_DOTSTAR_ANCHOR | \
    PCRE2_NO_START_OPTIMIZE | PCRE2_NO_UTF_CHECK | PCRE2_ANCHORED | \
    PCRE2_ENDANCHORED | PCRE2_FIRSTLINE | PCRE2_MATCH_INVALID_UTF | \
    PCRE2_NEVER_BACKSLASH_C | PCRE2_ALT_CIRCUMFLEX)

static bool
lit_extract(const char *pattern, uint32_t options, struct lit_info *info)
{
	struct lit_parser ps;
	bool cl = (options & PCRE2_CASELESS) != 0;

	if ((options & PCRE2_UTF) == 0 || (options & ~LIT_OK_OPTIONS) != 0)
		return false;
	memset(&ps, 0, sizeof(ps));
	ps.p = (const unsigned char *)pattern;
	ps.end = ps.p + strlen(pattern);
	if (!lit_skip_settings(&ps))
		return false;
	lit_alt(&ps, &cl, info);
	/* A stray ')' is an error PCRE2 reports; we just give up. */
	return !ps.fail && ps.p == ps.end;
}

bool
literal_required(const char *pattern, uint32_t pcre2_options,
    size_t min_len, char *out, size_t outsz, size_t *outlen, bool *caseless)
{
	struct lit_info info;
	size_t n;

	if (min_len == 0)
		min_len = 1;
	if (!lit_extract(pattern, pcre2_options, &info))
		return false;
	/* A prefix of a required string is required too. */
	n = info.one.len < outsz ? info.one.len : outsz;
	if (n < min_len)
		return false;
	memcpy(out, info.one.b, n);
	*outlen = n;
	*caseless = info.one.cl;
	return true;
}

size_t
literal_required_any(const char *pattern, uint32_t pcre2_options,
    size_t min_len, struct literal *out, size_t max)
{
	struct lit_info info;
	const struct lit_set *set;
	struct lit_set single;
	size_t i;

	if (min_len == 0)
		min_len = 1;
	if (max == 0 || !lit_extract(pattern, pcre2_options, &info))
		return 0;
	set = &info.any;
	for (i = 0; i < set->n; i++)
		if (set->s[i].len < min_len)
			break;
	if (set->n == 0 || set->n > max || i < set->n) {
		if (info.one.len < min_len)
			return 0;
		single.s[0] = info.one;
		single.n = 1;
		set = &single;
	}
	for (i = 0; i < set->n; i++) {
		memcpy(out[i].s, set->s[i].b, set->s[i].len);
		out[i].len = set->s[i].len;
		out[i].caseless = set->s[i].cl;
	}
	return set->n;
}

/*
 * Scanning: an Aho-Corasick automaton made a full DFA, over byte classes.
 *
 * Every literal goes in ASCII-folded and every input byte is folded by
 * the class table, so the automaton finds all literals caselessly; a
 * case-sensitive literal's hit is then checked with memcmp (hits are
 * rare, the check is one compare). Bytes that occur in no literal share
 * class 0, so the table has as many columns as distinct literal bytes
 * (~40-80 for log rules) and states are 16-bit: 300 literals of ~12
 * bytes make ~3000 states, ~250-500 KiB. Accepting states are numbered
 * last, so the loop is one column lookup, one table lookup and one
 * compare per byte.
 *
 * A caseless literal is added once per spelling of its k and s (the
 * ASCII letter, U+212A or U+017F in UTF-8), which is why their number
 * is capped.
 */

#define LITSCAN_NOVERIFY UINT32_MAX
#define LITSCAN_MAX_STATES 65536

struct litscan_lit {
	unsigned char *s;
	size_t len;
	bool caseless;
	uint32_t id;
};

struct litscan_out {
	uint32_t id;
	uint32_t lit;      /* index to memcmp against, or LITSCAN_NOVERIFY */
};

struct litscan {
	struct litscan_lit *lits;
	size_t nlits, alits;
	uint32_t maxid;
	bool built;

	size_t nwords;
	uint64_t *always;      /* ids reported on every line */
	bool has_always;

	uint8_t cls[256];
	size_t nclass;
	size_t nstates;
	/* Column-major: the next state is delta[col[byte] + state], so the
	 * chain from one byte's state to the next is an add and a load
	 * (col[] does not depend on the state). */
	uint32_t col[256];
	uint16_t *delta;       /* nclass * nstates */
	size_t first_acc;      /* states >= first_acc have outputs */
	uint32_t *outidx;      /* per accepting state: outs range */
	struct litscan_out *outs;
	size_t nouts;
};

struct litscan *
litscan_new(void)
{
	return xcalloc(1, sizeof(struct litscan));
}

void
litscan_free(struct litscan *ls)
{
	size_t i;

	if (ls == NULL)
		return;
	for (i = 0; i < ls->nlits; i++)
		free(ls->lits[i].s);
	free(ls->lits);
	free(ls->always);
	free(ls->delta);
	free(ls->outidx);
	free(ls->outs);
	free(ls);
}

static bool
litscan_isfold(int c)
{
	c = lit_fold(c);
	return c == 'k' || c == 's';
}

void
litscan_add(struct litscan *ls, const char *lit, size_t len, bool caseless,
    uint32_t id)
{
	const unsigned char *p = (const unsigned char *)lit;
	struct litscan_lit *l;
	size_t start = 0, best = 0, bestlen = 0, i, folds = 0;

	if (ls->built)
		fatalx("litscan_add after litscan_build");
	/* The best window: longest with at most LITSCAN_MAX_FOLDS k/s
	 * (caseless) and LITSCAN_MAX_LEN bytes. */
	for (i = 0; i < len; i++) {
		if (caseless && litscan_isfold(p[i]))
			folds++;
		while (folds > LITSCAN_MAX_FOLDS ||
		    i + 1 - start > LITSCAN_MAX_LEN) {
			if (caseless && litscan_isfold(p[start]))
				folds--;
			start++;
		}
		if (i + 1 - start > bestlen) {
			best = start;
			bestlen = i + 1 - start;
		}
	}
	if (ls->nlits == ls->alits) {
		ls->alits = ls->alits ? ls->alits * 2 : 16;
		ls->lits = xrealloc(ls->lits, ls->alits * sizeof(*ls->lits));
	}
	l = &ls->lits[ls->nlits++];
	l->s = xmalloc(bestlen + 1);
	memcpy(l->s, p + best, bestlen);
	l->len = bestlen;
	l->caseless = caseless;
	l->id = id;
	if (id > ls->maxid)
		ls->maxid = id;
}

size_t
litscan_words(const struct litscan *ls)
{
	return ls->nwords;
}

size_t
litscan_states(const struct litscan *ls)
{
	return ls->nstates;
}

size_t
litscan_memory(const struct litscan *ls)
{
	size_t n = sizeof(*ls), i;

	n += ls->alits * sizeof(*ls->lits);
	for (i = 0; i < ls->nlits; i++)
		n += ls->lits[i].len + 1;
	n += ls->nwords * sizeof(uint64_t);
	n += ls->nstates * ls->nclass * sizeof(uint16_t);
	n += (ls->nstates - ls->first_acc + 1) * sizeof(uint32_t);
	n += ls->nouts * sizeof(struct litscan_out);
	return n;
}

/* Build-time trie and outputs, before accepting states are renumbered. */
struct litscan_tmp {
	uint32_t *fail;
	uint32_t *own;         /* per state: head of its own outputs list */
	uint32_t *next;        /* per own-output entry */
	struct litscan_out *own_out;
	size_t nown, aown;
	uint32_t *outstart, *outlen;   /* per state, into flat */
	struct litscan_out *flat;
	size_t nflat, aflat;
};

/* Spell out a caseless literal's k/s variants (v is a bit mask over
 * its k/s positions) into buf; returns the length. */
static size_t
litscan_variant(const struct litscan_lit *l, unsigned v, unsigned char *buf)
{
	size_t i, n = 0;
	unsigned bit = 0;
	int c;

	for (i = 0; i < l->len; i++) {
		c = lit_fold(l->s[i]);
		if (l->caseless && (c == 'k' || c == 's')) {
			if (v & (1u << bit++)) {
				if (c == 'k') {
					memcpy(buf + n, "\xe2\x84\xaa", 3);
					n += 3;
				} else {
					memcpy(buf + n, "\xc5\xbf", 2);
					n += 2;
				}
				continue;
			}
		}
		buf[n++] = (unsigned char)c;
	}
	return n;
}

static unsigned
litscan_nvariants(const struct litscan_lit *l)
{
	unsigned n = 0;
	size_t i;

	if (!l->caseless)
		return 1;
	for (i = 0; i < l->len; i++)
		n += litscan_isfold(l->s[i]);
	return 1u << n;
}

static void
litscan_set_always(struct litscan *ls, uint32_t id)
{
	ls->always[id / 64] |= (uint64_t)1 << (id % 64);
	ls->has_always = true;
}

static void
litscan_out_add(struct litscan_tmp *t, struct litscan_out o, size_t *n)
{
	size_t i, base = t->nflat - *n;

	for (i = base; i < t->nflat; i++)
		if (t->flat[i].id == o.id && (t->flat[i].lit == o.lit ||
		    t->flat[i].lit == LITSCAN_NOVERIFY))
			return;
	if (t->nflat == t->aflat) {
		t->aflat = t->aflat ? t->aflat * 2 : 64;
		t->flat = xrealloc(t->flat, t->aflat * sizeof(*t->flat));
	}
	t->flat[t->nflat++] = o;
	(*n)++;
}

static void
litscan_tmp_free(struct litscan_tmp *t)
{
	free(t->fail);
	free(t->own);
	free(t->next);
	free(t->own_out);
	free(t->outstart);
	free(t->outlen);
	free(t->flat);
}

void
litscan_build(struct litscan *ls)
{
	unsigned char buf[LITSCAN_MAX_LEN * 3];
	bool used[256];
	struct litscan_tmp t;
	struct litscan_out o;
	uint32_t *queue = NULL, *perm = NULL, *inv = NULL;
	uint16_t *nd = NULL;
	size_t bound, i, k, n, depth, need, qh, qt, c, nacc, nout;
	uint32_t s, u, f;
	unsigned v, nv;

	if (ls->built)
		fatalx("litscan_build called twice");
	ls->built = true;
	memset(&t, 0, sizeof(t));
	ls->nwords = ls->nlits ? ls->maxid / 64 + 1 : 0;
	ls->always = xcalloc(ls->nwords ? ls->nwords : 1, sizeof(uint64_t));

	/* Byte classes: class 0 for bytes no literal has, A-Z as a-z. */
	memset(used, 0, sizeof(used));
	bound = 1;
	for (i = 0; i < ls->nlits; i++) {
		nv = litscan_nvariants(&ls->lits[i]);
		for (v = 0; v < nv; v++) {
			n = litscan_variant(&ls->lits[i], v, buf);
			for (k = 0; k < n; k++)
				used[buf[k]] = true;
			bound += n;
		}
	}
	ls->nclass = 1;
	for (c = 0; c < 256; c++)
		if (used[c])
			ls->cls[c] = (uint8_t)ls->nclass++;
	for (c = 'A'; c <= 'Z'; c++)
		ls->cls[c] = ls->cls[c + ('a' - 'A')];
	if (bound > LITSCAN_MAX_STATES)
		bound = LITSCAN_MAX_STATES;

	/* The trie, in the DFA table itself: 0 is "no child" (the root is
	 * nobody's child). */
	ls->delta = xcalloc(bound * ls->nclass, sizeof(uint16_t));
	t.own = xmalloc(bound * sizeof(uint32_t));
	memset(t.own, 0xff, bound * sizeof(uint32_t));
	ls->nstates = 1;
	for (i = 0; i < ls->nlits; i++) {
		const struct litscan_lit *l = &ls->lits[i];

		if (l->len == 0) {
			litscan_set_always(ls, l->id);
			continue;
		}
		/* All spellings fit, or the literal is reported always:
		 * a half-added literal would miss lines. */
		nv = litscan_nvariants(l);
		need = 0;
		for (v = 0; v < nv; v++) {
			n = litscan_variant(l, v, buf);
			for (s = 0, depth = 0; depth < n; depth++) {
				u = ls->delta[s * ls->nclass +
				    ls->cls[buf[depth]]];
				if (u == 0)
					break;
				s = u;
			}
			need += n - depth;
		}
		if (ls->nstates + need > bound) {
			litscan_set_always(ls, l->id);
			continue;
		}
		for (v = 0; v < nv; v++) {
			n = litscan_variant(l, v, buf);
			for (s = 0, depth = 0; depth < n; depth++) {
				uint16_t *cell = &ls->delta[s * ls->nclass +
				    ls->cls[buf[depth]]];

				if (*cell == 0)
					*cell = (uint16_t)ls->nstates++;
				s = *cell;
			}
			if (t.nown == t.aown) {
				t.aown = t.aown ? t.aown * 2 : 64;
				t.own_out = xrealloc(t.own_out,
				    t.aown * sizeof(*t.own_out));
				t.next = xrealloc(t.next,
				    t.aown * sizeof(*t.next));
			}
			t.own_out[t.nown].id = l->id;
			t.own_out[t.nown].lit = l->caseless ?
			    LITSCAN_NOVERIFY : (uint32_t)i;
			t.next[t.nown] = t.own[s];
			t.own[s] = (uint32_t)t.nown++;
		}
	}

	/* Breadth first: failure links, outputs (own, then the failure
	 * state's, computed earlier since it is shallower), and the missing
	 * transitions borrowed from the failure state. */
	t.fail = xcalloc(ls->nstates, sizeof(uint32_t));
	t.outstart = xcalloc(ls->nstates, sizeof(uint32_t));
	t.outlen = xcalloc(ls->nstates, sizeof(uint32_t));
	queue = xmalloc(ls->nstates * sizeof(uint32_t));
	qh = qt = 0;
	queue[qt++] = 0;
	while (qh < qt) {
		s = queue[qh++];
		f = t.fail[s];
		t.outstart[s] = (uint32_t)t.nflat;
		nout = 0;
		for (u = t.own[s]; u != UINT32_MAX; u = t.next[u])
			litscan_out_add(&t, t.own_out[u], &nout);
		if (s != 0)
			for (k = 0; k < t.outlen[f]; k++) {
				o = t.flat[t.outstart[f] + k];
				litscan_out_add(&t, o, &nout);
			}
		t.outlen[s] = (uint32_t)nout;
		for (c = 0; c < ls->nclass; c++) {
			uint16_t *cell = &ls->delta[s * ls->nclass + c];

			if (*cell != 0) {
				t.fail[*cell] = s == 0 ? 0 :
				    ls->delta[f * ls->nclass + c];
				queue[qt++] = *cell;
			} else if (s != 0)
				*cell = ls->delta[f * ls->nclass + c];
		}
	}

	/* Renumber: accepting states last (the root has no outputs), each
	 * part in breadth-first order, so the shallow states a scan spends
	 * most of its time in sit together in each column. */
	perm = xmalloc(ls->nstates * sizeof(uint32_t));
	inv = xmalloc(ls->nstates * sizeof(uint32_t));
	for (k = 0, n = 0; k < qt; k++)
		if (t.outlen[queue[k]] == 0)
			perm[queue[k]] = (uint32_t)n++;
	ls->first_acc = n;
	for (k = 0; k < qt; k++)
		if (t.outlen[queue[k]] != 0)
			perm[queue[k]] = (uint32_t)n++;
	for (s = 0; s < ls->nstates; s++)
		inv[perm[s]] = s;
	nd = xmalloc(ls->nstates * ls->nclass * sizeof(uint16_t));
	for (s = 0; s < ls->nstates; s++)
		for (c = 0; c < ls->nclass; c++)
			nd[c * ls->nstates + perm[s]] = (uint16_t)
			    perm[ls->delta[s * ls->nclass + c]];
	free(ls->delta);
	ls->delta = nd;
	for (c = 0; c < 256; c++)
		ls->col[c] = (uint32_t)(ls->cls[c] * ls->nstates);
	nacc = ls->nstates - ls->first_acc;
	ls->outidx = xmalloc((nacc + 1) * sizeof(uint32_t));
	ls->outs = xmalloc((t.nflat ? t.nflat : 1) * sizeof(*ls->outs));
	ls->nouts = 0;
	for (k = 0; k < nacc; k++) {
		s = inv[ls->first_acc + k];
		ls->outidx[k] = (uint32_t)ls->nouts;
		memcpy(ls->outs + ls->nouts, t.flat + t.outstart[s],
		    t.outlen[s] * sizeof(*ls->outs));
		ls->nouts += t.outlen[s];
	}
	ls->outidx[nacc] = (uint32_t)ls->nouts;

	free(queue);
	free(perm);
	free(inv);
	litscan_tmp_free(&t);
}

/* An accepting state at byte i: report its literals, checking the case
 * of case-sensitive ones. Out of line, so that the scan loop keeps its
 * state in registers. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void
litscan_hit(const struct litscan *ls, size_t st, const unsigned char *p,
    size_t i, uint64_t *cand)
{
	const struct litscan_out *o, *e;
	const struct litscan_lit *l;

	o = ls->outs + ls->outidx[st - ls->first_acc];
	e = ls->outs + ls->outidx[st - ls->first_acc + 1];
	for (; o < e; o++) {
		if (o->lit != LITSCAN_NOVERIFY) {
			l = &ls->lits[o->lit];
			if (memcmp(p + i + 1 - l->len, l->s, l->len) != 0)
				continue;
		}
		cand[o->id / 64] |= (uint64_t)1 << (o->id % 64);
	}
}

void
litscan_scan(const struct litscan *ls, const char *s, size_t len,
    uint64_t *cand)
{
	const unsigned char *p = (const unsigned char *)s;
	const uint16_t *delta = ls->delta;
	const uint32_t *col = ls->col;
	size_t acc = ls->first_acc, st = 0, i;

	if (!ls->built)
		fatalx("litscan_scan before litscan_build");
	if (ls->has_always)
		for (i = 0; i < ls->nwords; i++)
			cand[i] |= ls->always[i];
	if (ls->nstates <= 1)
		return;
	/* Four bytes a round: the loop's own count and test are a good
	 * part of a DFA step. */
	for (i = 0; len - i >= 4; i += 4) {
		st = delta[col[p[i]] + st];
		if (st >= acc)
			litscan_hit(ls, st, p, i, cand);
		st = delta[col[p[i + 1]] + st];
		if (st >= acc)
			litscan_hit(ls, st, p, i + 1, cand);
		st = delta[col[p[i + 2]] + st];
		if (st >= acc)
			litscan_hit(ls, st, p, i + 2, cand);
		st = delta[col[p[i + 3]] + st];
		if (st >= acc)
			litscan_hit(ls, st, p, i + 3, cand);
	}
	for (; i < len; i++) {
		st = delta[col[p[i]] + st];
		if (st >= acc)
			litscan_hit(ls, st, p, i, cand);
	}
}
