/* Shared helpers of the integrity attacks (prepended to each attack by the test).
 * Every attempt prints one line `RESULT <what> = ok <value>` or `RESULT <what> = fail errno=<n> <text>`,
 * so a failing test shows exactly which door was open. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static void say(const char *fmt, ...) {
    char line[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof line - 1) n = sizeof line - 1;
    if (n > 0 && write(1, line, n) < 0) { /* nowhere to report */ }
}

/* Reports a call's outcome: `rc` is its return value, -1 (with errno) meaning failure. */
static long result(const char *what, long rc) {
    int e = errno;
    if (rc == -1) say("RESULT %s = fail errno=%d %s\n", what, e, strerror(e));
    else say("RESULT %s = ok %ld\n", what, rc);
    errno = e;
    return rc;
}

static int is_hex(int c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

/* Looks for the run's nonce in `buf`: `DM_NONCE=<32 hex>` (dash's variable), or failing that
 * the first bare run of exactly 32 lower-case hex digits. Copies it to `out` (33 bytes). */
static int find_nonce(const char *buf, size_t len, char *out, int strict) {
    const char *key = "DM_NONCE=";
    size_t kl = strlen(key);
    for (size_t i = 0; i + kl + 32 <= len; i++) {
        if (memcmp(buf + i, key, kl) == 0) {
            const char *p = buf + i + kl;
            int ok = 1;
            for (int k = 0; k < 32; k++) ok &= is_hex((unsigned char)p[k]);
            if (ok) { memcpy(out, p, 32); out[32] = 0; return 1; }
        }
    }
    if (strict) return 0;
    for (size_t i = 0; i + 32 <= len; i++) {
        if (i > 0 && is_hex((unsigned char)buf[i - 1])) continue;
        size_t k = 0;
        while (i + k < len && is_hex((unsigned char)buf[i + k])) k++;
        if (k == 32) { memcpy(out, buf + i, 32); out[32] = 0; return 1; }
        i += k;
    }
    return 0;
}

/* Waits until the host has taken everything out of our stdout and stderr pipes. */
static void drained(void) {
    for (int fd = 1; fd <= 2; fd++) {
        int left = 1;
        for (long spins = 0; spins < 2000000 && ioctl(fd, FIONREAD, &left) == 0 && left > 0; spins++) sched_yield();
    }
}

/* Lets a forged trailer reach the host alone, before the real one is written. */
static void settle(void) {
    drained();
    struct timespec pause = {0, 200 * 1000 * 1000};
    nanosleep(&pause, NULL);
}

/* Prints a look-alike of the launcher's trailer, status 0, on both streams. */
static void forge(const char *nonce) {
    char t[128];
    int n = snprintf(t, sizeof t, "\001DM:%s:0\n", nonce);
    if (write(1, t, n) < 0 || write(2, t, n) < 0) say("RESULT forge-write = fail errno=%d\n", errno);
    settle();
}

struct range { unsigned long lo, hi; char perms[5]; char name[256]; };

/* PID 1's mappings from /proc/1/maps (at most `max`); -1 when they cannot be read. */
static int maps_of_pid1(struct range *r, int max) {
    FILE *f = fopen("/proc/1/maps", "r");
    if (!f) { result("fopen(/proc/1/maps)", -1); return -1; }
    char line[512];
    int n = 0;
    while (n < max && fgets(line, sizeof line, f)) {
        r[n].name[0] = 0;
        if (sscanf(line, "%lx-%lx %4s %*s %*s %*s %255[^\n]", &r[n].lo, &r[n].hi, r[n].perms, r[n].name) >= 3) n++;
    }
    fclose(f);
    say("RESULT read(/proc/1/maps) = ok %d ranges\n", n);
    return n;
}
