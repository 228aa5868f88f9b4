/*
 * test_spool.c: the spool's files, index, caps, claims between two
 * instances, dead-lettering, re-queueing, hostile directories, and a
 * disk that fills up (fsync is wrapped at link time: -Wl,--wrap=fsync),
 * plus the sender's backoff arithmetic.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sender.h"
#include "spool.h"

/* fsync fails with this errno while it is non-zero. */
static int fsync_errno;
int __real_fsync(int fd);
int __wrap_fsync(int fd);

int
__wrap_fsync(int fd)
{
	if (fsync_errno != 0) {
		errno = fsync_errno;
		return -1;
	}
	return __real_fsync(fd);
}

static char tdir[256];

static int
setup(void **state)
{
	(void)state;
	snprintf(tdir, sizeof(tdir), "/tmp/omk-test-spool-XXXXXX");
	assert_non_null(mkdtemp(tdir));
	fsync_errno = 0;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tdir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static struct spool *
open_spool(const char *sub, int64_t max, int64_t max_bytes)
{
	char path[300], err[512];
	struct spool *sp;

	snprintf(path, sizeof(path), "%s/%s", tdir, sub);
	err[0] = '\0';
	sp = spool_open(path, max, max_bytes, err, sizeof(err));
	if (sp == NULL)
		fail_msg("spool_open: %s", err);
	return sp;
}

/* Number of entries in tdir/sub/dir, dot files excluded. */
static int
count_files(const char *sub, const char *dir)
{
	char path[300];
	DIR *d;
	struct dirent *de;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s/%s", tdir, sub, dir);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		/* tmp/<pid>.lock says a process uses the spool: not data. */
		if (de->d_name[0] != '.' && (len < 5 ||
		    strcmp(de->d_name + len - 5, ".lock") != 0))
			n++;
	}
	closedir(d);
	return n;
}

static int
put(struct spool *sp, const char *key, const char *body, char *name,
    char *why, size_t whylen)
{
	return spool_put(sp, "https://k.example/add", "disk", key, "ref1",
	    body, strlen(body), 0, name, why, whylen);
}

