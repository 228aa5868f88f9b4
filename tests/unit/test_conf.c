/*
 * test_conf.c: the main config: defaults, every option type, errors as
 * file:line, URL checks and the token.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "t_diags.h"

#include "conf.h"
#include "diag.h"
#include "input.h"

#define CONF_NAME "/etc/omk/omkapture.conf"

/* Load text on top of the defaults, returning the config and its errors. */
static struct conf *
t_load(const char *text, struct diags *d, size_t *nerr)
{
	struct conf *c = conf_new();
	size_t n;

	diags_init(d);
	n = conf_load_buf(c, CONF_NAME, text, strlen(text), d);
	if (nerr != NULL)
		*nerr = n;
	return c;
}

/* One bad line: the exact diagnostic it gives. */
static void
t_check_one_error(const char *text, const char *want)
{
	struct diags d;
	size_t n;
	struct conf *c = t_load(text, &d, &n);

	assert_int_equal(n, 1);
	assert_int_equal(d.errors, 1);
	assert_int_equal(d.warnings, 0);
	t_assert_diags(&d, want);
	diags_free(&d);
	conf_free(c);
}

static void
test_defaults(void **state)
{
	struct conf *c = conf_new();

	assert_null(c->path);
	assert_null(c->dir);
	assert_null(c->url);
	assert_null(c->token_file);
	assert_false(c->body_object);
	assert_null(c->update_url);
	assert_null(c->ca_file);
	assert_int_equal(c->timeout, 30);
	assert_int_equal(c->connect_timeout, 10);
	assert_int_equal(c->concurrency, 4);
	assert_string_equal(c->ref_field, "omkapture_ref");
	assert_false(c->allow_insecure_http);
	assert_string_equal(c->spool_dir, "/var/lib/omkapture");
	assert_int_equal(c->spool_max, 10000);
	assert_int_equal(c->spool_max_bytes, 100 * 1024 * 1024);
	assert_int_equal(c->max_tickets, 0);
	assert_int_equal(c->max_tickets_period, 0);
	assert_int_equal(c->title_max, 255);
	assert_int_equal(c->details_max, 64 * 1024);
	assert_int_equal(c->field_max, 4 * 1024);
	assert_int_equal(c->match_limit, 1000000);
	assert_int_equal(c->format, INPUT_AUTO);
	assert_int_equal(c->max_line, 64 * 1024);
	assert_int_equal(c->ndefaults, 0);
	assert_null(c->defaults);
	assert_int_equal(c->nrule_paths, 0);
	assert_null(c->token);
	assert_null(c->token_source);
	conf_free(c);
	conf_free(NULL);
}

static void
test_defaults_validate(void **state)
{
	struct conf *c = conf_new();
	struct diags d;

	/* The built-in defaults are valid, except that a URL is needed. */
	diags_init(&d);
	conf_validate(c, &d, false);
	assert_int_equal(d.n, 0);
	conf_validate(c, &d, true);
	t_assert_diags(&d, "error: [kapture] url is not set\n");
	diags_free(&d);
	conf_free(c);
}

static const char full_conf[] =
    "# a comment\n"
    "; another\n"
    "   # indented comment\n"
    "\n"
    "[kapture]\n"
    "url = https://acme.kapturecrm.com/add-ticket-from-other-source.html/v.2.0\n"
    "token_file = secret/token\n"
    "body = object\n"
    "update_url = https://acme.kapturecrm.com/update-ticket-from-other-source.html/v.2.0\n"
    "ca_file = /etc/ssl/ca.pem\n"
    "timeout = 1m\n"
    "connect_timeout = 5s\n"
    "concurrency = 8\n"
    "ref_field = my_ref\n"
    "allow_insecure_http = yes\n"
    "[spool]\n"
    "dir = spool\n"
    "max = 500\n"
    "max_bytes = 2g\n"
    "[limits]\n"
    "max_tickets = 60/1h\n"
    "title_max = 100\n"
    "details_max = 32k\n"
    "field_max = 1024\n"
    "match_limit = 5000\n"
    "[input]\n"
    "format = journal-json\n"
    "max_line = 1m\n"
    "[defaults]\n"
    "email = noc@example.com\n"
    "due = +1d\n"
    "[rules]\n"
    "path = rules.d\n"
    "path = /abs/other.rules\n"
    "path = ./local.rules\n";

