/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cfg_doc: the key reference of a configuration, written from its
 * cfg_schema tables, so that the documentation cannot say other than the
 * parser does (librdkafka's CONFIGURATION.md is made the same way from its
 * property table).
 *
 * The reference lives inside hand-written documents (docs/CONFIG.md, the
 * man pages) between two marker lines, which cfg_doc_splice() fills:
 *
 *     <!-- BEGIN KEYS relay -->      .\" BEGIN KEYS relay
 *     ...generated...                ...generated...
 *     <!-- END KEYS -->              .\" END KEYS
 *
 * The text around the markers is the writer's; what is between them is
 * the tables'. Every key is listed by its dotted path (list items as
 * `outbox[].table`) with its type, default, bounds or choices, and the
 * table's line of description. CFG_F_OBSOLETE keys are left out.
 *
 * Pure functions over strings and FILE *; not thread-safe only in that
 * the caller owns the streams.
 */
#ifndef OUTBOX_CFG_DOC_H
#define OUTBOX_CFG_DOC_H

#include "config/cfg.h"

#include <stdbool.h>
#include <stdio.h>

enum cfg_doc_format {
    CFG_DOC_MARKDOWN, /* one table: key | type | default | range | about */
    CFG_DOC_MAN,      /* roff: one .TP paragraph per key                  */
};

/* Writes the key reference of `schema` to fp. */
void cfg_doc_write(const struct cfg_schema *schema, enum cfg_doc_format fmt,
                   FILE *fp);

/* The schema a marker names ("relay", "sse"), or NULL. */
typedef const struct cfg_schema *(*cfg_doc_lookup_fn)(const char *name);

/* Returns a copy of `text` (malloc'd; the caller frees it) in which the
 * lines between each BEGIN KEYS NAME marker and the next END KEYS marker
 * are replaced by the reference of the schema NAME. NULL with a message
 * in err when a marker is unpaired, names no schema, or text has none. */
char *cfg_doc_splice(const char *text, enum cfg_doc_format fmt,
                     cfg_doc_lookup_fn lookup, char *err, size_t errlen);

/* The field a documented dotted path names in `schema` ("source.port",
 * "outbox[].table", "auth.secret_file" for a secret), or NULL. Under a
 * CFG_MAP the keys are the user's: the map's field is returned and
 * *free_form set. CFG_F_OBSOLETE fields are found too (the caller
 * decides). */
const struct cfg_field *cfg_doc_find(const struct cfg_schema *schema,
                                     const char *path, bool *free_form);

#endif
