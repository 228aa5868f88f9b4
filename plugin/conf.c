#include "conf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ini.h"
#include "log.h"
#include "util.h"

enum conf_type {
	CT_STRING,
	CT_PATH,
	CT_URL,
	CT_DURATION,
	CT_INT,
	CT_SIZE,
	CT_BOOL,
	CT_BODY,
	CT_RATE,
	CT_FORMAT,
	CT_CLOCK,
};

struct conf_option {
	const char *section;
	const char *key;
	enum conf_type type;
	const char *def;   /* default as the user would write it; NULL: none */
	size_t offset;     /* into struct conf */
	size_t offset2;    /* CT_RATE: the period */
	const char *help;
};

#define OFF(f) offsetof(struct conf, f)

/* The one table: parser, defaults and --help-config all read it. */
static const struct conf_option conf_options[] = {
	{ "kapture", "url", CT_URL, NULL, OFF(url), 0,
	  "Add Ticket endpoint, e.g. https://acme.kapturecrm.com/add-ticket-from-other-source.html/v.2.0" },
	{ "kapture", "token_file", CT_PATH, NULL, OFF(token_file), 0,
	  "file holding the API token (else env KAPTURE_TOKEN); never put the token on the command line" },
	{ "kapture", "body", CT_BODY, "array", OFF(body_object), 0,
	  "request body shape: array (of one object) | object" },
	{ "kapture", "update_url", CT_URL, NULL, OFF(update_url), 0,
	  "Update Ticket endpoint, for on_repeat = comment" },
	{ "kapture", "ca_file", CT_PATH, NULL, OFF(ca_file), 0,
	  "CA bundle to verify the server with; TLS is always verified" },
	{ "kapture", "timeout", CT_DURATION, "30s", OFF(timeout), 0,
	  "total time allowed for one request" },
	{ "kapture", "connect_timeout", CT_DURATION, "10s", OFF(connect_timeout), 0,
	  "time allowed to connect" },
	{ "kapture", "concurrency", CT_INT, "4", OFF(concurrency), 0,
	  "parallel requests when draining the spool" },
	{ "kapture", "retry_max", CT_DURATION, "5m", OFF(retry_max), 0,
	  "longest wait between retries while Kapture is unavailable (backoff starts at 1s)" },
	{ "kapture", "auth_retry", CT_DURATION, "5m", OFF(auth_retry), 0,
	  "wait between retries while Kapture refuses the token" },
	{ "kapture", "ref_field", CT_STRING, "omkapture_ref", OFF(ref_field), 0,
	  "body field carrying the stable reference that identifies duplicates" },
	{ "kapture", "allow_readable_token", CT_BOOL, "no", OFF(allow_readable_token), 0,
	  "accept a token_file every user can read (with a warning); by default it is refused" },
	{ "kapture", "allow_insecure_http", CT_BOOL, "no", OFF(allow_insecure_http), 0,
	  "allow http:// URLs to hosts other than loopback" },
	{ "kapture", "comment_sub_status", CT_STRING, "P", OFF(comment_sub_status), 0,
	  "sub_status sent with on_repeat = comment (the Update API requires one; P = pending)" },
	{ "spool", "dir", CT_PATH, "/var/lib/omkapture", OFF(spool_dir), 0,
	  "spool directory: spool/, failed/ and state live here" },
	{ "spool", "max", CT_INT, "10000", OFF(spool_max), 0,
	  "most requests held in the spool" },
	{ "spool", "max_bytes", CT_SIZE, "100m", OFF(spool_max_bytes), 0,
	  "most bytes held in the spool" },
	{ "spool", "shutdown_timeout", CT_DURATION, "5s", OFF(shutdown_timeout), 0,
	  "at EOF or SIGTERM, deliver what is due for at most this long, then exit leaving the rest spooled" },
	{ "limits", "max_tickets", CT_RATE, "0", OFF(max_tickets), OFF(max_tickets_period),
	  "storm guard across all rules, N/DURATION (e.g. 60/1h); 0 = off" },
	{ "limits", "storm_quiet", CT_DURATION, "5m", OFF(storm_quiet), 0,
	  "the storm is over once no ticket was held back for this long: then one summary ticket lists what was" },
	{ "limits", "title_max", CT_INT, "255", OFF(title_max), 0,
	  "longest title in characters; longer ones are cut with a marker" },
	{ "limits", "details_max", CT_SIZE, "64k", OFF(details_max), 0,
	  "longest ticket_details in bytes; longer ones are cut with a marker" },
	{ "limits", "field_max", CT_SIZE, "4k", OFF(field_max), 0,
	  "longest email_id, due_date or field.* value in bytes" },
	{ "limits", "match_limit", CT_INT, "1000000", OFF(match_limit), 0,
	  "PCRE2 match limit: a regex that needs more steps on a line does not match it (with a warning)" },
	{ "dedup", "clock", CT_CLOCK, "arrival", OFF(clock_event), 0,
	  "arrival: a line's time is when it is read | event: its own timestamp, so replaying a log gives the tickets the live run gave" },
	{ "dedup", "max_keys", CT_INT, "100000", OFF(max_keys), 0,
	  "most keys (bursts) tracked; the least recently seen is forgotten first, with a warning" },
	{ "dedup", "state_interval", CT_DURATION, "30s", OFF(state_interval), 0,
	  "save the dedup state (spool dir/state) this often when it changed, and at exit" },
	{ "stats", "prometheus_file", CT_PATH, NULL, OFF(prometheus_file), 0,
	  "write the counters here in the Prometheus text format (node_exporter's textfile collector), atomically" },
	{ "stats", "interval", CT_DURATION, "15s", OFF(stats_interval), 0,
	  "how often prometheus_file is rewritten (and at exit)" },
	{ "input", "format", CT_FORMAT, "auto", OFF(format), 0,
	  "auto | plain | rsyslog-json | journal-json (-f overrides)" },
	{ "input", "max_line", CT_SIZE, "64k", OFF(max_line), 0,
	  "longest input line in bytes; longer lines are cut there and counted" },
};

