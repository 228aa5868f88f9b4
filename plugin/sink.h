/*
 * sink.h: where finished ticket requests go. The pipeline hands each
 * request to a sink and learns only "accepted" or "not, because ...": the
 * dry-run sink prints it, the HTTP sink sends it now. The durable spool
 * slots in here without the pipeline changing.
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
/* Sends now, through libcurl; NULL if the client cannot be made. */
struct sink *sink_http_new(const struct conf *c);
void sink_free(struct sink *s);

#endif
