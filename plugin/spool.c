#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "log.h"

#define SPOOL_MAGIC "omkapture-spool 1\n"
#define SPOOL_HEAD_READ 65536
#define SPOOL_WHY_RESPONSE_MAX 65536

int64_t
spool_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "1795773600123-0001234-0000002a.req": 13 digits, '-', ..., ".req". */
static bool
spool_name_valid(const char *name, int64_t *created_ms)
{
	size_t n = strlen(name), i;
	int64_t ms = 0;

	if (n < 18 || n >= SPOOL_NAME_MAX || strcmp(name + n - 4, ".req"))
		return false;
	for (i = 0; i < 13; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		ms = ms * 10 + (name[i] - '0');
	}
	if (name[13] != '-' || strchr(name, '/') != NULL)
		return false;
	if (created_ms != NULL)
		*created_ms = ms;
	return true;
}

/* Escape a header value: '\\' and control bytes become \xNN. */
static void
spool_escape(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f || c == '\\')
			buf_printf(b, "\\x%02x", c);
		else
			buf_appendc(b, (char)c);
	}
}

/* In place; the result is never longer. */
static void
spool_unescape(char *s)
{
	char *w = s;

	while (*s != '\0') {
		if (s[0] == '\\' && s[1] == 'x' && hex_digit(s[2]) >= 0 &&
		    hex_digit(s[3]) >= 0) {
			*w++ = (char)(hex_digit(s[2]) * 16 + hex_digit(s[3]));
			s += 4;
		} else {
			*w++ = *s++;
		}
	}
	*w = '\0';
}

static uint64_t
spool_keyhash(const char *rule, const char *key)
{
	uint64_t h = hash_fnv1a(HASH_FNV_INIT, rule, strlen(rule) + 1);

	return hash_fnv1a(h, key, strlen(key));
}

/*
 * Parse a spool file held in c->raw, in place. Only the header is needed
 * when head_only (a scan); the body must be complete otherwise. Returns
 * NULL or what is wrong.
 */
static const char *
spool_parse(struct spool_claim *c, bool head_only)
{
	char *p = c->raw.data, *end = p + c->raw.len, *nl, *sp;

	c->url = c->rule = c->key = c->ref = c->body = NULL;
	c->kind = c->ticket_ref = NULL;
	c->len = 0;
	if (c->raw.len < sizeof(SPOOL_MAGIC) - 1 ||
	    memcmp(p, SPOOL_MAGIC, sizeof(SPOOL_MAGIC) - 1) != 0)
		return "not an omkapture spool file (bad first line)";
	p += sizeof(SPOOL_MAGIC) - 1;
	for (;;) {
		if (p >= end || (nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return "header not terminated";
		if (nl == p) {
			p++;
			break;
		}
		*nl = '\0';
		if ((sp = strchr(p, ' ')) != NULL) {
			*sp++ = '\0';
			if (!strcmp(p, "url"))
				c->url = sp;
			else if (!strcmp(p, "rule"))
				c->rule = sp;
			else if (!strcmp(p, "key"))
				c->key = sp;
			else if (!strcmp(p, "ref"))
				c->ref = sp;
			else if (!strcmp(p, "kind"))
				c->kind = sp;
			else if (!strcmp(p, "ticket-ref"))
				c->ticket_ref = sp;
			/* Unknown header lines are for newer versions. */
		}
		p = nl + 1;
	}
	if (c->url == NULL || c->rule == NULL || c->key == NULL ||
	    c->ref == NULL)
		return "header lacks url, rule, key or ref";
	spool_unescape(c->rule);
	spool_unescape(c->key);
	if (c->ticket_ref != NULL)
		spool_unescape(c->ticket_ref);
	c->body = p;
	c->len = (size_t)(end - p);
	if (!head_only && c->len == 0)
		return "empty request body";
	return NULL;
}

const char *
spool_parse_buf(const char *data, size_t len, bool head_only)
{
	struct spool_claim c;
	const char *why;

	memset(&c, 0, sizeof(c));
	c.fd = -1;
	buf_init(&c.raw, SPOOL_FILE_MAX);
	buf_append(&c.raw, data, len);
	why = c.raw.truncated ? "larger than a spool file may be" :
	    spool_parse(&c, head_only);
	buf_free(&c.raw);
	return why;
}

static bool
spool_check_dir(int fd, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "spool %s: %s", path, strerror(errno));
		return false;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "spool %s is owned by uid %lu, not by "
		    "this user (uid %lu): refusing to use it", path,
		    (unsigned long)st.st_uid, (unsigned long)geteuid());
		return false;
	}
	if ((st.st_mode & 077) != 0) {
		log_warnx("spool %s was mode %03o; setting 0700", path,
		    (unsigned)(st.st_mode & 0777));
		if (fchmod(fd, 0700) < 0) {
			snprintf(err, errlen, "spool %s: chmod: %s", path,
			    strerror(errno));
			return false;
		}
	}
	return true;
}