#define NOPTIONS (sizeof(conf_options) / sizeof(conf_options[0]))

bool
conf_parse_size(const char *s, int64_t *out)
{
	char *end;
	long long v;
	int64_t mul = 1;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || v < 0)
		return false;
	switch (tolower((unsigned char)*end)) {
	case '\0': break;
	case 'k': mul = 1024; end++; break;
	case 'm': mul = 1024 * 1024; end++; break;
	case 'g': mul = 1024 * 1024 * 1024; end++; break;
	default: return false;
	}
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end != '\0' || v > INT64_MAX / mul)
		return false;
	*out = v * mul;
	return true;
}

static bool
conf_parse_bool(const char *s, bool *out)
{
	if (!strcasecmp(s, "yes") || !strcasecmp(s, "true") ||
	    !strcasecmp(s, "on") || !strcmp(s, "1"))
		*out = true;
	else if (!strcasecmp(s, "no") || !strcasecmp(s, "false") ||
	    !strcasecmp(s, "off") || !strcmp(s, "0"))
		*out = false;
	else
		return false;
	return true;
}

/* Only literal loopback hosts: "127.0.0.1.evil.example" is not one. */
static bool
conf_is_loopback(const char *host, size_t n)
{
	struct in_addr a;
	char tmp[64];

	if ((n == 9 && !strncasecmp(host, "localhost", 9)) ||
	    (n == 5 && !strncmp(host, "[::1]", 5)))
		return true;
	if (n >= sizeof(tmp))
		return false;
	memcpy(tmp, host, n);
	tmp[n] = '\0';
	return inet_pton(AF_INET, tmp, &a) == 1 &&
	    (ntohl(a.s_addr) >> 24) == 127;
}

const char *
conf_check_url(const char *url, bool allow_insecure_http)
{
	const char *h, *e;

	if (!strncasecmp(url, "https://", 8))
		h = url + 8;
	else if (!strncasecmp(url, "http://", 7))
		h = url + 7;
	else
		return "URL must start with https:// (or http:// for a loopback test server)";
	e = h + strcspn(h, "/?#");
	if (e == h)
		return "URL has no host";
	if (memchr(h, '@', (size_t)(e - h)) != NULL)
		return "URL must not carry credentials (use token_file)";
	if (strpbrk(url, " \t\r\n") != NULL)
		return "URL contains white space";
	if (h == url + 7 && !allow_insecure_http) {
		const char *colon = h;
		size_t n;

		/* Host without port; "[::1]:8080" keeps its brackets. */
		if (*h == '[')
			colon = memchr(h, ']', (size_t)(e - h));
		else
			colon = memchr(h, ':', (size_t)(e - h));
		n = colon ? (size_t)(colon - h) + (*h == '[') : (size_t)(e - h);
		if (!conf_is_loopback(h, n))
			return "plain http:// is refused for non-loopback hosts "
			    "(the token would travel in clear); use https:// or "
			    "set allow_insecure_http = yes";
	}
	return NULL;
}

