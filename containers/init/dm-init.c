/*
 * dm-init: PID 1 of every Dev-Mentor sandbox container, and the only reporter of a run's outcome.
 *
 * Why it exists. A student's program runs as the same uid as PID 1 (one uid, no capabilities:
 * that is the sandbox contract), so whatever reports the verdict must be out of the program's
 * reach by other means. A shell as PID 1 was not: the program could read or write its memory
 * through /proc/1/mem, ptrace it, signal it, or read the trailer out of the stdout pipe it shared
 * with it, and so choose its own verdict. dm-init closes each of those doors:
 *
 *   - it makes itself non-dumpable (PR_SET_DUMPABLE 0): the kernel then refuses /proc/1/mem,
 *     /proc/1/fd, /proc/1/environ, ptrace and process_vm_* to a process without CAP_SYS_PTRACE,
 *     and every capability is dropped (the seccomp profile also removes ptrace);
 *   - it ignores every catchable signal (and, as a namespace's init, the kernel already drops
 *     SIGKILL and SIGSTOP sent from inside);
 *   - the program never holds the container's stdout or stderr: dm-init gives it pipes of its
 *     own and forwards what it prints, so reading /proc/self/fd/1 yields only the program's own
 *     bytes, never the trailer;
 *   - the trailer is authenticated: HMAC-SHA256 with a per-run key that arrives on dm-init's own
 *     stdin (which the program never sees) over the stream name, the outcome and the number of
 *     bytes forwarded before it. A look-alike printed by the program fails the check;
 *   - dm-init exits with the same status, so the host can cross-check against Docker's record.
 *
 * Protocol (see src/sandbox/launcher.rs, which builds the command and the payload):
 *   argv:   dm-init run|compile PREPARE COMMAND
 *           PREPARE (may be empty) runs first, while the container waits in the warm pool, with
 *           stdio on /dev/null. COMMAND is a /bin/sh snippet run as the program, with FILE (the
 *           source file name) and STEM (FILE without its extension) in its environment.
 *   stdin:  "<key: 64 hex> <file|tar> <code bytes> <stdin bytes> <file name>\n", the code (a file
 *           to save, or a tar of compiled artifacts to unpack), then the program's stdin, which
 *           dm-init hands to the program exactly: those bytes, then end of file.
 *   stdout, stderr: the program's output, then one trailer on each:
 *           "\001DM1 <o|e> <x|s|i><n> <bytes> <mac: 64 hex>\n"
 *           x = exited with n, s = killed by signal n, i = dm-init itself failed (n says where);
 *           <bytes> = program bytes forwarded on that stream; mac = HMAC-SHA256(key, the text
 *           between \001 and the space before the mac).
 *   exit:   n for x, 128 + n for s, 125 for i (the code Docker records).
 *
 * Compile mode also creates build/ before COMMAND runs; COMMAND prints the artifacts' tar.
 *
 * Written in plain C with libc only, built static (`cc -static -O2`) by containers/build-images.sh
 * for the offline images and by every language's Dockerfile for production, so the same source
 * runs everywhere. No allocation after start-up: a program that exhausts memory cannot make
 * dm-init fail to report.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- SHA-256 and HMAC (FIPS 180-4, RFC 2104) ------------------------------------------------ */

typedef struct {
    uint32_t h[8];
    uint64_t len;
    uint8_t buf[64];
    size_t used;
} sha256;

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(sha256 *s, const uint8_t *p) {
    uint32_t w[64], a, b, c, d, e, f, g, h;
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    a = s->h[0]; b = s->h[1]; c = s->h[2]; d = s->h[3];
    e = s->h[4]; f = s->h[5]; g = s->h[6]; h = s->h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    s->h[0] += a; s->h[1] += b; s->h[2] += c; s->h[3] += d;
    s->h[4] += e; s->h[5] += f; s->h[6] += g; s->h[7] += h;
}

static void sha256_init(sha256 *s) {
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, iv, sizeof iv);
    s->len = 0;
    s->used = 0;
}

static void sha256_update(sha256 *s, const void *data, size_t n) {
    const uint8_t *p = data;
    s->len += n;
    while (n > 0) {
        size_t take = 64 - s->used < n ? 64 - s->used : n;
        memcpy(s->buf + s->used, p, take);
        s->used += take;
        p += take;
        n -= take;
        if (s->used == 64) {
            sha256_block(s, s->buf);
            s->used = 0;
        }
    }
}

static void sha256_final(sha256 *s, uint8_t out[32]) {
    uint64_t bits = s->len * 8;
    uint8_t pad = 0x80, zero = 0, be[8];
    sha256_update(s, &pad, 1);
    while (s->used != 56)
        sha256_update(s, &zero, 1);
    for (int i = 0; i < 8; i++)
        be[i] = (uint8_t)(bits >> (56 - 8 * i));
    sha256_update(s, be, 8);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(s->h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
        out[4 * i + 3] = (uint8_t)s->h[i];
    }
}