static void
test_every_option(void **state)
{
	struct diags d;
	size_t n;
	struct conf *c = t_load(full_conf, &d, &n);

	assert_int_equal(n, 0);
	assert_int_equal(d.n, 0);
	assert_string_equal(c->path, CONF_NAME);
	assert_string_equal(c->dir, "/etc/omk");
	assert_string_equal(c->url,
	    "https://acme.kapturecrm.com/add-ticket-from-other-source.html/v.2.0");
	/* Paths are relative to the config's directory. */
	assert_string_equal(c->token_file, "/etc/omk/secret/token");
	assert_true(c->body_object);
	assert_string_equal(c->update_url,
	    "https://acme.kapturecrm.com/update-ticket-from-other-source.html/v.2.0");
	assert_string_equal(c->ca_file, "/etc/ssl/ca.pem");
	assert_int_equal(c->timeout, 60);
	assert_int_equal(c->connect_timeout, 5);
	assert_int_equal(c->concurrency, 8);
	assert_string_equal(c->ref_field, "my_ref");
	assert_true(c->allow_insecure_http);
	assert_string_equal(c->spool_dir, "/etc/omk/spool");
	assert_int_equal(c->spool_max, 500);
	assert_int_equal(c->spool_max_bytes, 2LL * 1024 * 1024 * 1024);
	assert_int_equal(c->max_tickets, 60);
	assert_int_equal(c->max_tickets_period, 3600);
	assert_int_equal(c->title_max, 100);
	assert_int_equal(c->details_max, 32 * 1024);
	assert_int_equal(c->field_max, 1024);
	assert_int_equal(c->match_limit, 5000);
	assert_int_equal(c->format, INPUT_JOURNAL_JSON);
	assert_int_equal(c->max_line, 1024 * 1024);

	assert_int_equal(c->ndefaults, 2);
	assert_string_equal(c->defaults[0].key, "email");
	assert_string_equal(c->defaults[0].value, "noc@example.com");
	assert_string_equal(c->defaults[0].file, CONF_NAME);
	assert_int_equal(c->defaults[0].line, 30);
	assert_string_equal(c->defaults[1].key, "due");
	assert_string_equal(c->defaults[1].value, "+1d");
	assert_int_equal(c->defaults[1].line, 31);

	assert_int_equal(c->nrule_paths, 3);
	assert_string_equal(c->rule_paths[0], "/etc/omk/rules.d");
	assert_string_equal(c->rule_paths[1], "/abs/other.rules");
	assert_string_equal(c->rule_paths[2], "/etc/omk/local.rules");

	conf_validate(c, &d, true);
	assert_int_equal(d.n, 0);
	diags_free(&d);
	conf_free(c);
}

static void
test_option_value_forms(void **state)
{
	struct diags d;
	struct conf *c = t_load(
	    "[kapture]\n"
	    "body = array\n"
	    "timeout = 1h30m\n"
	    "allow_insecure_http = off\n"
	    "ca_file =\n"
	    "[spool]\n"
	    "max_bytes = 64kb\n"
	    "max = 0\n"
	    "[limits]\n"
	    "max_tickets = off\n"
	    "details_max = 1M\n"
	    "[input]\n"
	    "format = rsyslog-json\n"
	    "max_line = 4096\n", &d, NULL);

	assert_int_equal(d.n, 0);
	assert_false(c->body_object);
	assert_int_equal(c->timeout, 5400);
	assert_false(c->allow_insecure_http);
	assert_null(c->ca_file);        /* empty: unset */
	assert_int_equal(c->spool_max_bytes, 64 * 1024);
	assert_int_equal(c->spool_max, 0);
	assert_int_equal(c->max_tickets, 0);
	assert_int_equal(c->max_tickets_period, 0);
	assert_int_equal(c->details_max, 1024 * 1024);
	assert_int_equal(c->format, INPUT_RSYSLOG_JSON);
	assert_int_equal(c->max_line, 4096);
	diags_free(&d);
	conf_free(c);

	c = t_load("[kapture]\nallow_insecure_http = TRUE\n"
	    "[input]\nformat = plain\n", &d, NULL);
	assert_int_equal(d.n, 0);
	assert_true(c->allow_insecure_http);
	assert_int_equal(c->format, INPUT_PLAIN);
	diags_free(&d);
	conf_free(c);
}

static void
test_relative_dirs(void **state)
{
	struct diags d;
	struct conf *c = conf_new();
	static const char text[] = "[rules]\npath = rules.d\npath = .\n"
	    "[spool]\ndir = ./spool\n";

	/* A config name without a directory: paths stay relative. */
	diags_init(&d);
	assert_int_equal(conf_load_buf(c, "omk.conf", text, strlen(text), &d), 0);
	assert_string_equal(c->dir, ".");
	assert_int_equal(c->nrule_paths, 2);
	assert_string_equal(c->rule_paths[0], "rules.d");
	assert_string_equal(c->rule_paths[1], ".");
	assert_string_equal(c->spool_dir, "spool");
	diags_free(&d);
	conf_free(c);

	c = conf_new();
	diags_init(&d);
	assert_int_equal(conf_load_buf(c, "conf/omk.conf", text, strlen(text),
	    &d), 0);
	assert_string_equal(c->dir, "conf");
	assert_string_equal(c->rule_paths[0], "conf/rules.d");
	assert_string_equal(c->rule_paths[1], "conf");
	assert_string_equal(c->spool_dir, "conf/spool");
	diags_free(&d);
	conf_free(c);
}

