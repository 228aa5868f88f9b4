/*
 * test_fields.c: the shape of extra body fields (field.PATH = value):
 * nesting, arrays in order, and every refusal with its exact reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fields.h"
#include "tmpl.h"

#define WHY_NOT_ARRAY "\"[n]\" used on something that is not an array"
#define WHY_NUMBER "expected a number inside [ ]"
#define WHY_MALFORMED "malformed [n] in field path"
#define WHY_GAP "array items must be numbered from [0] without gaps"
#define WHY_NOT_OBJECT "a name used on something that is not an object"
#define WHY_SEP "expected \".\" or \"[\" in field path"
#define WHY_EMPTY "empty name in field path"
#define WHY_TWICE "field set twice"
#define WHY_SHAPE "field path conflicts with another field's shape"
#define WHY_DEEP "field path nests too deeply"

/* Add path = literal value; NULL or the reason. */
static const char *
t_add(struct field_node *root, const char *path, const char *value)
{
	return fields_add(root, path, tmpl_new_literal(value));
}

static void
t_assert_added(struct field_node *root, const char *path, const char *value)
{
	const char *why = t_add(root, path, value);

	if (why != NULL)
		fail_msg("fields_add(\"%s\") refused: %s", path, why);
}

static void
t_assert_refused(struct field_node *root, const char *path, const char *want)
{
	const char *why = t_add(root, path, "v");

	if (why == NULL)
		fail_msg("fields_add(\"%s\") accepted, want \"%s\"", path, want);
	if (strcmp(why, want) != 0)
		fail_msg("fields_add(\"%s\"): \"%s\", want \"%s\"", path, why,
		    want);
}

static void
t_assert_leaf(const struct field_node *n, const char *name, const char *value)
{
	assert_non_null(n);
	assert_int_equal(n->kind, FIELD_LEAF);
	if (name == NULL)
		assert_null(n->name);
	else
		assert_string_equal(n->name, name);
	assert_int_equal(n->nkids, 0);
	assert_non_null(n->value);
	assert_string_equal(tmpl_source(n->value), value);
}

/*
 * A compact picture of the tree, to compare shapes in one assertion:
 * {name:...} objects, [...] arrays, leaves as their source in quotes.
 */
static void
t_shape(const struct field_node *n, char *out, size_t size)
{
	size_t i, len = strlen(out);

	switch (n->kind) {
	case FIELD_LEAF:
		snprintf(out + len, size - len, "'%s'", tmpl_source(n->value));
		return;
	case FIELD_OBJECT:
	case FIELD_ARRAY:
		snprintf(out + len, size - len, "%c",
		    n->kind == FIELD_OBJECT ? '{' : '[');
		for (i = 0; i < n->nkids; i++) {
			len = strlen(out);
			if (i > 0)
				snprintf(out + len, size - len, ",");
			len = strlen(out);
			if (n->kind == FIELD_OBJECT)
				snprintf(out + len, size - len, "%s:",
				    n->kids[i]->name);
			t_shape(n->kids[i], out, size);
		}
		len = strlen(out);
		snprintf(out + len, size - len, "%c",
		    n->kind == FIELD_OBJECT ? '}' : ']');
		return;
	}
}

static void
t_assert_shape(const struct field_node *root, const char *want)
{
	char got[1024] = "";

	t_shape(root, got, sizeof(got));
	assert_string_equal(got, want);
}

static void
test_new_and_free(void **state)
{
	struct field_node *root = fields_new();

	assert_non_null(root);
	assert_int_equal(root->kind, FIELD_OBJECT);
	assert_null(root->name);
	assert_int_equal(root->nkids, 0);
	assert_null(root->value);
	assert_null(fields_get(root, "x"));
	t_assert_shape(root, "{}");
	fields_free(root);
	fields_free(NULL);
}

static void
test_top_level(void **state)
{
	struct field_node *root = fields_new();

	t_assert_added(root, "queue", "Infra");
	t_assert_added(root, "priority", "High");
	assert_int_equal(root->nkids, 2);
	t_assert_leaf(fields_get(root, "queue"), "queue", "Infra");
	t_assert_leaf(fields_get(root, "priority"), "priority", "High");
	assert_null(fields_get(root, "queu"));
	assert_null(fields_get(root, "queue2"));
	/* In insertion order. */
	t_assert_shape(root, "{queue:'Infra',priority:'High'}");
	fields_free(root);
}

