#include "kapture.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#define KAPTURE_CUT_MARKER "\xe2\x80\xa6[truncated]"

static void
gen_str(yajl_gen g, const char *s)
{
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static void
gen_kv(yajl_gen g, const char *k, const char *v)
{
	if (v == NULL)
		return;
	gen_str(g, k);
	gen_str(g, v);
}

static void
gen_fields(yajl_gen g, const struct field_node *n, const struct tmpl_ctx *ctx,
    struct buf *scratch, size_t field_max)
{
	size_t i, cut;

	switch (n->kind) {
	case FIELD_LEAF:
		buf_reset(scratch);
		tmpl_render(n->value, ctx, scratch);
		if (scratch->len > field_max || scratch->truncated) {
			cut = utf8_cut(scratch->data, scratch->len, field_max -
			    (sizeof(KAPTURE_CUT_MARKER) - 1));
			scratch->len = cut;
			buf_appends(scratch, KAPTURE_CUT_MARKER);
		}
		yajl_gen_string(g, (const unsigned char *)scratch->data,
		    scratch->len);
		return;
	case FIELD_OBJECT:
		yajl_gen_map_open(g);
		for (i = 0; i < n->nkids; i++) {
			gen_str(g, n->kids[i]->name);
			gen_fields(g, n->kids[i], ctx, scratch, field_max);
		}
		yajl_gen_map_close(g);
		return;
	case FIELD_ARRAY:
		yajl_gen_array_open(g);
		for (i = 0; i < n->nkids; i++)
			gen_fields(g, n->kids[i], ctx, scratch, field_max);
		yajl_gen_array_close(g);
		return;
	}
}

static void
gen_finish(yajl_gen g, struct buf *out)
{
	const unsigned char *p;
	size_t n;

	yajl_gen_get_buf(g, &p, &n);
	buf_append(out, p, n);
	yajl_gen_free(g);
}

void
kapture_body(struct buf *out, bool object, const struct kapture_ticket *t,
    size_t field_max)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	struct buf scratch;
	size_t i;

	buf_init(&scratch, field_max + 64);
	if (!object)
		yajl_gen_array_open(g);
	yajl_gen_map_open(g);
	gen_kv(g, "title", t->title);
	gen_kv(g, "ticket_details", t->details);
	gen_kv(g, "due_date", t->due_date);
	gen_kv(g, "email_id", t->email);
	if (t->fields != NULL) {
		for (i = 0; i < t->fields->nkids; i++) {
			gen_str(g, t->fields->kids[i]->name);
			gen_fields(g, t->fields->kids[i], t->ctx, &scratch,
			    field_max);
		}
	}
	if (t->ref_field != NULL)
		gen_kv(g, t->ref_field, t->ref);
	yajl_gen_map_close(g);
	if (!object)
		yajl_gen_array_close(g);
	gen_finish(g, out);
	buf_free(&scratch);
}

void
kapture_comment_body(struct buf *out, bool object, const char *ticket_id,
    const char *comment, const char *sub_status)
{
	yajl_gen g = yajl_gen_alloc(NULL);

	if (!object)
		yajl_gen_array_open(g);
	yajl_gen_map_open(g);
	gen_kv(g, "ticket_id", ticket_id);
	gen_kv(g, "comment", comment);
	gen_kv(g, "sub_status", sub_status);
	yajl_gen_map_close(g);
	if (!object)
		yajl_gen_array_close(g);
	gen_finish(g, out);
}

const char *
kapture_outcome_name(enum kapture_outcome o)
{
	switch (o) {
	case KAPTURE_DONE: return "done";
	case KAPTURE_RETRY: return "retry";
	case KAPTURE_AUTH: return "auth";
	case KAPTURE_FAIL: return "failed";
	}
	return "?";
}

/* Copy text for a log line: repaired UTF-8, control bytes as '?', cut at
 * the size on a character boundary. */
static void
kapture_copy_msg(char *dst, size_t size, const char *s, size_t n)
{
	struct buf b;
	size_t i, cut;

	buf_init(&b, size * 4);
	buf_append(&b, "", 0);
	utf8_append_repaired(&b, s, n);
	for (i = 0; i < b.len; i++)
		if ((unsigned char)b.data[i] < 0x20 || b.data[i] == 0x7f)
			b.data[i] = '?';
	cut = utf8_cut(b.data, b.len, size - 1);
	memcpy(dst, b.data, cut);
	dst[cut] = '\0';
	buf_free(&b);
}

static bool
kapture_contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay != '\0'; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	return false;
}

/* A string member by any of the names, case-insensitively. */
static const char *
kapture_member(yajl_val obj, const char *const *names)
{
	size_t i, k;

	if (!YAJL_IS_OBJECT(obj))
		return NULL;
	for (k = 0; names[k] != NULL; k++) {
		for (i = 0; i < obj->u.object.len; i++) {
			yajl_val v = obj->u.object.values[i];

			if (strcasecmp(obj->u.object.keys[i], names[k]) != 0)
				continue;
			if (YAJL_IS_STRING(v))
				return v->u.string;
			if (YAJL_IS_NUMBER(v))
				return v->u.number.r;
		}
	}
	return NULL;
}

