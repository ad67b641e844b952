/* SPDX-License-Identifier: Apache-2.0 */
#include "sse/frame.h"

#include <inttypes.h>
#include <string.h>

void frame_json_string(struct evbuffer *out, const char *s)
{
    evbuffer_add(out, "\"", 1);
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
            continue;
        evbuffer_add(out, run, (size_t)(s - run));
        if (c == '"' || c == '\\')
            evbuffer_add_printf(out, "\\%c", c);
        else
            evbuffer_add_printf(out, "\\u%04x", c);
        run = s + 1;
    }
    evbuffer_add(out, run, (size_t)(s - run));
    evbuffer_add(out, "\"", 1);
}

static void subject(struct evbuffer *out, const char *queue, const char *user)
{
    evbuffer_add(out, "{\"queue\":", 9);
    frame_json_string(out, queue);
    evbuffer_add(out, ",\"user\":", 8);
    frame_json_string(out, user);
}

static void rank_fields(struct evbuffer *out, const struct hub_state *st)
{
    evbuffer_add_printf(out, ",\"rank\":%" PRId64 ",\"waiting\":%" PRId64,
                        st->rank, st->waiting);
    if (st->eta_s >= 0)
        evbuffer_add_printf(out, ",\"eta_s\":%" PRId64, st->eta_s);
}

void frame_rank_json(struct evbuffer *out, const char *queue, const char *user,
                     const struct hub_state *st)
{
    subject(out, queue, user);
    rank_fields(out, st);
    evbuffer_add(out, "}", 1);
}

void frame_confirm_json(struct evbuffer *out, const char *queue,
                        const char *user, const char *admission)
{
    subject(out, queue, user);
    evbuffer_add(out, ",\"admission\":", 13);
    frame_json_string(out, admission);
    evbuffer_add(out, "}", 1);
}

void frame_gone_json(struct evbuffer *out, const char *queue, const char *user)
{
    subject(out, queue, user);
    evbuffer_add(out, "}", 1);
}

void frame_state_json(struct evbuffer *out, const char *queue, const char *user,
                      const struct hub_state *st, const char *admission)
{
    static const char *const names[] = {"waiting", "admitted", "gone"};
    subject(out, queue, user);
    evbuffer_add_printf(out, ",\"state\":\"%s\"", names[st->state]);
    if (st->state == RANKS_WAITING)
        rank_fields(out, st);
    if (st->state == RANKS_ADMITTED && admission) {
        evbuffer_add(out, ",\"admission\":", 13);
        frame_json_string(out, admission);
    }
    evbuffer_add(out, "}", 1);
}

void frame_event_open(struct evbuffer *out, uint64_t id, const char *event)
{
    evbuffer_add_printf(out, "id: %" PRIu64 "\nevent: %s\ndata: ", id, event);
}

void frame_event_close(struct evbuffer *out) { evbuffer_add(out, "\n\n", 2); }

void frame_event(struct evbuffer *out, uint64_t id, const char *event,
                 struct evbuffer *data)
{
    frame_event_open(out, id, event);
    evbuffer_add_buffer(out, data);
    frame_event_close(out);
}

void frame_retry(struct evbuffer *out, int64_t ms)
{
    evbuffer_add_printf(out, "retry: %" PRId64 "\n\n", ms);
}

void frame_ping(struct evbuffer *out)
{
    evbuffer_add(out, ": ping\n\n", 8);
}
