#include "prefilter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#ifdef OMK_HAVE_HS
#include <hs.h>
#endif

#include "literal.h"
#include "log.h"
#include "util.h"

/* Shorter required literals rule out too little to be worth it. */
#define PREFILTER_MIN_LITERAL 3

struct prefilter_subject {
	size_t nrules;             /* covered rules on this subject */
#ifdef OMK_HAVE_HS
	hs_database_t *db;
#endif
	struct litscan *ls;
};

struct prefilter {
	enum prefilter_engine engine;
	size_t n;
	uint64_t *always;
	char **why;                /* NULL: covered */
	size_t ncovered;
	struct prefilter_subject sub[PREFILTER_SUBJECTS];
#ifdef OMK_HAVE_HS
	hs_scratch_t *scratch;
#endif
	char name[64];
};

bool
prefilter_have_hs(void)
{
#ifdef OMK_HAVE_HS
	return true;
#else
	return false;
#endif
}

bool
prefilter_engine_parse(const char *s, enum prefilter_engine *out)
{
	if (!strcmp(s, "auto"))
		*out = PREFILTER_AUTO;
	else if (!strcmp(s, "naive"))
		*out = PREFILTER_NAIVE;
	else if (!strcmp(s, "literal"))
		*out = PREFILTER_LITERAL;
	else if (!strcmp(s, "hs") || !strcmp(s, "vectorscan"))
		*out = PREFILTER_HS;
	else
		return false;
	return true;
}

static void
prefilter_uncover(struct prefilter *pf, size_t i, const char *why)
{
	if (pf->why[i] != NULL)
		return;
	pf->why[i] = xstrdup(why);
	pf->always[i / 64] |= 1ULL << (i % 64);
}

/*
 * PCRE2 in UTF mode folds case for all of Unicode; a scanner that folds
 * differently could miss a match. Patterns that are caseless somewhere
 * and not pure ASCII are left to PCRE2.
 */
static bool
prefilter_caseless_unicode(const char *p)
{
	bool caseless = false, wide = false;
	const char *q;

	for (q = p; *q != '\0'; q++) {
		if ((unsigned char)*q >= 0x80)
			wide = true;
		else if (q[0] == '\\' && (q[1] == 'x' || q[1] == 'p' ||
		    q[1] == 'P' || q[1] == 'N' || q[1] == 'X' || q[1] == 'o'))
			wide = true;
		else if (q[0] == '(' && q[1] == '?') {
			const char *f = q + 2;

			/* Option letters only: "(?<ip>" is a name. */
			while (*f != '\0' && strchr("imnsxJU^-", *f) != NULL) {
				if (*f == 'i')
					caseless = true;
				f++;
			}
		}
	}
	return caseless && wide;
}

#ifdef OMK_HAVE_HS
#define PREFILTER_HS_FLAGS (HS_FLAG_PREFILTER | HS_FLAG_UTF8 | \
    HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY)

static int
prefilter_hs_match(unsigned int id, unsigned long long from,
    unsigned long long to, unsigned int flags, void *ctx)
{
	uint64_t *cand = ctx;

	(void)from;
	(void)to;
	(void)flags;
	cand[id / 64] |= 1ULL << (id % 64);
	return 0;
}

/* One database per subject; each rule is tried alone first, so one
 * pattern Vectorscan cannot take does not cost the others. */