/*
 * Regression test for a fixed bug (cosmetic, conf.c conf_path: xasprintf("%s/%s", c->dir, p) when
 * c->dir is "/"): a config in the root directory turns "rules.d" into
 * "//rules.d", which then shows in every diagnostic. Fix: no extra '/'
 * when dir already ends with one.
 */
static void
test_conf_path_root_dir(void **state)
{
	struct conf *c = conf_new();
	struct diags d;
	static const char text[] = "[rules]\npath = rules.d\n";

	diags_init(&d);
	assert_int_equal(conf_load_buf(c, "/omk.conf", text, strlen(text), &d),
	    0);
	assert_string_equal(c->dir, "/");
	assert_string_equal(c->rule_paths[0], "/rules.d");
	diags_free(&d);
	conf_free(c);
}

static void
test_conf_path(void **state)
{
	struct diags d;
	struct conf *c = t_load("", &d, NULL);
	char *p;

	p = conf_path(c, "x.rules");
	assert_string_equal(p, "/etc/omk/x.rules");
	free(p);
	p = conf_path(c, "/abs/x");
	assert_string_equal(p, "/abs/x");
	free(p);
	p = conf_path(c, "././x");
	assert_string_equal(p, "/etc/omk/x");
	free(p);
	p = conf_path(c, "../x");
	assert_string_equal(p, "/etc/omk/../x");
	free(p);
	diags_free(&d);
	conf_free(c);

	/* Without a config file, nothing is rewritten. */
	c = conf_new();
	p = conf_path(c, "x.rules");
	assert_string_equal(p, "x.rules");
	free(p);
	conf_free(c);
}

static void
test_rule_paths_replaced(void **state)
{
	struct diags d;
	struct conf *c = t_load("[rules]\npath = a\npath = b\n", &d, NULL);
	char *paths[] = { "x.rules", "/y" };

	assert_int_equal(c->nrule_paths, 2);
	conf_set_rule_paths(c, paths, 2);
	assert_int_equal(c->nrule_paths, 2);
	assert_string_equal(c->rule_paths[0], "x.rules");
	assert_string_equal(c->rule_paths[1], "/y");
	assert_ptr_not_equal(c->rule_paths[0], paths[0]);
	conf_set_rule_paths(c, NULL, 0);
	assert_int_equal(c->nrule_paths, 0);
	diags_free(&d);
	conf_free(c);
}

static void
test_unknown_section(void **state)
{
	/* Keys of an unknown section are not reported one by one. */
	t_check_one_error("[kapture]\nconcurrency = 2\n\n[sshd]\nmatch = x\n"
	    "title = y\n",
	    CONF_NAME ":4: error: unknown section [sshd] (rules belong in "
	    "*.rules files)\n");
}

static void
test_unknown_key(void **state)
{
	t_check_one_error("[kapture]\nurl = https://a.example/\ncolour = red\n",
	    CONF_NAME ":3: error: unknown key \"colour\" in [kapture]\n");
	t_check_one_error("[spool]\ntimeout = 5s\n",
	    CONF_NAME ":2: error: unknown key \"timeout\" in [spool]\n");
	t_check_one_error("[rules]\ndir = /x\n",
	    CONF_NAME ":2: error: unknown key \"dir\" in [rules] "
	    "(expected path)\n");
}

static void
test_duplicate_key(void **state)
{
	t_check_one_error("[kapture]\ntimeout = 5s\n\ntimeout = 7s\n",
	    CONF_NAME ":4: error: [kapture] timeout set twice\n");
	/* [rules] path may repeat, [defaults] is checked by rules.c. */
	t_check_one_error("[rules]\npath = a\npath = b\n[x]\n",
	    CONF_NAME ":4: error: unknown section [x] (rules belong in "
	    "*.rules files)\n");
}

static void
test_syntax_errors(void **state)
{
	t_check_one_error("timeout = 5s\n",
	    CONF_NAME ":1: error: \"timeout\" outside any [section]\n");
	t_check_one_error("[kapture]\njust words\n",
	    CONF_NAME ":2: error: expected \"key = value\" or \"[section]\"\n");
	t_check_one_error("[kapture]\n= value\n",
	    CONF_NAME ":2: error: expected \"key = value\" or \"[section]\"\n");
	t_check_one_error("[kapture\n",
	    CONF_NAME ":1: error: malformed section header (expected [name])\n");
	t_check_one_error("[]\n",
	    CONF_NAME ":1: error: malformed section header (expected [name])\n");
}