static yajl_val
kapture_object(yajl_val v)
{
	/* Some front ends answer with the array shape they were sent. */
	if (YAJL_IS_ARRAY(v) && v->u.array.len == 1)
		v = v->u.array.values[0];
	return YAJL_IS_OBJECT(v) ? v : NULL;
}

static bool
kapture_is_auth_message(const char *m)
{
	static const char *const phrases[] = { "auth key", "invalid auth",
	    "unauthori", "authenticat", "invalid token", "token expired",
	    "expired token", "invalid api key", NULL };
	size_t i;

	/* Known phrases only: "Unexpected token" or "Author is required"
	 * are rejections, not a bad key to wait out. */
	for (i = 0; m != NULL && phrases[i] != NULL; i++)
		if (kapture_contains(m, phrases[i]))
			return true;
	return false;
}

/* The API answers flat objects. yajl's tree (parse and free) recurses
 * once per level: an answer nested deeper than this is not the API's and
 * is never parsed (a million '[' would overflow the stack). */
#define KAPTURE_MAX_DEPTH 64

static bool
kapture_depth_ok(const char *s, size_t n)
{
	size_t i, depth = 0;
	bool in_str = false;

	for (i = 0; i < n; i++) {
		if (in_str) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_str = false;
		} else if (s[i] == '"') {
			in_str = true;
		} else if (s[i] == '[' || s[i] == '{') {
			if (++depth > KAPTURE_MAX_DEPTH)
				return false;
		} else if ((s[i] == ']' || s[i] == '}') && depth > 0) {
			depth--;
		}
	}
	return true;
}

void
kapture_classify(long http_status, const char *body, size_t len,
    struct kapture_result *r)
{
	static const char *const status_k[] = { "status", NULL };
	static const char *const message_k[] = { "message", "error", NULL };
	static const char *const id_k[] = { "ticket_id", "Ticket Id", NULL };
	static const char *const tid_k[] = { "ticketId", "id", NULL };
	yajl_val root = NULL, obj = NULL;
	const char *status = NULL, *msg = NULL, *id = NULL;
	char err[128];

	memset(r, 0, sizeof(*r));
	r->http_status = http_status;
	if (http_status == 0) {
		r->outcome = KAPTURE_RETRY;
		snprintf(r->message, sizeof(r->message), "no response");
		return;
	}
	if (body != NULL && len > 0 && memchr(body, '\0', len) == NULL &&
	    kapture_depth_ok(body, len) &&
	    (root = yajl_tree_parse(body, err, sizeof(err))) != NULL)
		obj = kapture_object(root);
	if (obj != NULL) {
		status = kapture_member(obj, status_k);
		msg = kapture_member(obj, message_k);
	}
	if (msg != NULL)
		kapture_copy_msg(r->message, sizeof(r->message), msg,
		    strlen(msg));

	if (http_status == 401 || http_status == 403 ||
	    (kapture_is_auth_message(msg) && status != NULL &&
	    strcasecmp(status, "success") != 0)) {
		r->outcome = KAPTURE_AUTH;
		if (msg == NULL)
			snprintf(r->message, sizeof(r->message), "HTTP %ld",
			    http_status);
	} else if (http_status == 408 || http_status == 429 ||
	    http_status >= 500) {
		r->outcome = KAPTURE_RETRY;
		if (msg == NULL)
			snprintf(r->message, sizeof(r->message), "HTTP %ld%s",
			    http_status, obj ? "" : " (not JSON)");
	} else if (http_status >= 200 && http_status < 300) {
		if (obj == NULL) {
			/* A proxy's HTML page or a cut body: the API did
			 * not answer, so try again. */
			r->outcome = KAPTURE_RETRY;
			snprintf(r->message, sizeof(r->message),
			    "HTTP %ld with a body that is not a JSON object",
			    http_status);
		} else if (status != NULL && !strcasecmp(status, "success")) {
			r->outcome = KAPTURE_DONE;
			id = kapture_member(obj, id_k);
			if (id == NULL)
				id = kapture_member(yajl_tree_get(obj,
				    (const char *[]){ "ticket", NULL },
				    yajl_t_object), tid_k);
			kapture_copy_msg(r->ticket_id, sizeof(r->ticket_id),
			    id ? id : "", id ? strlen(id) : 0);
		} else {
			r->outcome = KAPTURE_FAIL;
			if (msg == NULL)
				snprintf(r->message, sizeof(r->message),
				    "status \"%s\"", status ? status : "(none)");
		}
	} else {
		/* Redirects are not followed (the token must not travel to
		 * another host): a moved URL is a config error. */
		r->outcome = KAPTURE_FAIL;
		if (msg == NULL)
			snprintf(r->message, sizeof(r->message), "HTTP %ld%s",
			    http_status, http_status >= 300 && http_status < 400
			    ? " redirect (not followed: fix [kapture] url)" : "");
	}
	yajl_tree_free(root);
}

const char *
kapture_describe(const struct kapture_result *r, char *buf, size_t n)
{
	if (r->http_status == 0)
		snprintf(buf, n, "network: %s", r->message);
	else if (strncmp(r->message, "HTTP ", 5) == 0)
		snprintf(buf, n, "%s", r->message);
	else
		snprintf(buf, n, "HTTP %ld: %s", r->http_status, r->message);
	return buf;
}