/* Apply value to the option; false with a diagnostic if malformed. */
static bool
conf_set(struct conf *c, const struct conf_option *o, const char *value,
    struct diags *d, const char *file, int line)
{
	char *base = (char *)c;
	int64_t v, p;
	const char *slash;
	char *tmp;
	bool b;
	enum input_format f;

	switch (o->type) {
	case CT_STRING:
	case CT_URL:
	case CT_PATH:
		free(*(char **)(base + o->offset));
		*(char **)(base + o->offset) = *value ? xstrdup(value) : NULL;
		return true;
	case CT_DURATION:
		if (!duration_parse(value, &v))
			break;
		*(int64_t *)(base + o->offset) = v;
		return true;
	case CT_INT:
		if (!conf_parse_size(value, &v) || strpbrk(value, "kKmMgG"))
			break;
		*(int64_t *)(base + o->offset) = v;
		return true;
	case CT_SIZE:
		if (!conf_parse_size(value, &v))
			break;
		*(int64_t *)(base + o->offset) = v;
		return true;
	case CT_BOOL:
		if (!conf_parse_bool(value, &b))
			break;
		*(bool *)(base + o->offset) = b;
		return true;
	case CT_BODY:
		if (!strcmp(value, "array"))
			*(bool *)(base + o->offset) = false;
		else if (!strcmp(value, "object"))
			*(bool *)(base + o->offset) = true;
		else
			break;
		return true;
	case CT_RATE:
		if (!strcmp(value, "0") || !strcmp(value, "off")) {
			*(int64_t *)(base + o->offset) = 0;
			*(int64_t *)(base + o->offset2) = 0;
			return true;
		}
		if ((slash = strchr(value, '/')) == NULL)
			break;
		tmp = xstrndup(value, (size_t)(slash - value));
		b = conf_parse_size(tmp, &v) && !strpbrk(tmp, "kKmMgG") &&
		    duration_parse(slash + 1, &p) && p > 0 && v > 0;
		free(tmp);
		if (!b)
			break;
		*(int64_t *)(base + o->offset) = v;
		*(int64_t *)(base + o->offset2) = p;
		return true;
	case CT_FORMAT:
		if (!input_format_parse(value, &f))
			break;
		*(enum input_format *)(base + o->offset) = f;
		return true;
	case CT_CLOCK:
		if (!strcmp(value, "arrival"))
			*(bool *)(base + o->offset) = false;
		else if (!strcmp(value, "event"))
			*(bool *)(base + o->offset) = true;
		else
			break;
		return true;
	}
	if (d != NULL) {
		static const char *const expect[] = {
			[CT_STRING] = "a string", [CT_PATH] = "a path",
			[CT_URL] = "a URL",
			[CT_DURATION] = "a duration like 90s, 10m, 4h, 2d",
			[CT_INT] = "a whole number", [CT_SIZE] = "a size like 65536, 64k, 1m",
			[CT_BOOL] = "yes or no", [CT_BODY] = "array or object",
			[CT_RATE] = "N/DURATION like 60/1h, or 0",
			[CT_FORMAT] = "auto, plain, rsyslog-json or journal-json",
			[CT_CLOCK] = "arrival or event",
		};
		diag_error(d, file, line, "[%s] %s: bad value \"%s\": expected %s%s",
		    o->section, o->key, value, expect[o->type],
		    strstr(value, " #") || strstr(value, " ;") ?
		    " (comments are only allowed at the start of a line)" : "");
	}
	return false;
}

struct conf *
conf_new(void)
{
	struct conf *c = xcalloc(1, sizeof(*c));
	size_t i;

	for (i = 0; i < NOPTIONS; i++)
		if (conf_options[i].def != NULL)
			conf_set(c, &conf_options[i], conf_options[i].def, NULL,
			    NULL, 0);
	return c;
}

static void
conf_kv_free(struct conf_kv *kv, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
		free(kv[i].file);
	}
	free(kv);
}