static void
test_bad_values(void **state)
{
	t_check_one_error("[kapture]\ntimeout = 5x\n",
	    CONF_NAME ":2: error: [kapture] timeout: bad value \"5x\": "
	    "expected a duration like 90s, 10m, 4h, 2d\n");
	t_check_one_error("[kapture]\nconcurrency = 4k\n",
	    CONF_NAME ":2: error: [kapture] concurrency: bad value \"4k\": "
	    "expected a whole number\n");
	t_check_one_error("[kapture]\nconcurrency = -1\n",
	    CONF_NAME ":2: error: [kapture] concurrency: bad value \"-1\": "
	    "expected a whole number\n");
	t_check_one_error("[kapture]\nbody = json\n",
	    CONF_NAME ":2: error: [kapture] body: bad value \"json\": "
	    "expected array or object\n");
	t_check_one_error("[kapture]\nallow_insecure_http = maybe\n",
	    CONF_NAME ":2: error: [kapture] allow_insecure_http: bad value "
	    "\"maybe\": expected yes or no\n");
	t_check_one_error("[spool]\nmax_bytes = 10q\n",
	    CONF_NAME ":2: error: [spool] max_bytes: bad value \"10q\": "
	    "expected a size like 65536, 64k, 1m\n");
	t_check_one_error("[limits]\nmax_tickets = 60\n",
	    CONF_NAME ":2: error: [limits] max_tickets: bad value \"60\": "
	    "expected N/DURATION like 60/1h, or 0\n");
	t_check_one_error("[limits]\nmax_tickets = 0/1h\n",
	    CONF_NAME ":2: error: [limits] max_tickets: bad value \"0/1h\": "
	    "expected N/DURATION like 60/1h, or 0\n");
	t_check_one_error("[limits]\nmax_tickets = 60/0s\n",
	    CONF_NAME ":2: error: [limits] max_tickets: bad value \"60/0s\": "
	    "expected N/DURATION like 60/1h, or 0\n");
	t_check_one_error("[limits]\nmax_tickets = 6k/1h\n",
	    CONF_NAME ":2: error: [limits] max_tickets: bad value \"6k/1h\": "
	    "expected N/DURATION like 60/1h, or 0\n");
	t_check_one_error("[input]\nformat = xml\n",
	    CONF_NAME ":2: error: [input] format: bad value \"xml\": "
	    "expected auto, plain, rsyslog-json or journal-json\n");
}

static void
test_comment_hint(void **state)
{
	t_check_one_error("[kapture]\ntimeout = 30s   # thirty seconds\n",
	    CONF_NAME ":2: error: [kapture] timeout: bad value "
	    "\"30s   # thirty seconds\": expected a duration like 90s, 10m, "
	    "4h, 2d (comments are only allowed at the start of a line)\n");
	t_check_one_error("[kapture]\nbody = array ; default\n",
	    CONF_NAME ":2: error: [kapture] body: bad value "
	    "\"array ; default\": expected array or object (comments are "
	    "only allowed at the start of a line)\n");
}

static void
test_comment_in_string_kept(void **state)
{
	struct diags d;
	struct conf *c = t_load("[kapture]\nref_field = a#b ;c\n", &d, NULL);

	/* '#' and ';' inside a value are data. */
	assert_int_equal(d.n, 0);
	assert_string_equal(c->ref_field, "a#b ;c");
	diags_free(&d);
	conf_free(c);
}

static void
test_all_errors_at_once(void **state)
{
	struct diags d;
	size_t n;
	struct conf *c = t_load(
	    "[kapture]\n"
	    "timeout = never\n"
	    "colour = red\n"
	    "concurrency = 2\n"
	    "concurrency = 3\n"
	    "[bogus]\n"
	    "a = b\n"
	    "[input]\n"
	    "max_line = huge\n", &d, &n);

	assert_int_equal(n, 5);
	t_assert_diags(&d,
	    CONF_NAME ":2: error: [kapture] timeout: bad value \"never\": "
	    "expected a duration like 90s, 10m, 4h, 2d\n"
	    CONF_NAME ":3: error: unknown key \"colour\" in [kapture]\n"
	    CONF_NAME ":5: error: [kapture] concurrency set twice\n"
	    CONF_NAME ":6: error: unknown section [bogus] (rules belong in "
	    "*.rules files)\n"
	    CONF_NAME ":9: error: [input] max_line: bad value \"huge\": "
	    "expected a size like 65536, 64k, 1m\n");
	/* A bad value keeps the default. */
	assert_int_equal(c->timeout, 30);
	assert_int_equal(c->max_line, 64 * 1024);
	diags_free(&d);
	conf_free(c);
}

