/*
 * fuzz_state.c: the dedup state file (dedup.h, state.c's format), loaded
 * with dedup_load into a fresh dedup over a small fixed ruleset (one rule
 * of each on_repeat kind, a threshold, a renotify) with a storm guard and
 * a small max_keys. A state the loader accepts must then work like any
 * other: matches (existing and new keys, every rule), ticket ids and
 * awaited comments, the storm summary, a save (to a memstream), a full
 * sweep and the queued on_repeat actions. What dedup_save writes,
 * dedup_load must accept.
 */
#include <stdbool.h>
#include <stdio.h>

#include "diag.h"
#include "dedup.h"
#include "fuzz.h"
#include "rules.h"

/* The rule names are the ones in the seed state files (make-seeds.sh). */
static const char fuzz_rules_text[] =
    "[disk-error]\n"
    "match = ^disk (?<dev>\\S+) failed\n"
    "title = Disk ${dev} failed on ${host}\n"
    "key = ${host}/${dev}\n"
    "suppress = 10m\n"
    "on_repeat = comment\n"
    "[login-failed]\n"
    "match = ^login failed for (?<user>\\S+)\n"
    "title = Failed logins for ${user}\n"
    "key = ${user}\n"
    "threshold = 3 in 1m\n"
    "suppress = 10m\n"
    "on_repeat = ticket\n"
    "[oom]\n"
    "match = ^Out of memory: Killed process (?<pid>\\d+)\n"
    "title = OOM on ${host}\n"
    "key = ${host}\n"
    "suppress = 5m\n"
    "renotify = 1h\n";

static const char fuzz_conf_text[] =
    "[kapture]\n"
    "url = https://acme.kapturecrm.com/add-ticket-from-other-source.html/v.2.0\n"
    "update_url = https://acme.kapturecrm.com/update-ticket-from-other-source.html/v.2.0\n";

static struct conf *fuzz_conf;
static struct ruleset *fuzz_rs;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct diags d;

	(void)argc;
	(void)argv;
	fuzz_pin_process();
	fuzz_conf = conf_new();
	diags_init(&d);
	conf_load_buf(fuzz_conf, "/etc/omkapture/omkapture.conf",
	    fuzz_conf_text, sizeof(fuzz_conf_text) - 1, &d);
	fuzz_rs = rules_load_buf(fuzz_conf, "fuzz.rules", fuzz_rules_text,
	    sizeof(fuzz_rules_text) - 1, &d);
	if (d.errors != 0 || fuzz_rs->n != 3) {
		diags_print(&d, stderr);
		abort();
	}
	diags_free(&d);
	return 0;
}

static struct dedup *
fuzz_dedup(void)
{
	struct dedup_config c;

	memset(&c, 0, sizeof(c));
	c.max_keys = 8;
	c.max_tickets = 5;
	c.period = 3600;
	c.storm_quiet = 300;
	return dedup_new(&c);
}

/* One match; a FIRE gets its ticket (and, for one key, its id). */
static void
fuzz_hit(struct dedup *d, const struct rule *r, const char *key, time_t t)
{
	struct dedup_result res;

	dedup_match(d, r, key, strlen(key), t, "disk sda1 failed", 16, &res);
	if (res.count == 0)
		abort(); /* the count includes this match */
	if (res.verdict == DEDUP_FIRE) {
		dedup_fired(d, &res, "00000000000000aa");
		dedup_ticket_created(d, r->name, key, "00000000000000aa",
		    "4242");
	}
}

static char *
fuzz_save(struct dedup *d, time_t now, size_t *lenp)
{
	char *s = NULL;
	FILE *fp;

	if ((fp = open_memstream(&s, lenp)) == NULL)
		abort();
	if (dedup_save(d, fp, now) != 0)
		abort();
	if (fclose(fp) != 0)
		abort();
	return s;
}

static void
fuzz_exercise(struct dedup *d)
{
	const struct rule *v = fuzz_rs->v;
	struct dedup_end *x;
	struct dedup *again;
	struct buf title, details;
	char err[256], *s;
	size_t n;
	time_t t = dedup_saved_time(d);

	/* The saved time, unless it is one no clock gives. */
	if (t <= 0 || t > (time_t)4102444800LL) /* 2100-01-01 */
		t = FUZZ_NOW;
	fuzz_hit(d, &v[0], "web1/sda1", t + 1);
	fuzz_hit(d, &v[1], "root", t + 2);
	fuzz_hit(d, &v[1], "root", t + 3);
	fuzz_hit(d, &v[1], "root", t + 4);
	fuzz_hit(d, &v[2], "app1", t + 5);
	fuzz_hit(d, &v[0], "web2/sdb", t + 6);
	(void)dedup_await_id(d, "00000000000000aa");
	dedup_await(d, "00000000000000bb", t + 7);
	(void)dedup_ticket_created(d, v[0].name, "web1/sda1",
	    "00000000000000bb", "77");
	dedup_await_done(d, "00000000000000bb");
	(void)dedup_storm_admit(d, v[2].name, "app1", 4, t + 8);
	if (dedup_storm_due(d, t + 1000)) {
		buf_init(&title, 64 * 1024);
		buf_init(&details, 256 * 1024);
		dedup_storm_summary(d, &title, &details);
		buf_free(&title);
		buf_free(&details);
		dedup_storm_done(d);
	}
	(void)dedup_storm_started(d);
	(void)dedup_size(d);
	(void)dedup_stats(d);
	(void)dedup_dirty(d);

	/* A save loads again. */
	s = fuzz_save(d, t + 20, &n);
	again = fuzz_dedup();
	if (dedup_load(again, fuzz_rs, s, n, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_state: a saved state does not load: "
		    "%s\n%.*s", err, (int)n, s);
		abort();
	}
	dedup_free(again);
	free(s);

	(void)dedup_sweep(d, t + 30, false);
	(void)dedup_sweep(d, t + 100000, true);
	while ((x = dedup_end_peek(d)) != NULL) {
		if (x->rule == NULL || x->key == NULL ||
		    (x->linelen > 0 && x->line == NULL))
			abort();
		dedup_end_pop(d);
	}
	if (dedup_end_count(d) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dedup *d = fuzz_dedup();
	char err[256];

	err[0] = '\0';
	if (dedup_load(d, fuzz_rs, (const char *)data, size, err,
	    sizeof(err)) == 0)
		fuzz_exercise(d);
	else if (err[0] == '\0')
		abort(); /* a refusal always says why */
	dedup_free(d);
	return 0;
}
