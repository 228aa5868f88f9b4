/*
 * http.h: one libcurl handle, reused so the connection to Kapture stays
 * alive between tickets. TLS is always verified, redirects are never
 * followed (the token must not travel to another host), every size and
 * time is bounded.
 */
#ifndef OMK_HTTP_H
#define OMK_HTTP_H

#include <stddef.h>

#include "conf.h"
#include "kapture.h"

struct http_client;

/* Global libcurl set-up; call once before threads (there are none). */
void http_global_init(void);
/*
 * A client for the config's endpoints using c->token. Returns NULL (and
 * logs why) if libcurl cannot be set up. Caller owns: http_client_free().
 */
struct http_client *http_client_new(const struct conf *c);
void http_client_free(struct http_client *h);
/* POST a JSON body to url and classify the answer into r. */
enum kapture_outcome http_post(struct http_client *h, const char *url,
    const char *body, size_t len, struct kapture_result *r);

#endif
