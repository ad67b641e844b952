/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kafka-mock: a Kafka endpoint for tests, from librdkafka's mock cluster.
 *
 *   kafka-mock [--brokers N] [--topic NAME:PARTITIONS]...
 *
 * Prints the bootstrap servers on one line, then serves until SIGTERM or
 * SIGINT, or until its standard input closes (so it dies with the test
 * that started it). Lines on standard input steer it, each answered with
 * "ok" or "error: ..." on standard output:
 *
 *   down ID         take broker ID down (connections refused)
 *   up ID           bring it back
 *   rtt ID MS       delay its answers by MS milliseconds
 *   topic NAME N    create a topic with N partitions
 *   errors API N E  fail the next N requests of Kafka API key API (0
 *                   Produce, 3 Metadata, ...) with error code E
 *
 * Facts about librdkafka 2.0.2's mock that tests must mind: it binds
 * 127.0.0.1 on ports of its choosing; topics are auto-created with 4
 * partitions; each partition keeps only about 5 MB or 100k message sets;
 * it does not hide aborted transactions from read_committed consumers.
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void answer(rd_kafka_resp_err_t e)
{
    if (e)
        printf("error: %s\n", rd_kafka_err2str(e));
    else
        printf("ok\n");
    fflush(stdout);
}

static void command(rd_kafka_mock_cluster_t *mc, char *line)
{
    char name[256];
    int id, n, e;
    if (sscanf(line, "down %d", &id) == 1)
        answer(rd_kafka_mock_broker_set_down(mc, id));
    else if (sscanf(line, "up %d", &id) == 1)
        answer(rd_kafka_mock_broker_set_up(mc, id));
    else if (sscanf(line, "rtt %d %d", &id, &n) == 2)
        answer(rd_kafka_mock_broker_set_rtt(mc, id, n));
    else if (sscanf(line, "topic %255s %d", name, &n) == 2)
        answer(rd_kafka_mock_topic_create(mc, name, n, 1));
    else if (sscanf(line, "errors %d %d %d", &id, &n, &e) == 3 && n > 0 &&
             n <= 1000) {
        rd_kafka_resp_err_t errs[1000];
        for (int i = 0; i < n; i++)
            errs[i] = (rd_kafka_resp_err_t)e;
        rd_kafka_mock_push_request_errors_array(mc, (int16_t)id, (size_t)n, errs);
        answer(RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    else {
        printf("error: unknown command\n");
        fflush(stdout);
    }
}

static int add_topics(rd_kafka_mock_cluster_t *mc, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--topic") || i + 1 >= argc)
            continue;
        char *colon = strrchr(argv[++i], ':');
        if (!colon)
            return -1;
        *colon = '\0';
        if (rd_kafka_mock_topic_create(mc, argv[i], atoi(colon + 1), 1))
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int brokers = 1;
    char err[512], line[512];
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--brokers") && i + 1 < argc)
            brokers = atoi(argv[++i]);
    if (brokers < 1) {
        fprintf(stderr, "usage: kafka-mock [--brokers N] [--topic NAME:N]...\n");
        return 2;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "kafka-mock: %s\n", err);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (!mc || add_topics(mc, argc, argv) < 0) {
        fprintf(stderr, "kafka-mock: cannot create the cluster or a topic\n");
        return 1;
    }
    printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);
    struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
    FILE *in = fdopen(STDIN_FILENO, "r");
    while (!stop) {
        int r = poll(&pfd, 1, 200);
        if (r < 0)
            continue; /* EINTR: the loop checks `stop` */
        if (r == 0)
            continue;
        if (!fgets(line, sizeof line, in))
            break; /* standard input closed: our parent is gone */
        command(mc, line);
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