static void
conf_free_paths(struct conf *c)
{
	size_t i;

	for (i = 0; i < c->nrule_paths; i++)
		free(c->rule_paths[i]);
	free(c->rule_paths);
	c->rule_paths = NULL;
	c->nrule_paths = 0;
}

void
conf_free(struct conf *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < NOPTIONS; i++) {
		switch (conf_options[i].type) {
		case CT_STRING:
		case CT_URL:
		case CT_PATH:
			free(*(char **)((char *)c + conf_options[i].offset));
			break;
		default:
			break;
		}
	}
	conf_kv_free(c->defaults, c->ndefaults);
	conf_free_paths(c);
	if (c->token != NULL) {
		/* Do not leave the secret in freed memory. */
		memset(c->token, 0, strlen(c->token));
		free(c->token);
	}
	free(c->path);
	free(c->dir);
	free(c);
}

struct conf_load_state {
	struct conf *c;
	struct diags *d;
	bool seen[NOPTIONS];
	bool section_known;
};

static const char *const conf_sections[] = {
	"kapture", "spool", "limits", "dedup", "stats", "input", "defaults",
	"rules",
};

static void
conf_ini_cb(void *arg, const char *file, int line, const char *section,
    const char *key, const char *value)
{
	struct conf_load_state *st = arg;
	struct conf *c = st->c;
	struct conf_kv *kv;
	size_t i;

	if (key == NULL) {
		st->section_known = false;
		for (i = 0; i < sizeof(conf_sections) / sizeof(*conf_sections); i++)
			if (!strcmp(section, conf_sections[i]))
				st->section_known = true;
		if (!st->section_known)
			diag_error(st->d, file, line, "unknown section [%s] "
			    "(rules belong in *.rules files)", section);
		return;
	}
	if (!st->section_known)
		return;
	if (!strcmp(section, "defaults")) {
		/* Checked when rules are built: rules.c knows rule keys. */
		c->defaults = xrealloc(c->defaults,
		    (c->ndefaults + 1) * sizeof(*c->defaults));
		kv = &c->defaults[c->ndefaults++];
		kv->key = xstrdup(key);
		kv->value = xstrdup(value);
		kv->file = xstrdup(file);
		kv->line = line;
		return;
	}
	if (!strcmp(section, "rules")) {
		if (strcmp(key, "path") != 0) {
			diag_error(st->d, file, line,
			    "unknown key \"%s\" in [rules] (expected path)", key);
			return;
		}
		c->rule_paths = xrealloc(c->rule_paths,
		    (c->nrule_paths + 1) * sizeof(*c->rule_paths));
		c->rule_paths[c->nrule_paths++] = conf_path(c, value);
		return;
	}
	for (i = 0; i < NOPTIONS; i++) {
		if (strcmp(conf_options[i].section, section) ||
		    strcmp(conf_options[i].key, key))
			continue;
		if (st->seen[i])
			diag_error(st->d, file, line,
			    "[%s] %s set twice", section, key);
		st->seen[i] = true;
		if (i < sizeof(c->opt_line) / sizeof(c->opt_line[0]))
			c->opt_line[i] = line;
		if (conf_set(c, &conf_options[i], value, st->d, file, line) &&
		    conf_options[i].type == CT_PATH &&
		    *(char **)((char *)c + conf_options[i].offset) != NULL) {
			char **slot = (char **)((char *)c + conf_options[i].offset);
			char *abs = conf_path(c, *slot);

			free(*slot);
			*slot = abs;
		}
		return;
	}
	diag_error(st->d, file, line, "unknown key \"%s\" in [%s]", key,
	    section);
}

static void
conf_set_path(struct conf *c, const char *path)
{
	const char *slash;

	free(c->path);
	free(c->dir);
	c->path = xstrdup(path);
	slash = strrchr(path, '/');
	c->dir = slash ? xstrndup(path, (size_t)(slash - path + (slash == path)))
	    : xstrdup(".");
}

size_t
conf_load(struct conf *c, const char *path, struct diags *d)
{
	struct conf_load_state st;
	size_t before = d->errors;

	memset(&st, 0, sizeof(st));
	st.c = c;
	st.d = d;
	conf_set_path(c, path);
	ini_parse_file(path, d, conf_ini_cb, &st);
	return d->errors - before;
}

