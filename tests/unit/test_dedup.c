/*
 * test_dedup.c: bursts, thresholds, suppression, renotify, undo and the
 * key cap, with an injected clock (the caller passes time; no sleeps).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dedup.h"

static struct rule
mkrule(const char *name, int64_t n, int64_t window, int64_t suppress,
    int64_t renotify)
{
	struct rule r;

	memset(&r, 0, sizeof(r));
	r.name = (char *)name;
	r.threshold_n = n;
	r.threshold_window = window;
	r.suppress = suppress;
	r.renotify = renotify;
	return r;
}

static struct dedup *
mkdedup(size_t max_keys)
{
	struct dedup_config c;

	memset(&c, 0, sizeof(c));
	c.max_keys = max_keys;
	return dedup_new(&c);
}

static enum dedup_verdict
hit(struct dedup *d, const struct rule *r, const char *key, time_t t,
    struct dedup_result *res)
{
	dedup_match(d, r, key, strlen(key), t, NULL, 0, res);
	return res->verdict;
}

static void
test_first_match_fires_then_suppresses(void **state)
{
	struct rule r = mkrule("disk", 1, 0, 600, 86400);
	struct dedup *d = mkdedup(100);
	struct dedup_result res;

	(void)state;
	assert_int_equal(hit(d, &r, "sda", 1000, &res), DEDUP_FIRE);
	assert_int_equal(res.count, 1);
	assert_int_equal(res.first_seen, 1000);
	assert_int_equal(hit(d, &r, "sda", 1100, &res), DEDUP_SUPPRESS);
	assert_int_equal(res.count, 2);
	assert_int_equal(res.first_seen, 1000);
	assert_int_equal(res.last_seen, 1100);
	/* Another key is another incident. */
	assert_int_equal(hit(d, &r, "sdb", 1100, &res), DEDUP_FIRE);
	/* Quiet for 599 s: still the same burst. */
	assert_int_equal(hit(d, &r, "sda", 1699, &res), DEDUP_SUPPRESS);
	assert_int_equal(res.count, 3);
	/* Quiet for 600 s: the burst ended, a new one fires. */
	assert_int_equal(hit(d, &r, "sda", 2299, &res), DEDUP_FIRE);
	assert_int_equal(res.count, 1);
	assert_int_equal(res.first_seen, 2299);
	assert_int_equal(dedup_size(d), 2);
	dedup_free(d);
}

static void
test_same_key_other_rule_is_separate(void **state)
{
	struct rule a = mkrule("a", 1, 0, 600, 0), b = mkrule("b", 1, 0, 600, 0);
	struct dedup *d = mkdedup(100);
	struct dedup_result res;

	(void)state;
	assert_int_equal(hit(d, &a, "k", 10, &res), DEDUP_FIRE);
	assert_int_equal(hit(d, &b, "k", 10, &res), DEDUP_FIRE);
	assert_int_equal(hit(d, &a, "k", 11, &res), DEDUP_SUPPRESS);
	dedup_free(d);
}

static void
test_threshold_sliding_window(void **state)
{
	struct rule r = mkrule("ssh", 3, 60, 600, 0);
	struct dedup *d = mkdedup(100);
	struct dedup_result res;

	(void)state;
	assert_int_equal(hit(d, &r, "ip", 0, &res), DEDUP_PENDING);
	assert_int_equal(hit(d, &r, "ip", 30, &res), DEDUP_PENDING);
	/* t=0 falls out of the 60 s window: only 2 in it. */
	assert_int_equal(hit(d, &r, "ip", 60, &res), DEDUP_PENDING);
	assert_int_equal(hit(d, &r, "ip", 70, &res), DEDUP_FIRE);
	assert_int_equal(res.count, 3);
	assert_int_equal(res.first_seen, 30);
	assert_int_equal(res.last_seen, 70);
	assert_int_equal(hit(d, &r, "ip", 80, &res), DEDUP_SUPPRESS);
	assert_int_equal(res.count, 4);
	dedup_free(d);
}