static void
test_validate(void **state)
{
	struct diags d;
	struct conf *c = t_load(
	    "[kapture]\n"
	    "url = http://example.com/add\n"
	    "update_url = ftp://example.com/update\n"
	    "ref_field =\n"
	    "concurrency = 0\n"
	    "timeout = 0s\n"
	    "connect_timeout = 0\n"
	    "[limits]\n"
	    "title_max = 15\n"
	    "field_max = 63\n"
	    "match_limit = 999\n"
	    "[input]\n"
	    "max_line = 255\n", &d, NULL);

	assert_int_equal(d.n, 0);
	conf_validate(c, &d, true);
	t_assert_diags(&d,
	    CONF_NAME ":2: error: [kapture] url \"http://example.com/add\": "
	    "plain http:// is refused for non-loopback hosts (the token "
	    "would travel in clear); use https:// or set "
	    "allow_insecure_http = yes\n"
	    CONF_NAME ":3: error: [kapture] update_url \"ftp://example.com/update\": "
	    "URL must start with https:// (or http:// for a loopback test "
	    "server)\n"
	    CONF_NAME ": error: [kapture] ref_field must not be empty\n"
	    CONF_NAME ": error: [kapture] concurrency must be 1..256\n"
	    CONF_NAME ": error: [kapture] timeout must be at least 1s\n"
	    CONF_NAME ": error: [kapture] connect_timeout must be at least 1s\n"
	    CONF_NAME ": error: [limits] title_max must be at least 16\n"
	    CONF_NAME ": error: [limits] details_max and field_max must be at "
	    "least 64\n"
	    CONF_NAME ": error: [input] max_line must be 256..64m\n"
	    CONF_NAME ": error: [limits] match_limit must be at least 1000\n");
	diags_free(&d);
	conf_free(c);

	/* The smallest accepted values. */
	c = t_load("[kapture]\nurl = http://127.0.0.1:8080/add\nconcurrency = 256\n"
	    "[limits]\ntitle_max = 16\nfield_max = 64\ndetails_max = 64\n"
	    "match_limit = 1000\n[input]\nmax_line = 256\n", &d, NULL);
	conf_validate(c, &d, true);
	assert_int_equal(d.n, 0);
	diags_free(&d);
	conf_free(c);
}

/* conf_check_url */

#define URL_HTTP_REFUSED "plain http:// is refused for non-loopback hosts " \
	"(the token would travel in clear); use https:// or set " \
	"allow_insecure_http = yes"
#define URL_NO_SCHEME "URL must start with https:// (or http:// for a " \
	"loopback test server)"
#define URL_CREDS "URL must not carry credentials (use token_file)"

static void
t_check_url(const char *url, bool allow, const char *want)
{
	const char *why = conf_check_url(url, allow);

	if (want == NULL && why != NULL)
		fail_msg("%s refused: %s", url, why);
	if (want != NULL && (why == NULL || strcmp(why, want) != 0))
		fail_msg("%s: got \"%s\", want \"%s\"", url,
		    why ? why : "(accepted)", want);
}

static void
test_check_url(void **state)
{
	t_check_url("https://acme.kapturecrm.com/add-ticket-from-other-source.html/v.2.0",
	    false, NULL);
	t_check_url("HTTPS://acme.kapturecrm.com/x", false, NULL);
	t_check_url("https://acme.kapturecrm.com:8443/x?y=1", false, NULL);
	t_check_url("https://acme.kapturecrm.com", false, NULL);

	/* Plain http to loopback: the mock server. */
	t_check_url("http://127.0.0.1/add", false, NULL);
	t_check_url("http://127.0.0.1:8080/add", false, NULL);
	t_check_url("http://127.0.0.53:1", false, NULL);
	t_check_url("http://localhost/add", false, NULL);
	t_check_url("http://localhost:9000/add", false, NULL);
	t_check_url("http://LocalHost:9000", false, NULL);
	t_check_url("http://[::1]:8080/add", false, NULL);
	t_check_url("http://[::1]/add", false, NULL);
	t_check_url("http://[::1]", false, NULL);

	/* Plain http elsewhere: only when allowed. */
	t_check_url("http://acme.kapturecrm.com/add", false, URL_HTTP_REFUSED);
	t_check_url("http://acme.kapturecrm.com/add", true, NULL);
	t_check_url("http://10.0.0.1:8080/add", false, URL_HTTP_REFUSED);
	t_check_url("http://localhost.example.com/", false, URL_HTTP_REFUSED);
	t_check_url("http://localhostx/", false, URL_HTTP_REFUSED);
	t_check_url("http://[::2]:8080/", false, URL_HTTP_REFUSED);
	t_check_url("http://128.0.0.1/", false, URL_HTTP_REFUSED);
	/* The host ends at '/', '?' or '#'. */
	t_check_url("http://example.com?localhost", false, URL_HTTP_REFUSED);
	t_check_url("http://example.com#127.0.0.1", false, URL_HTTP_REFUSED);

	/* Credentials, whatever the scheme or the allowance. */
	t_check_url("https://user:pw@acme.kapturecrm.com/x", false, URL_CREDS);
	t_check_url("https://token@acme.kapturecrm.com/x", false, URL_CREDS);
	t_check_url("http://user:pw@127.0.0.1:8080/x", true, URL_CREDS);
	t_check_url("http://localhost@example.com/", false, URL_CREDS);
	/* ... but an '@' in the path is not a credential. */
	t_check_url("https://acme.kapturecrm.com/a@b", false, NULL);

	/* No scheme, or another one. */
	t_check_url("acme.kapturecrm.com/add", false, URL_NO_SCHEME);
	t_check_url("ftp://acme.kapturecrm.com/add", false, URL_NO_SCHEME);
	t_check_url("https:/acme.kapturecrm.com", false, URL_NO_SCHEME);
	t_check_url("", false, URL_NO_SCHEME);

	t_check_url("https://", false, "URL has no host");
	t_check_url("https:///add", false, "URL has no host");
	t_check_url("https://acme.kapturecrm.com/a b", false,
	    "URL contains white space");
	t_check_url("https://acme.kapturecrm.com/a\n", false,
	    "URL contains white space");
}

