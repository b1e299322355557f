# Shared helpers of the integrity attacks (prepended to each attack by the test). Every attempt
# prints `RESULT <what> = ok <value>` or `RESULT <what> = fail errno=<n> <text>`.
import ctypes, errno, os, re, sys

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
libc.ptrace.restype = ctypes.c_long
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
ARM = os.uname().machine in ("aarch64", "arm64")
# System call numbers: x86_64, aarch64.
NR = {name: nums[1 if ARM else 0] for name, nums in {
    "io_uring_setup": (425, 425), "io_uring_enter": (426, 426), "io_uring_register": (427, 427),
    "userfaultfd": (323, 282), "bpf": (321, 280), "perf_event_open": (298, 241),
    "keyctl": (250, 219), "add_key": (248, 217), "request_key": (249, 218),
    "process_vm_readv": (310, 270), "process_vm_writev": (311, 271),
    "pidfd_open": (434, 434), "pidfd_send_signal": (424, 424), "pidfd_getfd": (438, 438),
}.items()}


def say(line):
    os.write(1, (line + "\n").encode())


def ok(what, value=0):
    say(f"RESULT {what} = ok {value}")
    return value


def fail(what, err):
    say(f"RESULT {what} = fail errno={err} {os.strerror(err) if err else 'nothing found'}")
    return None


def attempt(what, fn, *args):
    """Calls fn(*args) and reports it: an OSError (or a C call's -1) is a failure."""
    try:
        value = fn(*args)
    except OSError as e:
        return fail(what, e.errno or 0)
    return ok(what, value)


def c_call(what, fn, *args):
    ctypes.set_errno(0)
    rc = fn(*args)
    if rc == -1:
        return fail(what, ctypes.get_errno())
    return ok(what, rc)


def nonce_in(data, strict=True):
    m = re.search(rb"DM_NONCE=([0-9a-f]{32})", data)
    if m is None and not strict:
        m = re.search(rb"(?<![0-9a-f])([0-9a-f]{32})(?![0-9a-f])", data)
    return m.group(1).decode() if m else None


def settle():
    """Waits until the host has taken everything out of our stdout and stderr pipes, and a
    moment more, so a forged trailer reaches it alone, before the real one is written."""
    import fcntl, struct, termios, time
    for fd in (1, 2):
        for _ in range(200000):
            try:
                left = struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0" * 4))[0]
            except OSError:
                break
            if left == 0:
                break
            os.sched_yield()
    time.sleep(0.2)


def forge(nonce):
    t = f"\x01DM:{nonce}:0\n".encode()
    os.write(1, t)
    os.write(2, t)
    settle()


def maps_of_pid1():
    try:
        with open("/proc/1/maps") as f:
            lines = f.read().splitlines()
    except OSError as e:
        fail("open(/proc/1/maps)", e.errno)
        return []
    ranges = []
    for line in lines:
        parts = line.split(None, 5)
        lo, hi = (int(x, 16) for x in parts[0].split("-"))
        ranges.append((lo, hi, parts[1], parts[5] if len(parts) > 5 else ""))
    ok("read(/proc/1/maps)", f"{len(ranges)} ranges")
    return ranges


def readable(ranges, writable=False):
    for lo, hi, perms, name in ranges:
        if perms[0] == "r" and (perms[1] == "w" or not writable) and "vsyscall" not in name and hi - lo <= 64 << 20:
            yield lo, hi, name
