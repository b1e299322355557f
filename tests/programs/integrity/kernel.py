# Finding 4: the kernel surface. Each call below must be refused inside the sandbox; the program
# reports every outcome and exits 7. PID 1's limits and priority must be out of the program's
# reach, while the same calls on the program itself succeed.
import resource, socket

params = ctypes.create_string_buffer(120)  # struct io_uring_params
c_call("io_uring_setup", libc.syscall, NR["io_uring_setup"], 8, params)
c_call("io_uring_enter", libc.syscall, NR["io_uring_enter"], 0, 0, 0, 0, None, 0)
c_call("io_uring_register", libc.syscall, NR["io_uring_register"], 0, 0, None, 0)
for family, kind, proto, name in [
    (40, socket.SOCK_STREAM, 0, "socket(AF_VSOCK, SOCK_STREAM)"),
    (40, socket.SOCK_DGRAM, 0, "socket(AF_VSOCK, SOCK_DGRAM)"),
    (16, socket.SOCK_RAW, 0, "socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)"),
    (16, socket.SOCK_DGRAM, 0, "socket(AF_NETLINK, SOCK_DGRAM, NETLINK_ROUTE)"),
    (17, socket.SOCK_RAW, 0x0300, "socket(AF_PACKET, SOCK_RAW)"),
    (17, socket.SOCK_DGRAM, 0x0300, "socket(AF_PACKET, SOCK_DGRAM)"),
    (31, socket.SOCK_STREAM, 3, "socket(AF_BLUETOOTH, SOCK_STREAM, BTPROTO_RFCOMM)"),
    (31, socket.SOCK_RAW, 1, "socket(AF_BLUETOOTH, SOCK_RAW, BTPROTO_HCI)"),
    (38, socket.SOCK_SEQPACKET, 0, "socket(AF_ALG, SOCK_SEQPACKET)"),
]:
    # The C library's socket(), not Python's wrapper, so the errno is the kernel's own.
    c_call(name, libc.socket, family, kind, proto)
c_call("userfaultfd", libc.syscall, NR["userfaultfd"], 0)
attr = ctypes.create_string_buffer(128)
c_call("bpf(BPF_MAP_CREATE)", libc.syscall, NR["bpf"], 0, attr, 128)
pe = ctypes.create_string_buffer(128)  # struct perf_event_attr: type 1 (software), size, config 0 (cpu clock)
pe[0:4] = (1).to_bytes(4, "little")
pe[4:8] = (128).to_bytes(4, "little")
c_call("perf_event_open", libc.syscall, NR["perf_event_open"], pe, 0, -1, -1, 0)
c_call("keyctl(KEYCTL_GET_KEYRING_ID)", libc.syscall, NR["keyctl"], 0, -3, 1)
c_call("add_key", libc.syscall, NR["add_key"], b"user", b"devmentor", b"x", 1, -3)
c_call("request_key", libc.syscall, NR["request_key"], b"user", b"devmentor", None, 0)
attempt("prlimit(1, RLIMIT_CPU, 0)", resource.prlimit, 1, resource.RLIMIT_CPU, (0, 0))
attempt("setpriority(PRIO_PROCESS, 1, 19)", os.setpriority, os.PRIO_PROCESS, 1, 19)
attempt("setpriority(PRIO_PROCESS, 0, 19)", os.setpriority, os.PRIO_PROCESS, 0, 19)
# On itself, a limit it can live with: a hard limit of 0 would end it at the next tick.
attempt("prlimit(0, RLIMIT_CPU, 60)", resource.prlimit, 0, resource.RLIMIT_CPU, (60, 60))
sys.exit(7)
