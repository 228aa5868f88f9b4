#include "ini.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define INI_MAX_FILE (16 * 1024 * 1024)

static bool
ini_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

void
ini_parse_buf(const char *name, const char *data, size_t len,
    struct diags *d, ini_cb *cb, void *arg)
{
	struct buf section, key, line;
	const char *p = data, *end = data + len, *nl, *s, *e, *eq;
	int lineno = 0;

	buf_init(&section, 1024);
	buf_init(&key, 1024);
	buf_init(&line, INI_MAX_FILE);
	buf_appends(&section, "");
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3; /* a BOM from a Windows editor */
	while (p < end) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		e = nl ? nl : end;
		s = p;
		p = nl ? nl + 1 : end;
		while (s < e && ini_space(*s))
			s++;
		while (e > s && ini_space(e[-1]))
			e--;
		if (s == e || *s == '#' || *s == ';')
			continue;
		if (memchr(s, '\0', (size_t)(e - s)) != NULL) {
			diag_error(d, name, lineno, "NUL byte in line");
			continue;
		}
		if (*s == '[') {
			if (e[-1] != ']' || e - s < 3) {
				diag_error(d, name, lineno,
				    "malformed section header (expected [name])");
				continue;
			}
			s++;
			e--;
			while (s < e && ini_space(*s))
				s++;
			while (e > s && ini_space(e[-1]))
				e--;
			buf_reset(&section);
			buf_append(&section, s, (size_t)(e - s));
			cb(arg, name, lineno, section.data, NULL, NULL);
			continue;
		}
		eq = memchr(s, '=', (size_t)(e - s));
		if (eq == NULL || eq == s) {
			diag_error(d, name, lineno,
			    "expected \"key = value\" or \"[section]\"");
			continue;
		}
		buf_reset(&key);
		buf_reset(&line);
		{
			const char *ke = eq, *vs = eq + 1;

			while (ke > s && ini_space(ke[-1]))
				ke--;
			while (vs < e && ini_space(*vs))
				vs++;
			buf_append(&key, s, (size_t)(ke - s));
			buf_append(&line, vs, (size_t)(e - vs));
		}
		if (section.len == 0) {
			diag_error(d, name, lineno,
			    "\"%s\" outside any [section]", key.data);
			continue;
		}
		cb(arg, name, lineno, section.data, key.data, line.data);
	}
	buf_free(&section);
	buf_free(&key);
	buf_free(&line);
}

int
ini_parse_file(const char *path, struct diags *d, ini_cb *cb, void *arg)
{
	FILE *fp;
	struct buf b;
	char chunk[8192];
	size_t n;

	if ((fp = fopen(path, "r")) == NULL) {
		diag_error(d, path, 0, "cannot read: %s", strerror(errno));
		return -1;
	}
	buf_init(&b, INI_MAX_FILE);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (!buf_append(&b, chunk, n))
			break;
	if (ferror(fp)) {
		diag_error(d, path, 0, "read error: %s", strerror(errno));
		fclose(fp);
		buf_free(&b);
		return -1;
	}
	fclose(fp);
	if (b.truncated)
		diag_error(d, path, 0, "file larger than %d bytes",
		    INI_MAX_FILE);
	else
		ini_parse_buf(path, b.data ? b.data : "", b.len, d, cb, arg);
	buf_free(&b);
	return 0;
}