static void
test_nesting(void **state)
{
	struct field_node *root = fields_new();
	const struct field_node *a, *b, *item;

	t_assert_added(root, "a.b[0].c", "x");
	a = fields_get(root, "a");
	assert_non_null(a);
	assert_int_equal(a->kind, FIELD_OBJECT);
	assert_string_equal(a->name, "a");
	assert_int_equal(a->nkids, 1);
	b = a->kids[0];
	assert_int_equal(b->kind, FIELD_ARRAY);
	assert_string_equal(b->name, "b");
	assert_int_equal(b->nkids, 1);
	item = b->kids[0];
	assert_int_equal(item->kind, FIELD_OBJECT);
	assert_null(item->name);
	assert_int_equal(item->nkids, 1);
	t_assert_leaf(item->kids[0], "c", "x");

	/* Siblings join the existing containers. */
	t_assert_added(root, "a.b[0].d", "y");
	t_assert_added(root, "a.b[1].c", "z");
	t_assert_added(root, "a.e", "w");
	t_assert_shape(root, "{a:{b:[{c:'x',d:'y'},{c:'z'}],e:'w'}}");
	fields_free(root);
}

static void
test_kapture_shape(void **state)
{
	struct field_node *root = fields_new();

	/* The shape Kapture's issue categories take. */
	t_assert_added(root, "issue_category_details[0].issue_category_1",
	    "Security");
	t_assert_added(root, "issue_category_details[0].issue_category_2",
	    "SSH");
	t_assert_added(root, "queue", "Infra");
	t_assert_shape(root, "{issue_category_details:[{issue_category_1:"
	    "'Security',issue_category_2:'SSH'}],queue:'Infra'}");
	fields_free(root);
}

static void
test_arrays_in_order(void **state)
{
	struct field_node *root = fields_new();
	const struct field_node *tags;

	t_assert_added(root, "tags[0]", "a");
	t_assert_added(root, "tags[1]", "b");
	t_assert_added(root, "tags[2]", "c");
	tags = fields_get(root, "tags");
	assert_int_equal(tags->kind, FIELD_ARRAY);
	assert_int_equal(tags->nkids, 3);
	t_assert_leaf(tags->kids[0], NULL, "a");
	t_assert_leaf(tags->kids[1], NULL, "b");
	t_assert_leaf(tags->kids[2], NULL, "c");

	/* Arrays of arrays. */
	t_assert_added(root, "m[0][0]", "00");
	t_assert_added(root, "m[0][1]", "01");
	t_assert_added(root, "m[1][0]", "10");
	/* Leading zeros name the same index. */
	t_assert_added(root, "m[01][01]", "11");
	t_assert_shape(root, "{tags:['a','b','c'],m:[['00','01'],['10','11']]}");
	fields_free(root);
}

static void
test_gaps_refused(void **state)
{
	struct field_node *root = fields_new();

	t_assert_refused(root, "a[1]", WHY_GAP);
	t_assert_added(root, "b[0]", "x");
	t_assert_refused(root, "b[2]", WHY_GAP);
	t_assert_added(root, "b[1]", "y");
	t_assert_refused(root, "c[0].d[3].e", WHY_GAP);
	fields_free(root);
}

static void
test_conflicts_refused(void **state)
{
	struct field_node *root = fields_new();

	/* A leaf, then a path through it. */
	t_assert_added(root, "a", "x");
	t_assert_refused(root, "a.b", WHY_SHAPE);
	t_assert_refused(root, "a[0]", WHY_SHAPE);
	t_assert_refused(root, "a", WHY_TWICE);

	/* An object, then a leaf or an array of the same name. */
	t_assert_added(root, "o.b", "y");
	t_assert_refused(root, "o", WHY_SHAPE);
	t_assert_refused(root, "o[0]", WHY_SHAPE);
	t_assert_refused(root, "o.b", WHY_TWICE);
	t_assert_refused(root, "o.b.c", WHY_SHAPE);

	/* An array, then an object or a leaf of the same name. */
	t_assert_added(root, "arr[0]", "z");
	t_assert_refused(root, "arr.b", WHY_SHAPE);
	t_assert_refused(root, "arr", WHY_SHAPE);
	t_assert_refused(root, "arr[0]", WHY_TWICE);
	t_assert_refused(root, "arr[0].x", WHY_SHAPE);
	t_assert_refused(root, "arr[0][0]", WHY_SHAPE);

	/* Array items of different shapes. */
	t_assert_added(root, "items[0].name", "n");
	t_assert_refused(root, "items[0]", WHY_SHAPE);
	t_assert_refused(root, "items[0][0]", WHY_SHAPE);

	/* What was accepted is intact. */
	t_assert_leaf(fields_get(root, "a"), "a", "x");
	t_assert_leaf(fields_get(root, "o")->kids[0], "b", "y");
	t_assert_leaf(fields_get(root, "arr")->kids[0], NULL, "z");
	fields_free(root);
}