size_t
conf_load_buf(struct conf *c, const char *name, const char *data,
    size_t len, struct diags *d)
{
	struct conf_load_state st;
	size_t before = d->errors;

	memset(&st, 0, sizeof(st));
	st.c = c;
	st.d = d;
	conf_set_path(c, name);
	ini_parse_buf(name, data, len, d, conf_ini_cb, &st);
	return d->errors - before;
}

/* The line an option was set on, for diagnostics after parsing. */
static int
conf_line(const struct conf *c, const char *section, const char *key)
{
	size_t i;

	for (i = 0; i < NOPTIONS && i < sizeof(c->opt_line) /
	    sizeof(c->opt_line[0]); i++)
		if (!strcmp(conf_options[i].section, section) &&
		    !strcmp(conf_options[i].key, key))
			return c->opt_line[i];
	return 0;
}

void
conf_validate(struct conf *c, struct diags *d, bool need_url)
{
	const char *why;
	const char *f = c->path;
	/* Whole numbers and durations that must be positive. */
	const struct {
		const int64_t *v;
		const char *section, *key, *unit;
	} at_least_1[] = {
		{ &c->retry_max, "kapture", "retry_max", "s" },
		{ &c->auth_retry, "kapture", "auth_retry", "s" },
		{ &c->max_keys, "dedup", "max_keys", "" },
		{ &c->state_interval, "dedup", "state_interval", "s" },
		{ &c->stats_interval, "stats", "interval", "s" },
		{ &c->storm_quiet, "limits", "storm_quiet", "s" },
	};
	size_t i;

	if (c->url == NULL) {
		if (need_url)
			diag_error(d, f, 0, "[kapture] url is not set");
	} else if ((why = conf_check_url(c->url, c->allow_insecure_http)))
		diag_error(d, f, conf_line(c, "kapture", "url"),
		    "[kapture] url \"%s\": %s", c->url, why);
	if (c->update_url != NULL &&
	    (why = conf_check_url(c->update_url, c->allow_insecure_http)))
		diag_error(d, f, conf_line(c, "kapture", "update_url"),
		    "[kapture] update_url \"%s\": %s", c->update_url, why);
	if (c->ref_field == NULL || *c->ref_field == '\0')
		diag_error(d, f, 0, "[kapture] ref_field must not be empty");
	else if (!utf8_printable(c->ref_field))
		diag_error(d, f, conf_line(c, "kapture", "ref_field"),
		    "[kapture] ref_field must be valid UTF-8 without control "
		    "characters");
	if (c->concurrency < 1 || c->concurrency > 256)
		diag_error(d, f, 0, "[kapture] concurrency must be 1..256");
	if (c->timeout < 1)
		diag_error(d, f, 0, "[kapture] timeout must be at least 1s");
	for (i = 0; i < sizeof(at_least_1) / sizeof(at_least_1[0]); i++)
		if (*at_least_1[i].v < 1)
			diag_error(d, f, conf_line(c, at_least_1[i].section,
			    at_least_1[i].key), "[%s] %s must be at least 1%s",
			    at_least_1[i].section, at_least_1[i].key,
			    at_least_1[i].unit);
	if (c->comment_sub_status == NULL)
		diag_error(d, f, conf_line(c, "kapture", "comment_sub_status"),
		    "[kapture] comment_sub_status must not be empty (the "
		    "Update API requires one)");
	if (c->connect_timeout < 1)
		diag_error(d, f, 0, "[kapture] connect_timeout must be at least 1s");
	if (c->title_max < 16)
		diag_error(d, f, 0, "[limits] title_max must be at least 16");
	if (c->details_max < 64 || c->field_max < 64)
		diag_error(d, f, 0, "[limits] details_max and field_max must "
		    "be at least 64");
	if (c->max_line < 256 || c->max_line > 64 * 1024 * 1024)
		diag_error(d, f, 0, "[input] max_line must be 256..64m");
	if (c->match_limit < 1000)
		diag_error(d, f, 0, "[limits] match_limit must be at least 1000");
}

/* The token is a secret: strip it, never print it. */
static char *
conf_trim_token(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	/* "Basic xyz" pasted from the docs: keep the token only. */
	if (!strncasecmp(s, "Basic ", 6))
		s += 6;
	return s;
}