static void
test_renotify_opens_fresh_ticket(void **state)
{
	struct rule r = mkrule("x", 1, 0, 600, 3600);
	struct dedup *d = mkdedup(100);
	struct dedup_result res;
	time_t t;

	(void)state;
	assert_int_equal(hit(d, &r, "k", 0, &res), DEDUP_FIRE);
	for (t = 300; t < 3600; t += 300)
		assert_int_equal(hit(d, &r, "k", t, &res), DEDUP_SUPPRESS);
	assert_int_equal(hit(d, &r, "k", 3600, &res), DEDUP_FIRE);
	assert_true(res.renotify);
	assert_int_equal(res.first_seen, 3600);
	assert_int_equal(hit(d, &r, "k", 3700, &res), DEDUP_SUPPRESS);
	dedup_free(d);
}

static void
test_undo_lets_resend_fire(void **state)
{
	struct rule r = mkrule("x", 1, 0, 600, 0);
	struct rule t3 = mkrule("t", 3, 60, 600, 0);
	struct dedup *d = mkdedup(100);
	struct dedup_result res;

	(void)state;
	assert_int_equal(hit(d, &r, "k", 0, &res), DEDUP_FIRE);
	dedup_undo(d, &res);
	assert_int_equal(hit(d, &r, "k", 1, &res), DEDUP_FIRE);
	assert_int_equal(hit(d, &r, "k", 2, &res), DEDUP_SUPPRESS);

	hit(d, &t3, "k", 0, &res);
	hit(d, &t3, "k", 1, &res);
	assert_int_equal(hit(d, &t3, "k", 2, &res), DEDUP_FIRE);
	dedup_undo(d, &res);
	/* The threshold stays crossed: the re-sent line fires at once. */
	assert_int_equal(hit(d, &t3, "k", 3, &res), DEDUP_FIRE);
	dedup_free(d);
}

static void
test_max_keys_evicts_least_recently_seen(void **state)
{
	struct rule r = mkrule("x", 1, 0, 600, 0);
	struct dedup *d = mkdedup(3);
	struct dedup_result res;

	(void)state;
	hit(d, &r, "a", 1, &res);
	hit(d, &r, "b", 2, &res);
	hit(d, &r, "c", 3, &res);
	hit(d, &r, "a", 4, &res);          /* a is now the most recent */
	assert_int_equal(hit(d, &r, "d", 5, &res), DEDUP_FIRE);
	assert_int_equal(dedup_size(d), 3);
	assert_int_equal(dedup_stats(d)->evicted, 1);
	/* b was evicted (forgotten), a was kept (still suppressed). */
	assert_int_equal(hit(d, &r, "a", 6, &res), DEDUP_SUPPRESS);
	assert_int_equal(hit(d, &r, "b", 6, &res), DEDUP_FIRE);
	dedup_free(d);
}

static void
test_prune_expired_before_evicting(void **state)
{
	struct rule r = mkrule("x", 1, 0, 10, 0);
	struct dedup *d = mkdedup(2);
	struct dedup_result res;

	(void)state;
	hit(d, &r, "a", 0, &res);
	hit(d, &r, "b", 100, &res);
	/* a's burst ended long ago: pruned, nothing evicted. */
	hit(d, &r, "c", 105, &res);
	assert_int_equal(dedup_stats(d)->evicted, 0);
	assert_int_equal(dedup_size(d), 2);
	assert_int_equal(hit(d, &r, "b", 106, &res), DEDUP_SUPPRESS);
	dedup_free(d);
}

static void
test_many_keys_grow_table(void **state)
{
	struct rule r = mkrule("x", 1, 0, 600, 0);
	struct dedup *d = mkdedup(100000);
	struct dedup_result res;
	char key[32];
	int i;

	(void)state;
	for (i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(hit(d, &r, key, 1, &res), DEDUP_FIRE);
	}
	for (i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(hit(d, &r, key, 2, &res), DEDUP_SUPPRESS);
	}
	assert_int_equal(dedup_size(d), 5000);
	dedup_free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_match_fires_then_suppresses),
		cmocka_unit_test(test_same_key_other_rule_is_separate),
		cmocka_unit_test(test_threshold_sliding_window),
		cmocka_unit_test(test_renotify_opens_fresh_ticket),
		cmocka_unit_test(test_undo_lets_resend_fire),
		cmocka_unit_test(test_max_keys_evicts_least_recently_seen),
		cmocka_unit_test(test_prune_expired_before_evicting),
		cmocka_unit_test(test_many_keys_grow_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