/*
 * Regression test for a fixed bug (conf.c, conf_is_loopback, conf_is_loopback): any host name that merely starts
 * with "127." counts as loopback, so plain http:// (and the token with
 * it) is allowed to "127.0.0.1.evil.example" or "127.attacker.net",
 * which are ordinary DNS names. Fix: accept only an IPv4 literal in
 * 127.0.0.0/8 (inet_pton(AF_INET) on the host, then first octet 127).
 */
static void
test_check_url_127_prefix_name(void **state)
{
	t_check_url("http://127.0.0.1.evil.example/add", false, URL_HTTP_REFUSED);
	t_check_url("http://127.attacker.net:8080/add", false, URL_HTTP_REFUSED);
}

/* Tokens */

struct tmpdir {
	char dir[64];
	char token[96];
	char conf[96];
};

static int
setup_tmp(void **state)
{
	struct tmpdir *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/omk-test-conf.XXXXXX");
	if (mkdtemp(t->dir) == NULL) {
		free(t);
		return -1;
	}
	snprintf(t->token, sizeof(t->token), "%s/token", t->dir);
	snprintf(t->conf, sizeof(t->conf), "%s/omk.conf", t->dir);
	unsetenv("KAPTURE_TOKEN");
	*state = t;
	return 0;
}

static int
teardown_tmp(void **state)
{
	struct tmpdir *t = *state;

	unlink(t->token);
	unlink(t->conf);
	rmdir(t->dir);
	free(t);
	unsetenv("KAPTURE_TOKEN");
	return 0;
}

