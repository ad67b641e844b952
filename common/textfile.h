/* SPDX-License-Identifier: Apache-2.0 */
/*
 * textfile: a whole file read into one NUL-terminated string, for the
 * tools and tests that look at a document as text (config docs, samples,
 * dashboards).
 */
#ifndef OUTBOX_COMMON_TEXTFILE_H
#define OUTBOX_COMMON_TEXTFILE_H

/* The text of `path`, to free(); NULL with errno set when it cannot be
 * opened or read. */
char *textfile_read(const char *path);

#endif
