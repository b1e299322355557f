# Finding 3: signals to the launcher. Send PID 1 every signal (by kill, or by pidfd), or every
# other process every signal (kill(-1, ...)), then exit 0: the run must still be ok.
which = int(sys.stdin.readline() or 0)
if which in (0, 1):
    for s in range(1, 65):
        attempt(f"kill(1, {s})", os.kill, 1, s)
if which in (0, 2):
    pidfd = c_call("pidfd_open(1)", libc.syscall, NR["pidfd_open"], 1, 0)
    for s in range(1, 65) if pidfd is not None else []:
        c_call(f"pidfd_send_signal(1, {s})", libc.syscall, NR["pidfd_send_signal"], pidfd, s, None, 0)
if which in (0, 3):
    attempt("kill(-1, SIGKILL)", os.kill, -1, 9)
    for s in range(1, 65):
        attempt(f"kill(-1, {s})", os.kill, -1, s)
say("survived")
sys.exit(0)
