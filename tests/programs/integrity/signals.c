/* Finding 3: signals to the launcher. Send PID 1 every signal (by kill, then by pidfd), and
 * every other process every signal (kill(-1, …)), then exit 0: the run must still be ok. */
int main(void) {
    char what[64];
    int which = 0;
    if (scanf("%d", &which) != 1) which = 0;
    if (which == 0 || which == 1) {
        for (int s = 1; s <= 64; s++) {
            snprintf(what, sizeof what, "kill(1, %d)", s);
            result(what, kill(1, s));
        }
    }
    if (which == 0 || which == 2) {
        int pidfd = (int)result("pidfd_open(1)", syscall(SYS_pidfd_open, 1, 0));
        for (int s = 1; pidfd >= 0 && s <= 64; s++) {
            snprintf(what, sizeof what, "pidfd_send_signal(1, %d)", s);
            result(what, syscall(SYS_pidfd_send_signal, pidfd, s, NULL, 0));
        }
    }
    if (which == 0 || which == 3) {
        result("kill(-1, SIGKILL)", kill(-1, SIGKILL));
        for (int s = 1; s <= 64; s++) {
            snprintf(what, sizeof what, "kill(-1, %d)", s);
            result(what, kill(-1, s));
        }
    }
    say("survived\n");
    return 0;
}
