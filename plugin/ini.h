/*
 * ini.h: the INI syntax shared by the main config and rule files:
 * "[section]", "key = value", comments only at line start ('#' or ';'),
 * so regexes and templates may hold '#' and ';' freely.
 */
#ifndef OMK_INI_H
#define OMK_INI_H

#include "diag.h"

/*
 * Called once per "key = value" line, and once per "[section]" header
 * with key == NULL. Strings are only valid during the call.
 */
typedef void ini_cb(void *arg, const char *file, int line,
    const char *section, const char *key, const char *value);

/*
 * Parse the file at path. Syntax errors go to d; returns -1 only if the
 * file cannot be read (also reported in d), 0 otherwise.
 */
int ini_parse_file(const char *path, struct diags *d, ini_cb *cb, void *arg);
/* The same over a buffer (tests, fuzzing); name is used in diagnostics. */
void ini_parse_buf(const char *name, const char *data, size_t len,
    struct diags *d, ini_cb *cb, void *arg);

#endif