static void
prefilter_build_hs(struct prefilter *pf, const struct prefilter_rule *v,
    int subject)
{
	struct prefilter_subject *sb = &pf->sub[subject];
	const char **pats = xcalloc(pf->n + 1, sizeof(*pats));
	unsigned *flags = xcalloc(pf->n + 1, sizeof(*flags));
	unsigned *ids = xcalloc(pf->n + 1, sizeof(*ids));
	hs_compile_error_t *err = NULL;
	hs_expr_info_t *info = NULL;
	char why[300];
	size_t i, k = 0;

	for (i = 0; i < pf->n; i++) {
		if (v[i].subject != subject || pf->why[i] != NULL)
			continue;
		if (hs_expression_info(v[i].pattern, PREFILTER_HS_FLAGS, &info,
		    &err) != HS_SUCCESS) {
			snprintf(why, sizeof(why), "vectorscan: %s",
			    err ? err->message : "cannot compile");
			hs_free_compile_error(err);
			err = NULL;
			prefilter_uncover(pf, i, why);
			continue;
		}
		if (info->min_width == 0)
			prefilter_uncover(pf, i, "can match an empty string");
		free(info);
		info = NULL;
		if (pf->why[i] != NULL)
			continue;
		pats[k] = v[i].pattern;
		flags[k] = PREFILTER_HS_FLAGS;
		ids[k] = (unsigned)i;
		k++;
	}
	if (k > 0 && hs_compile_multi(pats, flags, ids, (unsigned)k,
	    HS_MODE_BLOCK, NULL, &sb->db, &err) != HS_SUCCESS) {
		snprintf(why, sizeof(why), "vectorscan: %s",
		    err ? err->message : "cannot compile the rule set");
		hs_free_compile_error(err);
		for (i = 0; i < k; i++)
			prefilter_uncover(pf, ids[i], why);
		sb->db = NULL;
		k = 0;
	}
	if (sb->db != NULL &&
	    hs_alloc_scratch(sb->db, &pf->scratch) != HS_SUCCESS) {
		for (i = 0; i < k; i++)
			prefilter_uncover(pf, ids[i], "vectorscan: no scratch");
		hs_free_database(sb->db);
		sb->db = NULL;
		k = 0;
	}
	sb->nrules = k;
	free(pats);
	free(flags);
	free(ids);
}

#endif

static void
prefilter_build_literal(struct prefilter *pf, const struct prefilter_rule *v,
    int subject)
{
	struct prefilter_subject *sb = &pf->sub[subject];
	struct literal lit[LITERAL_MAX_ALTS];
	size_t i, k, nlit;

	sb->ls = litscan_new();
	for (i = 0; i < pf->n; i++) {
		if (v[i].subject != subject || pf->why[i] != NULL)
			continue;
		/* Every match holds one of lit[]: "(error|denied)" too. */
		nlit = literal_required_any(v[i].pattern, PCRE2_UTF,
		    PREFILTER_MIN_LITERAL, lit, LITERAL_MAX_ALTS);
		if (nlit == 0) {
			prefilter_uncover(pf, i, "no required literal of 3 or "
			    "more bytes");
			continue;
		}
		for (k = 0; k < nlit; k++)
			litscan_add(sb->ls, lit[k].s, lit[k].len,
			    lit[k].caseless, (uint32_t)i);
		sb->nrules++;
	}
	litscan_build(sb->ls);
}

struct prefilter *
prefilter_new(const struct prefilter_rule *v, size_t n,
    enum prefilter_engine engine)
{
	struct prefilter *pf = xcalloc(1, sizeof(*pf));
	size_t i;
	int s;

