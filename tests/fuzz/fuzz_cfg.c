/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The YAML configuration loader on arbitrary text, against both daemons'
 * schemas (byte 0 picks one). Whatever the text, the loader returns 0 with
 * a configuration that prints and frees cleanly, or -1 with a message
 * that names the place ("NAME:LINE:COL: ...") and leaves nothing behind.
 */
#include <string.h>

#include "config/cfg_relay.h"
#include "config/cfg_sse.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    union {
        struct relay_cfg relay;
        struct sse_cfg sse;
    } cfg;
    const struct cfg_schema *schema = data[0] & 1 ? &sse_cfg_schema
                                                  : &relay_cfg_schema;
    char *text = fuzz_copy(data + 1, size - 1, 0);
    char err[CFG_ERR_MAX] = "";
    int rc = cfg_load_string(schema, "fuzz.yaml", text, size - 1, &cfg, err,
                             sizeof err);
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc == 0) {
        FILE *null = fopen("/dev/null", "w");
        FUZZ_CHECK(null != NULL);
        cfg_print(schema, &cfg, null);
        fclose(null);
        cfg_free(schema, &cfg);
    } else {
        FUZZ_CHECK(strncmp(err, "fuzz.yaml", 9) == 0 && strlen(err) > 10);
    }
    free(text);
    return 0;
}
