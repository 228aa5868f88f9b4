#include "http.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "log.h"
#include "util.h"

#define HTTP_MAX_RESPONSE (1024 * 1024)

struct http_client {
	CURL *curl;
	struct curl_slist *headers;
	struct buf resp;
	char errbuf[CURL_ERROR_SIZE];
};

void
http_global_init(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("curl_global_init failed");
}

static size_t
http_write_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct http_client *h = arg;
	size_t n = size * nmemb;

	/* Returning less than n makes curl abort: a body past the cap is
	 * not an answer we can use. */
	if (!buf_append(&h->resp, p, n))
		return 0;
	return n;
}

/* Free a header list whose strings may hold the token: wipe them first. */
static void
http_free_headers(struct curl_slist *l)
{
	struct curl_slist *s;

	for (s = l; s != NULL; s = s->next)
		memset(s->data, 0, strlen(s->data));
	curl_slist_free_all(l);
}

struct http_client *
http_client_new(const struct conf *c)
{
	struct http_client *h = xcalloc(1, sizeof(*h));
	struct curl_slist *l;
	char *auth;

	buf_init(&h->resp, HTTP_MAX_RESPONSE);
	if ((h->curl = curl_easy_init()) == NULL) {
		log_warnx("curl_easy_init failed");
		goto fail;
	}
	auth = xasprintf("Authorization: Basic %s", c->token ? c->token : "");
	l = curl_slist_append(NULL, auth);
	memset(auth, 0, strlen(auth));
	free(auth);
	if (l == NULL)
		goto fail;
	h->headers = l;
	if ((l = curl_slist_append(h->headers,
	    "Content-Type: application/json")) == NULL)
		goto fail;
	if ((l = curl_slist_append(h->headers, "Accept: application/json")) == NULL)
		goto fail;
	/* No "Expect: 100-continue" round trip for bodies over 1 KiB. */
	if ((l = curl_slist_append(h->headers, "Expect:")) == NULL)
		goto fail;

	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->headers);
	curl_easy_setopt(h->curl, CURLOPT_USERAGENT, "omkapture/" OMK_VERSION);
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h->curl, CURLOPT_SSLVERSION,
	    (long)CURL_SSLVERSION_TLSv1_2);
	if (c->ca_file != NULL)
		curl_easy_setopt(h->curl, CURLOPT_CAINFO, c->ca_file);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, (long)c->timeout * 1000L);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)c->connect_timeout * 1000L);
	curl_easy_setopt(h->curl, CURLOPT_MAXFILESIZE, (long)HTTP_MAX_RESPONSE);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, http_write_cb);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(h->curl, CURLOPT_TCP_KEEPALIVE, 1L);
	/* Never read ~/.netrc or proxy credentials into the request. */
	curl_easy_setopt(h->curl, CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
	return h;
fail:
	http_client_free(h);
	return NULL;
}

void
http_client_free(struct http_client *h)
{
	if (h == NULL)
		return;
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	http_free_headers(h->headers);
	buf_free(&h->resp);
	free(h);
}

enum kapture_outcome
http_post(struct http_client *h, const char *url, const char *body,
    size_t len, struct kapture_result *r)
{
	CURLcode rc;
	long status = 0;

	buf_reset(&h->resp);
	h->errbuf[0] = '\0';
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	rc = curl_easy_perform(h->curl);
	if (rc != CURLE_OK) {
		kapture_classify(0, NULL, 0, r);
		if (rc == CURLE_WRITE_ERROR && h->resp.truncated)
			snprintf(r->message, sizeof(r->message),
			    "response larger than %d bytes", HTTP_MAX_RESPONSE);
		else
			snprintf(r->message, sizeof(r->message), "%s",
			    h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc));
		/* A certificate problem will not fix itself by retrying
		 * quickly, but a fixed CA file or clock will: retry. */
		return r->outcome;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	kapture_classify(status, h->resp.data ? h->resp.data : "",
	    h->resp.len, r);
	return r->outcome;
}