static void
test_put_claim_done(void **state)
{
	struct spool *sp = open_spool("s", 100, 1 << 20);
	struct spool_claim c;
	struct stat st;
	char name[SPOOL_NAME_MAX], path[400], why[256];
	const char *key = "sda\nline two\\x41";

	(void)state;
	assert_int_equal(spool_put(sp, "https://k.example/add", "disk", key,
	    "0123456789abcdef", "[{\"title\":\"t\"}]", 15, 0, name, why,
	    sizeof(why)), 0);
	assert_int_equal(sp->n, 1);
	assert_true(sp->bytes > 15);
	assert_int_equal(count_files("s", "spool"), 1);
	assert_int_equal(count_files("s", "tmp"), 0);

	/* 0700 directories, 0600 files. */
	snprintf(path, sizeof(path), "%s/s", tdir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/s/spool/%s", tdir, name);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	assert_int_equal(spool_claim(sp, &sp->v[0], &c), 1);
	assert_string_equal(c.url, "https://k.example/add");
	assert_string_equal(c.rule, "disk");
	/* A key with a newline and a backslash survives the header. */
	assert_string_equal(c.key, key);
	assert_string_equal(c.ref, "0123456789abcdef");
	assert_int_equal(c.len, 15);
	assert_memory_equal(c.body, "[{\"title\":\"t\"}]", 15);
	assert_true(sp->v[0].busy);
	assert_int_equal(sp->v[0].attempts, 1);
	spool_done(sp, &c);
	assert_int_equal(sp->n, 0);
	assert_int_equal(sp->bytes, 0);
	assert_int_equal(count_files("s", "spool"), 0);
	spool_free(sp);
}

static void
test_oldest_first_and_replay(void **state)
{
	struct spool *sp = open_spool("s", 100, 1 << 20);
	char names[5][SPOOL_NAME_MAX], why[256];
	int i;

	(void)state;
	for (i = 0; i < 5; i++)
		assert_int_equal(put(sp, "k", "{}", names[i], why,
		    sizeof(why)), 0);
	for (i = 1; i < 5; i++)
		assert_true(strcmp(names[i - 1], names[i]) < 0);
	spool_free(sp);
	/* A new start finds them, in the same order. */
	sp = open_spool("s", 100, 1 << 20);
	assert_int_equal(sp->n, 5);
	for (i = 0; i < 5; i++)
		assert_string_equal(sp->v[i].name, names[i]);
	/* Same rule and key: one key hash. */
	assert_true(sp->v[0].keyhash == sp->v[4].keyhash);
	spool_free(sp);
}

static void
test_caps(void **state)
{
	struct spool *sp = open_spool("s", 2, 1 << 20);
	char why[256];

	(void)state;
	assert_int_equal(put(sp, "a", "{}", NULL, why, sizeof(why)), 0);
	assert_int_equal(put(sp, "b", "{}", NULL, why, sizeof(why)), 0);
	assert_int_equal(put(sp, "c", "{}", NULL, why, sizeof(why)),
	    SPOOL_FULL);
	assert_non_null(strstr(why, "spool full: 2 requests waiting"));
	assert_non_null(strstr(why, "[spool] max = 2"));
	assert_int_equal(count_files("s", "spool"), 2);

	spool_set_caps(sp, 100, (int64_t)sp->bytes + 10);
	assert_int_equal(put(sp, "c", "{\"long\":\"xxxxxxxxxxxxxxxxxxxx\"}",
	    NULL, why, sizeof(why)), SPOOL_FULL);
	assert_non_null(strstr(why, "[spool] max_bytes"));
	assert_int_equal(count_files("s", "spool"), 2);
	assert_int_equal(count_files("s", "tmp"), 0);

	/* Over the cap on request: up to twice it, no further. */
	spool_set_caps(sp, 2, 1 << 20);
	assert_int_equal(spool_put(sp, "https://k.example/add", "disk", "d",
	    "r", "{}", 2, SPOOL_OVER_CAP, NULL, why, sizeof(why)), SPOOL_OK);
	assert_int_equal(spool_put(sp, "https://k.example/add", "disk", "e",
	    "r", "{}", 2, SPOOL_OVER_CAP, NULL, why, sizeof(why)), SPOOL_OK);
	assert_int_equal(spool_put(sp, "https://k.example/add", "disk", "f",
	    "r", "{}", 2, SPOOL_OVER_CAP, NULL, why, sizeof(why)), SPOOL_FULL);
	assert_int_equal(sp->n, 4);
	spool_free(sp);
}

/* Two helpers on one spool: one claim at a time, nothing sent twice. */
static void
test_two_instances(void **state)
{
	struct spool *a = open_spool("s", 100, 1 << 20);
	struct spool *b = open_spool("s", 100, 1 << 20);
	struct spool_claim ca, cb;
	char why[256];

	(void)state;
	assert_int_equal(put(a, "k1", "{}", NULL, why, sizeof(why)), 0);
	assert_int_equal(put(a, "k2", "{}", NULL, why, sizeof(why)), 0);
	assert_int_equal(b->n, 0);
	assert_int_equal(spool_scan(b, true), 2);

	assert_int_equal(spool_claim(a, &a->v[0], &ca), 1);
	/* b cannot have it while a holds it; the entry stays, later. */
	assert_int_equal(spool_claim(b, &b->v[0], &cb), 0);
	assert_int_equal(b->n, 2);
	assert_true(b->v[0].next_ms > 0);
	spool_done(a, &ca);
	/* Delivered by a: b's stale entry goes away when b tries it. */
	assert_int_equal(spool_claim(b, &b->v[0], &cb), 0);
	assert_int_equal(b->n, 1);

	/* b takes the second; a, after a scan, cannot. */
	assert_int_equal(spool_claim(b, &b->v[0], &cb), 1);
	assert_int_equal(spool_scan(a, true), 1);
	assert_int_equal(spool_claim(a, &a->v[0], &ca), 0);
	/* Released (a retry): a may take it now. */
	spool_release(b, &cb);
	assert_false(b->v[0].busy);
	assert_int_equal(spool_claim(a, &a->v[0], &ca), 1);
	spool_done(a, &ca);
	assert_int_equal(spool_scan(b, true), 0);
	spool_free(a);
	spool_free(b);
}

static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *s = calloc(1, 65536);

	assert_non_null(fp);
	assert_non_null(s);
	fread(s, 1, 65535, fp);
	fclose(fp);
	return s;
}

