#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* A state file larger than this is not ours (100000 keys take ~20 MB). */
#define STATE_FILE_MAX ((size_t)1 << 30)

bool
state_save(struct dedup *d, struct spool *sp, time_t now)
{
	char tmp[64];
	FILE *fp;
	int fd, err = 0;
	int64_t t0 = spool_now_ms();

	snprintf(tmp, sizeof(tmp), "%ld-state.tmp", (long)getpid());
	unlinkat(sp->tmpfd, tmp, 0);
	fd = openat(sp->tmpfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd < 0) {
		log_warn("state: cannot write %s/tmp/%s", sp->dir, tmp);
		return false;
	}
	if ((fp = fdopen(fd, "w")) == NULL) {
		err = errno;
		close(fd);
		goto fail;
	}
	if (dedup_save(d, fp, now) < 0 || fflush(fp) != 0 ||
	    fsync(fileno(fp)) < 0)
		err = errno ? errno : EIO;
	if (fclose(fp) != 0 && err == 0)
		err = errno;
	if (err != 0)
		goto fail;
	if (renameat(sp->tmpfd, tmp, sp->dirfd, STATE_FILE) < 0) {
		err = errno;
		goto fail;
	}
	if (fsync(sp->dirfd) < 0)
		log_warn("state: fsync %s", sp->dir);
	log_debug("state: %zu keys saved to %s/%s in %lld ms", dedup_size(d),
	    sp->dir, STATE_FILE, (long long)(spool_now_ms() - t0));
	return true;
fail:
	unlinkat(sp->tmpfd, tmp, 0);
	/* It stays dirty: the next save tries again. */
	log_warnx("state: cannot save %s/%s: %s", sp->dir, STATE_FILE,
	    strerror(err));
	return false;
}

size_t
state_load(struct dedup **dp, const struct dedup_config *cfg,
    struct ruleset *rs, struct spool *sp)
{
	struct buf b;
	struct stat st;
	char err[200], aside[64];
	int fd;
	size_t n;

	fd = openat(sp->dirfd, STATE_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			log_warn("state: cannot read %s/%s; starting without "
			    "it", sp->dir, STATE_FILE);
		return 0;
	}
	buf_init(&b, STATE_FILE_MAX);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, sizeof(err), "not a regular file");
	} else if (read_all(fd, &b, STATE_FILE_MAX) < 0) {
		snprintf(err, sizeof(err), "%s", strerror(errno));
	} else if (b.truncated) {
		snprintf(err, sizeof(err), "larger than %zu bytes",
		    STATE_FILE_MAX);
	} else if (dedup_load(*dp, rs, b.data, b.len, err, sizeof(err)) == 0) {
		close(fd);
		buf_free(&b);
		n = dedup_size(*dp);
		log_info("state: %zu key%s and %zu queued action%s loaded "
		    "from %s/%s", n, n == 1 ? "" : "s", dedup_end_count(*dp),
		    dedup_end_count(*dp) == 1 ? "" : "s", sp->dir, STATE_FILE);
		return n;
	}
	close(fd);
	buf_free(&b);
	/* Whatever was read is dropped: half a state is no state. */
	dedup_free(*dp);
	*dp = dedup_new(cfg);
	snprintf(aside, sizeof(aside), "%s.corrupt-%lld", STATE_FILE,
	    (long long)time(NULL));
	if (renameat(sp->dirfd, STATE_FILE, sp->dirfd, aside) == 0)
		log_warnx("state: %s/%s is damaged (%s); moved aside to %s, "
		    "starting with no dedup state", sp->dir, STATE_FILE, err,
		    aside);
	else
		log_warnx("state: %s/%s is damaged (%s) and cannot be moved "
		    "aside (%s); starting with no dedup state", sp->dir,
		    STATE_FILE, err, strerror(errno));
	return 0;
}
