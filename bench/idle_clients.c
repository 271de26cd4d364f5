/*
 * idle_clients: opens COUNT connections through a pooler, logs each one in, runs one
 * query on each, and then keeps them all open and idle until it gets SIGTERM or SIGINT.
 * bench/run compiles it into its temporary directory and reads the poolers' memory
 * while the connections sit idle.
 *
 *   idle_clients CONNINFO COUNT [IN_FLIGHT]
 *
 * At most IN_FLIGHT (default 64) connections are logging in or querying at any moment,
 * so the pooler's listen backlog never overflows. When every connection is idle (or has
 * failed) it prints one line to stdout and flushes it:
 *
 *   ready ok=9998 failed=2 seconds=3.21
 *
 * The first error seen, if any, goes to stderr. On SIGTERM or SIGINT each connection is
 * closed politely (libpq sends Terminate) and it prints "closed" and exits with 0.
 * All I/O is non-blocking libpq driven by one ppoll() loop; nothing here is threaded.
 */
#define _GNU_SOURCE /* ppoll */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

enum state { NOT_STARTED, CONNECTING, QUERYING, IDLE, FAILED };

struct client {
    PGconn* pg;
    enum state state;
    short events;   /* what the socket must become ready for: POLLIN or POLLOUT */
    int bad_result; /* the query came back with something other than rows */
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int failures;
static int ok_count;

static void fail(struct client* c, const char* what) {
    if (failures == 0) {
        const char* msg = c->pg ? PQerrorMessage(c->pg) : "out of memory";
        fprintf(stderr, "idle_clients: %s: %s", what, msg && *msg ? msg : "(no message)\n");
    }
    failures++;
    c->state = FAILED;
    if (c->pg) {
        PQfinish(c->pg);
        c->pg = NULL;
    }
}

static void start(struct client* c, const char* conninfo) {
    c->pg = PQconnectStart(conninfo);
    if (c->pg == NULL || PQstatus(c->pg) == CONNECTION_BAD) {
        fail(c, "connect");
        return;
    }
    c->state = CONNECTING;
    c->events = POLLOUT; /* libpq's rule: act as if PQconnectPoll had said WRITING */
}

/* Sends the one query; the connection is logged in and non-blocking from here on. */
static void send_query(struct client* c) {
    if (PQsetnonblocking(c->pg, 1) != 0 || !PQsendQuery(c->pg, "SELECT 1")) {
        fail(c, "send query");
        return;
    }
    c->state = QUERYING;
    int flushed = PQflush(c->pg);
    if (flushed < 0)
        fail(c, "send query");
    else
        c->events = flushed ? POLLOUT : POLLIN;
}

/* Moves one client along after its socket became ready. */
static void step(struct client* c) {
    if (c->state == CONNECTING) {
        switch (PQconnectPoll(c->pg)) {
            case PGRES_POLLING_READING:
                c->events = POLLIN;
                return;
            case PGRES_POLLING_WRITING:
                c->events = POLLOUT;
                return;
            case PGRES_POLLING_OK:
                send_query(c);
                return;
            default:
                fail(c, "login");
                return;
        }
    }
    /* QUERYING */
    if (c->events == POLLOUT) {
        int flushed = PQflush(c->pg);
        if (flushed < 0)
            fail(c, "send query");
        else if (flushed == 0)
            c->events = POLLIN;
        return;
    }
    if (!PQconsumeInput(c->pg)) {
        fail(c, "query");
        return;
    }
    while (!PQisBusy(c->pg)) {
        PGresult* res = PQgetResult(c->pg);
        if (res == NULL) {
            if (c->bad_result) {
                fail(c, "query result");
            } else {
                c->state = IDLE;
                ok_count++;
            }
            return;
        }
        if (PQresultStatus(res) != PGRES_TUPLES_OK)
            c->bad_result = 1;
        PQclear(res);
    }
}

int main(int argc, char** argv) {
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s CONNINFO COUNT [IN_FLIGHT]\n", argv[0]);
        return 2;
    }
    const char* conninfo = argv[1];
    int count = atoi(argv[2]);
    int in_flight = argc > 3 ? atoi(argv[3]) : 64;
    if (count <= 0 || in_flight <= 0) {
        fprintf(stderr, "idle_clients: COUNT and IN_FLIGHT must be positive\n");
        return 2;
    }

    /* The signals stay blocked except while waiting in ppoll() or sigsuspend(), so a
       stop request can never slip in between the check and the wait. */
    sigset_t blocked, waiting;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGTERM);
    sigaddset(&blocked, SIGINT);
    sigprocmask(SIG_BLOCK, &blocked, &waiting);
    sigdelset(&waiting, SIGTERM);
    sigdelset(&waiting, SIGINT);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct client* clients = calloc((size_t)count, sizeof *clients);
    int* active = malloc((size_t)in_flight * sizeof *active);
    struct pollfd* fds = malloc((size_t)in_flight * sizeof *fds);
    if (!clients || !active || !fds) {
        fprintf(stderr, "idle_clients: out of memory\n");
        return 1;
    }

    double began = now_seconds();
    int next = 0, n_active = 0;
    while ((next < count || n_active > 0) && !stop_requested) {
        while (n_active < in_flight && next < count) {
            struct client* c = &clients[next];
            start(c, conninfo);
            if (c->state == CONNECTING)
                active[n_active++] = next;
            next++;
        }
        if (n_active <= 0)
            continue;
        for (int i = 0; i < n_active; i++) {
            struct client* c = &clients[active[i]];
            fds[i].fd = PQsocket(c->pg); /* may change while libpq tries addresses */
            fds[i].events = c->events;
            fds[i].revents = 0;
        }
        int ready = ppoll(fds, (nfds_t)n_active, NULL, &waiting);
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            perror("idle_clients: ppoll");
            return 1;
        }
        /* Walk backwards so that removing entry i (swap with the last) is safe. */
        for (int i = n_active - 1; i >= 0; i--) {
            if (fds[i].revents == 0)
                continue;
            struct client* c = &clients[active[i]];
            step(c);
            if (c->state == IDLE || c->state == FAILED)
                active[i] = active[--n_active];
        }
    }

    if (!stop_requested) {
        printf("ready ok=%d failed=%d seconds=%.2f\n", ok_count, failures, now_seconds() - began);
        fflush(stdout);
        while (!stop_requested)
            sigsuspend(&waiting);
    }

    for (int i = 0; i < count; i++)
        if (clients[i].pg)
            PQfinish(clients[i].pg);
    printf("closed\n");
    return 0;
}
