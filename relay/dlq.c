/* SPDX-License-Identifier: Apache-2.0 */
#include "relay/dlq.h"

#include <librdkafka/rdkafka.h>
#include <string.h>

void dlq_row_key(struct sink_record *rec)
{
    if (rec->key || !rec->position)
        return;
    rec->key = rec->position;
    rec->key_len = strlen(rec->position);
}

int dlq_kafka_refusal(int kafka_err)
{
    switch ((rd_kafka_resp_err_t)kafka_err) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
        return 1;
    default:
        return 0;
    }
}

int dlq_redirects(const struct relay_cfg *cfg, const char *topic,
                  int kafka_err)
{
    return dlq_kafka_refusal(kafka_err) &&
           strcmp(topic, cfg->dead_letter.topic) != 0;
}

static struct sink_header text_header(const char *name, const char *value)
{
    return (struct sink_header){name, value, strlen(value)};
}

size_t dlq_headers(const char *error_type, const char *error_message,
                   const char *original_topic,
                   struct sink_header out[DLQ_HEADERS_MAX])
{
    size_t n = 0;
    out[n++] = text_header(DLQ_ERROR_TYPE, error_type);
    out[n++] = text_header(DLQ_ERROR_MESSAGE, error_message);
    if (original_topic)
        out[n++] = text_header(DLQ_ORIGINAL_TOPIC, original_topic);
    return n;
}