static int
spool_open_dir(int parent, const char *name, const char *path, char *err,
    size_t errlen)
{
	int fd;

	if (mkdirat(parent, name, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "spool %s: cannot create: %s", path,
		    strerror(errno));
		return -1;
	}
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "spool %s: %s", path, errno == ELOOP ||
		    errno == ENOTDIR ? "is a symlink or not a directory: "
		    "refusing to use it" : strerror(errno));
		return -1;
	}
	if (!spool_check_dir(fd, path, err, errlen)) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * A DIR stream over a copy of fd, from the start: a dup shares the file
 * offset, so a stream read to the end before would otherwise be empty.
 */
static DIR *
spool_opendir(int fd)
{
	DIR *d;
	int nfd = dup(fd);

	if (nfd < 0)
		return NULL;
	if ((d = fdopendir(nfd)) == NULL) {
		close(nfd);
		return NULL;
	}
	rewinddir(d);
	return d;
}

/* Temp files of processes that died mid-write are garbage. */
static void
spool_clean_tmp(struct spool *sp)
{
	DIR *d;
	struct dirent *de;
	long pid;
	char *end;

	if ((d = spool_opendir(sp->tmpfd)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		pid = strtol(de->d_name, &end, 10);
		if (*end == '-' && pid > 0 && kill((pid_t)pid, 0) < 0 &&
		    errno == ESRCH)
			unlinkat(sp->tmpfd, de->d_name, 0);
	}
	closedir(d);
}

/*
 * Every process using the spool holds an exclusive flock on
 * tmp/<pid>.lock for as long as it runs, so the others can tell whether
 * they are alone (and skip work that only matters when they are not).
 */
static void
spool_register(struct spool *sp)
{
	char name[64], tmp[64];
	int fd;

	/* Locked before it has its name: another process that finds
	 * <pid>.lock unlocked takes its owner for dead and deletes it, and
	 * would, between our open and our flock. */
	snprintf(name, sizeof(name), "%ld.lock", (long)getpid());
	snprintf(tmp, sizeof(tmp), "%ld-lock.tmp", (long)getpid());
	unlinkat(sp->tmpfd, tmp, 0);
	sp->lockfd = -1;
	fd = openat(sp->tmpfd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0 ||
	    renameat(sp->tmpfd, tmp, sp->tmpfd, name) < 0) {
		close(fd);
		unlinkat(sp->tmpfd, tmp, 0);
		return;
	}
	sp->lockfd = fd;
}

bool
spool_others_alive(struct spool *sp)
{
	struct dirent *de;
	DIR *d;
	char mine[64];
	int64_t now = spool_now_ms();
	bool alive = false;
	int fd;
	size_t n;

	if (now - sp->others_checked_ms < 1000)
		return sp->others_alive;
	sp->others_checked_ms = now;
	snprintf(mine, sizeof(mine), "%ld.lock", (long)getpid());
	if ((d = spool_opendir(sp->tmpfd)) == NULL)
		return sp->others_alive = true; /* cannot tell: assume so */
	while ((de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (n < 6 || strcmp(de->d_name + n - 5, ".lock") != 0 ||
		    !strcmp(de->d_name, mine))
			continue;
		if ((fd = openat(sp->tmpfd, de->d_name, O_RDONLY | O_NOFOLLOW |
		    O_CLOEXEC)) < 0)
			continue;
		if (flock(fd, LOCK_SH | LOCK_NB) < 0) {
			alive = true;
		} else {
			/* Its owner is gone. */
			unlinkat(sp->tmpfd, de->d_name, 0);
		}
		close(fd);
	}
	closedir(d);
	return sp->others_alive = alive;
}

struct spool *
spool_open(const char *dir, int64_t max, int64_t max_bytes, char *err,
    size_t errlen)
{
	struct spool *sp = xcalloc(1, sizeof(*sp));
	char *path;

	sp->dirfd = sp->spoolfd = sp->failedfd = sp->tmpfd = sp->lockfd = -1;
	sp->dir = xstrdup(dir);
	sp->max = max;
	sp->max_bytes = max_bytes;
	if ((sp->dirfd = spool_open_dir(AT_FDCWD, dir, dir, err, errlen)) < 0)
		goto fail;
	path = xasprintf("%s/spool", dir);
	sp->spoolfd = spool_open_dir(sp->dirfd, "spool", path, err, errlen);
	free(path);
	if (sp->spoolfd < 0)
		goto fail;
	path = xasprintf("%s/failed", dir);
	sp->failedfd = spool_open_dir(sp->dirfd, "failed", path, err, errlen);
	free(path);
	if (sp->failedfd < 0)
		goto fail;
	path = xasprintf("%s/tmp", dir);
	sp->tmpfd = spool_open_dir(sp->dirfd, "tmp", path, err, errlen);
	free(path);
	if (sp->tmpfd < 0)
		goto fail;
	spool_clean_tmp(sp);
	spool_register(sp);
	spool_scan(sp, true);
	return sp;
fail:
	spool_free(sp);
	return NULL;
}

void
spool_free(struct spool *sp)
{
	if (sp == NULL)
		return;
	if (sp->dirfd >= 0)
		close(sp->dirfd);
	if (sp->spoolfd >= 0)
		close(sp->spoolfd);
	if (sp->failedfd >= 0)
		close(sp->failedfd);
	if (sp->lockfd >= 0) {
		char name[64];

		snprintf(name, sizeof(name), "%ld.lock", (long)getpid());
		unlinkat(sp->tmpfd, name, 0);
		close(sp->lockfd);
	}
	if (sp->tmpfd >= 0)
		close(sp->tmpfd);
	free(sp->v);
	free(sp->dir);
	free(sp);
}

void
spool_set_caps(struct spool *sp, int64_t max, int64_t max_bytes)
{
	sp->max = max;
	sp->max_bytes = max_bytes;
}

/* Index of name, or where it would go (*found false). */
static size_t
spool_bsearch(const struct spool *sp, const char *name, bool *found)
{
	size_t lo = 0, hi = sp->n, mid;
	int cmp;

	*found = false;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		cmp = strcmp(sp->v[mid].name, name);
		if (cmp == 0) {
			*found = true;
			return mid;
		}
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct spool_entry *
spool_find(struct spool *sp, const char *name)
{
	bool found;
	size_t i = spool_bsearch(sp, name, &found);

	return found ? &sp->v[i] : NULL;
}

static struct spool_entry *
spool_insert(struct spool *sp, const char *name, uint64_t keyhash,
    size_t size, int64_t created_ms)
{
	bool found;
	size_t i = spool_bsearch(sp, name, &found);
	struct spool_entry *e;

	if (found)
		return &sp->v[i];
	if (sp->n == sp->alloc) {
		sp->alloc = sp->alloc ? sp->alloc * 2 : 64;
		sp->v = xrealloc(sp->v, sp->alloc * sizeof(*sp->v));
	}
	memmove(&sp->v[i + 1], &sp->v[i], (sp->n - i) * sizeof(*sp->v));
	sp->n++;
	e = &sp->v[i];
	memset(e, 0, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->keyhash = keyhash;
	e->size = size;
	e->created_ms = created_ms;
	e->seen = true;
	sp->bytes += size;
	return e;
}

static void
spool_remove(struct spool *sp, const char *name)
{
	bool found;
	size_t i = spool_bsearch(sp, name, &found);

	if (!found)
		return;
	sp->bytes -= sp->v[i].size < sp->bytes ? sp->v[i].size : sp->bytes;
	memmove(&sp->v[i], &sp->v[i + 1], (sp->n - i - 1) * sizeof(*sp->v));
	sp->n--;
}

/* Write data to a new temp file and fsync it; returns its name in tmp. */
static int
spool_write_tmp(struct spool *sp, const void *data, size_t len,
    char tmp[64], int *saved_errno)
{
	int fd;

	snprintf(tmp, 64, "%ld-%lu.tmp", (long)getpid(), ++sp->seq);
	fd = openat(sp->tmpfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd < 0) {
		*saved_errno = errno;
		return -1;
	}
	if (write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		*saved_errno = errno;
		close(fd);
		unlinkat(sp->tmpfd, tmp, 0);
		return -1;
	}
	if (close(fd) < 0) {
		*saved_errno = errno;
		unlinkat(sp->tmpfd, tmp, 0);
		return -1;
	}
	return 0;
}

int
spool_put(struct spool *sp, const char *url, const char *rule,
    const char *key, const char *ref, const char *body, size_t len,
    unsigned flags, char name[SPOOL_NAME_MAX], char *why, size_t whylen)
{
	struct spool_req r;

	memset(&r, 0, sizeof(r));
	r.url = url;
	r.rule = rule;
	r.key = key;
	r.ref = ref;
	r.body = body;
	r.len = len;
	return spool_put_req(sp, &r, flags, name, why, whylen);
}

int
spool_put_req(struct spool *sp, const struct spool_req *r, unsigned flags,
    char name[SPOOL_NAME_MAX], char *why, size_t whylen)
{
	struct buf b;
	char tmp[64], nm[SPOOL_NAME_MAX];
	int64_t ms, mul = (flags & SPOOL_OVER_CAP) ? 2 : 1;
	int err = 0, tries;
	size_t len = r->len;

	if (sp->max > 0 && (int64_t)sp->n >= sp->max * mul) {
		snprintf(why, whylen, "spool full: %zu requests waiting in %s "
		    "([spool] max = %lld)", sp->n, sp->dir, (long long)sp->max);
		return SPOOL_FULL;
	}
	buf_init(&b, SPOOL_FILE_MAX);
	buf_appends(&b, SPOOL_MAGIC "url ");
	spool_escape(&b, r->url);
	buf_appends(&b, "\nrule ");
	spool_escape(&b, r->rule);
	buf_appends(&b, "\nkey ");
	spool_escape(&b, r->key);
	buf_appends(&b, "\nref ");
	spool_escape(&b, r->ref);
	if (r->kind != NULL) {
		buf_appends(&b, "\nkind ");
		spool_escape(&b, r->kind);
	}
	if (r->ticket_ref != NULL) {
		buf_appends(&b, "\nticket-ref ");
		spool_escape(&b, r->ticket_ref);
	}
	buf_appends(&b, "\n\n");
	buf_append(&b, r->body, len);
	if (b.truncated) {
		snprintf(why, whylen, "request of %zu bytes is larger than a "
		    "spool file may be (%d)", len, SPOOL_FILE_MAX);
		buf_free(&b);
		return SPOOL_ERROR;
	}
	if (sp->max_bytes > 0 &&
	    (int64_t)(sp->bytes + b.len) > sp->max_bytes * mul) {
		snprintf(why, whylen, "spool full: %zu bytes waiting in %s "
		    "([spool] max_bytes = %lld)", sp->bytes, sp->dir,
		    (long long)sp->max_bytes);
		buf_free(&b);
		return SPOOL_FULL;
	}
	if (spool_write_tmp(sp, b.data, b.len, tmp, &err) < 0)
		goto fail;
	/* link() refuses to replace: two instances can never pick one name. */
	ms = spool_now_ms();
	for (tries = 0;; tries++) {
		snprintf(nm, sizeof(nm), "%013lld-%07ld-%08lx.req",
		    (long long)ms, (long)getpid() % 10000000L,
		    ++sp->seq & 0xffffffffUL);
		if (linkat(sp->tmpfd, tmp, sp->spoolfd, nm, 0) == 0)
			break;
		if (errno != EEXIST || tries > 100) {
			err = errno;
			unlinkat(sp->tmpfd, tmp, 0);
			goto fail;
		}
	}
	unlinkat(sp->tmpfd, tmp, 0);
	if (fsync(sp->spoolfd) < 0) {
		err = errno;
		unlinkat(sp->spoolfd, nm, 0);
		goto fail;
	}
	spool_insert(sp, nm, spool_keyhash(r->rule, r->key), b.len, ms);
	sp->put_since_scan = true;
	if (name != NULL)
		snprintf(name, SPOOL_NAME_MAX, "%s", nm);
	buf_free(&b);
	return SPOOL_OK;
fail:
	snprintf(why, whylen, "cannot write to spool %s: %s", sp->dir,
	    strerror(err));
	buf_free(&b);
	return SPOOL_ERROR;
}

size_t
spool_scan(struct spool *sp, bool force)
{
	struct stat st;
	struct spool_claim c;
	struct dirent *de;
	DIR *d;
	size_t i, w;
	int64_t ms;
	uint64_t kh;
	int fd;

	sp->last_scan_ms = spool_now_ms();
	if (fstat(sp->spoolfd, &st) == 0) {
		/* The kernel stamps directories with a coarse clock: a file
		 * added in the same tick as the change we saw leaves the
		 * stamp alone. Trust an unchanged stamp only once it is a
		 * second old. */
		if (!force && st.st_mtim.tv_sec == sp->dir_mtime_sec &&
		    st.st_mtim.tv_nsec == sp->dir_mtime_nsec &&
		    spool_now_ms() - ((int64_t)st.st_mtim.tv_sec * 1000 +
		    st.st_mtim.tv_nsec / 1000000) > 1000)
			return sp->n;
		sp->dir_mtime_sec = st.st_mtim.tv_sec;
		sp->dir_mtime_nsec = st.st_mtim.tv_nsec;
	}
	sp->put_since_scan = false;
	if ((d = spool_opendir(sp->spoolfd)) == NULL)
		return sp->n;
	for (i = 0; i < sp->n; i++)
		sp->v[i].seen = false;
	memset(&c, 0, sizeof(c));
	buf_init(&c.raw, SPOOL_HEAD_READ);
	while ((de = readdir(d)) != NULL) {
		struct spool_entry *e;

		if (!spool_name_valid(de->d_name, &ms))
			continue;
		if ((e = spool_find(sp, de->d_name)) != NULL) {
			e->seen = true;
			continue;
		}
		/* Another process's request (or ours from a past life):
		 * learn its key so requests of one key stay in order. */
		if ((fd = openat(sp->spoolfd, de->d_name, O_RDONLY |
		    O_NOFOLLOW | O_CLOEXEC)) < 0)
			continue;
		if (fstat(fd, &st) < 0 || read_all(fd, &c.raw,
		    SPOOL_HEAD_READ) < 0) {
			close(fd);
			continue;
		}
		close(fd);
		if (spool_parse(&c, true) == NULL)
			kh = spool_keyhash(c.rule, c.key);
		else
			kh = hash_fnv1a(HASH_FNV_INIT, de->d_name,
			    strlen(de->d_name));
		spool_insert(sp, de->d_name, kh, (size_t)st.st_size, ms);
	}
	closedir(d);
	buf_free(&c.raw);
	/* Drop what is gone, unless we are sending it right now. */
	for (i = w = 0; i < sp->n; i++) {
		if (!sp->v[i].seen && !sp->v[i].busy) {
			sp->bytes -= sp->v[i].size < sp->bytes ?
			    sp->v[i].size : sp->bytes;
			continue;
		}
		sp->v[w++] = sp->v[i];
	}
	sp->n = w;
	return sp->n;
}

int
spool_claim(struct spool *sp, struct spool_entry *e, struct spool_claim *c)
{
	struct stat a, b;
	const char *bad;
	int fd;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	snprintf(c->name, sizeof(c->name), "%s", e->name);
	if ((fd = openat(sp->spoolfd, e->name, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0) {
		if (errno == ENOENT) {
			spool_remove(sp, c->name);
		} else {
			log_warn("spool %s/spool/%s", sp->dir, e->name);
			e->next_ms = spool_now_ms() + 60000;
		}
		return 0;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		/* Another instance is sending it: look again later. */
		close(fd);
		e->next_ms = spool_now_ms() + 1000;
		return 0;
	}
	/* It may have been delivered (unlinked) or failed (renamed) between
	 * our open and our lock. */
	if (fstat(fd, &a) < 0 || a.st_nlink == 0 ||
	    fstatat(sp->spoolfd, e->name, &b, AT_SYMLINK_NOFOLLOW) < 0 ||
	    a.st_ino != b.st_ino || a.st_dev != b.st_dev) {
		close(fd);
		spool_remove(sp, c->name);
		return 0;
	}
	c->fd = fd;
	buf_init(&c->raw, SPOOL_FILE_MAX);
	if (a.st_size > SPOOL_FILE_MAX)
		bad = "file larger than a spool file may be";
	else if (read_all(fd, &c->raw, SPOOL_FILE_MAX) < 0)
		bad = strerror(errno);
	else
		bad = spool_parse(c, false);
	if (bad != NULL) {
		char msg[256];

		snprintf(msg, sizeof(msg), "unusable spool file: %s", bad);
		log_warnx("spool %s/spool/%s: %s; moved to failed/", sp->dir,
		    c->name, msg);
		spool_fail(sp, c, 0, msg, NULL, 0);
		return -1;
	}
	e->busy = true;
	e->attempts++;
	return 1;
}

static void
spool_claim_end(struct spool_claim *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	buf_free(&c->raw);
	c->kind = c->ticket_ref = NULL;
	c->url = c->rule = c->key = c->ref = c->body = NULL;
}

void
spool_done(struct spool *sp, struct spool_claim *c)
{
	/* Unlink while we hold the lock: an instance waiting for it then
	 * finds the file gone (st_nlink == 0) and does not send it again. */
	if (unlinkat(sp->spoolfd, c->name, 0) < 0 && errno != ENOENT)
		log_warn("spool %s/spool/%s: delete", sp->dir, c->name);
	spool_remove(sp, c->name);
	spool_claim_end(c);
}

static void
spool_gen_str(yajl_gen g, const char *k, const char *v, size_t n)
{
	struct buf b;

	buf_init(&b, n + 64);
	utf8_append_repaired(&b, v, n);
	yajl_gen_string(g, (const unsigned char *)k, strlen(k));
	yajl_gen_string(g, (const unsigned char *)(b.data ? b.data : ""),
	    b.len);
	buf_free(&b);
}

void
spool_fail(struct spool *sp, struct spool_claim *c, long http_status,
    const char *message, const char *response, size_t rlen)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *p;
	char tmp[64], why[SPOOL_NAME_MAX + 8], when[20];
	size_t n;
	int err = 0;

	time_format_local(time(NULL), when);
	yajl_gen_map_open(g);
	spool_gen_str(g, "time", when, strlen(when));
	yajl_gen_string(g, (const unsigned char *)"status", 6);
	yajl_gen_integer(g, http_status);
	spool_gen_str(g, "message", message, strlen(message));
	if (c->rule != NULL)
		spool_gen_str(g, "rule", c->rule, strlen(c->rule));
	if (c->ref != NULL)
		spool_gen_str(g, "ref", c->ref, strlen(c->ref));
	if (response != NULL)
		spool_gen_str(g, "response", response,
		    rlen < SPOOL_WHY_RESPONSE_MAX ? rlen : SPOOL_WHY_RESPONSE_MAX);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &p, &n);
	snprintf(why, sizeof(why), "%s.why", c->name);
	/* The sidecar first: a failed/ request always has its reason. */
	if (spool_write_tmp(sp, p, n, tmp, &err) == 0) {
		if (renameat(sp->tmpfd, tmp, sp->failedfd, why) < 0) {
			log_warn("spool %s/failed/%s", sp->dir, why);
			unlinkat(sp->tmpfd, tmp, 0);
		}
	} else {
		log_warnx("spool %s/failed/%s: %s", sp->dir, why,
		    strerror(err));
	}
	yajl_gen_free(g);
	if (renameat(sp->spoolfd, c->name, sp->failedfd, c->name) < 0)
		log_warn("spool %s: moving %s to failed/", sp->dir, c->name);
	fsync(sp->failedfd);
	fsync(sp->spoolfd);
	sp->failed_total++;
	spool_remove(sp, c->name);
	spool_claim_end(c);
}

void
spool_release(struct spool *sp, struct spool_claim *c)
{
	struct spool_entry *e = spool_find(sp, c->name);

	if (e != NULL)
		e->busy = false;
	spool_claim_end(c);
}

long
spool_retry_failed(struct spool *sp, FILE *out)
{
	DIR *d;
	struct dirent *de;
	char why[300];
	long n = 0;

	if ((d = spool_opendir(sp->failedfd)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (!spool_name_valid(de->d_name, NULL))
			continue;
		if (renameat(sp->failedfd, de->d_name, sp->spoolfd,
		    de->d_name) < 0) {
			log_warn("spool %s: re-queueing failed/%s", sp->dir,
			    de->d_name);
			continue;
		}
		snprintf(why, sizeof(why), "%s.why", de->d_name);
		unlinkat(sp->failedfd, why, 0);
		if (out != NULL)
			fprintf(out, "re-queued %s\n", de->d_name);
		n++;
	}
	closedir(d);
	fsync(sp->spoolfd);
	fsync(sp->failedfd);
	spool_scan(sp, true);
	return n;
}

static void
spool_print_age(FILE *out, int64_t ms)
{
	int64_t s = ms / 1000;

	if (s < 0)
		s = 0;
	if (s < 120)
		fprintf(out, "%llds", (long long)s);
	else if (s < 7200)
		fprintf(out, "%lldm", (long long)s / 60);
	else if (s < 172800)
		fprintf(out, "%lldh", (long long)s / 3600);
	else
		fprintf(out, "%lldd", (long long)s / 86400);
}

/* Print the header of one spool file: rule, key, ref. */
static void
spool_print_head(int dirfd, const char *name, FILE *out)
{
	struct spool_claim c;
	int fd;

	memset(&c, 0, sizeof(c));
	buf_init(&c.raw, SPOOL_HEAD_READ);
	if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    read_all(fd, &c.raw, SPOOL_HEAD_READ) < 0 ||
	    spool_parse(&c, true) != NULL)
		fprintf(out, "  (unreadable)");
	else
		fprintf(out, "  rule %s  ref %s  key \"%.80s\"", c.rule, c.ref,
		    c.key);
	if (fd >= 0)
		close(fd);
	buf_free(&c.raw);
}

static int
spool_namecmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
spool_print_status(struct spool *sp, FILE *out, int64_t now_ms)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL, why[300];
	size_t i, nf = 0;
	int fd;

	spool_scan(sp, true);
	fprintf(out, "spool %s: %zu waiting (%zu bytes", sp->dir, sp->n,
	    sp->bytes);
	if (sp->n > 0) {
		fprintf(out, ", oldest ");
		spool_print_age(out, now_ms - sp->v[0].created_ms);
		fprintf(out, " old");
	}
	fprintf(out, ")\n");
	for (i = 0; i < sp->n; i++) {
		fprintf(out, "  %s  ", sp->v[i].name);
		spool_print_age(out, now_ms - sp->v[i].created_ms);
		spool_print_head(sp->spoolfd, sp->v[i].name, out);
		fprintf(out, "\n");
	}
	if ((d = spool_opendir(sp->failedfd)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (!spool_name_valid(de->d_name, NULL))
			continue;
		names = xrealloc(names, (nf + 1) * sizeof(*names));
		names[nf++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (nf > 0)
		qsort(names, nf, sizeof(*names), spool_namecmp);
	fprintf(out, "failed %s/failed: %zu (re-queue with: omkapture spool "
	    "--retry-failed)\n", sp->dir, nf);
	for (i = 0; i < nf; i++) {
		struct buf b;
		yajl_val v, s, m, t;
		char ebuf[128];

		fprintf(out, "  %s", names[i]);
		spool_print_head(sp->failedfd, names[i], out);
		snprintf(why, sizeof(why), "%s.why", names[i]);
		buf_init(&b, SPOOL_WHY_RESPONSE_MAX * 8);
		v = NULL;
		if ((fd = openat(sp->failedfd, why, O_RDONLY | O_NOFOLLOW |
		    O_CLOEXEC)) >= 0) {
			if (read_all(fd, &b, b.cap) == 0 && b.data != NULL)
				v = yajl_tree_parse(b.data, ebuf, sizeof(ebuf));
			close(fd);
		}
		if (v != NULL) {
			const char *ps[] = { "status", NULL };
			const char *pm[] = { "message", NULL };
			const char *pt[] = { "time", NULL };

			s = yajl_tree_get(v, ps, yajl_t_number);
			m = yajl_tree_get(v, pm, yajl_t_string);
			t = yajl_tree_get(v, pt, yajl_t_string);
			fprintf(out, "\n    %s: HTTP %s: %s", t ?
			    YAJL_GET_STRING(t) : "?", s ? YAJL_GET_NUMBER(s) :
			    "?", m ? YAJL_GET_STRING(m) : "?");
			yajl_tree_free(v);
		} else {
			fprintf(out, "\n    (no reason recorded)");
		}
		fprintf(out, "\n");
		buf_free(&b);
		free(names[i]);
	}
	free(names);
}
