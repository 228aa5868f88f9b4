#include "rules.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "ini.h"
#include "util.h"

#define RULES_JIT_STACK_MIN (32 * 1024)
#define RULES_JIT_STACK_MAX (1024 * 1024)
#define RULES_DEFAULT_TITLE "${rule}: ${line}"
#define RULES_DEFAULT_DETAILS "${raw}"

/* The rule keys: the parser, [defaults] checks and --help-config. */
static const struct {
	const char *key;
	const char *def;
	const char *help;
} rule_keys[] = {
	{ "match", NULL, "PCRE2 regex (required); named groups become ${name}" },
	{ "match_on", "message", "what the regex sees: message | raw | json.NAME" },
	{ "ignore", NULL, "regex: a line that also matches it does not fire this rule" },
	{ "program", NULL, "only lines from these programs/tags (comma or space separated)" },
	{ "title", RULES_DEFAULT_TITLE, "ticket title template (cut to title_max characters)" },
	{ "details", RULES_DEFAULT_DETAILS, "ticket_details template (cut to details_max bytes)" },
	{ "email", NULL, "email_id template" },
	{ "due", NULL, "due date: +DURATION from the match (e.g. +4h), or a template giving yyyy-MM-dd HH:mm:ss" },
	{ "key", "rule name + every capture", "dedup key template" },
	{ "threshold", "1 in 0s", "N in DURATION: fire on the Nth match within the window (N at most 1000)" },
	{ "suppress", "10m", "after a ticket, matches of the key are counted until quiet this long" },
	{ "renotify", "24h", "a burst still going after this long opens a fresh ticket" },
	{ "on_repeat", "none", "at burst end: none | comment (via update_url) | ticket" },
	{ "continue", "no", "yes: later rules also see a line this rule matched" },
	{ "field.PATH", NULL, "extra body field; dots and [n] build nested objects and arrays" },
};

#define NRULE_KEYS (sizeof(rule_keys) / sizeof(rule_keys[0]))

bool
rules_is_key(const char *key)
{
	size_t i;

	if (!strncmp(key, "field.", 6) && key[6] != '\0')
		return true;
	for (i = 0; i < NRULE_KEYS; i++)
		if (!strcmp(rule_keys[i].key, key))
			return true;
	return false;
}

void
rules_print_help(FILE *fp)
{
	size_t i;

	fprintf(fp, "Rule keys (rule files, or [defaults] in the config):\n");
	for (i = 0; i < NRULE_KEYS; i++)
		fprintf(fp, "  %-12s %s%s%s\n", rule_keys[i].key,
		    rule_keys[i].help, rule_keys[i].def ? "; default " : "",
		    rule_keys[i].def ? rule_keys[i].def : "");
	fprintf(fp, "\nTemplate variables: ${name} ${0}..${9} (captures), "
	    "${line} ${raw} ${host} ${program} ${pid} ${severity} "
	    "${facility} ${time} ${now} ${rule} ${key} ${count} "
	    "${first_seen} ${last_seen} ${json.NAME}; ${x:-fallback}; "
	    "escapes \\n \\t \\\\ \\$\n");
}

/* A rule section as read, before it is built. */
struct raw_rule {
	char *name;
	char *file;
	int line;
	struct conf_kv *kv;
	size_t nkv;
};

struct rules_parse {
	struct raw_rule *v;
	size_t n;
	struct diags *d;
};

static void
raw_rule_free(struct raw_rule *r)
{
	size_t i;

	for (i = 0; i < r->nkv; i++) {
		free(r->kv[i].key);
		free(r->kv[i].value);
		free(r->kv[i].file);
	}
	free(r->kv);
	free(r->name);
	free(r->file);
}

static bool
rules_name_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!(isalnum((unsigned char)*s) || strchr("_-.:@/", *s)))
			return false;
	return true;
}

