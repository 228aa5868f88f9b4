#include "sender.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "http.h"
#include "log.h"

/* Retry-After larger than this is not believed. */
#define SENDER_RETRY_AFTER_MAX 3600
/* Look for requests other processes spooled this often (ms). */
#define SENDER_SCAN_MS 1000
#define SENDER_FULL_SCAN_MS 10000

struct sender_slot {
	CURL *easy;
	unsigned generation;       /* of the conf it was set up with */
	struct curl_slist *headers;
	struct spool_claim claim;
	struct buf resp;
	struct buf post;           /* the body, when a ticket id was filled in */
	bool active;
	char errbuf[CURL_ERROR_SIZE];
};

/* Which keys an older request holds, for one pass over the spool. */
struct sender_keyset {
	uint64_t *key;
	unsigned *gen;
	size_t cap;       /* power of two */
	unsigned cur;
};

struct sender {
	const struct conf *conf;
	struct spool *sp;
	CURLM *multi;
	struct sender_slot slot[256];
	size_t nactive;
	unsigned generation;
	unsigned streak;           /* attempts in a row that must be retried */
	int64_t hold_until_ms;     /* nothing starts before this */
	int64_t wake_ms;           /* a request's backoff ends (0: none) */
	bool no_start;             /* shutting down: let in-flight finish */
	bool auth_hold;
	uint64_t rng;
	char only[SPOOL_NAME_MAX];
	sender_result_fn on_result;
	void *on_result_arg;
	sender_resolve_fn resolve;
	void *resolve_arg;
	struct sender_keyset keys;
	struct sender_stats stats;
};

int64_t
sender_backoff_ms(unsigned n, int64_t max_ms, uint64_t *rng)
{
	int64_t cap = 1000;
	uint64_t x = *rng ? *rng : 0x9e3779b97f4a7c15ULL;

	while (n > 1 && cap < max_ms) {
		cap *= 2;
		n--;
	}
	if (cap > max_ms)
		cap = max_ms;
	if (cap < 100)
		cap = 100;
	/* xorshift64 */
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*rng = x;
	return 100 + (int64_t)(x % (uint64_t)(cap - 100 + 1));
}

struct sender *
sender_new(const struct conf *c, struct spool *sp)
{
	struct sender *s = xcalloc(1, sizeof(*s));
	size_t i;

	s->conf = c;
	s->sp = sp;
	s->generation = 1;
	s->rng = (uint64_t)spool_now_ms() ^ ((uint64_t)getpid() << 32);
	for (i = 0; i < sizeof(s->slot) / sizeof(s->slot[0]); i++) {
		s->slot[i].claim.fd = -1;
		buf_init(&s->slot[i].resp, HTTP_MAX_RESPONSE);
		buf_init(&s->slot[i].post, SPOOL_FILE_MAX + 128);
	}
	if ((s->multi = curl_multi_init()) == NULL) {
		log_warnx("curl_multi_init failed");
		goto fail;
	}
	/* One connection per parallel request, kept alive between them. */
	curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, 256L);
	return s;
fail:
	sender_free(s);
	return NULL;
}

static void
sender_slot_stop(struct sender *s, struct sender_slot *sl)
{
	if (!sl->active)
		return;
	curl_multi_remove_handle(s->multi, sl->easy);
	http_headers_free(sl->headers);
	sl->headers = NULL;
	spool_release(s->sp, &sl->claim);
	sl->active = false;
	s->nactive--;
}

void
sender_free(struct sender *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < sizeof(s->slot) / sizeof(s->slot[0]); i++) {
		struct sender_slot *sl = &s->slot[i];

		if (s->multi != NULL)
			sender_slot_stop(s, sl);
		if (sl->easy != NULL)
			curl_easy_cleanup(sl->easy);
		buf_free(&sl->resp);
		buf_free(&sl->post);
	}
	if (s->multi != NULL)
		curl_multi_cleanup(s->multi);
	free(s->keys.key);
	free(s->keys.gen);
	free(s);
}

void
sender_reconfigure(struct sender *s, const struct conf *c)
{
	s->conf = c;
	s->generation++;
	/* A new token may be the fix: try at once. */
	if (s->auth_hold) {
		s->auth_hold = false;
		s->hold_until_ms = 0;
	}
}

void
sender_only(struct sender *s, const char *name)
{
	snprintf(s->only, sizeof(s->only), "%s", name ? name : "");
}

void
sender_on_resolve(struct sender *s, sender_resolve_fn fn, void *arg)
{
	s->resolve = fn;
	s->resolve_arg = arg;
}

