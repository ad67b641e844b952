/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ckpt_file: the checkpoint kept in a local file.
 *
 * The file holds the checkpoint's text (checkpoint.h).
 * Saving writes a temporary file beside it, fsyncs it, renames it over the
 * old one and fsyncs the directory, so that after a crash at any moment the
 * file holds either the old or the new position, whole. A checkpoint that
 * cannot be read is an error, never "start from scratch": starting over
 * silently would resend or skip events.
 *
 * Blocking file I/O; call from the relay's pipeline thread.
 */
#ifndef OUTBOX_RELAY_CKPT_FILE_H
#define OUTBOX_RELAY_CKPT_FILE_H

#include <stddef.h>

/* Returns 1 and *text (malloc'd) when a checkpoint exists, 0 when the
 * file does not exist (first start), -1 with a message when it exists but
 * cannot be read. */
int ckpt_file_load(const char *path, char **text, char *err, size_t errlen);

/* Returns 0, or -1 with a message; the old checkpoint is then intact. */
int ckpt_file_save(const char *path, const char *text, char *err,
                   size_t errlen);

#endif