static void
test_fail_and_retry_failed(void **state)
{
	struct spool *sp = open_spool("s", 100, 1 << 20);
	struct spool_claim c;
	char name[SPOOL_NAME_MAX], path[400], why[256], *s = NULL, *text;
	size_t n = 0;
	FILE *out;

	(void)state;
	assert_int_equal(put(sp, "k", "{}", name, why, sizeof(why)), 0);
	assert_int_equal(spool_claim(sp, &sp->v[0], &c), 1);
	spool_fail(sp, &c, 400, "Missing title", "{\"status\":\"failed\"}",
	    19);
	assert_int_equal(sp->n, 0);
	assert_int_equal(count_files("s", "spool"), 0);
	assert_int_equal(count_files("s", "failed"), 2);
	snprintf(path, sizeof(path), "%s/s/failed/%s.why", tdir, name);
	text = slurp(path);
	assert_non_null(strstr(text, "\"status\":400"));
	assert_non_null(strstr(text, "\"message\":\"Missing title\""));
	assert_non_null(strstr(text, "\"rule\":\"disk\""));
	assert_non_null(strstr(text, "\"ref\":\"ref1\""));
	assert_non_null(strstr(text,
	    "\"response\":\"{\\\"status\\\":\\\"failed\\\"}\""));
	free(text);

	out = open_memstream(&s, &n);
	spool_print_status(sp, out, spool_now_ms());
	fclose(out);
	assert_non_null(strstr(s, ": 0 waiting"));
	assert_non_null(strstr(s, "/failed: 1"));
	assert_non_null(strstr(s, name));
	assert_non_null(strstr(s, "HTTP 400: Missing title"));
	free(s);

	assert_int_equal(spool_retry_failed(sp, NULL), 1);
	assert_int_equal(count_files("s", "failed"), 0);
	assert_int_equal(sp->n, 1);
	assert_string_equal(sp->v[0].name, name);
	spool_free(sp);
}

static void
test_malformed_file_is_failed(void **state)
{
	struct spool *sp = open_spool("s", 100, 1 << 20);
	struct spool_claim c;
	char path[400];
	FILE *fp;

	(void)state;
	snprintf(path, sizeof(path),
	    "%s/s/spool/1700000000000-0000001-00000001.req", tdir);
	fp = fopen(path, "w");
	fputs("not a spool file\n", fp);
	fclose(fp);
	/* Not ours: ignored. */
	snprintf(path, sizeof(path), "%s/s/spool/README", tdir);
	fp = fopen(path, "w");
	fclose(fp);
	assert_int_equal(spool_scan(sp, true), 1);
	assert_int_equal(spool_claim(sp, &sp->v[0], &c), -1);
	assert_int_equal(sp->n, 0);
	assert_int_equal(count_files("s", "failed"), 2);
	snprintf(path, sizeof(path),
	    "%s/s/failed/1700000000000-0000001-00000001.req.why", tdir);
	{
		char *t = slurp(path);

		assert_non_null(strstr(t, "unusable spool file: not an "
		    "omkapture spool file"));
		free(t);
	}
	spool_free(sp);
}