static void
t_write_file(const char *path, const char *text, mode_t mode)
{
	FILE *fp;

	unlink(path);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* A config naming the token file by absolute path. */
static struct conf *
t_token_conf(const struct tmpdir *t, struct diags *d)
{
	char text[256];

	snprintf(text, sizeof(text), "[kapture]\ntoken_file = %s\n", t->token);
	return t_load(text, d, NULL);
}

static void
test_token_file(void **state)
{
	struct tmpdir *t = *state;
	struct diags d;
	struct conf *c;

	t_write_file(t->token, "  s3cr3t-Token_1  \n", 0600);
	c = t_token_conf(t, &d);
	assert_string_equal(c->token_file, t->token);
	assert_true(conf_load_token(c, &d));
	assert_int_equal(d.n, 0);
	assert_string_equal(c->token, "s3cr3t-Token_1");
	assert_string_equal(c->token_source, "token_file");
	diags_free(&d);
	conf_free(c);

	/* "Basic " pasted from the API docs is dropped. */
	t_write_file(t->token, "Basic dG9rZW46c2VjcmV0\r\n", 0600);
	c = t_token_conf(t, &d);
	assert_true(conf_load_token(c, &d));
	assert_int_equal(d.n, 0);
	assert_string_equal(c->token, "dG9rZW46c2VjcmV0");
	diags_free(&d);
	conf_free(c);

	t_write_file(t->token, "basic abc", 0400);
	c = t_token_conf(t, &d);
	assert_true(conf_load_token(c, &d));
	assert_string_equal(c->token, "abc");
	diags_free(&d);
	conf_free(c);
}

static void
test_token_file_relative(void **state)
{
	struct tmpdir *t = *state;
	struct diags d;
	struct conf *c = conf_new();

	/* token_file relative to the config's own directory. */
	t_write_file(t->token, "rel-token\n", 0600);
	t_write_file(t->conf, "[kapture]\ntoken_file = token\n", 0600);
	diags_init(&d);
	assert_int_equal(conf_load(c, t->conf, &d), 0);
	assert_string_equal(c->path, t->conf);
	assert_string_equal(c->dir, t->dir);
	assert_string_equal(c->token_file, t->token);
	assert_true(conf_load_token(c, &d));
	assert_string_equal(c->token, "rel-token");
	assert_int_equal(d.n, 0);
	diags_free(&d);
	conf_free(c);
}

static void
test_token_file_multiline(void **state)
{
	struct tmpdir *t = *state;
	struct diags d;
	struct conf *c;
	char want[512];

	snprintf(want, sizeof(want), CONF_NAME ": error: [kapture] token_file "
	    "%s: expected one line holding the token\n", t->token);

	t_write_file(t->token, "first\nsecond\n", 0600);
	c = t_token_conf(t, &d);
	assert_false(conf_load_token(c, &d));
	assert_null(c->token);
	assert_null(c->token_source);
	t_assert_diags(&d, want);
	diags_free(&d);
	conf_free(c);

	/* Empty or blank is no token either. */
	t_write_file(t->token, " \n\n", 0600);
	c = t_token_conf(t, &d);
	assert_false(conf_load_token(c, &d));
	assert_null(c->token);
	t_assert_diags(&d, want);
	diags_free(&d);
	conf_free(c);

	t_write_file(t->token, "", 0600);
	c = t_token_conf(t, &d);
	assert_false(conf_load_token(c, &d));
	t_assert_diags(&d, want);
	diags_free(&d);
	conf_free(c);
}

static void
test_token_file_world_readable(void **state)
{
	struct tmpdir *t = *state;
	struct diags d;
	struct conf *c;
	char want[512];

	/* Readable by every user: refused, naming the way out. */
	t_write_file(t->token, "tok\n", 0644);
	c = t_token_conf(t, &d);
	assert_false(conf_load_token(c, &d));
	assert_null(c->token);
	assert_int_equal(d.errors, 1);
	snprintf(want, sizeof(want), CONF_NAME ":2: error: [kapture] "
	    "token_file %s is readable by every user: chmod 600 it (or set "
	    "allow_readable_token = yes)\n", t->token);
	t_assert_diags(&d, want);
	diags_free(&d);
	conf_free(c);

	/* allow_readable_token = yes: taken, with a warning. */
	c = t_token_conf(t, &d);
	c->allow_readable_token = true;
	assert_true(conf_load_token(c, &d));
	assert_string_equal(c->token, "tok");
	assert_int_equal(d.errors, 0);
	assert_int_equal(d.warnings, 1);
	snprintf(want, sizeof(want), CONF_NAME ": warning: [kapture] "
	    "token_file %s is readable by every user; chmod 600 it\n",
	    t->token);
	t_assert_diags(&d, want);
	diags_free(&d);
	conf_free(c);

	/* Group-readable: taken, with a warning. */
	t_write_file(t->token, "tok\n", 0640);
	c = t_token_conf(t, &d);
	assert_true(conf_load_token(c, &d));
	assert_int_equal(d.errors, 0);
	snprintf(want, sizeof(want), CONF_NAME ": warning: [kapture] "
	    "token_file %s is readable by its group; chmod 600 it\n",
	    t->token);
	t_assert_diags(&d, want);
	diags_free(&d);
	conf_free(c);
}

static void
test_token_file_missing(void **state)
{
	struct tmpdir *t = *state;
	struct diags d;
	struct conf *c;
	char want[512];

	unlink(t->token);
	setenv("KAPTURE_TOKEN", "from-env", 1);
	c = t_token_conf(t, &d);
	/* A named token_file that is missing is an error, not a reason to
	 * fall back to the environment. */
	assert_false(conf_load_token(c, &d));
	assert_null(c->token);
	/* Reported at the token_file line. */
	snprintf(want, sizeof(want), CONF_NAME ":2: error: [kapture] "
	    "token_file %s: cannot read: No such file or directory\n",
	    t->token);
	t_assert_diags(&d, want);
	diags_free(&d);
	conf_free(c);
	unsetenv("KAPTURE_TOKEN");
}

static void
test_token_env(void **state)
{
	struct diags d;
	struct conf *c = conf_new();

	diags_init(&d);
	setenv("KAPTURE_TOKEN", "  Basic env-token  ", 1);
	assert_true(conf_load_token(c, &d));
	assert_string_equal(c->token, "env-token");
	assert_string_equal(c->token_source, "KAPTURE_TOKEN");
	assert_int_equal(d.n, 0);
	/* Children must not inherit it. */
	assert_null(getenv("KAPTURE_TOKEN"));
	/* ... so a second load finds none (and keeps what it had). */
	assert_false(conf_load_token(c, &d));
	assert_string_equal(c->token, "env-token");
	assert_int_equal(d.n, 0);
	diags_free(&d);
	conf_free(c);
}

static void
test_token_none(void **state)
{
	struct diags d;
	struct conf *c = conf_new();

	diags_init(&d);
	unsetenv("KAPTURE_TOKEN");
	assert_false(conf_load_token(c, &d));
	assert_null(c->token);
	assert_int_equal(d.n, 0);
	setenv("KAPTURE_TOKEN", "", 1);
	assert_false(conf_load_token(c, &d));
	assert_null(c->token);
	assert_int_equal(d.n, 0);
	unsetenv("KAPTURE_TOKEN");
	diags_free(&d);
	conf_free(c);
}

static void
test_token_file_precedence(void **state)
{
	struct tmpdir *t = *state;
	struct diags d;
	struct conf *c;

	t_write_file(t->token, "from-file\n", 0600);
	setenv("KAPTURE_TOKEN", "from-env", 1);
	c = t_token_conf(t, &d);
	assert_true(conf_load_token(c, &d));
	assert_string_equal(c->token, "from-file");
	assert_string_equal(c->token_source, "token_file");
	diags_free(&d);
	conf_free(c);
	unsetenv("KAPTURE_TOKEN");
}

static void
test_conf_load_missing_file(void **state)
{
	struct tmpdir *t = *state;
	struct diags d;
	struct conf *c = conf_new();
	char want[512];

	diags_init(&d);
	unlink(t->conf);
	assert_int_equal(conf_load(c, t->conf, &d), 1);
	snprintf(want, sizeof(want), "%s: error: cannot read: No such file or "
	    "directory\n", t->conf);
	t_assert_diags(&d, want);
	diags_free(&d);
	conf_free(c);
}

static void
test_conf_load_file_lines(void **state)
{
	struct tmpdir *t = *state;
	struct diags d;
	struct conf *c = conf_new();
	char want[512];

	/* CRLF, a BOM and trailing blanks are tolerated; lines count from 1. */
	t_write_file(t->conf, "\xef\xbb\xbf[kapture]\r\ntimeout = 2m  \r\n"
	    "\r\nbogus = 1\r\n", 0600);
	diags_init(&d);
	assert_int_equal(conf_load(c, t->conf, &d), 1);
	assert_int_equal(c->timeout, 120);
	snprintf(want, sizeof(want), "%s:4: error: unknown key \"bogus\" in "
	    "[kapture]\n", t->conf);
	t_assert_diags(&d, want);
	diags_free(&d);
	conf_free(c);
}

static void
test_parse_size(void **state)
{
	int64_t v = -1;

	assert_true(conf_parse_size("65536", &v));
	assert_int_equal(v, 65536);
	assert_true(conf_parse_size("64k", &v));
	assert_int_equal(v, 65536);
	assert_true(conf_parse_size("64K", &v));
	assert_int_equal(v, 65536);
	assert_true(conf_parse_size("1m", &v));
	assert_int_equal(v, 1048576);
	assert_true(conf_parse_size("1g", &v));
	assert_int_equal(v, 1073741824);
	assert_true(conf_parse_size("2kb", &v));
	assert_int_equal(v, 2048);
	assert_true(conf_parse_size("0", &v));
	assert_int_equal(v, 0);
	v = -1;
	assert_false(conf_parse_size("", &v));
	assert_false(conf_parse_size("k", &v));
	assert_false(conf_parse_size("-5", &v));
	assert_false(conf_parse_size("5t", &v));
	assert_false(conf_parse_size("5kx", &v));
	assert_false(conf_parse_size("99999999999999999999", &v));
	assert_false(conf_parse_size("9000000000000g", &v));
	assert_int_equal(v, -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_defaults_validate),
		cmocka_unit_test(test_every_option),
		cmocka_unit_test(test_option_value_forms),
		cmocka_unit_test(test_relative_dirs),
		cmocka_unit_test(test_conf_path),
		cmocka_unit_test(test_conf_path_root_dir),
		cmocka_unit_test(test_rule_paths_replaced),
		cmocka_unit_test(test_unknown_section),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_comment_hint),
		cmocka_unit_test(test_comment_in_string_kept),
		cmocka_unit_test(test_all_errors_at_once),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_check_url),
		cmocka_unit_test(test_check_url_127_prefix_name),
		cmocka_unit_test_setup_teardown(test_token_file, setup_tmp,
		    teardown_tmp),
		cmocka_unit_test_setup_teardown(test_token_file_relative,
		    setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_token_file_multiline,
		    setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_token_file_world_readable,
		    setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_token_file_missing,
		    setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_token_env, setup_tmp,
		    teardown_tmp),
		cmocka_unit_test_setup_teardown(test_token_none, setup_tmp,
		    teardown_tmp),
		cmocka_unit_test_setup_teardown(test_token_file_precedence,
		    setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_conf_load_missing_file,
		    setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_conf_load_file_lines,
		    setup_tmp, teardown_tmp),
		cmocka_unit_test(test_parse_size),
	};

	setenv("TZ", "UTC", 1);
	tzset();
	setenv("OMKAPTURE_NOW", "1795773600", 1);
	umask(022);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