static void
rules_ini_cb(void *arg, const char *file, int line, const char *section,
    const char *key, const char *value)
{
	struct rules_parse *st = arg;
	struct raw_rule *r;
	struct conf_kv *kv;
	size_t i;

	if (key == NULL) {
		if (!rules_name_ok(section))
			diag_error(st->d, file, line, "rule name \"%s\": use "
			    "letters, digits and _-.:@/ only", section);
		st->v = xrealloc(st->v, (st->n + 1) * sizeof(*st->v));
		r = &st->v[st->n++];
		memset(r, 0, sizeof(*r));
		r->name = xstrdup(section);
		r->file = xstrdup(file);
		r->line = line;
		return;
	}
	r = &st->v[st->n - 1];
	if (!rules_is_key(key)) {
		diag_error(st->d, file, line, "[%s]: unknown key \"%s\"",
		    r->name, key);
		return;
	}
	for (i = 0; i < r->nkv; i++) {
		if (!strcmp(r->kv[i].key, key)) {
			diag_error(st->d, file, line, "[%s]: \"%s\" set twice "
			    "(first at line %d)", r->name, key, r->kv[i].line);
			return;
		}
	}
	r->kv = xrealloc(r->kv, (r->nkv + 1) * sizeof(*r->kv));
	kv = &r->kv[r->nkv++];
	kv->key = xstrdup(key);
	kv->value = xstrdup(value);
	kv->file = xstrdup(file);
	kv->line = line;
}

/* The rule's own value for key, else the config's [defaults] one. */
static const struct conf_kv *
rules_lookup(const struct raw_rule *r, const struct conf *c, const char *key)
{
	size_t i;

	for (i = 0; i < r->nkv; i++)
		if (!strcmp(r->kv[i].key, key))
			return &r->kv[i];
	for (i = 0; i < c->ndefaults; i++)
		if (!strcmp(c->defaults[i].key, key))
			return &c->defaults[i];
	return NULL;
}

static pcre2_code *
rules_compile_re(const char *src, const struct conf_kv *kv, const char *rule,
    struct diags *d)
{
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	pcre2_code *re;
	int err, rc;

	/* Not PCRE2_MATCH_INVALID_UTF: with it, 10.42's JIT (Debian 12)
	 * never matches \S, \D or \W on a multi-byte character (PCRE2
	 * issue #224). Subjects are checked (and repaired if need be) once
	 * per line instead, see rules_line_subject(). */
	re = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED, PCRE2_UTF,
	    &err, &off, NULL);
	if (re == NULL) {
		pcre2_get_error_message(err, msg, sizeof(msg));
		diag_error(d, kv->file, kv->line, "[%s] %s: bad regex at "
		    "offset %zu: %s", rule, kv->key, (size_t)off, (char *)msg);
		return NULL;
	}
	/* Without JIT (some architectures, SELinux execmem) the
	 * interpreter still works, only slower: not an error. */
	if ((rc = pcre2_jit_compile(re, PCRE2_JIT_COMPLETE)) != 0 &&
	    rc != PCRE2_ERROR_JIT_BADOPTION) {
		pcre2_get_error_message(rc, msg, sizeof(msg));
		diag_warn(d, kv->file, kv->line, "[%s] %s: JIT unavailable "
		    "(%s); using the interpreter", rule, kv->key, (char *)msg);
	}
	return re;
}

static struct tmpl *
rules_tmpl(const struct raw_rule *r, const struct conf *c, const char *key,
    const char *def, const pcre2_code *re, struct diags *d)
{
	const struct conf_kv *kv = rules_lookup(r, c, key);

	struct tmpl *t;
	char *what;

	if (kv == NULL && def == NULL)
		return NULL;
	what = xasprintf("[%s] %s", r->name, key);
	if (kv == NULL)
		t = tmpl_compile(def, re, d, r->file, r->line, what);
	else
		t = tmpl_compile(kv->value, re, d, kv->file, kv->line, what);
	free(what);
	return t;
}

static bool
rules_duration(const struct raw_rule *r, const struct conf *c,
    const char *key, const char *def, int64_t *out, struct diags *d)
{
	const struct conf_kv *kv = rules_lookup(r, c, key);

	if (kv == NULL)
		return duration_parse(def, out);
	if (!duration_parse(kv->value, out)) {
		diag_error(d, kv->file, kv->line, "[%s] %s: bad duration "
		    "\"%s\" (expected e.g. 90s, 10m, 4h, 2d)", r->name, key,
		    kv->value);
		return false;
	}
	return true;
}

