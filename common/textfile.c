/* SPDX-License-Identifier: Apache-2.0 */
#include "common/textfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

char *textfile_read(const char *path)
{
    FILE *fp = fopen(path, "r");
    char *text = NULL;
    size_t cap = 0;
    if (!fp)
        return NULL;
    ssize_t n = getdelim(&text, &cap, '\0', fp); /* no NUL in text: all of it */
    fclose(fp);
    if (n < 0) {
        free(text);
        return NULL;
    }
    return text;
}
