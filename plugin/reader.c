#include "reader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#define READER_CHUNK (64 * 1024)

void
reader_init(struct reader *r, int fd, size_t max_line)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->max_line = max_line;
	r->size = max_line + READER_CHUNK;
	r->buf = xmalloc(r->size);
}

void
reader_free(struct reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

long
reader_fill(struct reader *r)
{
	ssize_t n;

	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	/* reader_next never leaves max_line bytes without a newline in
	 * the buffer, so there is always room. */
	n = read(r->fd, r->buf + r->end, r->size - r->end);
	if (n < 0)
		return -1;
	if (n == 0)
		r->eof = true;
	r->end += (size_t)n;
	return (long)n;
}

bool
reader_next(struct reader *r, const char **line, size_t *len,
    bool *truncated)
{
	char *s, *nl;
	size_t avail;

	for (;;) {
		s = r->buf + r->start;
		avail = r->end - r->start;
		nl = memchr(s, '\n', avail);
		if (nl != NULL) {
			r->start += (size_t)(nl - s) + 1;
			if (r->discarding) {
				r->discarding = false;
				continue;
			}
			*line = s;
			*len = (size_t)(nl - s);
			*truncated = false;
			if (*len > r->max_line) {
				*len = r->max_line;
				*truncated = true;
			}
			return true;
		}
		if (r->discarding) {
			r->start = r->end;
			return false;
		}
		if (avail > r->max_line) {
			/* Hand out the first max_line bytes now and skip
			 * the rest of the line as it arrives. */
			*line = s;
			*len = r->max_line;
			*truncated = true;
			r->start = r->end;
			r->discarding = true;
			return true;
		}
		if (r->eof && avail > 0) {
			*line = s;
			*len = avail;
			*truncated = false;
			r->start = r->end;
			return true;
		}
		return false;
	}
}