void
sender_on_result(struct sender *s, sender_result_fn fn, void *arg)
{
	s->on_result = fn;
	s->on_result_arg = arg;
}

size_t
sender_inflight(const struct sender *s)
{
	return s->nactive;
}

const struct sender_stats *
sender_stats(const struct sender *s)
{
	return &s->stats;
}

static void
sender_keys_reset(struct sender *s, size_t n)
{
	struct sender_keyset *k = &s->keys;
	size_t want = 64;

	while (want < n * 2)
		want *= 2;
	if (want > k->cap) {
		free(k->key);
		free(k->gen);
		k->key = xcalloc(want, sizeof(*k->key));
		k->gen = xcalloc(want, sizeof(*k->gen));
		k->cap = want;
		k->cur = 0;
	}
	if (++k->cur == 0) {
		memset(k->gen, 0, k->cap * sizeof(*k->gen));
		k->cur = 1;
	}
}

/* Add h; returns true if it was already there. */
static bool
sender_keys_add(struct sender *s, uint64_t h)
{
	struct sender_keyset *k = &s->keys;
	size_t i = (size_t)(h ^ (h >> 29)) & (k->cap - 1);

	while (k->gen[i] == k->cur) {
		if (k->key[i] == h)
			return true;
		i = (i + 1) & (k->cap - 1);
	}
	k->gen[i] = k->cur;
	k->key[i] = h;
	return false;
}

static bool
sender_slot_start(struct sender *s, struct sender_slot *sl)
{
	const struct conf *c = s->conf;

	if (sl->easy == NULL) {
		if ((sl->easy = curl_easy_init()) == NULL)
			return false;
		sl->generation = 0;
	}
	if (sl->generation != s->generation) {
		curl_easy_reset(sl->easy);
		http_easy_setup(sl->easy, c);
		curl_easy_setopt(sl->easy, CURLOPT_WRITEFUNCTION,
		    http_write_buf);
		curl_easy_setopt(sl->easy, CURLOPT_WRITEDATA, &sl->resp);
		curl_easy_setopt(sl->easy, CURLOPT_ERRORBUFFER, sl->errbuf);
		curl_easy_setopt(sl->easy, CURLOPT_PRIVATE, sl);
		sl->generation = s->generation;
	}
	if ((sl->headers = http_headers_new(c)) == NULL)
		return false;
	buf_reset(&sl->resp);
	sl->errbuf[0] = '\0';
	curl_easy_setopt(sl->easy, CURLOPT_HTTPHEADER, sl->headers);
	curl_easy_setopt(sl->easy, CURLOPT_URL, sl->claim.url);
	if (sl->claim.ticket_ref != NULL) {
		curl_easy_setopt(sl->easy, CURLOPT_POSTFIELDS, sl->post.data);
		curl_easy_setopt(sl->easy, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)sl->post.len);
	} else {
		curl_easy_setopt(sl->easy, CURLOPT_POSTFIELDS, sl->claim.body);
		curl_easy_setopt(sl->easy, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)sl->claim.len);
	}
	if (curl_multi_add_handle(s->multi, sl->easy) != CURLM_OK) {
		http_headers_free(sl->headers);
		sl->headers = NULL;
		return false;
	}
	sl->active = true;
	s->nactive++;
	log_debug("spool %s: sending (rule [%s], ref %s)", sl->claim.name,
	    sl->claim.rule, sl->claim.ref);
	return true;
}

static struct sender_slot *
sender_free_slot(struct sender *s)
{
	size_t i;

	for (i = 0; i < (size_t)s->conf->concurrency &&
	    i < sizeof(s->slot) / sizeof(s->slot[0]); i++)
		if (!s->slot[i].active)
			return &s->slot[i];
	return NULL;
}

/* How many may be in flight now: one probe while Kapture is failing. */
static size_t
sender_limit(const struct sender *s)
{
	return s->streak > 0 || s->auth_hold ? 1 : (size_t)s->conf->concurrency;
}

/* The first n-byte needle in the hay, or NULL (memmem is not C11). */
static const char *
sender_find(const char *hay, size_t len, const char *needle, size_t n)
{
	const char *p = hay, *end = hay + len;

	while (n > 0 && (size_t)(end - p) >= n &&
	    (p = memchr(p, needle[0], (size_t)(end - p) - n + 1)) != NULL) {
		if (memcmp(p, needle, n) == 0)
			return p;
		p++;
	}
	return NULL;
}

/* Only characters a ticket id may have go into the body unescaped. */
static bool
sender_id_ok(const char *id)
{
	size_t n = strlen(id);

	return n > 0 && n < 64 && strspn(id, "0123456789abcdefghijklmnopqrstu"
	    "vwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-") == n;
}

