/*
 * diag.h: diagnostics collected by parsers. Parsers never exit (tmux
 * cmd-parse): they add "file:line: message" entries here and carry on, so
 * one --check run reports every problem at once.
 */
#ifndef OMK_DIAG_H
#define OMK_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct diag {
	char *file;   /* may be NULL */
	int line;     /* 0 = whole file */
	bool warning; /* false = error */
	char *msg;
};

struct diags {
	struct diag *v;
	size_t n;
	size_t alloc;
	size_t errors;
	size_t warnings;
};

void diags_init(struct diags *d);
void diags_free(struct diags *d);
void diag_error(struct diags *d, const char *file, int line, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));
void diag_warn(struct diags *d, const char *file, int line, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));
/* Order by file (in order of first mention), then line; stable. */
void diags_sort(struct diags *d);
/* Print each as "file:line: error: msg" (or warning) to fp. */
void diags_print(const struct diags *d, FILE *fp);

#endif
