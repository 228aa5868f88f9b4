/*
 * reader.h: lines from a file descriptor, without stdio, so that poll()
 * and signals can interleave with reading and a line of any length costs
 * at most max_line bytes of memory: the rest of an over-long line is
 * skipped and the line is reported as truncated.
 */
#ifndef OMK_READER_H
#define OMK_READER_H

#include <stdbool.h>
#include <stddef.h>

struct reader {
	int fd;
	char *buf;
	size_t size;       /* allocated */
	size_t start, end; /* unread bytes */
	size_t max_line;
	bool discarding;   /* skipping the tail of a truncated line */
	bool eof;
};

void reader_init(struct reader *r, int fd, size_t max_line);
void reader_free(struct reader *r);
/*
 * Read once from the fd (it should be readable). Returns bytes read, 0
 * at EOF, -1 on error with errno (EINTR and EAGAIN mean try again).
 */
long reader_fill(struct reader *r);
/*
 * The next complete line in the buffer (without LF), valid until the
 * next reader call. At EOF a final line without LF is returned too.
 * Returns false when more input is needed (or at EOF, when done).
 */
bool reader_next(struct reader *r, const char **line, size_t *len,
    bool *truncated);

#endif