static void hmac_sha256(const uint8_t key[32], const char *msg, size_t n, uint8_t out[32]) {
    uint8_t pad[64], inner[32];
    sha256 s;
    memset(pad, 0x36, sizeof pad);
    for (int i = 0; i < 32; i++)
        pad[i] ^= key[i];
    sha256_init(&s);
    sha256_update(&s, pad, 64);
    sha256_update(&s, msg, n);
    sha256_final(&s, inner);
    memset(pad, 0x5c, sizeof pad);
    for (int i = 0; i < 32; i++)
        pad[i] ^= key[i];
    sha256_init(&s);
    sha256_update(&s, pad, 64);
    sha256_update(&s, inner, 32);
    sha256_final(&s, out);
}

/* ---- small helpers --------------------------------------------------------------------------- */

static uint8_t run_key[32];
static int have_key;
static volatile sig_atomic_t chld_wake = -1; /* write end of the self-pipe */

static void say(const char *msg) {
    /* Only before the program runs, and only for the operator: the host shows it as an
     * internal error. */
    ssize_t r = write(2, msg, strlen(msg));
    (void)r;
}

static int write_all(int fd, const void *data, size_t n) {
    const char *p = data;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                struct pollfd pfd = {fd, POLLOUT, 0};
                poll(&pfd, 1, 100);
                continue;
            }
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_exact(int fd, void *data, size_t n) {
    char *p = data;
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static void on_sigchld(int sig) {
    (void)sig;
    int saved = errno;
    if (chld_wake >= 0) {
        char b = 0;
        ssize_t r = write(chld_wake, &b, 1);
        (void)r;
    }
    errno = saved;
}

/* Every catchable signal ignored, except SIGCHLD, which wakes the loop (a forged SIGCHLD only
 * makes it look for a child that has not exited). */
static void guard_signals(void) {
    struct sigaction ign, chld;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    memset(&chld, 0, sizeof chld);
    chld.sa_handler = on_sigchld;
    chld.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigemptyset(&chld.sa_mask);
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP)
            continue;
        sigaction(sig, sig == SIGCHLD ? &chld : &ign, NULL);
    }
}