	/*
	 * The literal prefilter is the default. Debian 12's Vectorscan 5.4.9
	 * misses matches here: alone in a database, "a.{1,4}b.{1,4}c" does
	 * not match 100 'x' then " aXbYczd" (with or without UTF-8 or
	 * prefilter mode), and the property test found lines it missed in a
	 * rule set. Which inputs and rule sets are hit depends on the
	 * engine Vectorscan picks, so no self-check can clear it: it stays
	 * available to compare with, never chosen for you.
	 */
	if (engine == PREFILTER_AUTO)
		engine = PREFILTER_LITERAL;
	if (engine == PREFILTER_HS && !prefilter_have_hs()) {
		log_warnx("this omkapture was built without Vectorscan: using "
		    "the literal prefilter");
		engine = PREFILTER_LITERAL;
	} else if (engine == PREFILTER_HS) {
		log_warnx("--engine hs: Vectorscan %.*s can miss matches (see "
		    "README, \"Matching\"); for comparison only",
		    (int)strcspn(hs_version(), " "), hs_version());
	}
	pf->engine = engine;
	pf->n = n;
	pf->always = xcalloc(PREFILTER_WORDS(n) + 1, sizeof(*pf->always));
	pf->why = xcalloc(n + 1, sizeof(*pf->why));
	for (i = 0; i < n; i++) {
		if (engine == PREFILTER_NAIVE)
			prefilter_uncover(pf, i, "--engine naive");
		else if (v[i].subject < 0 || v[i].subject >= PREFILTER_SUBJECTS)
			prefilter_uncover(pf, i, "matches a JSON field");
		else if (prefilter_caseless_unicode(v[i].pattern))
			prefilter_uncover(pf, i, "caseless with non-ASCII "
			    "characters (Unicode case folding)");
	}
	for (s = 0; s < PREFILTER_SUBJECTS && engine != PREFILTER_NAIVE; s++) {
#ifdef OMK_HAVE_HS
		if (engine == PREFILTER_HS) {
			prefilter_build_hs(pf, v, s);
			continue;
		}
#endif
		prefilter_build_literal(pf, v, s);
	}
	for (i = 0; i < n; i++)
		if (pf->why[i] == NULL)
			pf->ncovered++;
	switch (engine) {
	case PREFILTER_HS:
#ifdef OMK_HAVE_HS
		/* "5.4.9 2023-..." : the version is the first word. */
		snprintf(pf->name, sizeof(pf->name), "vectorscan %.*s",
		    (int)strcspn(hs_version(), " "), hs_version());
#endif
		break;
	case PREFILTER_LITERAL:
		snprintf(pf->name, sizeof(pf->name), "literal");
		break;
	default:
		snprintf(pf->name, sizeof(pf->name), "naive");
		break;
	}
	return pf;
}

void
prefilter_free(struct prefilter *pf)
{
	size_t i;
	int s;

	if (pf == NULL)
		return;
	for (s = 0; s < PREFILTER_SUBJECTS; s++) {
#ifdef OMK_HAVE_HS
		if (pf->sub[s].db != NULL)
			hs_free_database(pf->sub[s].db);
#endif
		litscan_free(pf->sub[s].ls);
	}
#ifdef OMK_HAVE_HS
	if (pf->scratch != NULL)
		hs_free_scratch(pf->scratch);
#endif
	for (i = 0; i < pf->n; i++)
		free(pf->why[i]);
	free(pf->why);
	free(pf->always);
	free(pf);
}

const uint64_t *
prefilter_always(const struct prefilter *pf)
{
	return pf->always;
}

void
prefilter_scan(struct prefilter *pf, int subject, const char *s, size_t n,
    uint64_t *cand)
{
	struct prefilter_subject *sb;

	if (subject < 0 || subject >= PREFILTER_SUBJECTS)
		return;
	sb = &pf->sub[subject];
#ifdef OMK_HAVE_HS
	if (sb->db != NULL) {
		/* A scan error (none is expected) must not hide a match:
		 * then every covered rule of the subject is a candidate. */
		if (hs_scan(sb->db, s, (unsigned)n, 0, pf->scratch,
		    prefilter_hs_match, cand) != HS_SUCCESS) {
			size_t i;

			for (i = 0; i < PREFILTER_WORDS(pf->n); i++)
				cand[i] |= ~pf->always[i];
		}
		return;
	}
#endif
	if (sb->ls != NULL && sb->nrules > 0)
		litscan_scan(sb->ls, s, n, cand);
}

bool
prefilter_covers(const struct prefilter *pf, size_t i)
{
	return i < pf->n && pf->why[i] == NULL;
}

const char *
prefilter_why(const struct prefilter *pf, size_t i)
{
	return i < pf->n && pf->why[i] != NULL ? pf->why[i] : "";
}

size_t
prefilter_ncovered(const struct prefilter *pf)
{
	return pf->ncovered;
}

const char *
prefilter_name(const struct prefilter *pf)
{
	return pf->name;
}
