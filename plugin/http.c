#include "http.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "log.h"
#include "util.h"

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

struct curl_slist *
http_headers_new(const struct conf *c)
{
	struct curl_slist *l, *n;
	char *auth;

	auth = xasprintf("Authorization: Basic %s", c->token ? c->token : "");
	l = curl_slist_append(NULL, auth);
	memset(auth, 0, strlen(auth));
	free(auth);
	if (l == NULL)
		return NULL;
	if ((n = curl_slist_append(l, "Content-Type: application/json")) == NULL ||
	    (n = curl_slist_append(l, "Accept: application/json")) == NULL ||
	    /* No "Expect: 100-continue" round trip for bodies over 1 KiB. */
	    (n = curl_slist_append(l, "Expect:")) == NULL) {
		http_headers_free(l);
		return NULL;
	}
	return l;
}

void
http_headers_free(struct curl_slist *l)
{
	struct curl_slist *s;

	/* The list holds the token: wipe it before it goes back to malloc. */
	for (s = l; s != NULL; s = s->next)
		memset(s->data, 0, strlen(s->data));
	curl_slist_free_all(l);
}

void
http_easy_setup(CURL *curl, const struct conf *c)
{
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "omkapture/" OMK_VERSION);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(curl, CURLOPT_SSLVERSION,
	    (long)CURL_SSLVERSION_TLSv1_2);
	if (c->ca_file != NULL)
		curl_easy_setopt(curl, CURLOPT_CAINFO, c->ca_file);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)c->timeout * 1000L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)c->connect_timeout * 1000L);
	curl_easy_setopt(curl, CURLOPT_MAXFILESIZE, (long)HTTP_MAX_RESPONSE);
	curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
	/* Never read ~/.netrc or proxy credentials into the request. */
	curl_easy_setopt(curl, CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
}

size_t
http_write_buf(char *p, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;
	size_t n = size * nmemb;

	/* Returning less than n makes curl abort: a body past the cap is
	 * not an answer we can use. */
	if (!buf_append(b, p, n))
		return 0;
	return n;
}

void
http_classify(CURL *curl, CURLcode rc, const struct buf *resp,
    const char *errbuf, struct kapture_result *r)
{
	long status = 0;

	if (rc != CURLE_OK) {
		kapture_classify(0, NULL, 0, r);
		if (rc == CURLE_WRITE_ERROR && resp->truncated)
			snprintf(r->message, sizeof(r->message),
			    "response larger than %d bytes", HTTP_MAX_RESPONSE);
		else
			snprintf(r->message, sizeof(r->message), "%s",
			    errbuf[0] ? errbuf : curl_easy_strerror(rc));
		/* A certificate problem will not fix itself by retrying
		 * quickly, but a fixed CA file or clock will: retry. */
		return;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	kapture_classify(status, resp->data ? resp->data : "", resp->len, r);
}

struct http_client *
http_client_new(const struct conf *c)
{
	struct http_client *h = xcalloc(1, sizeof(*h));

	buf_init(&h->resp, HTTP_MAX_RESPONSE);
	if ((h->curl = curl_easy_init()) == NULL) {
		log_warnx("curl_easy_init failed");
		goto fail;
	}
	if ((h->headers = http_headers_new(c)) == NULL)
		goto fail;
	http_easy_setup(h->curl, c);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->headers);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, http_write_buf);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &h->resp);
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, h->errbuf);
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
	http_headers_free(h->headers);
	buf_free(&h->resp);
	free(h);
}

enum kapture_outcome
http_post(struct http_client *h, const char *url, const char *body,
    size_t len, struct kapture_result *r)
{
	CURLcode rc;

	buf_reset(&h->resp);
	h->errbuf[0] = '\0';
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	rc = curl_easy_perform(h->curl);
	http_classify(h->curl, rc, &h->resp, h->errbuf, r);
	return r->outcome;
}