/* In a child, before exec: the program gets default signal handling and an empty mask. */
static void reset_signals(void) {
    struct sigaction dfl;
    sigset_t none;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            sigaction(sig, &dfl, NULL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* In a child: close everything above stderr (the key's pipe, the forwarding pipes). */
static void close_from(int lowest) {
    long max = sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 65536)
        max = 65536;
    for (int fd = lowest; fd < max; fd++)
        close(fd);
}

static pid_t spawn(const char *cmd, int in, int out, int err, const char *file) {
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    /* The child inherited a copy of our memory: wipe the key before anything else. */
    explicit_bzero(run_key, sizeof run_key);
    reset_signals();
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
        _exit(127);
    close_from(3);
    if (file) {
        char stem[256];
        snprintf(stem, sizeof stem, "%s", file);
        char *dot = strrchr(stem, '.');
        if (dot && dot != stem)
            *dot = 0;
        setenv("FILE", file, 1);
        setenv("STEM", stem, 1);
    }
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    _exit(127);
}

static int wait_for(pid_t pid) {
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return status;
}

/* ---- the trailer ------------------------------------------------------------------------------ */

static void trailer(int fd, char stream, char kind, long n, unsigned long long bytes) {
    char text[160], line[256];
    uint8_t mac[32];
    int len = snprintf(text, sizeof text, "DM1 %c %c%ld %llu", stream, kind, n, bytes);
    hmac_sha256(run_key, text, (size_t)len, mac);
    int off = snprintf(line, sizeof line, "\001%s ", text);
    for (int i = 0; i < 32; i++)
        off += snprintf(line + off, sizeof line - (size_t)off, "%02x", mac[i]);
    line[off++] = '\n';
    write_all(fd, line, (size_t)off);
}

static unsigned long long out_bytes, err_bytes;

/* dm-init failed after the key arrived: say so, authenticated, so the host reports an internal
 * error rather than anything of the program's. */
static void fail(long where, const char *msg) {
    say("dm-init: ");
    say(msg);
    say("\n");
    if (have_key) {
        trailer(1, 'o', 'i', where, out_bytes);
        trailer(2, 'e', 'i', where, err_bytes + strlen(msg) + 10);
    }
    _exit(125);
}

static int parse_u64(const char *s, unsigned long long *out) {
    char *end;
    if (!*s)
        return -1;
    errno = 0;
    *out = strtoull(s, &end, 10);
    return (errno || *end) ? -1 : 0;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* ---- the run ---------------------------------------------------------------------------------- */

#define BUF 65536

static char inbuf[BUF], iobuf[BUF];

/* Forwards what is in `from` to `to`; returns bytes moved, 0 at end of file, -1 when empty. */
static ssize_t forward(int from, int to, unsigned long long *count) {
    ssize_t r = read(from, iobuf, sizeof iobuf);
    if (r < 0)
        return (errno == EINTR || errno == EAGAIN) ? -1 : 0;
    if (r > 0) {
        write_all(to, iobuf, (size_t)r); /* a closed attach stream is not the program's fault */
        *count += (unsigned long long)r;
    }
    return r;
}

static long long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int main(int argc, char **argv) {
    if (argc != 4 || (strcmp(argv[1], "run") != 0 && strcmp(argv[1], "compile") != 0)) {
        say("usage: dm-init run|compile PREPARE COMMAND (see containers/init/dm-init.c)\n");
        return 125;
    }
    int compile = strcmp(argv[1], "compile") == 0;
    const char *prepare = argv[2], *command = argv[3];

    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 || prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0) {
        say("dm-init: cannot make itself non-dumpable; refusing to run a program\n");
        return 125;
    }
    /* Outside a container (the unit tests), orphans still come to us. */
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    guard_signals();

    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0) {
        say("dm-init: /dev/null is missing\n");
        return 125;
    }
    if (*prepare) {
        pid_t p = spawn(prepare, devnull, devnull, devnull, NULL);
        if (p > 0)
            wait_for(p);
    }

    /* The header: read byte by byte, so not one byte of the code is consumed with it. */
    char header[512];
    size_t hl = 0;
    for (;;) {
        char c;
        ssize_t r = read(0, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            say("dm-init: no payload (stdin closed)\n");
            return 125;
        }
        if (c == '\n')
            break;
        if (hl + 1 >= sizeof header) {
            say("dm-init: payload header too long\n");
            return 125;
        }
        header[hl++] = c;
    }
    header[hl] = 0;
    char *fields[5], *save = NULL, *tok = strtok_r(header, " ", &save);
    int nf = 0;
    while (tok && nf < 5) {
        fields[nf++] = tok;
        tok = strtok_r(NULL, " ", &save);
    }
    unsigned long long csize, isize;
    if (nf != 5 || tok || strlen(fields[0]) != 64 || parse_u64(fields[2], &csize) || parse_u64(fields[3], &isize)) {
        say("dm-init: malformed payload header\n");
        return 125;
    }
    for (int i = 0; i < 32; i++) {
        int hi = hexval(fields[0][2 * i]), lo = hexval(fields[0][2 * i + 1]);
        if (hi < 0 || lo < 0) {
            say("dm-init: malformed run key\n");
            return 125;
        }
        run_key[i] = (uint8_t)(hi << 4 | lo);
    }
    have_key = 1;
    explicit_bzero(fields[0], 64);
    const char *kind = fields[1], *name = fields[4];
    int tar = strcmp(kind, "tar") == 0;
    if (!tar && strcmp(kind, "file") != 0)
        fail(1, "unknown payload kind");
    if (!*name || strchr(name, '/') || name[0] == '.' || strlen(name) > 200)
        fail(2, "bad file name");

    /* The code: a file saved as `name`, or a tar of artifacts unpacked here. */
    if (compile && mkdir("build", 0755) != 0 && errno != EEXIST)
        fail(3, "cannot create build/");
    int code_fd = -1;
    pid_t untar = 0;
    if (tar) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) != 0)
            fail(4, "pipe");
        untar = spawn("exec tar -xf -", p[0], devnull, devnull, NULL);
        close(p[0]);
        code_fd = p[1];
    } else {
        code_fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    }
    if (code_fd < 0 || untar < 0)
        fail(5, "cannot store the code");
    for (unsigned long long left = csize; left > 0;) {
        size_t take = left < sizeof inbuf ? (size_t)left : sizeof inbuf;
        if (read_exact(0, inbuf, take) != 0)
            fail(6, "the code was cut short");
        if (write_all(code_fd, inbuf, take) != 0)
            fail(7, "cannot write the code (scratch space full?)");
        left -= take;
    }
    close(code_fd);
    if (untar > 0) {
        int st = wait_for(untar);
        if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            fail(8, "unpacking the compiled program failed");
    }

    /* The program, on pipes of its own. */
    int pin[2], pout[2], perr[2], wake[2];
    if (pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC) || pipe2(perr, O_CLOEXEC) ||
        pipe2(wake, O_CLOEXEC | O_NONBLOCK))
        fail(9, "pipe");
    chld_wake = wake[1];
    pid_t child = spawn(command, pin[0], pout[1], perr[1], name);
    if (child < 0)
        fail(10, "fork");
    close(pin[0]);
    close(pout[1]);
    close(perr[1]);
    close(devnull);
    fcntl(pin[1], F_SETFL, O_NONBLOCK);
    fcntl(pout[0], F_SETFL, O_NONBLOCK);
    fcntl(perr[0], F_SETFL, O_NONBLOCK);

    unsigned long long in_left = isize;
    size_t pend_off = 0, pend_len = 0;
    int in_open = 1, out_open = 1, err_open = 1, status = 0, done = 0;
    if (in_left == 0) {
        close(pin[1]);
        in_open = 0;
    }
    while (!done) {
        struct pollfd fds[5];
        int n = 0, i_stdin = -1, i_pin = -1, i_out = -1, i_err = -1;
        fds[n++] = (struct pollfd){wake[0], POLLIN, 0};
        if (in_open && pend_len == 0 && in_left > 0) {
            i_stdin = n;
            fds[n++] = (struct pollfd){0, POLLIN, 0};
        }
        if (in_open && pend_len > 0) {
            i_pin = n;
            fds[n++] = (struct pollfd){pin[1], POLLOUT, 0};
        }
        if (out_open) {
            i_out = n;
            fds[n++] = (struct pollfd){pout[0], POLLIN, 0};
        }
        if (err_open) {
            i_err = n;
            fds[n++] = (struct pollfd){perr[0], POLLIN, 0};
        }
        if (poll(fds, (nfds_t)n, -1) < 0) {
            if (errno == EINTR)
                continue;
            fail(11, "poll");
        }
        if (fds[0].revents) {
            char drain[64];
            while (read(wake[0], drain, sizeof drain) > 0) {
            }
        }
        /* Reap everyone who ended (orphans come to PID 1); note our program. */
        for (;;) {
            int st;
            pid_t w = waitpid(-1, &st, WNOHANG);
            if (w <= 0)
                break;
            if (w == child) {
                status = st;
                done = 1;
            }
        }
        if (i_stdin >= 0 && fds[i_stdin].revents) {
            size_t take = in_left < sizeof inbuf ? (size_t)in_left : sizeof inbuf;
            ssize_t r = read(0, inbuf, take);
            if (r > 0) {
                in_left -= (unsigned long long)r;
                pend_off = 0;
                pend_len = (size_t)r;
            } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
                in_left = 0; /* the host hung up early: the program gets what came */
            }
        }
        if (i_pin >= 0 && fds[i_pin].revents) {
            ssize_t w = write(pin[1], inbuf + pend_off, pend_len);
            if (w > 0) {
                pend_off += (size_t)w;
                pend_len -= (size_t)w;
            } else if (w < 0 && errno != EINTR && errno != EAGAIN) {
                pend_len = 0; /* the program closed its stdin: the rest is not wanted */
                in_left = 0;
            }
        }
        if (in_open && pend_len == 0 && in_left == 0) {
            close(pin[1]);
            in_open = 0;
        }
        if (i_out >= 0 && (fds[i_out].revents & (POLLIN | POLLHUP | POLLERR)))
            if (forward(pout[0], 1, &out_bytes) == 0)
                out_open = 0;
        if (i_err >= 0 && (fds[i_err].revents & (POLLIN | POLLHUP | POLLERR)))
            if (forward(perr[0], 2, &err_bytes) == 0)
                err_open = 0;
    }

    /* The program has ended: what it printed before is in the pipes; forward it. A process it
     * left behind may keep a pipe open and keep printing: that is not the program's output,
     * so the drain stops at an empty pipe, or after a bounded amount of it. */
    long long until = now_ms() + 200;
    unsigned long long budget = 4ULL << 20;
    while ((out_open || err_open) && budget > 0 && now_ms() < until) {
        int moved = 0;
        if (out_open) {
            ssize_t r = forward(pout[0], 1, &out_bytes);
            if (r == 0)
                out_open = 0;
            else if (r > 0) {
                moved = 1;
                budget = budget > (unsigned long long)r ? budget - (unsigned long long)r : 0;
            }
        }
        if (err_open) {
            ssize_t r = forward(perr[0], 2, &err_bytes);
            if (r == 0)
                err_open = 0;
            else if (r > 0) {
                moved = 1;
                budget = budget > (unsigned long long)r ? budget - (unsigned long long)r : 0;
            }
        }
        if (!moved)
            break;
    }

    char k;
    long n;
    int code;
    if (WIFSIGNALED(status)) {
        k = 's';
        n = WTERMSIG(status);
        code = 128 + (int)n;
    } else {
        k = 'x';
        n = WEXITSTATUS(status);
        code = (int)n;
    }
    trailer(1, 'o', k, n, out_bytes);
    trailer(2, 'e', k, n, err_bytes);
    explicit_bzero(run_key, sizeof run_key);
    /* As PID 1, our exit ends every process left in the container. */
    return code;
}
