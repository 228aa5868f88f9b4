/*
 * conf.h: the main configuration file.
 *
 * One options table (conf.c) drives parsing, defaults and --help-config,
 * after fluent-bit's config_map, so the documentation cannot drift from
 * what the parser accepts.
 */
#ifndef OMK_CONF_H
#define OMK_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "input.h"

#define CONF_DEFAULT_PATH "/etc/omkapture/omkapture.conf"

/* A raw "key = value" with where it came from ([defaults], rule files). */
struct conf_kv {
	char *key;
	char *value;
	char *file;
	int line;
};

struct conf {
	char *path;              /* the config file, NULL if none */
	char *dir;               /* its directory: relative paths start here */

	/* [kapture] */
	char *url;
	char *token_file;
	bool body_object;
	char *update_url;
	char *ca_file;
	int64_t timeout;         /* seconds */
	int64_t connect_timeout; /* seconds */
	int64_t concurrency;
	int64_t retry_max;       /* seconds */
	int64_t auth_retry;      /* seconds */
	char *ref_field;
	bool allow_insecure_http;
	bool allow_readable_token;
	char *comment_sub_status; /* on_repeat = comment: sub_status sent */

	/* [spool] */
	char *spool_dir;
	int64_t spool_max;
	int64_t spool_max_bytes;
	int64_t shutdown_timeout;   /* seconds */

	/* [limits] */
	int64_t max_tickets;        /* 0: no storm guard */
	int64_t max_tickets_period; /* seconds */
	int64_t storm_quiet;        /* seconds without a held ticket */
	int64_t title_max;          /* characters */
	int64_t details_max;        /* bytes */
	int64_t field_max;          /* bytes */
	int64_t match_limit;

	/* [dedup] */
	bool clock_event;           /* event time, not arrival time */
	int64_t max_keys;
	int64_t state_interval;     /* seconds between state saves */

	/* [stats] */
	char *prometheus_file;
	int64_t stats_interval;     /* seconds */

	/* [input] */
	enum input_format format;
	int64_t max_line;           /* bytes */

	/* [defaults]: rule keys applied to every rule */
	struct conf_kv *defaults;
	size_t ndefaults;

	/* [rules] path, in order; -r replaces them */
	char **rule_paths;
	size_t nrule_paths;

	/* Line of each option in the file (0: not set), by table index. */
	int opt_line[64];

	/* The API token, loaded by conf_load_token; never printed. */
	char *token;
	const char *token_source; /* "token_file" or "KAPTURE_TOKEN" */
};

/* Built-in defaults, no file. The caller owns it: conf_free(). */
struct conf *conf_new(void);
void conf_free(struct conf *c);
/*
 * Load path into c (on top of the defaults). Every problem goes to d as
 * file:line; returns the number of errors added.
 */
size_t conf_load(struct conf *c, const char *path, struct diags *d);
/* Load from a buffer (tests, fuzzing). */
size_t conf_load_buf(struct conf *c, const char *name, const char *data,
    size_t len, struct diags *d);
/* Check the combination after loading (URL scheme, required keys). */
void conf_validate(struct conf *c, struct diags *d, bool need_url);
/*
 * Read the token from token_file or the KAPTURE_TOKEN environment
 * variable (which is then removed from the environment, so children never
 * inherit it). Problems go to d. Returns true if a token was found.
 */
bool conf_load_token(struct conf *c, struct diags *d);
/* Resolve a path relative to the config's directory; caller frees. */
char *conf_path(const struct conf *c, const char *p);
/* Replace the rule paths (-r). */
void conf_set_rule_paths(struct conf *c, char **paths, size_t n);
/* Print every config key with its default and help. */
void conf_print_help(FILE *fp);
/* Size values: "65536", "64k", "1m", "1g". */
bool conf_parse_size(const char *s, int64_t *out);
/* URL check shared with the ticket command; NULL if fine, else a reason. */
const char *conf_check_url(const char *url, bool allow_insecure_http);

#endif
