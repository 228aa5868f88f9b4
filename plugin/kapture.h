/*
 * kapture.h: the Kapture API as data: request bodies built with yajl_gen
 * and responses classified into the three delivery outcomes (plus auth),
 * with no I/O here, so both are unit-tested and fuzzed on their own.
 */
#ifndef OMK_KAPTURE_H
#define OMK_KAPTURE_H

#include <stdbool.h>
#include <stddef.h>

#include "fields.h"
#include "tmpl.h"
#include "util.h"

/* One ticket; NULL members are left out of the body. */
struct kapture_ticket {
	const char *title;
	const char *details;
	const char *due_date;
	const char *email;
	const struct field_node *fields; /* leaves rendered with ctx */
	const struct tmpl_ctx *ctx;
	const char *ref_field;
	const char *ref;
};

/*
 * Append the JSON body to out: [{...}] or, with object, {...}. Field
 * leaves are rendered and cut to field_max bytes. All strings are valid
 * UTF-8 by then (templates repair them), so the body is valid JSON.
 */
void kapture_body(struct buf *out, bool object,
    const struct kapture_ticket *t, size_t field_max);
/* The Update Ticket body: [{"ticket_id":..,"comment":..,"sub_status":..}]. */
void kapture_comment_body(struct buf *out, bool object, const char *ticket_id,
    const char *comment, const char *sub_status);

enum kapture_outcome {
	KAPTURE_DONE,   /* ticket created */
	KAPTURE_RETRY,  /* try again later: 408, 429, 5xx, network, HTML */
	KAPTURE_AUTH,   /* the token is wrong or expired: retry slowly */
	KAPTURE_FAIL,   /* the API refused this request: dead-letter it */
};

struct kapture_result {
	enum kapture_outcome outcome;
	long http_status;
	char ticket_id[64];  /* DONE */
	char message[256];   /* why, printable ASCII/UTF-8, for logs */
};

/*
 * Classify an HTTP response. http_status 0 means no response (the caller
 * fills message with the transport error). body must be NUL-terminated.
 */
void kapture_classify(long http_status, const char *body, size_t len,
    struct kapture_result *r);
const char *kapture_outcome_name(enum kapture_outcome o);
/* One phrase for logs: "HTTP 503: Server busy", "HTTP 502 (not JSON)",
 * "network: Connection refused". Returns buf. */
const char *kapture_describe(const struct kapture_result *r, char *buf,
    size_t n);

#endif