static void
rules_split_programs(struct rule *rule, const char *s)
{
	const char *p = s, *b;

	for (;;) {
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		b = p;
		while (*p != '\0' && *p != ' ' && *p != ',' && *p != '\t')
			p++;
		rule->programs = xrealloc(rule->programs,
		    (rule->nprograms + 1) * sizeof(*rule->programs));
		rule->programs[rule->nprograms++] = xstrndup(b,
		    (size_t)(p - b));
	}
}

static void
rule_free(struct rule *r)
{
	size_t i;

	free(r->name);
	free(r->file);
	free(r->match_src);
	pcre2_code_free(r->re);
	pcre2_code_free(r->ignore);
	free(r->json_field);
	for (i = 0; i < r->nprograms; i++)
		free(r->programs[i]);
	free(r->programs);
	tmpl_free(r->title);
	tmpl_free(r->details);
	tmpl_free(r->email);
	tmpl_free(r->due);
	tmpl_free(r->key);
	fields_free(r->fields);
}

static bool
rules_due_literal_ok(const char *s)
{
	time_t t;

	return strlen(s) == 19 && time_parse_rfc3339(s, 19, &t);
}

/* Build one rule from its section; false (errors in d) if it is broken. */
static bool
rules_build(struct rule *rule, const struct raw_rule *r, const struct conf *c,
    struct diags *d)
{
	const struct conf_kv *kv;
	size_t errors = d->errors, i;
	const char *why, *v, *reserved[] = { "title", "ticket_details",
	    "due_date", "email_id", c->ref_field };
	char *endp;
	bool b;

	memset(rule, 0, sizeof(*rule));
	rule->name = xstrdup(r->name);
	rule->file = xstrdup(r->file);
	rule->line = r->line;
	rule->threshold_n = 1;

	if ((kv = rules_lookup(r, c, "match")) == NULL) {
		diag_error(d, r->file, r->line, "[%s]: no \"match\" regex",
		    r->name);
	} else if (*kv->value == '\0') {
		diag_error(d, kv->file, kv->line, "[%s] match: empty regex",
		    r->name);
	} else {
		rule->match_src = xstrdup(kv->value);
		rule->re = rules_compile_re(kv->value, kv, r->name, d);
		if (rule->re != NULL)
			pcre2_pattern_info(rule->re, PCRE2_INFO_CAPTURECOUNT,
			    &rule->ncaptures);
	}
	if ((kv = rules_lookup(r, c, "ignore")) != NULL && *kv->value)
		rule->ignore = rules_compile_re(kv->value, kv, r->name, d);
	if ((kv = rules_lookup(r, c, "match_on")) != NULL) {
		v = kv->value;
		if (!strcmp(v, "message") || !strcmp(v, "line"))
			rule->match_on = MATCH_MESSAGE;
		else if (!strcmp(v, "raw"))
			rule->match_on = MATCH_RAW;
		else if (!strncmp(v, "json.", 5) && v[5] != '\0') {
			rule->match_on = MATCH_JSON;
			rule->json_field = xstrdup(v + 5);
		} else
			diag_error(d, kv->file, kv->line, "[%s] match_on: "
			    "expected message, raw or json.NAME, not \"%s\"",
			    r->name, v);
	}
	if ((kv = rules_lookup(r, c, "program")) != NULL)
		rules_split_programs(rule, kv->value);

