/*
 * omkapture: turn alert log lines into Kapture CX tickets.
 *
 * main.c is thin: it parses the command line, loads config and rules,
 * picks a sink and runs the read loop. Everything else is in the library.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <limits.h>

#include "conf.h"
#include "diag.h"
#include "http.h"
#include "input.h"
#include "kapture.h"
#include "log.h"
#include "pipeline.h"
#include "prefilter.h"
#include "reader.h"
#include "rules.h"
#include "sender.h"
#include "sink.h"
#include "spool.h"
#include "stats.h"
#include "util.h"

#define EXIT_OK 0
#define EXIT_CONFIG 1
#define EXIT_USAGE 2
#define EXIT_RUNTIME 3

#define REPLY_MAX 1000

enum mode { MODE_RUN, MODE_CHECK, MODE_DRYRUN, MODE_TEST, MODE_TICKET,
    MODE_SPOOL };

struct opts {
	const char *config;
	bool config_given;
	char **rules;
	size_t nrules;
	bool omprog;
	bool format_given;
	enum input_format format;
	int verbosity;
	enum mode mode;
	bool json;
	enum prefilter_engine engine;
	const char *cursor_file;
};

enum {
	OPT_OMPROG = 256, OPT_CHECK, OPT_DRYRUN, OPT_TEST, OPT_JSON,
	OPT_HELP_CONFIG, OPT_TITLE, OPT_DETAILS, OPT_EMAIL, OPT_DUE, OPT_FIELD,
	OPT_SPOOL_STATUS, OPT_WAIT, OPT_RETRY_FAILED, OPT_ENGINE,
	OPT_CURSOR_FILE, OPT_SEND,
};

/* One table for getopt and --help, so they cannot disagree. */
static const struct {
	struct option opt;
	const char *arg;
	const char *help;
} cli_options[] = {
	{ { "config", required_argument, NULL, 'c' }, "FILE",
	  "config file (default " CONF_DEFAULT_PATH ")" },
	{ { "rules", required_argument, NULL, 'r' }, "PATH",
	  "rule file or directory of *.rules; repeatable; replaces [rules] path" },
	{ { "omprog", no_argument, NULL, OPT_OMPROG }, NULL,
	  "speak rsyslog's omprog protocol: OK after start-up, one reply per line" },
	{ { "format", required_argument, NULL, 'f' }, "FORMAT",
	  "input: auto (default), plain, rsyslog-json, journal-json" },
	{ { "check", no_argument, NULL, OPT_CHECK }, NULL,
	  "validate config and rules, print a summary; exit 0, or 1 listing every problem" },
	{ { "dry-run", no_argument, NULL, OPT_DRYRUN }, NULL,
	  "full pipeline, but print each ticket as a JSON line instead of sending it" },
	{ { "test", no_argument, NULL, OPT_TEST }, NULL,
	  "match only: per-rule hit counts and the unmatched count at EOF" },
	{ { "spool-status", no_argument, NULL, OPT_SPOOL_STATUS }, NULL,
	  "list what waits in the spool and what failed (same as: omkapture spool)" },
	{ { "json", no_argument, NULL, OPT_JSON }, NULL,
	  "with --test: print {\"lines\":N,\"matched\":M,\"rules\":{...}}" },
	{ { "cursor-file", required_argument, NULL, OPT_CURSOR_FILE }, "FILE",
	  "journal input: keep the __CURSOR of the last entry fully handled in FILE (for journalctl --after-cursor); skip our own entries" },
	{ { "engine", required_argument, NULL, OPT_ENGINE }, "ENGINE",
	  "rule prefilter: auto (= literal, the default), literal, naive, hs (see README)" },
	{ { "verbose", no_argument, NULL, 'v' }, NULL, "more log output (debug)" },
	{ { "quiet", no_argument, NULL, 'q' }, NULL, "warnings and errors only" },
	{ { "help", no_argument, NULL, 'h' }, NULL, "this help" },
	{ { "help-config", no_argument, NULL, OPT_HELP_CONFIG }, NULL,
	  "every config and rule key with its default" },
	{ { "version", no_argument, NULL, 'V' }, NULL, "print the version" },
};

#define NCLI (sizeof(cli_options) / sizeof(cli_options[0]))

static void
usage(FILE *fp)
{
	size_t i;
	char left[40];

	fprintf(fp,
	    "usage: omkapture [-c FILE] [-r PATH]... [--omprog] [-f FORMAT] [-v|-q]\n"
	    "       omkapture -c FILE --check | --dry-run | --test [--json]\n"
	    "       omkapture -c FILE ticket --title T [--details D] [--email E] [--due WHEN]\n"
	    "                 [--field K=V]... [--dry-run] [--wait]\n"
	    "       omkapture -c FILE spool [--retry-failed | --send]\n"
	    "       omkapture --version | --help | --help-config\n\n"
	    "Reads log lines on stdin until EOF, matches them against PCRE2 rules and\n"
	    "creates Kapture CX tickets. Each ticket request is written to the spool\n"
	    "([spool] dir) and fsync'd before the line is acknowledged, then sent; requests\n"
	    "wait there while Kapture is unavailable. The API token comes from [kapture]\n"
	    "token_file or the KAPTURE_TOKEN environment variable, never from the command\n"
	    "line.\n\n"
	    "Options:\n");
	for (i = 0; i < NCLI; i++) {
		const struct option *o = &cli_options[i].opt;

		if (o->val < 256)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->val,
			    o->name, cli_options[i].arg ? " " : "",
			    cli_options[i].arg ? cli_options[i].arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name,
			    cli_options[i].arg ? " " : "",
			    cli_options[i].arg ? cli_options[i].arg : "");
		fprintf(fp, "  %-26s %s\n", left, cli_options[i].help);
	}
	fprintf(fp,
	    "\nticket options:\n"
	    "  --title T                  ticket title (required)\n"
	    "  --details D                ticket_details; \"-\" reads them from stdin\n"
	    "  --email E                  email_id\n"
	    "  --due WHEN                 +DURATION (e.g. +4h) or \"yyyy-MM-dd HH:mm:ss\"\n"
	    "  --field K=V                extra body field; K may nest: a.b[0].c\n"
	    "  --dry-run                  print the request instead of sending it\n"
	    "  --wait                     retry until Kapture creates or rejects the ticket;\n"
	    "                             without it a ticket Kapture cannot take now stays\n"
	    "                             in the spool for the running helper (exit 0)\n"
	    "\nspool options:\n"
	    "  --retry-failed             move every request in failed/ back into the spool\n"
	    "  --send                     deliver what waits, for at most [spool] shutdown_timeout,\n"
	    "                             then exit (0: nothing left); for cron where no helper runs\n"
	    "\nExit status: 0 ok, 1 bad config or rules, 2 usage, 3 runtime failure.\n");
}

