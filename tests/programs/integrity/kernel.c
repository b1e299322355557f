/* Finding 4: the kernel surface. Each call below must be refused inside the sandbox; the
 * program reports every outcome and exits 7. PID 1's limits and priority must be out of the
 * program's reach, while the same calls on the program itself succeed. */
#include <linux/perf_event.h>
#include <sys/resource.h>
#include <sys/socket.h>

int main(void) {
    char params[120] = {0}; /* struct io_uring_params is 120 bytes */
    result("io_uring_setup", syscall(SYS_io_uring_setup, 8, params));
    result("io_uring_enter", syscall(SYS_io_uring_enter, 0, 0, 0, 0, NULL, 0));
    result("io_uring_register", syscall(SYS_io_uring_register, 0, 0, NULL, 0));
    static const struct { int family, type, proto; const char *name; } socks[] = {
        {40, SOCK_STREAM, 0, "socket(AF_VSOCK, SOCK_STREAM)"},
        {40, SOCK_DGRAM, 0, "socket(AF_VSOCK, SOCK_DGRAM)"},
        {16, SOCK_RAW, 0, "socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)"},
        {16, SOCK_DGRAM, 0, "socket(AF_NETLINK, SOCK_DGRAM, NETLINK_ROUTE)"},
        {17, SOCK_RAW, 0x0300, "socket(AF_PACKET, SOCK_RAW)"},
        {17, SOCK_DGRAM, 0x0300, "socket(AF_PACKET, SOCK_DGRAM)"},
        {31, SOCK_STREAM, 3, "socket(AF_BLUETOOTH, SOCK_STREAM, BTPROTO_RFCOMM)"},
        {31, SOCK_RAW, 1, "socket(AF_BLUETOOTH, SOCK_RAW, BTPROTO_HCI)"},
        {38, SOCK_SEQPACKET, 0, "socket(AF_ALG, SOCK_SEQPACKET)"},
    };
    for (size_t i = 0; i < sizeof socks / sizeof socks[0]; i++)
        result(socks[i].name, socket(socks[i].family, socks[i].type, socks[i].proto));
    result("userfaultfd", syscall(SYS_userfaultfd, 0));
    char attr[128] = {0};
    result("bpf(BPF_MAP_CREATE)", syscall(SYS_bpf, 0, attr, sizeof attr));
    struct perf_event_attr pe;
    memset(&pe, 0, sizeof pe);
    pe.type = PERF_TYPE_SOFTWARE;
    pe.size = sizeof pe;
    pe.config = PERF_COUNT_SW_CPU_CLOCK;
    pe.exclude_kernel = 1;
    result("perf_event_open", syscall(SYS_perf_event_open, &pe, 0, -1, -1, 0));
    result("keyctl(KEYCTL_GET_KEYRING_ID)", syscall(SYS_keyctl, 0, -3 /* session */, 1));
    result("add_key", syscall(SYS_add_key, "user", "devmentor", "x", 1, -3));
    result("request_key", syscall(SYS_request_key, "user", "devmentor", NULL, 0));
    struct rlimit zero = {0, 0};
    result("prlimit(1, RLIMIT_CPU, 0)", prlimit(1, RLIMIT_CPU, &zero, NULL));
    result("setpriority(PRIO_PROCESS, 1, 19)", setpriority(PRIO_PROCESS, 1, 19));
    result("setpriority(PRIO_PROCESS, 0, 19)", setpriority(PRIO_PROCESS, 0, 19));
    /* On itself, a limit it can live with: a hard limit of 0 would end it at the next tick. */
    struct rlimit minute = {60, 60};
    result("prlimit(0, RLIMIT_CPU, 60)", prlimit(0, RLIMIT_CPU, &minute, NULL));
    return 7;
}