	/* Templates need the regex for capture names: skip them if it is
	 * broken rather than reporting every capture as unknown. */
	if (rule->re != NULL || rules_lookup(r, c, "match") == NULL) {
		rule->title = rules_tmpl(r, c, "title", RULES_DEFAULT_TITLE,
		    rule->re, d);
		rule->details = rules_tmpl(r, c, "details",
		    RULES_DEFAULT_DETAILS, rule->re, d);
		rule->email = rules_tmpl(r, c, "email", NULL, rule->re, d);
		rule->key = rules_tmpl(r, c, "key", NULL, rule->re, d);
		if (rule->key != NULL && (tmpl_uses(rule->key) & TMPL_USES_KEY)) {
			kv = rules_lookup(r, c, "key");
			diag_error(d, kv->file, kv->line,
			    "[%s] key: the key cannot use ${key}", r->name);
		}
		if ((kv = rules_lookup(r, c, "due")) != NULL && *kv->value) {
			if (kv->value[0] == '+') {
				if (duration_parse(kv->value + 1,
				    &rule->due_offset))
					rule->due_relative = true;
				else
					diag_error(d, kv->file, kv->line,
					    "[%s] due: bad duration \"%s\" "
					    "(expected e.g. +4h, +1d)", r->name,
					    kv->value);
			} else {
				char *what = xasprintf("[%s] due", r->name);

				rule->due = tmpl_compile(kv->value, rule->re, d,
				    kv->file, kv->line, what);
				free(what);
				if (rule->due != NULL &&
				    tmpl_is_literal(rule->due) &&
				    !rules_due_literal_ok(kv->value))
					diag_error(d, kv->file, kv->line,
					    "[%s] due: expected +DURATION or "
					    "yyyy-MM-dd HH:mm:ss, not \"%s\"",
					    r->name, kv->value);
			}
		}
		rule->fields = fields_new();
		/* Rule fields first, then [defaults] fields it does not set. */
		for (i = 0; i < r->nkv + c->ndefaults; i++) {
			const struct conf_kv *f = i < r->nkv ? &r->kv[i] :
			    &c->defaults[i - r->nkv];
			struct tmpl *t;
			char *what;
			size_t k;

			if (strncmp(f->key, "field.", 6) != 0)
				continue;
			if (i >= r->nkv && rules_lookup(r, c, f->key) != f)
				continue;
			for (k = 0; k < sizeof(reserved) / sizeof(*reserved); k++)
				if (reserved[k] && !strcmp(f->key + 6, reserved[k]))
					break;
			if (k < sizeof(reserved) / sizeof(*reserved)) {
				diag_error(d, f->file, f->line, "[%s] %s: the "
				    "body sets \"%s\" itself%s", r->name, f->key,
				    f->key + 6, k < 4 ? "; use the rule key "
				    "title/details/due/email" : "");
				continue;
			}
			what = xasprintf("[%s] %s", r->name, f->key);
			t = tmpl_compile(f->value, rule->re, d, f->file, f->line,
			    what);
			free(what);
			if (t == NULL)
				continue;
			if ((why = fields_add(rule->fields, f->key + 6, t)))
				diag_error(d, f->file, f->line, "[%s] %s: %s",
				    r->name, f->key, why);
		}
	}

	if ((kv = rules_lookup(r, c, "threshold")) != NULL) {
		long n = strtol(kv->value, &endp, 10);

		while (*endp == ' ')
			endp++;
		if (n < 1 || strncmp(endp, "in ", 3) != 0 ||
		    !duration_parse(endp + 3, &rule->threshold_window) ||
		    rule->threshold_window < 1)
			diag_error(d, kv->file, kv->line, "[%s] threshold: "
			    "expected \"N in DURATION\" like \"5 in 10m\", not "
			    "\"%s\"", r->name, kv->value);
		else if (n > RULES_MAX_THRESHOLD)
			/* The window keeps a time per match. */
			diag_error(d, kv->file, kv->line, "[%s] threshold: N "
			    "must be 1..%d, not %ld", r->name,
			    RULES_MAX_THRESHOLD, n);
		else
			rule->threshold_n = n;
	}
	rules_duration(r, c, "suppress", "10m", &rule->suppress, d);
	rules_duration(r, c, "renotify", "24h", &rule->renotify, d);
	if ((kv = rules_lookup(r, c, "on_repeat")) != NULL) {
		if (!strcmp(kv->value, "none"))
			rule->on_repeat = REPEAT_NONE;
		else if (!strcmp(kv->value, "comment")) {
			rule->on_repeat = REPEAT_COMMENT;
			if (c->update_url == NULL)
				diag_error(d, kv->file, kv->line, "[%s] "
				    "on_repeat = comment needs [kapture] "
				    "update_url", r->name);
		} else if (!strcmp(kv->value, "ticket"))
			rule->on_repeat = REPEAT_TICKET;
		else
			diag_error(d, kv->file, kv->line, "[%s] on_repeat: "
			    "expected none, comment or ticket, not \"%s\"",
			    r->name, kv->value);
	}
	if ((kv = rules_lookup(r, c, "continue")) != NULL) {
		if (!strcasecmp(kv->value, "yes") || !strcasecmp(kv->value, "true"))
			b = true;
		else if (!strcasecmp(kv->value, "no") ||
		    !strcasecmp(kv->value, "false"))
			b = false;
		else {
			diag_error(d, kv->file, kv->line, "[%s] continue: "
			    "expected yes or no", r->name);
			b = false;
		}
		rule->cont = b;
	}
	return d->errors == errors;
}

