/*
 * sink.h: where finished ticket requests go. The pipeline hands each
 * request to a sink and learns only "accepted" or "not, because ...": the
 * dry-run sink prints it, the spool sink makes it durable (the sender
 * delivers it later, see sender.h).
 */
#ifndef OMK_SINK_H
#define OMK_SINK_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"

#define SINK_ACCEPTED 0
#define SINK_REFUSED (-1)
#define SINK_KEPT 1

struct sink_req {
	const char *rule;
	const char *key;
	const char *ref;
	const char *url;
	const char *kind;        /* NULL: a ticket; "comment": Update Ticket */
	const char *ticket_ref;  /* the body names its ticket by reference */
	const char *body;
	size_t len;
};

struct sink {
	/* SINK_ACCEPTED; SINK_REFUSED with a one-line reason in why; or
	 * SINK_KEPT: accepted, but why asks upstream to slow down. */
	int (*submit)(struct sink *s, const struct sink_req *r, char *why,
	    size_t whylen);
	void (*free)(struct sink *s);
	unsigned long accepted;
	unsigned long rejected;
};

/* Prints {"rule":..,"key":..,"request":<body>} lines on fd (with
 * "kind":"comment" after "key" for an Update Ticket request). */
struct sink *sink_dryrun_new(int fd);
/*
 * Writes it to the spool (fsync'd) before saying "accepted". At the
 * spool's cap it refuses (back-pressure), unless keep_over_cap: then,
 * up to twice the cap, it writes the request anyway and answers
 * SINK_KEPT. That is for omprog: rsyslog still backs off on the error
 * reply, but if it is stopped while backing off (rsyslog#5364 drops the
 * message it was retrying) the alert is already safe.
 */
struct spool;
struct sink *sink_spool_new(struct spool *sp, bool keep_over_cap);
void sink_free(struct sink *s);

#endif
