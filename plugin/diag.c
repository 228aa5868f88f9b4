#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void
diags_init(struct diags *d)
{
	memset(d, 0, sizeof(*d));
}

void
diags_free(struct diags *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

static void
diag_vadd(struct diags *d, bool warning, const char *file, int line,
    const char *fmt, va_list ap)
{
	struct diag *x;
	va_list ap2;
	int n;

	if (d->n == d->alloc) {
		d->alloc = d->alloc ? d->alloc * 2 : 8;
		d->v = xrealloc(d->v, d->alloc * sizeof(*d->v));
	}
	x = &d->v[d->n++];
	x->file = file ? xstrdup(file) : NULL;
	x->line = line;
	x->warning = warning;
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	x->msg = xmalloc(n > 0 ? (size_t)n + 1 : 1);
	vsnprintf(x->msg, n > 0 ? (size_t)n + 1 : 1, fmt, ap2);
	va_end(ap2);
	if (warning)
		d->warnings++;
	else
		d->errors++;
}

void
diag_error(struct diags *d, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(d, false, file, line, fmt, ap);
	va_end(ap);
}

void
diag_warn(struct diags *d, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(d, true, file, line, fmt, ap);
	va_end(ap);
}

void
diags_print(const struct diags *d, FILE *fp)
{
	const struct diag *x;
	size_t i;

	for (i = 0; i < d->n; i++) {
		x = &d->v[i];
		if (x->file != NULL && x->line > 0)
			fprintf(fp, "%s:%d: ", x->file, x->line);
		else if (x->file != NULL)
			fprintf(fp, "%s: ", x->file);
		fprintf(fp, "%s: %s\n", x->warning ? "warning" : "error",
		    x->msg);
	}
}

/* Rank of a diagnostic's file: the index of its first mention. */
static size_t
diag_rank(const struct diags *d, const struct diag *x)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		const char *f = d->v[i].file;

		if ((f == NULL && x->file == NULL) ||
		    (f != NULL && x->file != NULL && !strcmp(f, x->file)))
			return i;
	}
	return d->n;
}

void
diags_sort(struct diags *d)
{
	size_t i, j, *rank;
	struct diag tmp;
	size_t rtmp;

	if (d->n < 2)
		return;
	rank = xcalloc(d->n, sizeof(*rank));
	for (i = 0; i < d->n; i++)
		rank[i] = diag_rank(d, &d->v[i]);
	/* Insertion sort: stable, and the lists are short. */
	for (i = 1; i < d->n; i++) {
		for (j = i; j > 0 && (rank[j - 1] > rank[j] ||
		    (rank[j - 1] == rank[j] && d->v[j - 1].line >
		    d->v[j].line)); j--) {
			tmp = d->v[j];
			d->v[j] = d->v[j - 1];
			d->v[j - 1] = tmp;
			rtmp = rank[j];
			rank[j] = rank[j - 1];
			rank[j - 1] = rtmp;
		}
	}
	free(rank);
}