static void
test_malformed_paths(void **state)
{
	struct field_node *root = fields_new();

	t_assert_refused(root, "[0]", WHY_NOT_ARRAY);
	t_assert_refused(root, "", WHY_EMPTY);
	t_assert_refused(root, ".a", WHY_EMPTY);
	t_assert_refused(root, "a..b", WHY_EMPTY);
	t_assert_refused(root, "b.", WHY_EMPTY);
	t_assert_refused(root, "c[x]", WHY_NUMBER);
	t_assert_refused(root, "d[]", WHY_NUMBER);
	t_assert_refused(root, "e[-1]", WHY_NUMBER);
	t_assert_refused(root, "f[ 0]", WHY_NUMBER);
	t_assert_refused(root, "g[0", WHY_MALFORMED);
	t_assert_refused(root, "h[0x]", WHY_MALFORMED);
	t_assert_refused(root, "i[1001]", WHY_MALFORMED);
	t_assert_refused(root, "j[99999999999999999999]", WHY_MALFORMED);
	t_assert_refused(root, "k[0]x", WHY_SEP);
	t_assert_refused(root, "l[0].", WHY_EMPTY);
	fields_free(root);
}

static void
test_depth(void **state)
{
	struct field_node *root = fields_new();

	/* 16 steps are fine, 17 are not. */
	t_assert_added(root, "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p", "deep");
	t_assert_refused(root, "b.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q", WHY_DEEP);
	t_assert_refused(root, "x[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]",
	    WHY_DEEP);
	fields_free(root);
}

static void
test_value_freed_on_error(void **state)
{
	struct field_node *root = fields_new();

	/* LeakSanitizer checks that a refused value is freed. */
	assert_non_null(fields_add(root, "a[1]", tmpl_new_literal("leak?")));
	assert_non_null(fields_add(root, "", tmpl_new_literal("leak?")));
	fields_free(root);
}

/*
 * Regression test for a fixed bug (minor, fields.c fields_add: fields_child() is called while walking,
 * before the rest of the path is checked): a refused path leaves the
 * containers it created behind, so "b." adds an empty object "b" and
 * "c[1]" an empty array "c"; a body built from such a tree would carry
 * "b":{} and "c":[]. Harmless today only because rules.c discards a rule
 * with any error. Fix: validate the whole path first (a dry walk), or
 * remember the first node created and unlink/free it on failure.
 */
static void
test_refused_path_leaves_no_trace(void **state)
{
	struct field_node *root = fields_new();

	t_assert_refused(root, "b.", WHY_EMPTY);
	t_assert_refused(root, "c[1]", WHY_GAP);
	t_assert_refused(root, "d[0]x", WHY_SEP);
	t_assert_shape(root, "{}");
	fields_free(root);
}

/* Names go into the body as they are: they must be UTF-8 JSON can hold. */
static void
test_names_utf8_no_controls(void **state)
{
	struct field_node *f = fields_new();

	(void)state;
	assert_string_equal(fields_add(f, "q\xfeueue", tmpl_new_literal("x")),
	    "field names must be valid UTF-8");
	assert_string_equal(fields_add(f, "a\tb", tmpl_new_literal("x")),
	    "field names must not hold control characters");
	assert_null(fields_add(f, "caf\xc3\xa9.n", tmpl_new_literal("x")));
	assert_non_null(fields_get(f, "caf\xc3\xa9"));
	assert_null(fields_get(f, "q\xfeueue"));
	fields_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_and_free),
		cmocka_unit_test(test_top_level),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_kapture_shape),
		cmocka_unit_test(test_arrays_in_order),
		cmocka_unit_test(test_gaps_refused),
		cmocka_unit_test(test_conflicts_refused),
		cmocka_unit_test(test_malformed_paths),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_value_freed_on_error),
		cmocka_unit_test(test_refused_path_leaves_no_trace),
		cmocka_unit_test(test_names_utf8_no_controls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