static int
rules_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Expand a rule path into sorted file names. */
static void
rules_expand(const char *path, char ***files, size_t *nfiles,
    struct diags *d)
{
	struct stat sb;
	struct dirent *de;
	DIR *dir;
	char **names = NULL;
	size_t n = 0, i, len;

	if (stat(path, &sb) != 0) {
		diag_error(d, path, 0, "rule path: %s", strerror(errno));
		return;
	}
	if (!S_ISDIR(sb.st_mode)) {
		*files = xrealloc(*files, (*nfiles + 1) * sizeof(**files));
		(*files)[(*nfiles)++] = xstrdup(path);
		return;
	}
	if ((dir = opendir(path)) == NULL) {
		diag_error(d, path, 0, "rule directory: %s", strerror(errno));
		return;
	}
	while ((de = readdir(dir)) != NULL) {
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 7 ||
		    strcmp(de->d_name + len - 6, ".rules") != 0)
			continue;
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = strcmp(path, ".") == 0 ? xstrdup(de->d_name) :
		    xasprintf("%s/%s", path, de->d_name);
	}
	closedir(dir);
	if (n == 0) {
		diag_warn(d, path, 0, "no *.rules files in this directory");
		return;
	}
	qsort(names, n, sizeof(*names), rules_strcmp);
	*files = xrealloc(*files, (*nfiles + n + 1) * sizeof(**files));
	for (i = 0; i < n; i++)
		(*files)[(*nfiles)++] = names[i];
	free(names);
}

static struct ruleset *
rules_new(const struct conf *c)
{
	struct ruleset *rs = xcalloc(1, sizeof(*rs));
	int i;

	rs->mctx = pcre2_match_context_create(NULL);
	pcre2_set_match_limit(rs->mctx, (uint32_t)c->match_limit);
	pcre2_set_depth_limit(rs->mctx, (uint32_t)c->match_limit);
	rs->jit_stack = pcre2_jit_stack_create(RULES_JIT_STACK_MIN,
	    RULES_JIT_STACK_MAX, NULL);
	if (rs->jit_stack != NULL)
		pcre2_jit_stack_assign(rs->mctx, NULL, rs->jit_stack);
	rs->md_ignore = pcre2_match_data_create(1, NULL);
	for (i = 0; i < 3; i++)
		buf_init(&rs->repaired[i], (size_t)c->max_line * 3 + 16);
	return rs;
}

/* Turn parsed sections into rules, checking names across files. */
static void
rules_finish(struct ruleset *rs, const struct conf *c, struct rules_parse *st,
    const char *file, struct diags *d)
{
	struct rule rule;
	size_t i, j, nrules = 0;
	uint32_t maxcap = 0;

	for (i = 0; i < st->n; i++) {
		/* Against every section so far, broken ones too, so one
		 * run reports the duplicate as well as the breakage. */
		for (j = 0; j < rs->nseen; j++) {
			if (!strcmp(rs->seen[j].name, st->v[i].name)) {
				diag_error(d, st->v[i].file, st->v[i].line,
				    "rule [%s] already defined at %s:%d",
				    st->v[i].name, rs->seen[j].file,
				    rs->seen[j].line);
				break;
			}
		}
		if (j < rs->nseen)
			continue;
		rs->seen = xrealloc(rs->seen, (rs->nseen + 1) *
		    sizeof(*rs->seen));
		rs->seen[rs->nseen].name = xstrdup(st->v[i].name);
		rs->seen[rs->nseen].file = xstrdup(st->v[i].file);
		rs->seen[rs->nseen++].line = st->v[i].line;
		if (!rules_build(&rule, &st->v[i], c, d)) {
			rule_free(&rule);
			continue;
		}
		rs->v = xrealloc(rs->v, (rs->n + 1) * sizeof(*rs->v));
		rs->v[rs->n++] = rule;
		nrules++;
	}
	rs->files = xrealloc(rs->files, (rs->nfiles + 1) * sizeof(*rs->files));
	rs->files[rs->nfiles].path = xstrdup(file);
	rs->files[rs->nfiles++].nrules = nrules;
	for (i = 0; i < rs->n; i++)
		if (rs->v[i].ncaptures > maxcap)
			maxcap = rs->v[i].ncaptures;
	pcre2_match_data_free(rs->md);
	rs->md = pcre2_match_data_create(maxcap + 1, NULL);
}

