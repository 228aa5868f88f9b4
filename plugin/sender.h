/*
 * sender.h: drains the spool into Kapture with libcurl's multi interface,
 * in the same poll loop that reads stdin, so reading never waits on the
 * network.
 *
 * Oldest first, `concurrency` requests in flight over kept-alive
 * connections, and never two requests of one dedup key out of order: a
 * request waits while an older one of its key is still in the spool.
 *
 * Outcomes (kapture.h): done deletes the file; retry backs off with full
 * jitter (1 s doubling to retry_max, Retry-After honoured) for that
 * request, and the whole sender probes with one request at a time until
 * Kapture answers again, so an outage costs one request per backoff step,
 * not one per spooled ticket; auth holds everything for auth_retry and
 * says so each time; fail moves the request to failed/ with the reason.
 */
#ifndef OMK_SENDER_H
#define OMK_SENDER_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "kapture.h"
#include "spool.h"
#include "util.h"

struct sender;

struct sender_stats {
	unsigned long sent;          /* tickets Kapture created */
	unsigned long retried;       /* attempts that will be retried */
	unsigned long failed;        /* requests moved to failed/ */
	unsigned long auth_failures; /* attempts refused for the token */
};

/*
 * Told about every finished attempt, before the request leaves the spool
 * (the ticket command waits on one; the pipeline learns ticket ids).
 */
typedef void (*sender_result_fn)(void *arg, const struct spool_claim *c,
    const struct kapture_result *r);
/* The id of the ticket with this reference, or NULL if not known. */
typedef const char *(*sender_resolve_fn)(void *arg, const char *ref);

/*
 * A sender for sp, configured by c (both borrowed; c may be replaced with
 * sender_reconfigure). NULL if libcurl cannot be set up. Caller owns:
 * sender_free(), which abandons requests in flight (they stay spooled).
 */
struct sender *sender_new(const struct conf *c, struct spool *sp);
void sender_free(struct sender *s);
/* SIGHUP: new token, CA, timeouts, concurrency; lifts an auth hold. */
void sender_reconfigure(struct sender *s, const struct conf *c);
/* Only send the request with this name (the ticket command); nothing
 * else in the spool holds it back. */
void sender_only(struct sender *s, const char *name);
void sender_on_result(struct sender *s, sender_result_fn fn, void *arg);
/* For requests with a ticket-ref (a comment spooled before its ticket
 * was created): where the ticket's id comes from. */
void sender_on_resolve(struct sender *s, sender_resolve_fn fn, void *arg);

/* Finish what completed, start what is due. Never blocks. */
void sender_step(struct sender *s);
/* Milliseconds until sender_step has something to do (at most max). */
int sender_timeout_ms(struct sender *s, int max);
/*
 * Wait up to timeout_ms for network activity or for one of the extra
 * fds (poll events in, revents out). Returns -1 on error.
 */
int sender_wait(struct sender *s, struct pollfd *extra, unsigned nextra,
    int timeout_ms);
/* Requests in flight. */
size_t sender_inflight(const struct sender *s);
/*
 * Deliver what is due for at most timeout_ms (shutdown); returns early
 * when nothing is due or *stop becomes non-zero. Requests still in flight
 * are then abandoned: they stay in the spool for the next start.
 */
void sender_drain(struct sender *s, int64_t timeout_ms,
    volatile int *stop);
const struct sender_stats *sender_stats(const struct sender *s);

/* Full-jitter backoff for the nth failure (n >= 1): a random delay in
 * [100 ms, min(max_ms, 1 s * 2^(n-1))]. rng is xorshift state. */
int64_t sender_backoff_ms(unsigned n, int64_t max_ms, uint64_t *rng);

#endif
