#include "sink.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>

#include "log.h"
#include "spool.h"
#include "util.h"

void
sink_free(struct sink *s)
{
	if (s != NULL)
		s->free(s);
}

struct sink_dryrun {
	struct sink sink;
	int fd;
	struct buf line;
};

static int
sink_dryrun_submit(struct sink *s, const struct sink_req *r, char *why,
    size_t whylen)
{
	struct sink_dryrun *d = (struct sink_dryrun *)s;
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *p;
	size_t n;

	yajl_gen_map_open(g);
	yajl_gen_string(g, (const unsigned char *)"rule", 4);
	yajl_gen_string(g, (const unsigned char *)r->rule, strlen(r->rule));
	yajl_gen_string(g, (const unsigned char *)"key", 3);
	yajl_gen_string(g, (const unsigned char *)r->key, strlen(r->key));
	if (r->kind != NULL) {
		yajl_gen_string(g, (const unsigned char *)"kind", 4);
		yajl_gen_string(g, (const unsigned char *)r->kind,
		    strlen(r->kind));
	}
	yajl_gen_get_buf(g, &p, &n);
	buf_reset(&d->line);
	buf_append(&d->line, p, n);
	yajl_gen_free(g);
	buf_appends(&d->line, ",\"request\":");
	buf_append(&d->line, r->body, r->len);
	buf_appends(&d->line, "}\n");
	if (write_all(d->fd, d->line.data, d->line.len) < 0) {
		snprintf(why, whylen, "dry-run output: %s", strerror(errno));
		s->rejected++;
		return -1;
	}
	s->accepted++;
	return 0;
}

static void
sink_dryrun_free(struct sink *s)
{
	struct sink_dryrun *d = (struct sink_dryrun *)s;

	buf_free(&d->line);
	free(d);
}

struct sink *
sink_dryrun_new(int fd)
{
	struct sink_dryrun *d = xcalloc(1, sizeof(*d));

	d->sink.submit = sink_dryrun_submit;
	d->sink.free = sink_dryrun_free;
	d->fd = fd;
	buf_init(&d->line, SIZE_MAX / 2);
	return &d->sink;
}

struct sink_spool {
	struct sink sink;
	struct spool *sp;
	bool keep_over_cap;
};

static int
sink_spool_submit(struct sink *s, const struct sink_req *r, char *why,
    size_t whylen)
{
	struct sink_spool *k = (struct sink_spool *)s;
	char name[SPOOL_NAME_MAX];
	struct spool_req q;
	int rc;

	memset(&q, 0, sizeof(q));
	q.url = r->url;
	q.rule = r->rule;
	q.key = r->key;
	q.ref = r->ref;
	q.kind = r->kind;
	q.ticket_ref = r->ticket_ref;
	q.body = r->body;
	q.len = r->len;
	rc = spool_put_req(k->sp, &q, 0, name, why, whylen);
	if (rc == SPOOL_FULL && k->keep_over_cap) {
		char full[512];

		snprintf(full, sizeof(full), "%s", why);
		if (spool_put_req(k->sp, &q, SPOOL_OVER_CAP, name, why,
		    whylen) == SPOOL_OK) {
			snprintf(why, whylen, "%s; this alert is kept (%s), "
			    "slow down", full, name);
			s->accepted++;
			return SINK_KEPT;
		}
	}
	if (rc != SPOOL_OK) {
		s->rejected++;
		return SINK_REFUSED;
	}
	log_debug("rule [%s]: ticket request spooled as %s (ref %s)", r->rule,
	    name, r->ref);
	s->accepted++;
	return SINK_ACCEPTED;
}

static void
sink_spool_free(struct sink *s)
{
	free(s);
}

struct sink *
sink_spool_new(struct spool *sp, bool keep_over_cap)
{
	struct sink_spool *k = xcalloc(1, sizeof(*k));

	k->keep_over_cap = keep_over_cap;
	k->sink.submit = sink_spool_submit;
	k->sink.free = sink_spool_free;
	k->sp = sp;
	return &k->sink;
}