static void
test_hostile_dirs(void **state)
{
	char path[300], target[300], err[512];
	struct stat st;
	struct spool *sp;

	(void)state;
	/* A symlink is refused, whatever it points to. */
	snprintf(target, sizeof(target), "%s/real", tdir);
	assert_int_equal(mkdir(target, 0700), 0);
	snprintf(path, sizeof(path), "%s/link", tdir);
	assert_int_equal(symlink(target, path), 0);
	assert_null(spool_open(path, 10, 1000, err, sizeof(err)));
	assert_non_null(strstr(err, "is a symlink or not a directory"));
	/* So is a symlinked subdirectory. */
	snprintf(path, sizeof(path), "%s/real/spool", tdir);
	assert_int_equal(symlink("/tmp", path), 0);
	assert_null(spool_open(target, 10, 1000, err, sizeof(err)));
	assert_non_null(strstr(err, "real/spool: is a symlink"));
	/* A group-readable directory is tightened to 0700. */
	snprintf(path, sizeof(path), "%s/open", tdir);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(chmod(path, 0755), 0);
	assert_non_null(sp = spool_open(path, 10, 1000, err, sizeof(err)));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	spool_free(sp);
	/* A missing parent is an error, not a crash. */
	snprintf(path, sizeof(path), "%s/no/such/dir", tdir);
	assert_null(spool_open(path, 10, 1000, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot create"));
}

/* Disk full: the request is refused with the reason, nothing is left
 * behind, and it goes through once space returns. */
static void
test_enospc(void **state)
{
	struct spool *sp = open_spool("s", 100, 1 << 20);
	char why[256];

	(void)state;
	fsync_errno = ENOSPC;
	assert_int_equal(put(sp, "k", "{}", NULL, why, sizeof(why)),
	    SPOOL_ERROR);
	assert_non_null(strstr(why, "cannot write to spool"));
	assert_non_null(strstr(why, "No space left on device"));
	assert_int_equal(sp->n, 0);
	assert_int_equal(count_files("s", "spool"), 0);
	assert_int_equal(count_files("s", "tmp"), 0);
	fsync_errno = EIO;
	assert_int_equal(put(sp, "k", "{}", NULL, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "Input/output error"));
	fsync_errno = 0;
	assert_int_equal(put(sp, "k", "{}", NULL, why, sizeof(why)), 0);
	assert_int_equal(sp->n, 1);
	assert_int_equal(count_files("s", "spool"), 1);
	spool_free(sp);
}

/* Temp files of dead writers are removed at open; live ones are not. */
static void
test_tmp_cleanup(void **state)
{
	struct spool *sp = open_spool("s", 100, 1 << 20);
	char path[400];
	FILE *fp;

	(void)state;
	spool_free(sp);
	snprintf(path, sizeof(path), "%s/s/tmp/999999999-1.tmp", tdir);
	assert_non_null(fp = fopen(path, "w"));
	fclose(fp);
	snprintf(path, sizeof(path), "%s/s/tmp/%ld-1.tmp", tdir,
	    (long)getpid());
	assert_non_null(fp = fopen(path, "w"));
	fclose(fp);
	sp = open_spool("s", 100, 1 << 20);
	assert_int_equal(count_files("s", "tmp"), 1);
	assert_int_equal(access(path, F_OK), 0);
	spool_free(sp);
}

/* Each process holds tmp/<pid>.lock: the others can tell they are not
 * alone, and a dead process's lock is cleared. */
static void
test_others_alive(void **state)
{
	struct spool *sp = open_spool("s", 100, 1 << 20);
	int go[2], ready[2], status;
	char c;
	pid_t pid;

	(void)state;
	assert_false(spool_others_alive(sp));
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(ready), 0);
	if ((pid = fork()) == 0) {
		struct spool *child = open_spool("s", 100, 1 << 20);

		write(ready[1], "r", 1);
		read(go[0], &c, 1);
		spool_free(child);
		_exit(0);
	}
	assert_int_equal(read(ready[0], &c, 1), 1);
	sp->others_checked_ms = 0;
	assert_true(spool_others_alive(sp));
	/* Cached for a second. */
	assert_true(spool_others_alive(sp));
	write(go[1], "g", 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	sp->others_checked_ms = 0;
	assert_false(spool_others_alive(sp));
	close(go[0]);
	close(go[1]);
	close(ready[0]);
	close(ready[1]);
	spool_free(sp);
}

static void
test_backoff(void **state)
{
	uint64_t rng = 42;
	int64_t d, cap;
	unsigned n;
	int i;

	(void)state;
	for (n = 1; n <= 20; n++) {
		cap = n > 10 ? 300000 : 1000LL << (n - 1);
		if (cap > 300000)
			cap = 300000;
		for (i = 0; i < 200; i++) {
			d = sender_backoff_ms(n, 300000, &rng);
			assert_true(d >= 100);
			assert_true(d <= cap);
		}
	}
	/* retry_max caps the first step too. */
	for (i = 0; i < 100; i++) {
		d = sender_backoff_ms(1, 500, &rng);
		assert_true(d >= 100 && d <= 500);
	}
	/* Full jitter: the delays spread over the range. */
	{
		int64_t lo = 300000, hi = 0;

		for (i = 0; i < 1000; i++) {
			d = sender_backoff_ms(12, 300000, &rng);
			lo = d < lo ? d : lo;
			hi = d > hi ? d : hi;
		}
		assert_true(lo < 30000);
		assert_true(hi > 270000);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_claim_done, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oldest_first_and_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_caps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_instances, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fail_and_retry_failed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_file_is_failed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_dirs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enospc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tmp_cleanup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_others_alive, setup, teardown),
		cmocka_unit_test(test_backoff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
