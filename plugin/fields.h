/*
 * fields.h: the extra body fields of a ticket ("field.queue = Infra",
 * "field.issue_category_details[0].issue_category_1 = Disk") as a tree of
 * objects and arrays with templates at the leaves. The shape is fixed at
 * load time, so conflicts ("a = x" and "a.b = y") are load-time errors.
 */
#ifndef OMK_FIELDS_H
#define OMK_FIELDS_H

#include <stddef.h>

#include "tmpl.h"

enum field_kind { FIELD_OBJECT, FIELD_ARRAY, FIELD_LEAF };

struct field_node {
	enum field_kind kind;
	char *name;                /* key in the parent object; NULL in arrays */
	struct field_node **kids;
	size_t nkids;
	struct tmpl *value;        /* FIELD_LEAF */
};

/* An empty top-level object. The caller owns it: fields_free(). */
struct field_node *fields_new(void);
void fields_free(struct field_node *n);
/*
 * Add path = value. Takes ownership of value (freed on error too).
 * Returns NULL, or a static string saying why the path is refused.
 */
const char *fields_add(struct field_node *root, const char *path,
    struct tmpl *value);
/* Find a top-level key; NULL if absent. */
const struct field_node *fields_get(const struct field_node *root,
    const char *name);

#endif
