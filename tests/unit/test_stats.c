/*
 * test_stats.c: the counters as SIGUSR1's JSON line and as the Prometheus
 * text format ([stats] prometheus_file), from one list, after real lines
 * went through a pipeline (dry-run sink to /dev/null).
 */
#include <fcntl.h>
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

#include "conf.h"
#include "diag.h"
#include "pipeline.h"
#include "rules.h"
#include "sink.h"
#include "stats.h"
#include "util.h"

static const char RULES[] =
    "[disk]\n"
    "match = EXT4-fs error \\(device (?<dev>\\w+)\\)\n"
    "key = ${dev}\n"
    "[odd/name:1]\n"
    "match = never matches this\n";

struct fixture {
	struct conf *c;
	struct ruleset *rs;
	struct sink *sink;
	struct pipeline p;
	int fd;
};

static void
feed(struct pipeline *p, const char *line)
{
	char why[256];

	assert_int_equal(pipeline_line(p, line, strlen(line), false, why,
	    sizeof(why)), 0);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct diags d;

	diags_init(&d);
	f->c = conf_new();
	f->rs = rules_load_buf(f->c, "t.rules", RULES, sizeof(RULES) - 1, &d);
	assert_int_equal(d.errors, 0);
	diags_free(&d);
	f->fd = open("/dev/null", O_WRONLY);
	f->sink = sink_dryrun_new(f->fd);
	pipeline_init(&f->p, f->c, f->rs, f->sink, INPUT_AUTO);
	feed(&f->p, "Nov 28 01:00:00 h kernel: EXT4-fs error (device sda1): x");
	feed(&f->p, "Nov 28 01:00:01 h kernel: EXT4-fs error (device sda1): y");
	feed(&f->p, "Nov 28 01:00:02 h kernel: nothing");
	feed(&f->p, "{\"msg\": not json");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	pipeline_free(&f->p);
	sink_free(f->sink);
	close(f->fd);
	rules_free(f->rs);
	conf_free(f->c);
	free(f);
	return 0;
}

static void
test_json(void **state)
{
	struct fixture *f = *state;
	struct stats st;
	struct buf b;

	buf_init(&b, SIZE_MAX / 2);
	stats_collect(&st, &f->p, NULL, NULL);
	stats_json(&st, &b);
	assert_string_equal(b.data,
	    "{\"lines\":4,\"matched\":2,\"tickets\":1,\"ticket_errors\":0,"
	    "\"suppressed\":1,\"pending\":0,\"held\":0,\"held_matches\":0,"
	    "\"bursts_ended\":0,\"repeats\":0,\"comments\":0,"
	    "\"repeat_tickets\":0,\"storm_summaries\":0,\"keys\":1,"
	    "\"keys_evicted\":0,\"truncated\":0,\"nul_bytes\":0,"
	    "\"invalid_utf8\":0,\"json_errors\":1,\"own_lines\":0,"
	    "\"regex_limit\":0,\"rules\":{\"disk\":2,\"odd/name:1\":0}}");
	buf_free(&b);
}

static void
test_prometheus(void **state)
{
	struct fixture *f = *state;
	struct stats st;
	struct buf b;

	buf_init(&b, SIZE_MAX / 2);
	stats_collect(&st, &f->p, NULL, NULL);
	stats_prometheus(&st, &b);
	/* Counters end in _total, gauges do not; every metric has HELP
	 * and TYPE. */
	assert_non_null(strstr(b.data,
	    "# HELP omkapture_lines_total input lines read\n"
	    "# TYPE omkapture_lines_total counter\n"
	    "omkapture_lines_total 4\n"));
	assert_non_null(strstr(b.data,
	    "# TYPE omkapture_suppressed_total counter\n"
	    "omkapture_suppressed_total 1\n"));
	assert_non_null(strstr(b.data,
	    "# TYPE omkapture_keys gauge\nomkapture_keys 1\n"));
	assert_non_null(strstr(b.data,
	    "# TYPE omkapture_rule_hits_total counter\n"
	    "omkapture_rule_hits_total{rule=\"disk\"} 2\n"
	    "omkapture_rule_hits_total{rule=\"odd/name:1\"} 0\n"));
	assert_null(strstr(b.data, "omkapture_keys_total"));
	assert_int_equal(b.data[b.len - 1], '\n');
	buf_free(&b);
}

static void
test_write_file(void **state)
{
	char dir[] = "/tmp/omk-test-stats.XXXXXX", path[64], got[64];
	struct buf b;
	struct stat sb;
	FILE *fp;
	size_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/omk.prom", dir);
	buf_init(&b, 1024);
	buf_appends(&b, "omkapture_lines_total 4\n");
	assert_true(stats_write_file(path, &b));
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0644);
	fp = fopen(path, "r");
	assert_non_null(fp);
	n = fread(got, 1, sizeof(got) - 1, fp);
	got[n] = '\0';
	fclose(fp);
	assert_string_equal(got, "omkapture_lines_total 4\n");
	/* A directory that is not there: false, nothing left behind. */
	snprintf(path, sizeof(path), "%s/no/omk.prom", dir);
	assert_false(stats_write_file(path, &b));
	buf_free(&b);
	snprintf(path, sizeof(path), "%s/omk.prom", dir);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prometheus, setup,
		    teardown),
		cmocka_unit_test(test_write_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
