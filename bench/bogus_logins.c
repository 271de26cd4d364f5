/*
 * bogus_logins: THREADS threads log in through a pooler as made-up users with SCRAM, as fast
 * as they can, until SIGTERM or SIGINT. bench/run compiles it into its temporary directory
 * and measures the latency of established clients meanwhile: what a password-guessing
 * flood costs everyone else.
 *
 *   bogus_logins PORT THREADS
 *   bogus_logins PORT time USER
 *
 * Each attempt is a new TCP connection to 127.0.0.1:PORT, database bench, user
 * bogus<thread>_<n>: the startup packet, the SASL initial response, and a client-final
 * message with a made-up proof. It speaks the protocol by hand so that the client side
 * costs nothing (libpq would run PBKDF2 for every attempt, and on a small machine that
 * CPU would be the slowdown measured, not the pooler's). On exit it prints
 * "attempts=N refused=M": M attempts ended in an ErrorResponse, as all must.
 *
 * With "time", it makes 31 failed SCRAM logins as USER one after another and prints
 * "median_us=N refused=M" for the last 30 (the first may fill a cache): whether a user
 * with a SCRAM secret, one with a plain password and one who does not exist can be told
 * apart by how long their failed logins take.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static atomic_int stop_requested;
static atomic_long attempts;
static atomic_long refused;
static int port;

static void on_signal(int sig) {
    (void)sig;
    atomic_store(&stop_requested, 1);
}

static void put32(char* p, uint32_t v) {
    v = htonl(v);
    memcpy(p, &v, 4);
}

static int send_all(int fd, const char* p, size_t n) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) {
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads one backend message into buf (body NUL-terminated); returns its tag, or 0. */
static char read_message(int fd, char* buf, size_t cap) {
    char head[5];
    size_t got = 0;
    while (got < 5) {
        ssize_t r = recv(fd, head + got, 5 - got, 0);
        if (r <= 0) {
            return 0;
        }
        got += (size_t)r;
    }
    uint32_t len;
    memcpy(&len, head + 1, 4);
    len = ntohl(len);
    if (len < 4 || len - 4 >= cap) {
        return 0;
    }
    size_t body = len - 4;
    got = 0;
    while (got < body) {
        ssize_t r = recv(fd, buf + got, body - got, 0);
        if (r <= 0) {
            return 0;
        }
        got += (size_t)r;
    }
    buf[body] = '\0';
    return head[0];
}

/* One failed login as `user` (made up from id and n when NULL); returns 1 when it ended in
 * an ErrorResponse. */
static int attempt_as(const char* given, long id, long n) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    char out[512], in[4096];
    int ok = 0;
    if (fd < 0 || connect(fd, (struct sockaddr*)&a, sizeof a) != 0) {
        goto done;
    }
    char user[64];
    int ulen = given != NULL ? snprintf(user, sizeof user, "%s", given)
                             : snprintf(user, sizeof user, "bogus%ld_%ld", id, n % 1000);
    size_t len = 8;
    memcpy(out + len, "user", 5), len += 5;
    memcpy(out + len, user, (size_t)ulen + 1), len += (size_t)ulen + 1;
    memcpy(out + len, "database", 9), len += 9;
    memcpy(out + len, "bench", 6), len += 6;
    out[len++] = '\0';
    put32(out, (uint32_t)len);
    put32(out + 4, 196608);
    if (send_all(fd, out, len) != 0 || read_message(fd, in, sizeof in) != 'R') {
        goto done;
    }
    const char* first = "n,,n=,r=bogusbogusbogusbogusbogus";
    size_t flen = strlen(first);
    len = 0;
    out[len++] = 'p';
    len += 4;
    memcpy(out + len, "SCRAM-SHA-256", 14), len += 14;
    put32(out + len, (uint32_t)flen), len += 4;
    memcpy(out + len, first, flen), len += flen;
    put32(out + 1, (uint32_t)(len - 1));
    char tag = 0;
    if (send_all(fd, out, len) != 0 || (tag = read_message(fd, in, sizeof in)) != 'R') {
        ok = tag == 'E';
        goto done;
    }
    /* AuthenticationSASLContinue: Int32 11, then "r=<nonce>,s=<salt>,i=<iterations>". */
    const char* r = strstr(in + 4, "r=");
    const char* comma = r != NULL ? strchr(r, ',') : NULL;
    if (comma == NULL || (size_t)(comma - r) > 200) {
        goto done;
    }
    char final[400];
    int fl =
        snprintf(final, sizeof final,
                 "c=biws,%.*s,p=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", (int)(comma - r), r);
    len = 0;
    out[len++] = 'p';
    put32(out + 1, (uint32_t)(4 + fl));
    len += 4;
    memcpy(out + len, final, (size_t)fl), len += (size_t)fl;
    if (send_all(fd, out, len) != 0) {
        goto done;
    }
    ok = read_message(fd, in, sizeof in) == 'E';
done:
    if (fd >= 0) {
        close(fd);
    }
    return ok;
}

static int attempt(long id, long n) {
    return attempt_as(NULL, id, n);
}

static int compare_long(const void* a, const void* b) {
    long x = *(const long*)a, y = *(const long*)b;
    return (x > y) - (x < y);
}

static int time_logins(const char* user) {
    long us[31];
    int refused_n = 0;
    for (int i = 0; i < 31; ++i) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        refused_n += attempt_as(user, 0, 0);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        us[i] = (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000;
    }
    qsort(us + 1, 30, sizeof us[0], compare_long);
    printf("median_us=%ld refused=%d\n", (us[15] + us[16]) / 2, refused_n);
    return 0;
}

static void* flood(void* arg) {
    long id = (long)arg;
    for (long n = 0; !atomic_load(&stop_requested); ++n) {
        if (attempt(id, n)) {
            atomic_fetch_add(&refused, 1);
        }
        atomic_fetch_add(&attempts, 1);
    }
    return NULL;
}

int main(int argc, char** argv) {
    if (argc == 4 && strcmp(argv[2], "time") == 0) {
        port = atoi(argv[1]);
        return time_logins(argv[3]);
    }
    if (argc != 3) {
        fprintf(stderr, "usage: bogus_logins PORT THREADS | bogus_logins PORT time USER\n");
        return 2;
    }
    port = atoi(argv[1]);
    int threads = atoi(argv[2]);
    if (port < 1 || port > 65535 || threads < 1 || threads > 64) {
        fprintf(stderr, "bogus_logins: PORT must be 1 to 65535 and THREADS 1 to 64\n");
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    pthread_t t[64];
    for (long i = 0; i < threads; ++i) {
        pthread_create(&t[i], NULL, flood, (void*)i);
    }
    for (int i = 0; i < threads; ++i) {
        pthread_join(t[i], NULL);
    }
    printf("attempts=%ld refused=%ld\n", atomic_load(&attempts), atomic_load(&refused));
    return 0;
}