static void
rules_parse_free(struct rules_parse *st)
{
	size_t i;

	for (i = 0; i < st->n; i++)
		raw_rule_free(&st->v[i]);
	free(st->v);
	memset(st, 0, sizeof(*st));
}

static void
rules_check_defaults(const struct conf *c, struct diags *d)
{
	size_t i;

	for (i = 0; i < c->ndefaults; i++)
		if (!rules_is_key(c->defaults[i].key))
			diag_error(d, c->defaults[i].file, c->defaults[i].line,
			    "[defaults]: unknown rule key \"%s\"",
			    c->defaults[i].key);
}

struct ruleset *
rules_load(const struct conf *c, struct diags *d)
{
	struct ruleset *rs = rules_new(c);
	struct rules_parse st;
	char **files = NULL;
	size_t nfiles = 0, i;

	rules_check_defaults(c, d);
	if (c->nrule_paths == 0)
		diag_error(d, c->path, 0, "no rules: set [rules] path or use -r");
	for (i = 0; i < c->nrule_paths; i++)
		rules_expand(c->rule_paths[i], &files, &nfiles, d);
	for (i = 0; i < nfiles; i++) {
		memset(&st, 0, sizeof(st));
		st.d = d;
		if (ini_parse_file(files[i], d, rules_ini_cb, &st) == 0) {
			if (st.n == 0)
				diag_warn(d, files[i], 0, "no rules in this file");
			rules_finish(rs, c, &st, files[i], d);
		}
		rules_parse_free(&st);
		free(files[i]);
	}
	free(files);
	if (rs->md == NULL)
		rs->md = pcre2_match_data_create(1, NULL);
	return rs;
}

struct ruleset *
rules_load_buf(const struct conf *c, const char *name, const char *data,
    size_t len, struct diags *d)
{
	struct ruleset *rs = rules_new(c);
	struct rules_parse st;

	rules_check_defaults(c, d);
	memset(&st, 0, sizeof(st));
	st.d = d;
	ini_parse_buf(name, data, len, d, rules_ini_cb, &st);
	rules_finish(rs, c, &st, name, d);
	rules_parse_free(&st);
	return rs;
}

void
rules_free(struct ruleset *rs)
{
	size_t i;

	if (rs == NULL)
		return;
	for (i = 0; i < rs->n; i++)
		rule_free(&rs->v[i]);
	free(rs->v);
	for (i = 0; i < rs->nfiles; i++)
		free(rs->files[i].path);
	free(rs->files);
	pcre2_match_data_free(rs->md);
	pcre2_match_data_free(rs->md_ignore);
	for (i = 0; i < 3; i++)
		buf_free(&rs->repaired[i]);
	for (i = 0; i < rs->nseen; i++) {
		free(rs->seen[i].name);
		free(rs->seen[i].file);
	}
	free(rs->seen);
	pcre2_match_context_free(rs->mctx);
	pcre2_jit_stack_free(rs->jit_stack);
	prefilter_free(rs->pf);
	free(rs->cand);
	free(rs);
}

/* Run re on s; 1 match, 0 no match, -1 gave up (limit). */
static int
rules_exec(struct ruleset *rs, const struct rule *rule, const pcre2_code *re,
    pcre2_match_data *md, const char *s, size_t n)
{
	int rc;
	unsigned long shown;

	rc = pcre2_match(re, (PCRE2_SPTR)s, n, 0, PCRE2_NO_UTF_CHECK, md,
	    rs->mctx);
	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	rs->limit_errors++;
	if ((shown = log_ratelimit_ok(&rs->limit_rl, 10)) > 0) {
		PCRE2_UCHAR msg[128];

		pcre2_get_error_message(rc, msg, sizeof(msg));
		log_warnx("%s:%d: rule [%s]: regex gave up on a line of %zu "
		    "bytes (%s); the rule does not match it (%lu such "
		    "line%s since the last warning)", rule->file, rule->line,
		    rule->name, n, (char *)msg, shown, shown == 1 ? "" : "s");
	}
	return -1;
}

