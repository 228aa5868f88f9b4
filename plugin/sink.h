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

struct sink_req {
	const char *rule;
	const char *key;
	const char *ref;
	const char *url;
	const char *body;
	size_t len;
};

struct sink {
	/* 0: accepted; -1: not, with a one-line reason in why. */
	int (*submit)(struct sink *s, const struct sink_req *r, char *why,
	    size_t whylen);
	void (*free)(struct sink *s);
	unsigned long accepted;
	unsigned long rejected;
};

/* Prints {"rule":..,"key":..,"request":<body>} lines on fd. */
struct sink *sink_dryrun_new(int fd);
/* Writes it to the spool (fsync'd) before saying "accepted". */
struct spool;
struct sink *sink_spool_new(struct spool *sp);
void sink_free(struct sink *s);

#endif