/* Signals only set flags; the loop acts on them between lines. */
static volatile sig_atomic_t got_term, got_hup, got_usr1;
/* A second SIGTERM/SIGINT cuts the shutdown delivery short. */
static volatile int got_term_again;

static void
on_signal(int sig)
{
	if (sig == SIGTERM || sig == SIGINT) {
		if (got_term)
			got_term_again = 1;
		got_term = 1;
	}
	else if (sig == SIGHUP)
		got_hup = 1;
	else if (sig == SIGUSR1)
		got_usr1 = 1;
}

static void
signals_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/*
 * One omprog reply: "OK", or a reason rsyslog logs. A reply must be one
 * line, shorter than 4095 bytes, not end in CR, and not start with '.'
 * (a keep-alive), so the reason is sanitised here.
 */
static int
omprog_reply(const char *why)
{
	char line[REPLY_MAX + 2];
	size_t i, n = 0;

	if (why == NULL) {
		return write_all(STDOUT_FILENO, "OK\n", 3);
	}
	for (i = 0; why[i] != '\0' && n < REPLY_MAX; i++) {
		unsigned char c = (unsigned char)why[i];

		line[n++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	if (n == 0 || line[0] == '.' || (n == 2 && !memcmp(line, "OK", 2))) {
		memmove(line + 6, line, n < REPLY_MAX - 6 ? n : REPLY_MAX - 6);
		memcpy(line, "error ", 6);
		n = n + 6 < REPLY_MAX ? n + 6 : REPLY_MAX;
	}
	line[n++] = '\n';
	return write_all(STDOUT_FILENO, line, n);
}

/* Everything a running configuration holds, swapped whole on SIGHUP. */
struct runtime {
	struct conf *conf;
	struct ruleset *rules;
	struct sink *sink;
};

/* The spool and its sender: opened once, kept across reloads. */
struct delivery {
	struct spool *spool;
	struct sender *sender;
};

static void
delivery_free(struct delivery *dl)
{
	sender_free(dl->sender);
	spool_free(dl->spool);
	memset(dl, 0, sizeof(*dl));
}

/* Open the spool and the sender for c; false (with a reason) if not. */
static bool
delivery_open(struct delivery *dl, const struct conf *c, char *why,
    size_t whylen)
{
	memset(dl, 0, sizeof(*dl));
	dl->spool = spool_open(c->spool_dir, c->spool_max, c->spool_max_bytes,
	    why, whylen);
	if (dl->spool == NULL)
		return false;
	if ((dl->sender = sender_new(c, dl->spool)) == NULL) {
		snprintf(why, whylen, "cannot set up libcurl");
		delivery_free(dl);
		return false;
	}
	return true;
}

static void
runtime_free(struct runtime *rt)
{
	sink_free(rt->sink);
	rules_free(rt->rules);
	conf_free(rt->conf);
	memset(rt, 0, sizeof(*rt));
}

/*
 * Load config and rules per the options. need says what the mode needs:
 * 'u' a URL, 't' a token. Problems go to d. Returns false on errors.
 */
static bool
runtime_load(struct runtime *rt, const struct opts *o, struct diags *d,
    bool need_send, const struct conf *prev)
{
	memset(rt, 0, sizeof(*rt));
	rt->conf = conf_new();
	if (o->config_given || o->nrules == 0 ||
	    access(o->config, F_OK) == 0)
		conf_load(rt->conf, o->config, d);
	if (o->nrules > 0)
		conf_set_rule_paths(rt->conf, o->rules, o->nrules);
	if (o->format_given)
		rt->conf->format = o->format;
	conf_validate(rt->conf, d, need_send);
	rt->rules = rules_load(rt->conf, d);
	if (d->errors == 0)
		rules_prefilter(rt->rules, (int)o->engine);
	if (need_send || o->mode == MODE_CHECK) {
		/* A reload: KAPTURE_TOKEN was read (and wiped) at start; it
		 * stays the token unless the new config names a file. */
		if (prev != NULL && prev->token != NULL &&
		    rt->conf->token_file == NULL && prev->token_source != NULL &&
		    !strcmp(prev->token_source, "KAPTURE_TOKEN")) {
			rt->conf->token = xstrdup(prev->token);
			rt->conf->token_source = prev->token_source;
		} else if (!conf_load_token(rt->conf, d) &&
		    rt->conf->token_file == NULL) {
			if (need_send)
				diag_error(d, rt->conf->path, 0, "no API token: "
				    "set [kapture] token_file or KAPTURE_TOKEN");
			else
				diag_warn(d, rt->conf->path, 0, "no API token "
				    "configured: set [kapture] token_file or "
				    "KAPTURE_TOKEN before sending");
		}
	}
	return d->errors == 0;
}

static void
print_check_summary(const struct runtime *rt)
{
	const struct ruleset *rs = rt->rules;
	size_t i, j;

	if (rt->conf->path != NULL)
		printf("%s: ok\n", rt->conf->path);
	for (i = 0; i < rs->nfiles; i++) {
		printf("%s: %zu rule%s\n", rs->files[i].path,
		    rs->files[i].nrules, rs->files[i].nrules == 1 ? "" : "s");
		if (log_level() < LOG_LEVEL_DEBUG)
			continue;
		for (j = 0; j < rs->n; j++)
			if (!strcmp(rs->v[j].file, rs->files[i].path))
				printf("  [%s] line %d\n", rs->v[j].name,
				    rs->v[j].line);
	}
	printf("%zu rule%s in %zu file%s; url: %s; token: %s\n", rs->n,
	    rs->n == 1 ? "" : "s", rs->nfiles, rs->nfiles == 1 ? "" : "s",
	    rt->conf->url ? rt->conf->url : "(not set)",
	    rt->conf->token_source ? rt->conf->token_source : "(not set)");
	if (rs->pf != NULL) {
		printf("prefilter: %s covers %zu of %zu rule%s\n",
		    prefilter_name(rs->pf), prefilter_ncovered(rs->pf), rs->n,
		    rs->n == 1 ? "" : "s");
		for (i = 0; i < rs->n; i++)
			if (!prefilter_covers(rs->pf, i))
				printf("  always tried: [%s] %s:%d: %s\n",
				    rs->v[i].name, rs->v[i].file, rs->v[i].line,
				    prefilter_why(rs->pf, i));
	}
}

static void
dump_stats(const struct pipeline *p, const struct delivery *dl)
{
	struct stats st;
	struct buf b;

	buf_init(&b, SIZE_MAX / 2);
	stats_collect(&st, p, dl ? dl->sender : NULL, dl ? dl->spool : NULL);
	stats_json(&st, &b);
	buf_appendc(&b, '\n');
	write_all(STDERR_FILENO, b.data, b.len);
	buf_free(&b);
}

/* [stats] prometheus_file, every interval and at exit. */
static void
write_prometheus(const struct pipeline *p, const struct delivery *dl)
{
	struct stats st;
	struct buf b;

	if (p->conf->prometheus_file == NULL)
		return;
	buf_init(&b, SIZE_MAX / 2);
	stats_collect(&st, p, dl ? dl->sender : NULL, dl ? dl->spool : NULL);
	stats_prometheus(&st, &b);
	stats_write_file(p->conf->prometheus_file, &b);
	buf_free(&b);
}

static void
print_test_summary(const struct pipeline *p, bool json)
{
	const struct ruleset *rs = p->rules;
	size_t i;

	if (json) {
		struct buf b;

		buf_init(&b, SIZE_MAX / 2);
		/* Only the documented keys, in the documented order. */
		buf_printf(&b, "{\"lines\":%lu,\"matched\":%lu,\"rules\":{",
		    p->stats.lines, p->stats.matched);
		for (i = 0; i < rs->n; i++) {
			buf_printf(&b, "%s\"%s\":%lu", i ? "," : "",
			    rs->v[i].name, rs->v[i].hits);
		}
		buf_appends(&b, "}}\n");
		fputs(b.data, stdout);
		buf_free(&b);
		return;
	}
	printf("Lines: %lu, matched: %lu, unmatched: %lu\n", p->stats.lines,
	    p->stats.matched, p->stats.lines - p->stats.matched);
	printf("%-32s %10s  %s\n", "rule", "hits", "defined at");
	for (i = 0; i < rs->n; i++)
		printf("%-32s %10lu  %s:%d\n", rs->v[i].name, rs->v[i].hits,
		    rs->v[i].file, rs->v[i].line);
	if (p->stats.truncated || p->stats.json_errors ||
	    p->rules->limit_errors)
		printf("truncated lines: %lu, JSON errors: %lu, regex limit "
		    "hits: %lu\n", p->stats.truncated, p->stats.json_errors,
		    p->rules->limit_errors);
}

/* SIGHUP: build a whole new runtime; keep the old one on any error. */
static void
reload(struct runtime *rt, struct pipeline *p, const struct opts *o,
    struct delivery *dl)
{
	struct runtime nrt;
	struct diags d;

	diags_init(&d);
	if (!runtime_load(&nrt, o, &d, o->mode == MODE_RUN, rt->conf)) {
		diags_print(&d, stderr);
		log_warnx("reload failed: %zu error%s; keeping the running "
		    "configuration", d.errors, d.errors == 1 ? "" : "s");
		runtime_free(&nrt);
		diags_free(&d);
		return;
	}
	if (o->mode == MODE_RUN)
		nrt.sink = sink_spool_new(dl->spool, o->omprog);
	else if (o->mode == MODE_DRYRUN)
		nrt.sink = sink_dryrun_new(STDOUT_FILENO);
	diags_print(&d, stderr);
	diags_free(&d);
	pipeline_swap(p, nrt.conf, nrt.rules, nrt.sink);
	if (dl->sender != NULL) {
		if (strcmp(nrt.conf->spool_dir, rt->conf->spool_dir) != 0)
			log_warnx("[spool] dir changed to %s: it takes effect "
			    "at restart; still using %s", nrt.conf->spool_dir,
			    dl->spool->dir);
		spool_set_caps(dl->spool, nrt.conf->spool_max,
		    nrt.conf->spool_max_bytes);
		/* Before the old conf goes: the sender borrows it. */
		sender_reconfigure(dl->sender, nrt.conf);
	}
	runtime_free(rt);
	*rt = nrt;
	log_info("reloaded: %zu rules", rt->rules->n);
}

/*
 * --cursor-file: the journal cursor of the last entry fully handled
 * (matched nothing, suppressed, or spooled), saved atomically at most once
 * a second and at exit, for `journalctl --after-cursor`. An entry still
 * held (spool full) does not move it: after a crash the journal is read
 * again from there (at-least-once), never skipped.
 */
struct cursor {
	const char *path;
	struct buf cur;
	bool dirty;
	int64_t next_ms;
};

static void
cursor_note(struct cursor *c, const struct event *ev)
{
	const struct slice *s;

	if (c->path == NULL || !ev->json ||
	    (s = input_json_field(ev, "__CURSOR", 8)) == NULL || s->n == 0 ||
	    s->n > 1024 || memchr(s->p, '\n', s->n) != NULL)
		return;
	buf_reset(&c->cur);
	buf_append(&c->cur, s->p, s->n);
	buf_appendc(&c->cur, '\n');
	c->dirty = true;
}

static void
cursor_save(struct cursor *c, bool now)
{
	if (c->path == NULL || !c->dirty || (!now && spool_now_ms() < c->next_ms))
		return;
	c->next_ms = spool_now_ms() + 1000;
	if (file_replace(c->path, c->cur.data, c->cur.len, 0600) < 0) {
		log_warn("cannot write the journal cursor to %s", c->path);
		return;
	}
	c->dirty = false;
}

/* The sender finished an attempt: dedup learns the ticket's id. */
static void
run_delivered(void *arg, const struct spool_claim *c,
    const struct kapture_result *r)
{
	if (r->outcome == KAPTURE_DONE || r->outcome == KAPTURE_FAIL)
		pipeline_delivered(arg, c->rule, c->key, c->ref, c->kind,
		    c->ticket_ref, r->outcome == KAPTURE_DONE, r->ticket_id);
}

static const char *
run_resolve(void *arg, const char *ref)
{
	return pipeline_ticket_id(arg, ref);
}

/*
 * The one event loop shared by run, --omprog, --dry-run and --test: read
 * stdin, handle each line, and (when sending) let the sender start and
 * finish requests, all from one poll, so reading never waits on the
 * network. A line the spool cannot take (cap reached, disk full) is
 * answered with an error in omprog mode (rsyslog keeps it and re-sends);
 * in pipe mode it is held and reading pauses until the spool takes it.
 */
static int
run_loop(struct runtime *rt, const struct opts *o, struct delivery *dl)
{
	struct pipeline p;
	struct reader rd;
	struct pollfd pfd;
	struct buf held;
	const char *line;
	char why[512];
	size_t len;
	bool trunc, holding = false, held_trunc = false, more = true, watch;
	bool kept = false, gone = false;
	int64_t prom_next = 0;
	struct cursor cur;
	uint64_t kept_hash = 0;
	size_t kept_len = 0;
	int64_t held_next = 0, now;
	int rc, timeout;
	long n;

	pipeline_init(&p, rt->conf, rt->rules, rt->sink, rt->conf->format);
	if (dl->sender != NULL) {
		pipeline_use_state(&p, dl->spool);
		sender_on_result(dl->sender, run_delivered, &p);
		sender_on_resolve(dl->sender, run_resolve, &p);
	}
	memset(&cur, 0, sizeof(cur));
	cur.path = o->cursor_file;
	buf_init(&cur.cur, 2048);
	if (cur.path != NULL)
		pipeline_skip_own_journal(&p);
	reader_init(&rd, STDIN_FILENO, (size_t)rt->conf->max_line);
	buf_init(&held, (size_t)rt->conf->max_line + 1);
	if (o->omprog && omprog_reply(NULL) < 0)
		fatal("stdout");
	for (;;) {
		if (holding && spool_now_ms() >= held_next) {
			why[0] = '\0';
			if (pipeline_line(&p, held.data, held.len, held_trunc,
			    why, sizeof(why)) == 0) {
				holding = false;
				cursor_note(&cur, &p.ev);
				log_info("the spool takes tickets again: reading "
				    "resumes");
			} else {
				held_next = spool_now_ms() + 1000;
			}
		}
		while (!holding && more && !got_term && !gone) {
			if (!reader_next(&rd, &line, &len, &trunc)) {
				more = false;
				break;
			}
			why[0] = '\0';
			if (kept && len == kept_len && hash_fnv1a(HASH_FNV_INIT,
			    line, len) == kept_hash) {
				/* rsyslog re-sends the line we kept over the
				 * cap: it is in the spool already. */
				kept = false;
				if (omprog_reply(NULL) < 0) {
					gone = true;
					break;
				}
				continue;
			}
			kept = false;
			rc = pipeline_line(&p, line, len, trunc, why,
			    sizeof(why));
			if (rc >= 0)
				cursor_note(&cur, &p.ev);
			if (o->omprog) {
				if (rc == 1) {
					kept = true;
					kept_len = len;
					kept_hash = hash_fnv1a(HASH_FNV_INIT,
					    line, len);
				}
				if (omprog_reply(rc == 0 ? NULL : why) < 0) {
					gone = true;
					break;
				}
			} else if (rc < 0) {
				/* No upstream queue will re-send this line:
				 * keep it and stop reading until it fits. */
				buf_reset(&held);
				buf_append(&held, line, len);
				held_trunc = trunc;
				holding = true;
				held_next = spool_now_ms() + 1000;
				log_warnx("%s; input paused until the line can "
				    "be spooled", why);
			}
		}
		if (gone) {
			/* Not fatal: the state and the spool are saved on
			 * the way out, as at EOF. */
			log_warnx("stdout: rsyslog went away (%s); stopping",
			    strerror(errno));
			break;
		}
		pipeline_tick(&p);
		/* Past an entry only once its dedup effect (a count below a
		 * threshold, say) is saved too: a crash then re-reads it. */
		if (cur.dirty && spool_now_ms() >= cur.next_ms &&
		    pipeline_save_for_cursor(&p))
			cursor_save(&cur, false);
		if (dl->sender != NULL)
			sender_step(dl->sender);
		if (o->mode == MODE_RUN && spool_now_ms() >= prom_next) {
			write_prometheus(&p, dl);
			prom_next = spool_now_ms() +
			    rt->conf->stats_interval * 1000;
		}
		if (got_term || (rd.eof && !more && !holding))
			break;
		if (got_hup) {
			got_hup = 0;
			reload(rt, &p, o, dl);
		}
		if (got_usr1) {
			got_usr1 = 0;
			dump_stats(&p, dl);
		}
		timeout = 1000;
		if (dl->sender != NULL)
			timeout = sender_timeout_ms(dl->sender, timeout);
		if (holding) {
			now = spool_now_ms();
			if (held_next - now < timeout)
				timeout = held_next <= now ? 0 :
				    (int)(held_next - now);
		}
		watch = !holding && !more && !rd.eof;
		pfd.fd = STDIN_FILENO;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (dl->sender != NULL)
			sender_wait(dl->sender, &pfd, watch ? 1 : 0, timeout);
		else
			poll(&pfd, watch ? 1 : 0, timeout);
		if (!watch)
			continue;
		/* curl_multi_poll (used while transfers run) does not report
		 * POLLHUP (EOF on a pipe): then ask poll itself. */
		if (pfd.revents == 0 && dl->sender != NULL &&
		    sender_inflight(dl->sender) > 0 && poll(&pfd, 1, 0) <= 0)
			continue;
		if (pfd.revents == 0)
			continue;
		if ((n = reader_fill(&rd)) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			log_warn("reading stdin");
			break;
		}
		more = true;
	}
	if (holding)
		/* Stopped while the spool could not take it: say what it
		 * was, so it can be replayed by hand. */
		log_warnx("stopping with one line not spooled (%s): %.*s", why,
		    (int)(held.len < 2000 ? held.len : 2000), held.data);
	if (dl->sender != NULL) {
		sender_drain(dl->sender, rt->conf->shutdown_timeout * 1000,
		    &got_term_again);
		/* After the drain: it may have learnt ticket ids. */
		pipeline_finish(&p);
		write_prometheus(&p, dl);
	}
	if (p.state_spool == NULL || !dedup_dirty(p.dedup))
		cursor_save(&cur, true);
	if (dl->sender != NULL) {
		if (dl->spool->n > 0)
			log_info("exiting with %zu request%s in the spool %s; "
			    "they are sent at the next start", dl->spool->n,
			    dl->spool->n == 1 ? "" : "s", dl->spool->dir);
	}
	if (o->mode == MODE_DRYRUN)
		pipeline_finish(&p);
	if (o->mode == MODE_TEST)
		print_test_summary(&p, o->json);
	else if (log_level() >= LOG_LEVEL_DEBUG || p.stats.truncated ||
	    p.stats.json_errors)
		dump_stats(&p, dl);
	buf_free(&held);
	buf_free(&cur.cur);
	reader_free(&rd);
	pipeline_free(&p);
	return EXIT_OK;
}

/* Without a usable spool (say, a monitoring user that cannot write it):
 * one attempt, and the exit status says how it went. */
static int
ticket_send_direct(const struct conf *c, const struct buf *body)
{
	struct kapture_result res;
	struct http_client *h;
	int rc = EXIT_RUNTIME;

	if ((h = http_client_new(c)) == NULL)
		return EXIT_RUNTIME;
	if (http_post(h, c->url, body->data, body->len, &res) == KAPTURE_DONE) {
		printf("ticket %s created\n", res.ticket_id[0] ?
		    res.ticket_id : "(no id)");
		rc = EXIT_OK;
	} else {
		char what[400];

		log_warnx("ticket not created: %s (%s)",
		    kapture_outcome_name(res.outcome),
		    kapture_describe(&res, what, sizeof(what)));
	}
	http_client_free(h);
	return rc;
}

struct ticket_wait {
	bool have;
	struct kapture_result r;
};

static void
ticket_result(void *arg, const struct spool_claim *c,
    const struct kapture_result *r)
{
	struct ticket_wait *tw = arg;

	(void)c;
	tw->have = true;
	tw->r = *r;
}

/*
 * Spool the request, then deliver it now. If Kapture cannot take it now
 * the request stays spooled for the running helper (exit 0, saying so),
 * or with --wait is retried here until it is created or refused.
 */
static int
ticket_send(const struct conf *c, const char *key, const char *ref,
    const struct buf *body, bool wait)
{
	struct delivery dl;
	struct ticket_wait tw;
	char why[512], name[SPOOL_NAME_MAX], what[400];
	int rc = EXIT_RUNTIME;

	if (!delivery_open(&dl, c, why, sizeof(why))) {
		log_warnx("%s; sending without the spool", why);
		return ticket_send_direct(c, body);
	}
	if (spool_put(dl.spool, c->url, "ticket", key, ref, body->data,
	    body->len, 0, name, why, sizeof(why)) != SPOOL_OK) {
		log_warnx("%s; sending without the spool", why);
		delivery_free(&dl);
		return ticket_send_direct(c, body);
	}
	memset(&tw, 0, sizeof(tw));
	sender_only(dl.sender, name);
	sender_on_result(dl.sender, ticket_result, &tw);
	signals_init();
	for (;;) {
		sender_step(dl.sender);
		if (tw.have && tw.r.outcome == KAPTURE_DONE) {
			printf("ticket %s created\n", tw.r.ticket_id[0] ?
			    tw.r.ticket_id : "(no id)");
			rc = EXIT_OK;
			break;
		}
		if (tw.have && tw.r.outcome == KAPTURE_FAIL) {
			log_warnx("ticket not created: Kapture rejected it "
			    "(%s); the request is kept in %s/failed/%s",
			    kapture_describe(&tw.r, what, sizeof(what)),
			    dl.spool->dir, name);
			break;
		}
		if (tw.have && !wait) {
			printf("ticket spooled as %s/spool/%s: %s (%s); the "
			    "running omkapture will deliver it\n",
			    dl.spool->dir, name,
			    tw.r.outcome == KAPTURE_AUTH ? "Kapture refused "
			    "the token" : "Kapture unavailable",
			    kapture_describe(&tw.r, what, sizeof(what)));
			rc = EXIT_OK;
			break;
		}
		tw.have = false;
		if (spool_find(dl.spool, name) == NULL) {
			/* Another omkapture on this spool took it. */
			struct stat st;
			char path[PATH_MAX];

			snprintf(path, sizeof(path), "%s/failed/%s",
			    dl.spool->dir, name);
			if (stat(path, &st) == 0) {
				log_warnx("ticket not created: Kapture rejected "
				    "it; the request is kept in %s", path);
			} else {
				printf("ticket request %s was delivered by "
				    "another omkapture on this spool (its log "
				    "has the ticket id)\n", name);
				rc = EXIT_OK;
			}
			break;
		}
		if (got_term) {
			log_warnx("interrupted; the request stays in "
			    "%s/spool/%s", dl.spool->dir, name);
			break;
		}
		sender_wait(dl.sender, NULL, 0,
		    sender_timeout_ms(dl.sender, 1000));
	}
	delivery_free(&dl);
	return rc;
}

/* The spool subcommand: what waits, what failed; re-queue failures. */
/*
 * spool --send: deliver what waits in the spool for at most [spool]
 * shutdown_timeout, then exit (a cron job where no helper runs, e.g. a
 * monitoring server that only uses the ticket command). Exit 0 when the
 * spool is empty afterwards, 3 when requests still wait.
 */
static int
spool_send(const struct conf *c)
{
	struct delivery dl;
	char why[512];
	size_t left;

	http_global_init();
	if (!delivery_open(&dl, c, why, sizeof(why))) {
		log_warnx("%s", why);
		return EXIT_RUNTIME;
	}
	signals_init();
	spool_scan(dl.spool, true);
	sender_drain(dl.sender, c->shutdown_timeout * 1000, &got_term);
	spool_scan(dl.spool, true);
	left = dl.spool->n;
	printf("%lu sent, %lu failed, %zu still waiting in %s\n",
	    sender_stats(dl.sender)->sent, sender_stats(dl.sender)->failed,
	    left, dl.spool->dir);
	delivery_free(&dl);
	return left == 0 ? EXIT_OK : EXIT_RUNTIME;
}

static int
cmd_spool(int argc, char **argv, struct opts *o)
{
	static const struct option sopts[] = {
		{ "retry-failed", no_argument, NULL, OPT_RETRY_FAILED },
		{ "send", no_argument, NULL, OPT_SEND },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct conf *c;
	struct spool *sp;
	struct diags d;
	char why[512];
	bool retry = false, send = false;
	long n;
	int ch, rc = EXIT_OK;

	optind = 1;
	while (argc > 0 && (ch = getopt_long(argc, argv, "c:h", sopts,
	    NULL)) != -1) {
		switch (ch) {
		case OPT_RETRY_FAILED: retry = true; break;
		case OPT_SEND: send = true; break;
		case 'c': o->config = optarg; o->config_given = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (argc > 0 && optind != argc) {
		fprintf(stderr, "omkapture spool: unexpected argument\n");
		return EXIT_USAGE;
	}
	diags_init(&d);
	c = conf_new();
	conf_load(c, o->config, &d);
	if (send) {
		conf_validate(c, &d, true);
		if (!conf_load_token(c, &d) && c->token_file == NULL)
			diag_error(&d, c->path, 0, "no API token: set "
			    "[kapture] token_file or KAPTURE_TOKEN");
	}
	diags_print(&d, stderr);
	if (d.errors > 0) {
		rc = EXIT_CONFIG;
		goto out;
	}
	if (send) {
		rc = spool_send(c);
		goto out;
	}
	if ((sp = spool_open(c->spool_dir, c->spool_max, c->spool_max_bytes,
	    why, sizeof(why))) == NULL) {
		log_warnx("%s", why);
		rc = EXIT_RUNTIME;
		goto out;
	}
	if (retry) {
		if ((n = spool_retry_failed(sp, stdout)) < 0)
			rc = EXIT_RUNTIME;
		else
			printf("%ld request%s re-queued; the running omkapture "
			    "sends them\n", n, n == 1 ? "" : "s");
	} else {
		spool_print_status(sp, stdout, spool_now_ms());
	}
	spool_free(sp);
out:
	conf_free(c);
	diags_free(&d);
	return rc;
}

/* The ticket subcommand: one ticket from the command line. */
static int
cmd_ticket(int argc, char **argv, struct opts *o)
{
	static const struct option topts[] = {
		{ "title", required_argument, NULL, OPT_TITLE },
		{ "details", required_argument, NULL, OPT_DETAILS },
		{ "email", required_argument, NULL, OPT_EMAIL },
		{ "due", required_argument, NULL, OPT_DUE },
		{ "field", required_argument, NULL, OPT_FIELD },
		{ "dry-run", no_argument, NULL, OPT_DRYRUN },
		{ "wait", no_argument, NULL, OPT_WAIT },
		{ "config", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *title = NULL, *details = NULL, *email = NULL, *due = NULL;
	struct field_node *fields = fields_new();
	struct kapture_ticket t;
	struct conf *c = NULL;
	struct diags d;
	struct buf body, dbuf, tbuf, ebuf;
	char duebuf[20], ref[17], *eq, *k;
	size_t i;
	const char *why;
	int64_t secs;
	uint64_t hv;
	time_t now = clock_now(), tt;
	bool dry = o->mode == MODE_DRYRUN, wait = false;
	int ch, rc = EXIT_RUNTIME;

	buf_init(&dbuf, SIZE_MAX / 2);
	buf_init(&body, SIZE_MAX / 2);
	memset(&tbuf, 0, sizeof(tbuf));
	memset(&ebuf, 0, sizeof(ebuf));
	diags_init(&d);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:vqh", topts, NULL)) != -1) {
		switch (ch) {
		case OPT_TITLE: title = optarg; break;
		case OPT_DETAILS: details = optarg; break;
		case OPT_EMAIL: email = optarg; break;
		case OPT_DUE: due = optarg; break;
		case OPT_DRYRUN: dry = true; break;
		case OPT_WAIT: wait = true; break;
		case 'c': o->config = optarg; o->config_given = true; break;
		case 'v': log_init(NULL, LOG_LEVEL_DEBUG); break;
		case 'q': log_init(NULL, LOG_LEVEL_QUIET); break;
		case 'h': usage(stdout); rc = EXIT_OK; goto out;
		case OPT_FIELD:
			if ((eq = strchr(optarg, '=')) == NULL || eq == optarg) {
				fprintf(stderr, "omkapture ticket: --field wants "
				    "KEY=VALUE, not \"%s\"\n", optarg);
				rc = EXIT_USAGE;
				goto out;
			}
			k = xstrndup(optarg, (size_t)(eq - optarg));
			why = fields_add(fields, k, tmpl_new_literal(eq + 1));
			if (why == NULL && (!strcmp(k, "title") ||
			    !strcmp(k, "ticket_details") ||
			    !strcmp(k, "due_date") || !strcmp(k, "email_id")))
				why = "use --title/--details/--due/--email";
			if (why != NULL) {
				fprintf(stderr, "omkapture ticket: --field %s: "
				    "%s\n", k, why);
				free(k);
				rc = EXIT_USAGE;
				goto out;
			}
			free(k);
			break;
		default:
			usage(stderr);
			rc = EXIT_USAGE;
			goto out;
		}
	}
	if (optind != argc || title == NULL || *title == '\0') {
		fprintf(stderr, "omkapture ticket: %s\n", optind != argc ?
		    "unexpected argument" : "--title is required");
		rc = EXIT_USAGE;
		goto out;
	}
	if (email != NULL && *email == '\0')
		email = NULL;
	c = conf_new();
	conf_load(c, o->config, &d);
	conf_validate(c, &d, !dry);
	if (!dry && !conf_load_token(c, &d) && c->token_file == NULL)
		diag_error(&d, c->path, 0, "no API token: set [kapture] "
		    "token_file or KAPTURE_TOKEN");
	diags_print(&d, stderr);
	if (d.errors > 0) {
		rc = EXIT_CONFIG;
		goto out;
	}
	/* What the config's [defaults] say, where the command line is
	 * silent: email, due and field.* with plain values (a template
	 * needs a matched line, which a ticket has not). */
	for (i = 0; i < c->ndefaults; i++) {
		const struct conf_kv *kv = &c->defaults[i];

		if (strstr(kv->value, "${") != NULL || *kv->value == '\0')
			continue;
		if (!strcmp(kv->key, "email") && email == NULL)
			email = kv->value;
		else if (!strcmp(kv->key, "due") && due == NULL)
			due = kv->value;
		else if (!strncmp(kv->key, "field.", 6)) {
			/* A --field with the same top-level key wins. */
			char *top = xstrndup(kv->key + 6,
			    strcspn(kv->key + 6, ".["));

			if (fields_get(fields, top) == NULL)
				(void)fields_add(fields, kv->key + 6,
				    tmpl_new_literal(kv->value));
			free(top);
		}
	}
	if (due != NULL && due[0] == '+') {
		if (!duration_parse(due + 1, &secs)) {
			fprintf(stderr, "omkapture ticket: --due: bad duration "
			    "\"%s\"\n", due);
			rc = EXIT_USAGE;
			goto out;
		}
		time_format_local(now + (time_t)secs, duebuf);
		due = duebuf;
	} else if (due != NULL && (strlen(due) != 19 ||
	    !time_parse_rfc3339(due, 19, &tt))) {
		fprintf(stderr, "omkapture ticket: --due wants +DURATION or "
		    "\"yyyy-MM-dd HH:mm:ss\", not \"%s\"\n", due);
		rc = EXIT_USAGE;
		goto out;
	}
	/* The caps and UTF-8 repair every rule's ticket gets. */
	buf_init(&tbuf, (size_t)c->title_max * 4 + 16);
	utf8_append_repaired(&tbuf, title, strlen(title));
	pipeline_cap_title(&tbuf, (size_t)c->title_max);
	title = tbuf.data;
	if (details != NULL && !strcmp(details, "-")) {
		/* A little more than fits, so a cut shows. */
		struct buf raw;

		buf_init(&raw, (size_t)c->details_max + 1);
		if (read_all(STDIN_FILENO, &raw, (size_t)c->details_max + 1) < 0)
			fatal("reading details from stdin");
		if (raw.len > (size_t)c->details_max || raw.truncated)
			log_warnx("ticket: details longer than details_max "
			    "(%lld bytes): cut", (long long)c->details_max);
		utf8_append_repaired(&dbuf, raw.data ? raw.data : "", raw.len);
		if (raw.truncated)
			dbuf.truncated = true;
		buf_free(&raw);
	} else if (details != NULL) {
		utf8_append_repaired(&dbuf, details, strlen(details));
	}
	if (details != NULL) {
		pipeline_cap_bytes(&dbuf, (size_t)c->details_max,
		    PIPELINE_DETAILS_MARKER);
		details = dbuf.data ? dbuf.data : "";
	}
	if (email != NULL) {
		buf_init(&ebuf, (size_t)c->field_max + 16);
		utf8_append_repaired(&ebuf, email, strlen(email));
		pipeline_cap_bytes(&ebuf, (size_t)c->field_max, "");
		email = ebuf.data;
	}

	hv = hash_fnv1a(HASH_FNV_INIT, title, strlen(title) + 1);
	if (details != NULL)
		hv = hash_fnv1a(hv, details, strlen(details) + 1);
	hv = hash_fnv1a(hv, &now, sizeof(now));
	snprintf(ref, sizeof(ref), "%016llx", (unsigned long long)hv);
	memset(&t, 0, sizeof(t));
	t.title = title;
	t.details = details;
	t.due_date = due;
	t.email = email;
	t.fields = fields;
	t.ref_field = c->ref_field;
	t.ref = ref;
	kapture_body(&body, c->body_object, &t, (size_t)c->field_max);
	if (dry) {
		struct sink *s = sink_dryrun_new(STDOUT_FILENO);
		struct sink_req req;
		char w[256];

		memset(&req, 0, sizeof(req));
		req.rule = req.key = "ticket";
		req.ref = ref;
		req.url = c->url;
		req.body = body.data;
		req.len = body.len;
		rc = s->submit(s, &req, w, sizeof(w)) == 0 ? EXIT_OK :
		    EXIT_RUNTIME;
		sink_free(s);
		goto out;
	}
	http_global_init();
	rc = ticket_send(c, title, ref, &body, wait);
out:
	fields_free(fields);
	buf_free(&body);
	buf_free(&dbuf);
	buf_free(&tbuf);
	buf_free(&ebuf);
	diags_free(&d);
	conf_free(c);
	return rc;
}

int
main(int argc, char **argv)
{
	struct option longopts[NCLI + 1];
	struct opts o;
	struct runtime rt;
	struct delivery dl;
	struct diags d;
	size_t i;
	int ch, rc;

	memset(&o, 0, sizeof(o));
	memset(&dl, 0, sizeof(dl));
	o.config = CONF_DEFAULT_PATH;
	o.verbosity = LOG_LEVEL_INFO;
	for (i = 0; i < NCLI; i++)
		longopts[i] = cli_options[i].opt;
	memset(&longopts[NCLI], 0, sizeof(longopts[NCLI]));
	log_init("omkapture", LOG_LEVEL_INFO);
	/* The token may be in our environment already: no core dump or
	 * ptrace from now on, even before it is read. */
	if (getenv("KAPTURE_TOKEN") != NULL)
		secret_protect_process();

	/* '+': stop at the first non-option, the "ticket" subcommand. */
	while ((ch = getopt_long(argc, argv, "+c:r:f:vqhV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c': o.config = optarg; o.config_given = true; break;
		case 'r':
			o.rules = xrealloc(o.rules, (o.nrules + 1) *
			    sizeof(*o.rules));
			o.rules[o.nrules++] = optarg;
			break;
		case 'f':
			if (!input_format_parse(optarg, &o.format)) {
				fprintf(stderr, "omkapture: -f: unknown format "
				    "\"%s\" (auto, plain, rsyslog-json, "
				    "journal-json)\n", optarg);
				return EXIT_USAGE;
			}
			o.format_given = true;
			break;
		case 'v': o.verbosity = LOG_LEVEL_DEBUG; break;
		case 'q': o.verbosity = LOG_LEVEL_QUIET; break;
		case OPT_OMPROG: o.omprog = true; break;
		case OPT_CHECK: o.mode = MODE_CHECK; break;
		case OPT_DRYRUN: o.mode = MODE_DRYRUN; break;
		case OPT_TEST: o.mode = MODE_TEST; break;
		case OPT_JSON: o.json = true; break;
		case OPT_SPOOL_STATUS: o.mode = MODE_SPOOL; break;
		case OPT_CURSOR_FILE:
			o.cursor_file = optarg;
			break;
		case OPT_ENGINE:
			if (!prefilter_engine_parse(optarg, &o.engine)) {
				fprintf(stderr, "omkapture: --engine: unknown "
				    "engine \"%s\" (auto, hs, literal, naive)\n",
				    optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h': usage(stdout); return EXIT_OK;
		case OPT_HELP_CONFIG:
			printf("Config file (%s):\n\n", CONF_DEFAULT_PATH);
			conf_print_help(stdout);
			printf("\n");
			rules_print_help(stdout);
			return EXIT_OK;
		case 'V': printf("omkapture %s\n", OMK_VERSION); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	log_init("omkapture", o.verbosity);
	if (o.mode == MODE_SPOOL || (optind < argc &&
	    !strcmp(argv[optind], "spool"))) {
		rc = o.mode == MODE_SPOOL ? cmd_spool(0, NULL, &o) :
		    cmd_spool(argc - optind, argv + optind, &o);
		free(o.rules);
		return rc;
	}
	if (optind < argc) {
		if (strcmp(argv[optind], "ticket") != 0) {
			fprintf(stderr, "omkapture: unknown command \"%s\"\n",
			    argv[optind]);
			usage(stderr);
			free(o.rules);
			return EXIT_USAGE;
		}
		rc = cmd_ticket(argc - optind, argv + optind, &o);
		free(o.rules);
		return rc;
	}
	if (o.omprog && o.mode != MODE_RUN) {
		/* stdout belongs to the protocol: no summaries or dry-run
		 * lines may go there. */
		fprintf(stderr, "omkapture: --omprog cannot be combined with "
		    "--check, --dry-run or --test\n");
		return EXIT_USAGE;
	}
	if (o.json && o.mode != MODE_TEST) {
		fprintf(stderr, "omkapture: --json goes with --test\n");
		return EXIT_USAGE;
	}

	diags_init(&d);
	runtime_load(&rt, &o, &d, o.mode == MODE_RUN, NULL);
	diags_sort(&d);
	if (o.mode == MODE_CHECK) {
		diags_print(&d, stderr);
		if (d.errors == 0)
			print_check_summary(&rt);
		else
			fprintf(stderr, "%zu error%s\n", d.errors,
			    d.errors == 1 ? "" : "s");
		rc = d.errors == 0 ? EXIT_OK : EXIT_CONFIG;
		goto done;
	}
	diags_print(&d, stderr);
	if (d.errors > 0) {
		rc = EXIT_CONFIG;
		if (o.omprog) {
			/* rsyslog logs this reply: say why we cannot start. */
			char why[128];

			snprintf(why, sizeof(why), "omkapture: %zu config "
			    "error%s, see the helper's log", d.errors,
			    d.errors == 1 ? "" : "s");
			omprog_reply(why);
		}
		goto done;
	}
	signals_init();
	if (o.mode == MODE_RUN) {
		char why[512];

		http_global_init();
		if (!delivery_open(&dl, rt.conf, why, sizeof(why))) {
			log_warnx("%s", why);
			if (o.omprog)
				omprog_reply(why);
			rc = EXIT_RUNTIME;
			goto done;
		}
		rt.sink = sink_spool_new(dl.spool, o.omprog);
		if (dl.spool->n > 0)
			log_info("spool %s: %zu request%s from before this start "
			    "will be sent", dl.spool->dir, dl.spool->n,
			    dl.spool->n == 1 ? "" : "s");
	} else if (o.mode == MODE_DRYRUN) {
		rt.sink = sink_dryrun_new(STDOUT_FILENO);
	}
	rc = run_loop(&rt, &o, &dl);
done:
	delivery_free(&dl);
	runtime_free(&rt);
	diags_free(&d);
	free(o.rules);
	return rc;
}
