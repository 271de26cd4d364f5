/*
 * bogus_logins: THREADS threads log in through a pooler as made-up users, as fast as they
 * can, each attempt a new connection that must fail, until SIGTERM or SIGINT. bench/run
 * compiles it into its temporary directory and measures the latency of established
 * clients meanwhile: what a password-guessing flood costs everyone else.
 *
 *   bogus_logins CONNINFO THREADS
 *
 * CONNINFO has no user; each attempt adds user=bogus<thread>_<n> password=wrong. On exit it
 * prints "attempts=N succeeded=M" (M must be 0) and exits with 0.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

static atomic_int stop_requested;
static atomic_long attempts;
static atomic_long succeeded;
static const char *base_conninfo;

static void on_signal(int sig) {
    (void)sig;
    atomic_store(&stop_requested, 1);
}

static void *flood(void *arg) {
    long id = (long)arg;
    char conninfo[1024];
    for (long n = 0; !atomic_load(&stop_requested); ++n) {
        snprintf(conninfo, sizeof conninfo, "%s user=bogus%ld_%ld password=wrong", base_conninfo,
                 id, n % 1000);
        PGconn *c = PQconnectdb(conninfo);
        if (PQstatus(c) == CONNECTION_OK) {
            atomic_fetch_add(&succeeded, 1);
        }
        PQfinish(c);
        atomic_fetch_add(&attempts, 1);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: bogus_logins CONNINFO THREADS\n");
        return 2;
    }
    base_conninfo = argv[1];
    int threads = atoi(argv[2]);
    if (threads < 1 || threads > 64) {
        fprintf(stderr, "bogus_logins: THREADS must be 1 to 64\n");
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    pthread_t t[64];
    for (long i = 0; i < threads; ++i) {
        pthread_create(&t[i], NULL, flood, (void *)i);
    }
    for (int i = 0; i < threads; ++i) {
        pthread_join(t[i], NULL);
    }
    printf("attempts=%ld succeeded=%ld\n", atomic_load(&attempts), atomic_load(&succeeded));
    return 0;
}
