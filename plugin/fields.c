#include "fields.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define FIELDS_MAX_DEPTH 16
#define FIELDS_MAX_INDEX 1000

struct field_node *
fields_new(void)
{
	struct field_node *n = xcalloc(1, sizeof(*n));

	n->kind = FIELD_OBJECT;
	return n;
}

void
fields_free(struct field_node *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nkids; i++)
		fields_free(n->kids[i]);
	free(n->kids);
	free(n->name);
	tmpl_free(n->value);
	free(n);
}

static struct field_node *
fields_child(struct field_node *parent, enum field_kind kind,
    const char *name, size_t len)
{
	struct field_node *n = xcalloc(1, sizeof(*n));

	n->kind = kind;
	if (name != NULL)
		n->name = xstrndup(name, len);
	parent->kids = xrealloc(parent->kids,
	    (parent->nkids + 1) * sizeof(*parent->kids));
	parent->kids[parent->nkids++] = n;
	return n;
}

static struct field_node *
fields_find(struct field_node *obj, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < obj->nkids; i++)
		if (strlen(obj->kids[i]->name) == len &&
		    memcmp(obj->kids[i]->name, name, len) == 0)
			return obj->kids[i];
	return NULL;
}

/*
 * Walk the path, creating containers as needed. Each step is either
 * ".name" (or the leading name) into an object, or "[n]" into an array;
 * array items must be created in order, so "[1]" needs "[0]" first.
 */
const char *
fields_add(struct field_node *root, const char *path, struct tmpl *value)
{
	struct field_node *cur = root, *next, *created_in = NULL;
	const char *p = path, *s;
	enum field_kind want;
	size_t len;
	long idx;
	int depth = 0;
	const char *why = NULL;

	/* Names go into the body as they are: JSON wants them UTF-8. */
	if (!utf8_printable(path)) {
		why = utf8_valid(path, strlen(path)) ?
		    "field names must not hold control characters" :
		    "field names must be valid UTF-8";
		goto fail;
	}
	for (;;) {
		if (++depth > FIELDS_MAX_DEPTH) {
			why = "field path nests too deeply";
			goto fail;
		}
		if (*p == '[') {
			if (cur->kind != FIELD_ARRAY) {
				why = "\"[n]\" used on something that is not an array";
				goto fail;
			}
			p++;
			if (!isdigit((unsigned char)*p)) {
				why = "expected a number inside [ ]";
				goto fail;
			}
			idx = strtol(p, (char **)&s, 10);
			if (*s != ']' || idx > FIELDS_MAX_INDEX) {
				why = "malformed [n] in field path";
				goto fail;
			}
			p = s + 1;
			if ((size_t)idx > cur->nkids) {
				why = "array items must be numbered from [0] "
				    "without gaps";
				goto fail;
			}
			want = *p == '\0' ? FIELD_LEAF :
			    *p == '[' ? FIELD_ARRAY : FIELD_OBJECT;
			if ((size_t)idx == cur->nkids) {
				if (created_in == NULL)
					created_in = cur;
				next = fields_child(cur, want, NULL, 0);
			} else
				next = cur->kids[idx];
		} else {
			if (cur->kind != FIELD_OBJECT) {
				why = "a name used on something that is not an object";
				goto fail;
			}
			if (cur != root || p != path) {
				if (*p != '.') {
					why = "expected \".\" or \"[\" in field path";
					goto fail;
				}
				p++;
			}
			s = p;
			while (*p != '\0' && *p != '.' && *p != '[')
				p++;
			len = (size_t)(p - s);
			if (len == 0) {
				why = "empty name in field path";
				goto fail;
			}
			want = *p == '\0' ? FIELD_LEAF :
			    *p == '[' ? FIELD_ARRAY : FIELD_OBJECT;
			if ((next = fields_find(cur, s, len)) == NULL) {
				if (created_in == NULL)
					created_in = cur;
				next = fields_child(cur, want, s, len);
			}
		}
		if (next->kind != want || (want == FIELD_LEAF && next->value)) {
			why = next->kind == FIELD_LEAF && want == FIELD_LEAF ?
			    "field set twice" :
			    "field path conflicts with another field's shape";
			goto fail;
		}
		cur = next;
		if (*p == '\0')
			break;
	}
	cur->value = value;
	return NULL;
fail:
	/* Undo what this call created: everything new hangs off one new
	 * node, the last child of created_in. */
	if (created_in != NULL)
		fields_free(created_in->kids[--created_in->nkids]);
	tmpl_free(value);
	return why;
}

const struct field_node *
fields_get(const struct field_node *root, const char *name)
{
	return fields_find((struct field_node *)root, name, strlen(name));
}