/*
 * A comment spooled before its ticket was created names the ticket by
 * reference: put the id Kapture gave it into the body (sl->post). If the
 * id is not known (the ticket failed, or another instance sent it) the
 * comment cannot be sent: it goes to failed/ and false is returned.
 */
static bool
sender_fill_ticket(struct sender *s, struct sender_slot *sl)
{
	struct spool_claim *c = &sl->claim;
	struct kapture_result r;
	const char *id = NULL, *at;
	char ph[sizeof(SPOOL_TICKET_PLACEHOLDER) + 80];
	size_t phn;

	snprintf(ph, sizeof(ph), "\"" SPOOL_TICKET_PLACEHOLDER "%s\"",
	    c->ticket_ref);
	phn = strlen(ph);
	if (s->resolve == NULL) {
		/* Not the helper that knows ticket ids (spool --send):
		 * leave it to that one. */
		struct spool_entry *e = spool_find(s->sp, c->name);

		if (e != NULL)
			e->next_ms = spool_now_ms() + 60000;
		spool_release(s->sp, c);
		return false;
	}
	if (s->resolve != NULL)
		id = s->resolve(s->resolve_arg, c->ticket_ref);
	at = sender_find(c->body, c->len, ph, phn);
	if (id != NULL && sender_id_ok(id) && at != NULL) {
		buf_reset(&sl->post);
		buf_append(&sl->post, c->body, (size_t)(at - c->body));
		buf_printf(&sl->post, "\"%s\"", id);
		buf_append(&sl->post, at + phn,
		    c->len - (size_t)(at - c->body) - phn);
		return true;
	}
	memset(&r, 0, sizeof(r));
	r.outcome = KAPTURE_FAIL;
	snprintf(r.message, sizeof(r.message), "%s", at == NULL ?
	    "the body does not name its ticket" : id == NULL ?
	    "the id of its ticket is not known (the ticket failed, or "
	    "another instance created it)" : "its ticket's id is malformed");
	log_warnx("rule [%s]: %s for ticket ref %s: %s; moved to "
	    "%s/failed/%s", c->rule, c->kind ? c->kind : "request",
	    c->ticket_ref, r.message, s->sp->dir, c->name);
	if (s->on_result != NULL)
		s->on_result(s->on_result_arg, c, &r);
	spool_fail(s->sp, c, 0, r.message, NULL, 0);
	s->stats.failed++;
	return false;
}

/*
 * Walk the spool oldest first and start what may go: due, not held back,
 * and the oldest request of its key (an older one, even in flight or
 * locked by another instance, holds the key). Stops when the slots are
 * full.
 */
static void
sender_start_due(struct sender *s)
{
	struct spool *sp = s->sp;
	struct sender_slot *sl;
	struct spool_entry *e;
	int64_t now = spool_now_ms();
	size_t i = 0, n;
	uint64_t kh;
	int rc;

	/* Only requests waiting on their own backoff wake us; one blocked
	 * by an older request of its key waits for that one. */
	s->wake_ms = 0;
	if (s->no_start || now < s->hold_until_ms ||
	    s->nactive >= sender_limit(s))
		return;
	/* Before a request we just spooled goes out, learn what other
	 * running instances spooled: an older request of its key may be
	 * there. Alone, we know every file we have not sent. */
	if (sp->put_since_scan && spool_others_alive(sp))
		spool_scan(sp, false);
	sender_keys_reset(s, sp->n);
	while (i < sp->n && s->nactive < sender_limit(s)) {
		e = &sp->v[i];
		kh = e->keyhash;
		/* The ticket command sends its own request, whatever else
		 * waits: the running helper keeps the order for the rest. */
		if (s->only[0] && strcmp(e->name, s->only) != 0) {
			i++;
			continue;
		}
		if (e->busy || e->next_ms > now) {
			bool older = sender_keys_add(s, kh);

			if (!e->busy && !older && (s->wake_ms == 0 ||
			    e->next_ms < s->wake_ms))
				s->wake_ms = e->next_ms;
			i++;
			continue;
		}
		if (sender_keys_add(s, kh)) {
			i++;
			continue;
		}
		if ((sl = sender_free_slot(s)) == NULL)
			break;
		n = sp->n;
		rc = spool_claim(sp, e, &sl->claim);
		if (rc == 1 && sl->claim.ticket_ref != NULL &&
		    !sender_fill_ticket(s, sl)) {
			/* Moved to failed/: the entry is gone, i names the
			 * next one. */
			continue;
		}
		if (rc == 1) {
			if (!sender_slot_start(s, sl)) {
				log_warnx("spool %s: cannot start a transfer",
				    sl->claim.name);
				spool_release(sp, &sl->claim);
				if ((e = spool_find(sp, sl->claim.name)) != NULL)
					e->next_ms = now + 1000;
				return;
			}
			i++;
		} else if (sp->n == n) {
			/* Locked by another instance: it holds its key, and
			 * we look again when its retry time comes. */
			if (s->wake_ms == 0 || e->next_ms < s->wake_ms)
				s->wake_ms = e->next_ms;
			i++;
		}
		/* else the entry went away; i now names the next one */
	}
}

