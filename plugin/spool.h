/*
 * spool.h: the line between "accepted" and "delivered".
 *
 * Every accepted ticket request is one file in DIR/spool/, written
 * atomically (temp file in DIR/tmp/, fsync, rename, fsync the directory),
 * mode 0600 in 0700 directories. A request leaves the spool when Kapture
 * has created the ticket (unlink) or refused it for good (moved to
 * DIR/failed/ with a NAME.why sidecar saying why).
 *
 * Several helpers may share one spool (rsyslog runs one per worker): a
 * sender claims a file with flock() before sending it, and re-checks after
 * the lock that the file is still there, so a request is never sent by two
 * instances at once. File names sort oldest first across instances:
 * <ms since epoch, 13 digits>-<pid, 7 digits>-<seq, 8 hex>.req
 *
 * File format (text header, then the exact request body):
 *   omkapture-spool 1
 *   url <url>
 *   rule <rule name>
 *   key <dedup key, escaped>
 *   ref <stable reference>
 *   [kind comment]            an Update Ticket request (default: a ticket)
 *   [ticket-ref <reference>]  the body names the ticket as a placeholder,
 *                             SPOOL_TICKET_PLACEHOLDER + reference, that
 *                             the sender replaces with the ticket's id
 *   <empty line>
 *   <body>
 * Header values escape '\\' and bytes < 0x20 as \xNN, so any key fits on
 * one line.
 */
#ifndef OMK_SPOOL_H
#define OMK_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util.h"

#define SPOOL_NAME_MAX 48
/* A spool file larger than this is not one we wrote: it goes to failed/. */
#define SPOOL_FILE_MAX (4 * 1024 * 1024)

/* One request in the spool, as the index knows it. */
struct spool_entry {
	char name[SPOOL_NAME_MAX];
	uint64_t keyhash;     /* hash of rule + key: requests of one key go in order */
	size_t size;          /* bytes on disk */
	int64_t created_ms;   /* from the name */
	int64_t next_ms;      /* not before (backoff); 0: due */
	unsigned attempts;
	bool busy;            /* claimed by this process */
	bool seen;            /* scan mark */
};

/* A claimed request: the file is locked until spool_done/fail/release. */
struct spool_claim {
	struct spool_entry *e; /* may move: use name */
	char name[SPOOL_NAME_MAX];
	int fd;
	char *url, *rule, *key, *ref;
	char *kind;            /* NULL: a ticket */
	char *ticket_ref;      /* NULL: none */
	char *body;
	size_t len;
	struct buf raw;        /* the whole file; the strings point into it */
};

struct spool {
	char *dir;
	int dirfd, spoolfd, failedfd, tmpfd;
	int64_t max, max_bytes;
	struct spool_entry *v; /* sorted by name: oldest first */
	size_t n, alloc;
	size_t bytes;
	unsigned long seq;
	long dir_mtime_sec, dir_mtime_nsec;
	int64_t last_scan_ms;
	bool put_since_scan;   /* we added a file the last scan did not see */
	int lockfd;            /* tmp/<pid>.lock, held while we run */
	bool others_alive;
	int64_t others_checked_ms;
	unsigned long failed_total;
};

/*
 * Open (creating with 0700) dir and its spool/, failed/ and tmp/
 * subdirectories. Refuses symlinks and directories owned by another user;
 * tightens group/other permissions with a warning. On error returns NULL
 * with a one-line reason in err. Caller owns: spool_free().
 */
struct spool *spool_open(const char *dir, int64_t max, int64_t max_bytes,
    char *err, size_t errlen);
void spool_free(struct spool *sp);
/* Change the caps (SIGHUP). */
void spool_set_caps(struct spool *sp, int64_t max, int64_t max_bytes);

/* spool_put results */
#define SPOOL_OK 0
#define SPOOL_ERROR (-1) /* a write failed (ENOSPC, EIO...) */
#define SPOOL_FULL (-2)  /* at [spool] max or max_bytes */
/* spool_put flags: allow up to twice the caps (see sink_spool_new). */
#define SPOOL_OVER_CAP 0x1

/* A request to spool: see the file format above. */
struct spool_req {
	const char *url;
	const char *rule;
	const char *key;
	const char *ref;
	const char *kind;        /* NULL: a ticket */
	const char *ticket_ref;  /* NULL: none */
	const char *body;
	size_t len;
};

#define SPOOL_TICKET_PLACEHOLDER "omkapture-ticket-of:"

/* spool_put with every header field. */
int spool_put_req(struct spool *sp, const struct spool_req *r, unsigned flags,
    char name[SPOOL_NAME_MAX], char *why, size_t whylen);

/*
 * Write one request durably. Returns SPOOL_OK once it is on disk (fsync'd
 * file and directory), with its file name in name (if not NULL), or
 * SPOOL_FULL / SPOOL_ERROR with a one-line reason in why and nothing
 * left behind.
 */
int spool_put(struct spool *sp, const char *url, const char *rule,
    const char *key, const char *ref, const char *body, size_t len,
    unsigned flags, char name[SPOOL_NAME_MAX], char *why, size_t whylen);

/*
 * Bring the index in line with the directory: add files other processes
 * wrote, drop files that are gone. force: even if the directory's mtime
 * did not change. Returns the number of entries.
 */
size_t spool_scan(struct spool *sp, bool force);
struct spool_entry *spool_find(struct spool *sp, const char *name);

/*
 * Lock and read the request in e. Returns 1 with c filled, 0 if another
 * process holds it or it is gone (the entry may then be removed: do not
 * use e afterwards), -1 if the file is unreadable or malformed (it has
 * been moved to failed/ with the reason).
 */
int spool_claim(struct spool *sp, struct spool_entry *e, struct spool_claim *c);
/* Delivered: delete the file, drop the entry, unlock. */
void spool_done(struct spool *sp, struct spool_claim *c);
/*
 * Refused for good: move to failed/ with NAME.why holding status,
 * message, response and time (JSON). Drops the entry, unlocks.
 */
void spool_fail(struct spool *sp, struct spool_claim *c, long http_status,
    const char *message, const char *response, size_t rlen);
/* Not now: unlock and keep the file and entry. */
void spool_release(struct spool *sp, struct spool_claim *c);

/* Does another live process use this spool? (Cached for a second.) */
bool spool_others_alive(struct spool *sp);
/* Move every failed request back into the spool; returns how many. */
long spool_retry_failed(struct spool *sp, FILE *out);
/* Human-readable listing of what waits and what failed. */
void spool_print_status(struct spool *sp, FILE *out, int64_t now_ms);

/* Parse a spool file's text (fuzzing, tests): NULL if well formed, else
 * what is wrong. */
const char *spool_parse_buf(const char *data, size_t len, bool head_only);

/* Wall clock in milliseconds (names and backoff; not the pinned clock). */
int64_t spool_now_ms(void);

#endif
