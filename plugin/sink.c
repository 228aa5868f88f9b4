#include "sink.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>

#include "http.h"
#include "kapture.h"
#include "log.h"
#include "util.h"

void
sink_free(struct sink *s)
{
	if (s != NULL)
		s->free(s);
}

/* Write all of p, retrying on EINTR and short writes. */
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

struct sink_http {
	struct sink sink;
	struct http_client *client;
};

static int
sink_http_submit(struct sink *s, const struct sink_req *r, char *why,
    size_t whylen)
{
	struct sink_http *h = (struct sink_http *)s;
	struct kapture_result res;

	switch (http_post(h->client, r->url, r->body, r->len, &res)) {
	case KAPTURE_DONE:
		log_info("rule [%s]: ticket %s created (ref %s)", r->rule,
		    res.ticket_id[0] ? res.ticket_id : "(no id)", r->ref);
		s->accepted++;
		return 0;
	case KAPTURE_AUTH:
		log_warnx("rule [%s]: Kapture refused the token (HTTP %ld: "
		    "%s): fix token_file or KAPTURE_TOKEN (ref %s)", r->rule,
		    res.http_status, res.message, r->ref);
		snprintf(why, whylen, "Kapture auth failure (HTTP %ld: %s)",
		    res.http_status, res.message);
		break;
	case KAPTURE_RETRY:
		log_warnx("rule [%s]: ticket not created, will retry: %s%s "
		    "(ref %s)", r->rule, res.http_status ? "" : "network: ",
		    res.message, r->ref);
		snprintf(why, whylen, "Kapture unavailable (%s%s)",
		    res.http_status ? "" : "network: ", res.message);
		break;
	case KAPTURE_FAIL:
		log_warnx("rule [%s]: Kapture rejected the ticket (HTTP %ld: "
		    "%s) (ref %s)", r->rule, res.http_status, res.message,
		    r->ref);
		snprintf(why, whylen, "Kapture rejected the ticket (HTTP %ld: "
		    "%s)", res.http_status, res.message);
		break;
	}
	s->rejected++;
	return -1;
}

static void
sink_http_free(struct sink *s)
{
	struct sink_http *h = (struct sink_http *)s;

	http_client_free(h->client);
	free(h);
}

struct sink *
sink_http_new(const struct conf *c)
{
	struct sink_http *h = xcalloc(1, sizeof(*h));

	h->sink.submit = sink_http_submit;
	h->sink.free = sink_http_free;
	if ((h->client = http_client_new(c)) == NULL) {
		free(h);
		return NULL;
	}
	return &h->sink;
}