static bool
rules_program_ok(const struct rule *rule, const struct event *ev)
{
	size_t i;

	size_t n;

	if (rule->nprograms == 0)
		return true;
	/* "postfix" also takes "postfix/smtpd": rsyslog's programname. */
	for (i = 0; i < rule->nprograms; i++) {
		n = strlen(rule->programs[i]);
		if (n <= ev->program.n &&
		    memcmp(rule->programs[i], ev->program.p, n) == 0 &&
		    (n == ev->program.n || ev->program.p[n] == '/'))
			return true;
	}
	return false;
}

static bool
rules_msg_in_raw(const struct event *ev)
{
	return ev->msg.p != NULL && ev->raw.p != NULL &&
	    ev->msg.p >= ev->raw.p && ev->msg.p + ev->msg.n <= ev->raw.p +
	    ev->raw.n;
}

/*
 * The message or raw line as valid UTF-8, once a line: PCRE2 and the
 * prefilter both need it valid (no PCRE2_MATCH_INVALID_UTF, see above).
 * Most lines are, and are used as they are; a line with invalid
 * sequences is matched as a copy with U+FFFD in their place, so captures
 * and templates see the same text.
 */
static void
rules_line_subject(struct ruleset *rs, const struct event *ev, int which,
    const char **s, size_t *n)
{
	const struct slice *sl = which == MATCH_RAW ? &ev->raw : &ev->msg;
	bool valid;

	if (!rs->checked[which]) {
		rs->checked[which] = true;
		rs->subj[which] = sl->p != NULL ? sl->p : "";
		rs->subjn[which] = sl->n;
		if (which == MATCH_RAW) {
			if (rs->raw_state == 0)
				rs->raw_state = ev->known_utf8 ||
				    utf8_valid(rs->subj[which],
				    rs->subjn[which]) ? 1 : 2;
			valid = rs->raw_state == 1;
		} else {
			/* A piece of a raw line checked valid (a plain
			 * line's text after its header) is valid too. */
			valid = ev->known_utf8 ||
			    (rs->raw_state == 1 && rules_msg_in_raw(ev)) ||
			    utf8_valid(rs->subj[which], rs->subjn[which]);
			rs->msg_invalid = !valid;
		}
		if (!valid) {
			struct buf *b = &rs->repaired[which];

			buf_reset(b);
			utf8_append_repaired(b, rs->subj[which],
			    rs->subjn[which]);
			rs->subj[which] = b->data ? b->data : "";
			rs->subjn[which] = b->len;
		}
	}
	*s = rs->subj[which];
	*n = rs->subjn[which];
}

/*
 * A new line: forget the last one's subjects, scan this one. Each byte
 * is checked for UTF-8 once: a plain line's message is part of its raw
 * line, so checking the raw line covers both; a JSON line's message is
 * decoded elsewhere and checked on its own (the raw JSON only if a rule
 * matches it). No byte is checked when the decoder already knows
 * (known_utf8: its JSON scan saw only ASCII).
 */
static void
rules_line_start(struct ruleset *rs, const struct event *ev)
{
	const char *s;
	size_t n, w = PREFILTER_WORDS(rs->n);
	int which;

	rs->checked[0] = rs->checked[1] = false;
	rs->msg_invalid = false;
	rs->raw_state = 0;
	if (rules_msg_in_raw(ev))
		rs->raw_state = ev->known_utf8 ||
		    utf8_valid(ev->raw.p, ev->raw.n) ? 1 : 2;
	memcpy(rs->cand, prefilter_always(rs->pf), w * sizeof(*rs->cand));
	for (which = 0; which < PREFILTER_SUBJECTS; which++) {
		/* The message always: the statistics want its check. */
		if (!rs->has_covered[which] && which != MATCH_MESSAGE)
			continue;
		rules_line_subject(rs, ev, which, &s, &n);
		if (rs->has_covered[which])
			prefilter_scan(rs->pf, which, s, n, rs->cand);
	}
}

/* The first candidate rule at or after i, or rs->n. */
static size_t
rules_next_cand(const struct ruleset *rs, size_t i)
{
	size_t w = i / 64, nw = PREFILTER_WORDS(rs->n);
	uint64_t bits;

	if (i >= rs->n)
		return rs->n;
	bits = rs->cand[w] & (~0ULL << (i % 64));
	for (;;) {
		if (bits != 0) {
			i = w * 64 + (size_t)__builtin_ctzll(bits);
			return i < rs->n ? i : rs->n;
		}
		if (++w >= nw)
			return rs->n;
		bits = rs->cand[w];
	}
}