static void
sender_finish(struct sender *s, struct sender_slot *sl, CURLcode rc)
{
	struct kapture_result r;
	struct spool_entry *e;
	struct spool_claim *c = &sl->claim;
	int64_t now = spool_now_ms(), wait, ra_ms = 0;
	curl_off_t ra = 0;
	char name[SPOOL_NAME_MAX], what[400];

	curl_multi_remove_handle(s->multi, sl->easy);
	http_headers_free(sl->headers);
	sl->headers = NULL;
	sl->active = false;
	s->nactive--;
	http_classify(sl->easy, rc, &sl->resp, sl->errbuf, &r);
	if (curl_easy_getinfo(sl->easy, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK &&
	    ra > 0)
		ra_ms = (int64_t)(ra < SENDER_RETRY_AFTER_MAX ? ra :
		    SENDER_RETRY_AFTER_MAX) * 1000;
	snprintf(name, sizeof(name), "%s", c->name);
	kapture_describe(&r, what, sizeof(what));
	if (s->on_result != NULL)
		s->on_result(s->on_result_arg, c, &r);

	switch (r.outcome) {
	case KAPTURE_DONE:
		if (c->kind != NULL && !strcmp(c->kind, "comment"))
			log_info("rule [%s]: comment added to ticket %s (ref "
			    "%s)", c->rule, r.ticket_id[0] ? r.ticket_id :
			    "(no id)", c->ref);
		else
			log_info("rule [%s]: ticket %s created (ref %s)",
			    c->rule, r.ticket_id[0] ? r.ticket_id : "(no id)",
			    c->ref);
		spool_done(s->sp, c);
		s->stats.sent++;
		s->streak = 0;
		s->hold_until_ms = 0;
		s->auth_hold = false;
		break;
	case KAPTURE_RETRY:
		s->stats.retried++;
		s->streak++;
		if ((e = spool_find(s->sp, name)) != NULL) {
			wait = sender_backoff_ms(e->attempts,
			    s->conf->retry_max * 1000, &s->rng);
			e->next_ms = now + (wait > ra_ms ? wait : ra_ms);
		}
		wait = sender_backoff_ms(s->streak, s->conf->retry_max * 1000,
		    &s->rng);
		if (ra_ms > wait)
			wait = ra_ms;
		if (now + wait > s->hold_until_ms)
			s->hold_until_ms = now + wait;
		log_warnx("rule [%s]: Kapture unavailable (%s%s); %zu "
		    "request%s waiting in the spool, next try in %.1fs (ref %s)",
		    c->rule, what, ra_ms ? ", Retry-After" : "", s->sp->n,
		    s->sp->n == 1 ? "" : "s", (double)wait / 1000.0, c->ref);
		spool_release(s->sp, c);
		break;
	case KAPTURE_AUTH:
		s->stats.auth_failures++;
		s->auth_hold = true;
		s->hold_until_ms = now + s->conf->auth_retry * 1000;
		log_warnx("Kapture refused the token (%s): %zu request%s "
		    "waiting in the spool; next try in %llds. Fix token_file "
		    "or KAPTURE_TOKEN, then send SIGHUP", what, s->sp->n,
		    s->sp->n == 1 ? "" : "s", (long long)s->conf->auth_retry);
		spool_release(s->sp, c);
		break;
	case KAPTURE_FAIL:
		log_warnx("rule [%s]: Kapture rejected the ticket (%s); moved "
		    "to %s/failed/%s (ref %s)", c->rule, what, s->sp->dir, name,
		    c->ref);
		spool_fail(s->sp, c, r.http_status, r.message,
		    sl->resp.data, sl->resp.len);
		s->stats.failed++;
		/* Kapture answered: it is up. */
		s->streak = 0;
		break;
	}
}

/* Hand every finished transfer to sender_finish; returns how many. */
static int
sender_collect(struct sender *s)
{
	struct sender_slot *sl;
	CURLMsg *msg;
	int left, n = 0;

	while ((msg = curl_multi_info_read(s->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		sl = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
		    (char **)&sl);
		if (sl != NULL && sl->active) {
			sender_finish(s, sl, msg->data.result);
			n++;
		}
	}
	return n;
}

void
sender_step(struct sender *s)
{
	int64_t now = spool_now_ms();
	size_t before;
	int running, finished, rounds = 0;

	/* Other processes (more helpers, the ticket command, --retry-failed)
	 * add files: look now and then. */
	if (now - s->sp->last_scan_ms >= SENDER_FULL_SCAN_MS)
		spool_scan(s->sp, true);
	else if (now - s->sp->last_scan_ms >= SENDER_SCAN_MS)
		spool_scan(s->sp, false);
	/* Idle (the common case under rsyslog): nothing to perform. */
	if (s->nactive == 0 && s->sp->n == 0)
		return;
	/* Until nothing changes: a transfer that completes inside the
	 * perform that started others must not wait for the next poll. */
	do {
		curl_multi_perform(s->multi, &running);
		finished = sender_collect(s);
		before = s->nactive;
		sender_start_due(s);
	} while ((finished > 0 || s->nactive != before) && ++rounds < 16);
}

int
sender_timeout_ms(struct sender *s, int max)
{
	int64_t now = spool_now_ms(), t = max, d;
	long ct = -1;

	if (s->nactive > 0 && curl_multi_timeout(s->multi, &ct) == CURLM_OK &&
	    ct >= 0 && ct < t)
		t = ct;
	if (s->nactive < sender_limit(s) && s->sp->n > 0) {
		if (now < s->hold_until_ms)
			d = s->hold_until_ms - now;
		else if (s->wake_ms > 0)
			d = s->wake_ms - now;
		else
			d = t;
		if (d < t)
			t = d;
	}
	return t < 0 ? 0 : (int)t;
}

int
sender_wait(struct sender *s, struct pollfd *extra, unsigned nextra,
    int timeout_ms)
{
	struct curl_waitfd w[4];
	unsigned i;
	int n = 0;

	/* No transfer: a plain poll is cheaper and reports POLLHUP. */
	if (s->nactive == 0) {
		n = poll(extra, nextra, timeout_ms);
		return n < 0 && errno != EINTR ? -1 : n;
	}

	if (nextra > 4)
		nextra = 4;
	for (i = 0; i < nextra; i++) {
		w[i].fd = extra[i].fd;
		w[i].events = 0;
		if (extra[i].events & POLLIN)
			w[i].events |= CURL_WAIT_POLLIN;
		if (extra[i].events & POLLOUT)
			w[i].events |= CURL_WAIT_POLLOUT;
		w[i].revents = 0;
	}
	if (curl_multi_poll(s->multi, nextra ? w : NULL, nextra, timeout_ms,
	    &n) != CURLM_OK)
		return -1;
	for (i = 0; i < nextra; i++) {
		extra[i].revents = 0;
		if (w[i].revents & CURL_WAIT_POLLIN)
			extra[i].revents |= POLLIN;
		if (w[i].revents & CURL_WAIT_POLLOUT)
			extra[i].revents |= POLLOUT;
		if (w[i].revents & CURL_WAIT_POLLPRI)
			extra[i].revents |= POLLPRI;
	}
	return n;
}

void
sender_drain(struct sender *s, int64_t timeout_ms, volatile int *stop)
{
	int64_t deadline = spool_now_ms() + timeout_ms, now, next;
	int64_t last_start = deadline - (timeout_ms / 4 < 1000 ?
	    timeout_ms / 4 : 1000);
	size_t i;

	for (;;) {
		/* Near the deadline start nothing new: a request abandoned
		 * in flight may have created its ticket and is sent again at
		 * the next start. */
		if (spool_now_ms() >= last_start)
			s->no_start = true;
		sender_step(s);
		now = spool_now_ms();
		if (now >= deadline || (stop != NULL && *stop) ||
		    (s->no_start && s->nactive == 0))
			break;
		if (s->nactive == 0) {
			/* Nothing in flight: wait only if something becomes
			 * due before the deadline. */
			next = now < s->hold_until_ms ? s->hold_until_ms :
			    s->wake_ms;
			if (s->sp->n == 0 || next == 0 || next >= deadline)
				break;
		}
		sender_wait(s, NULL, 0, sender_timeout_ms(s,
		    deadline - now < 1000 ? (int)(deadline - now) : 1000));
	}
	if (s->nactive > 0)
		log_info("shutdown: %zu request%s still in flight stay in the "
		    "spool", s->nactive, s->nactive == 1 ? "" : "s");
	for (i = 0; i < sizeof(s->slot) / sizeof(s->slot[0]); i++)
		sender_slot_stop(s, &s->slot[i]);
}