bool
conf_load_token(struct conf *c, struct diags *d)
{
	char raw[4096], *t;
	const char *env;
	struct stat sb;
	ssize_t n;
	int fd;

	if (c->token_file != NULL) {
		fd = open(c->token_file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			diag_error(d, c->path, conf_line(c, "kapture",
			    "token_file"), "[kapture] token_file %s: cannot "
			    "read: %s", c->token_file, strerror(errno));
			return false;
		}
		if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
			diag_error(d, c->path, conf_line(c, "kapture",
			    "token_file"), "[kapture] token_file %s is not a "
			    "regular file", c->token_file);
			close(fd);
			return false;
		}
		if ((sb.st_mode & S_IROTH) && !c->allow_readable_token) {
			diag_error(d, c->path, conf_line(c, "kapture",
			    "token_file"), "[kapture] token_file %s is readable "
			    "by every user: chmod 600 it (or set "
			    "allow_readable_token = yes)", c->token_file);
			close(fd);
			return false;
		}
		if (sb.st_mode & (S_IRGRP | S_IROTH))
			diag_warn(d, c->path, 0, "[kapture] token_file %s is "
			    "readable by %s; chmod 600 it", c->token_file,
			    (sb.st_mode & S_IROTH) ? "every user" : "its group");
		n = read(fd, raw, sizeof(raw) - 1);
		close(fd);
		if (n < 0) {
			diag_error(d, c->path, 0, "[kapture] token_file %s: "
			    "cannot read: %s", c->token_file, strerror(errno));
			return false;
		}
		raw[n] = '\0';
		t = conf_trim_token(raw);
		if (*t == '\0' || strpbrk(t, "\r\n") != NULL) {
			diag_error(d, c->path, 0, "[kapture] token_file %s: "
			    "expected one line holding the token", c->token_file);
			memset(raw, 0, sizeof(raw));
			return false;
		}
		free(c->token);
		c->token = xstrdup(t);
		c->token_source = "token_file";
		secret_protect_process();
		memset(raw, 0, sizeof(raw));
		return true;
	}
	if ((env = getenv("KAPTURE_TOKEN")) != NULL && *env != '\0') {
		snprintf(raw, sizeof(raw), "%s", env);
		/* unsetenv() drops the pointer, not the bytes, which
		 * /proc/PID/environ still shows: wipe them first. */
		explicit_bzero((char *)env, strlen(env));
		t = conf_trim_token(raw);
		free(c->token);
		c->token = xstrdup(t);
		c->token_source = "KAPTURE_TOKEN";
		secret_protect_process();
		memset(raw, 0, sizeof(raw));
		/* Children (curl never forks, but hooks might) must not
		 * inherit it. */
		unsetenv("KAPTURE_TOKEN");
		return *c->token != '\0';
	}
	return false;
}

char *
conf_path(const struct conf *c, const char *p)
{
	if (*p == '/' || c->dir == NULL)
		return xstrdup(p);
	while (p[0] == '.' && p[1] == '/')
		p += 2;
	if (p[0] == '\0' || (p[0] == '.' && p[1] == '\0'))
		return xstrdup(c->dir);
	if (!strcmp(c->dir, "."))
		return xstrdup(p);
	if (c->dir[strlen(c->dir) - 1] == '/')
		return xasprintf("%s%s", c->dir, p);
	return xasprintf("%s/%s", c->dir, p);
}

void
conf_set_rule_paths(struct conf *c, char **paths, size_t n)
{
	size_t i;

	conf_free_paths(c);
	c->rule_paths = xcalloc(n, sizeof(*c->rule_paths));
	for (i = 0; i < n; i++)
		c->rule_paths[i] = xstrdup(paths[i]);
	c->nrule_paths = n;
}

void
conf_print_help(FILE *fp)
{
	const char *section = "";
	size_t i;

	for (i = 0; i < NOPTIONS; i++) {
		const struct conf_option *o = &conf_options[i];

		if (strcmp(section, o->section)) {
			fprintf(fp, "%s[%s]\n", i ? "\n" : "", o->section);
			section = o->section;
		}
		fprintf(fp, "  %-20s %s%s%s\n", o->key, o->help,
		    o->def ? "; default " : "", o->def ? o->def : "");
	}
	fprintf(fp, "\n[defaults]\n  any rule key       applies to every rule that does not set it\n");
	fprintf(fp, "\n[rules]\n  path               a *.rules file or a directory of them (relative to this file); may repeat\n");
}