/* The text rule sees in ev, then its regex and ignore: true on a match
 * (captures in rs->md). */
static bool
rules_try(struct ruleset *rs, const struct rule *rule, const struct event *ev,
    const char **sp, size_t *np)
{
	const struct slice *js;
	const char *s;
	size_t n;

	if (rule->match_on == MATCH_JSON) {
		js = input_json_field(ev, rule->json_field,
		    strlen(rule->json_field));
		if (js == NULL)
			return false;
		s = js->p ? js->p : "";
		n = js->n;
		if (!utf8_valid(s, n)) {
			buf_reset(&rs->repaired[2]);
			utf8_append_repaired(&rs->repaired[2], s, n);
			s = rs->repaired[2].data ? rs->repaired[2].data : "";
			n = rs->repaired[2].len;
		}
	} else {
		rules_line_subject(rs, ev, (int)rule->match_on, &s, &n);
	}
	if (rules_exec(rs, rule, rule->re, rs->md, s, n) != 1)
		return false;
	/* Own match data, so the main regex keeps its captures. */
	if (rule->ignore != NULL &&
	    rules_exec(rs, rule, rule->ignore, rs->md_ignore, s, n) == 1)
		return false;
	*sp = s;
	*np = n;
	return true;
}

bool
rules_match_rule(struct ruleset *rs, const struct rule *rule,
    const struct event *ev, struct rules_match *m)
{
	const char *s;
	size_t n;

	memset(m, 0, sizeof(*m));
	if (rs->pf == NULL)
		rules_prefilter(rs, PREFILTER_NAIVE);
	rules_line_start(rs, ev);
	if (rule->re == NULL || !rules_try(rs, rule, ev, &s, &n))
		return false;
	m->rule = rule;
	m->subject = s;
	m->subject_len = n;
	m->ovector = pcre2_get_ovector_pointer(rs->md);
	m->ovcount = pcre2_get_ovector_count(rs->md);
	m->next = rs->n;
	return true;
}

bool
rules_next(struct ruleset *rs, const struct event *ev, struct rules_match *m)
{
	struct rule *rule;
	const char *s;
	size_t n;

	if (rs->pf == NULL)
		rules_prefilter(rs, PREFILTER_NAIVE);
	if (m->next == 0 && m->rule == NULL)
		rules_line_start(rs, ev);
	for (; (m->next = rules_next_cand(rs, m->next)) < rs->n; m->next++) {
		rule = &rs->v[m->next];
		if (rule->re == NULL || !rules_program_ok(rule, ev))
			continue;
		if (!rules_try(rs, rule, ev, &s, &n))
			continue;
		rule->hits++;
		m->rule = rule;
		m->subject = s;
		m->subject_len = n;
		m->ovector = pcre2_get_ovector_pointer(rs->md);
		m->ovcount = pcre2_get_ovector_count(rs->md);
		m->next = rule->cont ? m->next + 1 : rs->n;
		return true;
	}
	return false;
}

bool
rules_line_valid(const struct ruleset *rs)
{
	return rs->raw_state != 2 && !rs->msg_invalid;
}

void
rules_prefilter(struct ruleset *rs, int engine)
{
	struct prefilter_rule *v = xcalloc(rs->n + 1, sizeof(*v));
	size_t i;

	prefilter_free(rs->pf);
	free(rs->cand);
	for (i = 0; i < rs->n; i++) {
		v[i].pattern = rs->v[i].match_src;
		v[i].subject = rs->v[i].match_on == MATCH_MESSAGE ? 0 :
		    rs->v[i].match_on == MATCH_RAW ? 1 : -1;
	}
	rs->pf = prefilter_new(v, rs->n, (enum prefilter_engine)engine);
	rs->cand = xcalloc(PREFILTER_WORDS(rs->n) + 1, sizeof(*rs->cand));
	rs->has_covered[0] = rs->has_covered[1] = false;
	for (i = 0; i < rs->n; i++)
		if (v[i].subject >= 0 && prefilter_covers(rs->pf, i))
			rs->has_covered[v[i].subject] = true;
	free(v);
}
