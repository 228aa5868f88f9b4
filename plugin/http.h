/*
 * http.h: one libcurl handle, reused so the connection to Kapture stays
 * alive between tickets. TLS is always verified, redirects are never
 * followed (the token must not travel to another host), every size and
 * time is bounded.
 */
#ifndef OMK_HTTP_H
#define OMK_HTTP_H

#include <stddef.h>

#include <curl/curl.h>

#include "conf.h"
#include "kapture.h"
#include "util.h"

#define HTTP_MAX_RESPONSE (1024 * 1024)

struct http_client;

/* Global libcurl set-up; call once before threads (there are none). */
void http_global_init(void);
/*
 * A client for the config's endpoints using c->token. Returns NULL (and
 * logs why) if libcurl cannot be set up. Caller owns: http_client_free().
 */
struct http_client *http_client_new(const struct conf *c);
void http_client_free(struct http_client *h);
/*
 * The request headers, Authorization included; NULL on out-of-memory.
 * Free with http_headers_free(), which wipes the token first.
 */
struct curl_slist *http_headers_new(const struct conf *c);
void http_headers_free(struct curl_slist *l);
/* Every option a Kapture request needs: TLS, timeouts, no redirects. */
void http_easy_setup(CURL *curl, const struct conf *c);
/* CURLOPT_WRITEFUNCTION appending to the struct buf in WRITEDATA. */
size_t http_write_buf(char *p, size_t size, size_t nmemb, void *arg);
/* Turn a finished transfer into an outcome. */
void http_classify(CURL *curl, CURLcode rc, const struct buf *resp,
    const char *errbuf, struct kapture_result *r);
/* POST a JSON body to url and classify the answer into r. */
enum kapture_outcome http_post(struct http_client *h, const char *url,
    const char *body, size_t len, struct kapture_result *r);

#endif
