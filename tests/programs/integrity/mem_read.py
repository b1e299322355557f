# Finding 1, read: the run's nonce from PID 1's memory through /proc/1/mem, then a trailer
# with status 0 on both streams, then exit 3.
ranges = maps_of_pid1()
fd = attempt("open(/proc/1/mem, O_RDONLY)", os.open, "/proc/1/mem", os.O_RDONLY)
found = None
if fd is not None:
    for lo, hi, name in readable(ranges):
        try:
            found = nonce_in(os.pread(fd, hi - lo, lo))
        except OSError:
            continue
        if found:
            ok("nonce-in-pid1-memory", f"{found} at {lo:x} ({name})")
            break
    else:
        fail("nonce-in-pid1-memory", 0)
if found:
    forge(found)
sys.exit(3)
