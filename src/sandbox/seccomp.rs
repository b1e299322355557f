//! The sandbox's own seccomp profile: which system calls a student's program (and its compiler)
//! may make, applied to every sandbox container through `HostConfig.SecurityOpt`.
//!
//! # Where it comes from
//! `seccomp.json` is Docker's default profile as Debian 12's Docker ships it: moby v20.10.24,
//! `profiles/seccomp/default.json` (blob `dbf1fa86f151`), in moby's own layout (tab-indented), so
//! `diff <(git -C moby show v20.10.24:profiles/seccomp/default.json) src/sandbox/seccomp.json`
//! shows every change. Everything else of Docker's is kept: the default action (EPERM, with
//! `defaultErrnoRet: 1` for Docker ≥ 23, which 20.10 ignores), the clone namespace-flag mask,
//! `clone3` → ENOSYS (so glibc falls back to `clone`), the `personality` values, the
//! capability-gated entries (moot here: every capability is dropped) and the arch map, less one
//! sub-architecture (below). Newer Docker releases load the same file unchanged.
//!
//! # Removed from every list (allowed by no rule, capability-gated ones included)
//! - `io_uring_setup`, `io_uring_enter`, `io_uring_register`: a long run of kernel privilege
//!   escalations; Docker dropped them from its own default after 20.10. Node, whose libuv can
//!   use io_uring, still runs (checked).
//! - `userfaultfd`: the classic way to win kernel race conditions. `keyctl`, `add_key`,
//!   `request_key`: kernel keyrings, not namespaced. (20.10's default already lacked these four;
//!   the tests keep it so.)
//! - `bpf`, `perf_event_open`: kernel attack surface and side channels (CAP_SYS_ADMIN-gated).
//! - `ptrace`, `process_vm_readv`, `process_vm_writev`, `pidfd_getfd`, `kcmp`, `process_madvise`:
//!   one process reaching into another's memory, descriptors or pages. The program runs as the
//!   same uid as PID 1 (the supervisor that reports the verdict), so these are ways to forge it.
//! - `modify_ldt`: x86 segment tables, only for 16-bit code and Wine, with its own CVE record.
//! - `socketcall`: the multiplexer hides every argument from seccomp; nothing 64-bit uses it.
//!
//! # Allowed only with restricted arguments
//! - `socket`: families AF_UNIX (1), AF_INET (2), AF_INET6 (10). Any other family fails with
//!   EAFNOSUPPORT (97), as on a kernel built without it, so runtimes take their "no such family"
//!   path (`network_mode: none` already leaves only loopback). AF_VSOCK (40) reached the host's
//!   hypervisor despite `network_mode: none`; AF_NETLINK and AF_PACKET are gone too.
//!   `socketpair`: AF_UNIX only, the rest EAFNOSUPPORT.
//!   The complement is spelled as nine ERRNO rules (`< 1`, `== 3` … `== 9`, `> 10`) because one
//!   rule may hold only one comparison per argument: runc and runsc turn several comparisons of
//!   the same argument into separate OR-ed rules, so `!= 1 && != 2 && != 10` would match
//!   everything. Those rules carry `includes.arches: [amd64, arm64]`: on architectures that
//!   multiplex sockets (s390x, ppc64le, mips) libseccomp rewrites socket rules into
//!   `socketcall(SYS_SOCKET)`, which cannot see the family, and refuses an ERRNO rule beside an
//!   ALLOW one (`EEXIST`, and runc then refuses to start the container). There other families get
//!   EPERM and the family check is only as good as libseccomp makes it.
//! - For the same reason the x86_64 entry of `archMap` drops `SCMP_ARCH_X86`: with it, runc
//!   failed ("error adding seccomp rule for syscall socket: file exists"), and even with ALLOW
//!   rules only, a 64-bit program could `int 0x80` into `socketcall(SYS_SOCKET, AF_VSOCK …)`.
//!   Without it an i386 system call hits libseccomp's bad-architecture action: the thread is
//!   killed with SIGSYS. No language here produces i386 code.
//! - PID 1 out of reach: `prlimit64`, `sched_setaffinity`, `sched_setscheduler`,
//!   `sched_setparam`, `sched_setattr`, `pidfd_open` (pid in arg 0); `setpriority` only as
//!   `PRIO_PROCESS` and `ioprio_set` only as `IOPRIO_WHO_PROCESS` (who in arg 1; the process-group
//!   and user forms would reach PID 1 too, as it shares the program's group and uid). Without
//!   this a program could pin the supervisor to one CPU, renice it, or set its RLIMIT_CPU or
//!   RLIMIT_NOFILE to nothing, all allowed between processes of one uid.
//!   These are *not* `SCMP_CMP_NE 1` rules: seccomp compares all 64 bits of a register while
//!   the kernel reads a `pid_t` from the low 32, so `NE 1` lets `(1 << 32) | 1` through and the
//!   call lands on PID 1 (reproduced: `sched_setaffinity(0x1_0000_0001, …)` pinned PID 1). The
//!   rules allow a pid whose low 32 bits are 0 (the caller) or have any of bits 1–31 set
//!   (`SCMP_CMP_MASKED_EQ`, one rule per bit, OR-ed): every pid but 1, whatever the high bits.
//!   The whole filter compiles to 849 BPF instructions with libseccomp 2.5.4 (x86_64 and x32;
//!   Docker's default: 928 with i386), far from the kernel's limit of 4096.
//!
//! What seccomp cannot do is left to the supervisor (`containers/init/dm-init.c`): signals
//! (`kill(0, …)`, `kill(-1, …)` and `pidfd_send_signal` on an open `/proc/1` need no pidfd_open),
//! `/proc/1/*` files (non-dumpable), and the rules above name PID 1 alone, so the supervisor must
//! stay single-threaded: a second thread's tid would be a pid other than 1 sharing PID 1's
//! rlimits and scheduling.
//!
//! # Under gVisor (`runtime = "runsc"`)
//! runsc ignores the OCI seccomp profile unless it runs with `--oci-seccomp` (a flag that
//! defaults to false; without it runsc logs "Seccomp spec is being ignored", see
//! `runsc/boot/seccomp.go`, `runsc/config/flags.go`). With the flag it builds the filter inside
//! the sandbox from the same rules, supporting the comparisons used here and runc's same-argument
//! OR quirk, but it ignores `errnoRet`: every ERRNO rule returns EPERM
//! (`runsc/specutils/seccomp/seccomp.go`; google/gvisor#14688, open, fix proposed in #14721), so
//! `clone3` would get EPERM and glibc ≥ 2.34 could not start threads. Do not enable
//! `--oci-seccomp` before a runsc that honours `errnoRet`. Without the profile, gVisor's own kernel
//! (the Sentry) answers every system call and the host kernel is not exposed to them: io_uring
//! is ENOSYS unless runsc's test-only `--iouring` flag is set, `userfaultfd` is ENOSYS,
//! `perf_event_open` ENODEV, `add_key`/`request_key` EACCES, `keyctl` and `bpf` are stubs; only
//! AF_UNIX, AF_INET(6), AF_NETLINK and AF_PACKET (raw, needs CAP_NET_RAW) exist, so AF_VSOCK is
//! EAFNOSUPPORT (`pkg/sentry/syscalls/linux/linux64.go`, `pkg/sentry/socket/socket.go`). But
//! `ptrace`, `process_vm_readv`/`writev` and `prlimit64` work between processes inside the
//! sandbox (`sched_setaffinity`, `setpriority`, `ioprio_set` are stubs there), so under runsc
//! the supervisor's protection from the program rests on dm-init: the Sentry's ptrace access
//! check honours PR_SET_DUMPABLE (`pkg/sentry/kernel/ptrace.go`), and signals are ignored; a
//! same-uid `prlimit64(1, …)` is not stopped without `--oci-seccomp`.
//!
//! # How Docker takes it
//! `HostConfig.SecurityOpt` carries the profile itself, `seccomp=<json>`: the daemon never reads
//! a path. The docker CLI's `--security-opt seccomp=FILE` reads FILE and sends
//! `"seccomp=" + json.Compact(content)` (docker/cli `cli/command/container/opts.go`,
//! `parseSecurityOpts`), which is what [`security_opt`] builds.

use std::sync::OnceLock;

/// The profile as versioned in the repository (see the module documentation).
const PROFILE: &str = include_str!("seccomp.json");

/// The profile, minified (about 43 KB instead of 60 KB on every container create).
pub fn profile_json() -> &'static str {
    static MINIFIED: OnceLock<String> = OnceLock::new();
    MINIFIED.get_or_init(|| {
        // The file is compiled in and its parsing is the first unit test below, so this
        // cannot fail in a build that passed its tests.
        let value: serde_json::Value = serde_json::from_str(PROFILE).expect("src/sandbox/seccomp.json is valid JSON");
        value.to_string()
    })
}

/// The `HostConfig.SecurityOpt` entry that applies the profile: `seccomp=<json>`.
pub fn security_opt() -> String {
    format!("seccomp={}", profile_json())
}

#[cfg(test)]
mod tests {
    //! The profile is checked the way Docker on amd64 loads it for a container without
    //! capabilities: an entry counts when its `includes`/`excludes` let it through, several
    //! comparisons of one argument are OR-ed (runc's rule), others AND-ed, 64-bit compares.

    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Profile {
        #[serde(rename = "defaultAction")]
        default_action: String,
        #[serde(rename = "defaultErrnoRet")]
        default_errno_ret: Option<u32>,
        #[serde(rename = "archMap")]
        arch_map: Vec<Arch>,
        syscalls: Vec<Rule>,
    }

    #[derive(Deserialize)]
    struct Arch {
        architecture: String,
        #[serde(rename = "subArchitectures")]
        sub_architectures: Vec<String>,
    }

    #[derive(Deserialize)]
    struct Rule {
        names: Vec<String>,
        action: String,
        #[serde(rename = "errnoRet")]
        errno_ret: Option<u32>,
        args: Option<Vec<Arg>>,
        #[serde(default)]
        includes: Filter,
        #[serde(default)]
        excludes: Filter,
    }

    #[derive(Deserialize)]
    struct Arg {
        index: usize,
        value: u64,
        #[serde(rename = "valueTwo", default)]
        value_two: u64,
        op: String,
    }

    #[derive(Deserialize, Default)]
    struct Filter {
        #[serde(default)]
        caps: Vec<String>,
        #[serde(default)]
        arches: Vec<String>,
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Outcome {
        Allow,
        Errno(u32),
        /// No rule matched: the default action (EPERM).
        Default,
    }

    const REMOVED: &[&str] = &[
        "io_uring_setup",
        "io_uring_enter",
        "io_uring_register",
        "userfaultfd",
        "bpf",
        "perf_event_open",
        "ptrace",
        "process_vm_readv",
        "process_vm_writev",
        "keyctl",
        "add_key",
        "request_key",
        "pidfd_getfd",
        "kcmp",
        "process_madvise",
        "modify_ldt",
        "socketcall",
    ];
    /// System calls whose arg 0 is a pid that must never be PID 1.
    const PID_ARG0: &[&str] = &[
        "prlimit64",
        "sched_setaffinity",
        "sched_setscheduler",
        "sched_setparam",
        "sched_setattr",
        "pidfd_open",
    ];
    const EAFNOSUPPORT: u32 = 97;
    const ENOSYS: u32 = 38;

    fn profile() -> Profile {
        serde_json::from_str(PROFILE).expect("seccomp.json parses as a Docker seccomp profile")
    }

    impl Rule {
        /// Whether Docker on amd64 keeps this entry for a container with no capabilities.
        fn applies(&self) -> bool {
            let arch_ok = (self.includes.arches.is_empty() || self.includes.arches.iter().any(|a| a == "amd64"))
                && !self.excludes.arches.iter().any(|a| a == "amd64");
            arch_ok && self.includes.caps.is_empty()
        }

        fn matches(&self, args: &[u64; 6]) -> bool {
            let conds = self.args.as_deref().unwrap_or_default();
            let test = |c: &Arg| {
                let a = args[c.index];
                match c.op.as_str() {
                    "SCMP_CMP_EQ" => a == c.value,
                    "SCMP_CMP_NE" => a != c.value,
                    "SCMP_CMP_LT" => a < c.value,
                    "SCMP_CMP_LE" => a <= c.value,
                    "SCMP_CMP_GT" => a > c.value,
                    "SCMP_CMP_GE" => a >= c.value,
                    "SCMP_CMP_MASKED_EQ" => a & c.value == c.value_two,
                    other => panic!("unknown op {other}"),
                }
            };
            let mut indexes: Vec<usize> = conds.iter().map(|c| c.index).collect();
            indexes.sort_unstable();
            indexes.dedup();
            if indexes.len() < conds.len() {
                conds.iter().any(test)
            } else {
                conds.iter().all(test)
            }
        }

        fn outcome(&self) -> Outcome {
            match self.action.as_str() {
                "SCMP_ACT_ALLOW" => Outcome::Allow,
                "SCMP_ACT_ERRNO" => Outcome::Errno(self.errno_ret.unwrap_or(1)),
                other => panic!("unexpected action {other}"),
            }
        }
    }

    /// What the loaded filter does with `name(args)`; panics when rules disagree, since
    /// libseccomp's choice between overlapping rules of different actions is not ours to rely on.
    fn decide(p: &Profile, name: &str, args: [u64; 6]) -> Outcome {
        let mut found: Vec<Outcome> = p
            .syscalls
            .iter()
            .filter(|r| r.applies() && r.names.iter().any(|n| n == name) && r.matches(&args))
            .map(Rule::outcome)
            .collect();
        found.dedup();
        assert!(found.len() <= 1, "{name}{args:?}: overlapping rules {found:?}");
        found.first().copied().unwrap_or(Outcome::Default)
    }

    fn call(p: &Profile, name: &str, a0: u64, a1: u64) -> Outcome {
        decide(p, name, [a0, a1, 0, 0, 0, 0])
    }

    #[test]
    fn profile_parses_and_keeps_dockers_frame() {
        let p = profile();
        assert_eq!(p.default_action, "SCMP_ACT_ERRNO");
        assert_eq!(p.default_errno_ret, Some(1));
        let subs = |arch: &str| {
            p.arch_map
                .iter()
                .find(|a| a.architecture == arch)
                .map(|a| a.sub_architectures.clone())
                .unwrap_or_else(|| panic!("{arch} missing from archMap"))
        };
        assert_eq!(subs("SCMP_ARCH_X86_64"), ["SCMP_ARCH_X32"], "no i386 system calls");
        assert_eq!(subs("SCMP_ARCH_AARCH64"), ["SCMP_ARCH_ARM"]);
        assert_eq!(p.arch_map.len(), 7, "Docker's seven arch entries");
        assert_eq!(call(&p, "clone3", 0, 0), Outcome::Errno(ENOSYS));
        let clone_newuser = 0x1000_0000;
        assert_eq!(call(&p, "clone", clone_newuser, 0), Outcome::Default);
        assert_eq!(call(&p, "personality", 0xffff_ffff, 0), Outcome::Allow);
        assert_eq!(call(&p, "personality", 0x0040_0000, 0), Outcome::Default);
        assert_eq!(
            call(&p, "mount", 0, 0),
            Outcome::Default,
            "capability-gated entries do not apply"
        );

        let minified: serde_json::Value = serde_json::from_str(profile_json()).unwrap();
        assert_eq!(minified, serde_json::from_str::<serde_json::Value>(PROFILE).unwrap());
        assert!(!profile_json().contains('\n') && !profile_json().contains('\t'));
        let opt = security_opt();
        assert!(opt.starts_with("seccomp={\"") && opt.ends_with('}'), "{}", &opt[..40]);
    }

    #[test]
    fn removed_syscalls_are_allowed_by_no_rule() {
        let p = profile();
        for name in REMOVED {
            // Every entry, capability-gated or not: none may allow it.
            for (i, r) in p.syscalls.iter().enumerate() {
                assert!(
                    !(r.action == "SCMP_ACT_ALLOW" && r.names.iter().any(|n| n == name)),
                    "{name} is allowed by syscalls[{i}]"
                );
            }
            assert_eq!(call(&p, name, 0, 0), Outcome::Default, "{name}");
        }
    }

    #[test]
    fn socket_allows_only_unix_inet_inet6() {
        let p = profile();
        let mut probes: Vec<u64> = (0..=64).collect();
        probes.extend([1 << 32 | 1, 1 << 32 | 2, 1 << 32 | 40, u64::from(u32::MAX), u64::MAX]);
        for family in probes {
            let want = if [1, 2, 10].contains(&family) {
                Outcome::Allow
            } else {
                Outcome::Errno(EAFNOSUPPORT)
            };
            assert_eq!(call(&p, "socket", family, 1), want, "socket({family:#x})");
            let want = if family == 1 {
                Outcome::Allow
            } else {
                Outcome::Errno(EAFNOSUPPORT)
            };
            assert_eq!(call(&p, "socketpair", family, 1), want, "socketpair({family:#x})");
        }
        // Every entry allowing socket is one `family == N` comparison, N in {1, 2, 10}.
        let mut allowed: Vec<u64> = Vec::new();
        for r in p.syscalls.iter().filter(|r| r.names.iter().any(|n| n == "socket")) {
            assert_eq!(r.names, ["socket"], "socket shares no entry");
            if r.action == "SCMP_ACT_ALLOW" {
                let args = r.args.as_deref().unwrap_or_default();
                assert!(args.len() == 1 && args[0].index == 0 && args[0].op == "SCMP_CMP_EQ");
                allowed.push(args[0].value);
            }
        }
        allowed.sort_unstable();
        assert_eq!(allowed, [1, 2, 10]);
    }

    #[test]
    fn pid_one_is_out_of_reach() {
        let p = profile();
        // Values the kernel reads as pid_t 1: the high 32 bits are ignored by the kernel.
        let pid_one = [1, 1 << 32 | 1, 0xffff_ffff_0000_0001];
        let others = [0, 1 << 32, 2, 3, 7, 100, 32_768, 4_194_303, u64::from(u32::MAX)];
        for name in PID_ARG0 {
            for pid in pid_one {
                assert_eq!(call(&p, name, pid, 0), Outcome::Default, "{name}({pid:#x})");
            }
            for pid in others {
                assert_eq!(call(&p, name, pid, 0), Outcome::Allow, "{name}({pid:#x})");
            }
        }
        let (prio_process, prio_pgrp, prio_user) = (0, 1, 2);
        let (ioprio_who_process, ioprio_who_pgrp, ioprio_who_user) = (1, 2, 3);
        for (name, own, group_forms) in [
            ("setpriority", prio_process, [prio_pgrp, prio_user]),
            ("ioprio_set", ioprio_who_process, [ioprio_who_pgrp, ioprio_who_user]),
        ] {
            for who in pid_one {
                assert_eq!(call(&p, name, own, who), Outcome::Default, "{name}({own}, {who:#x})");
            }
            for who in others {
                assert_eq!(call(&p, name, own, who), Outcome::Allow, "{name}({own}, {who:#x})");
                for which in group_forms {
                    assert_eq!(
                        call(&p, name, which, who),
                        Outcome::Default,
                        "{name}({which}, {who:#x})"
                    );
                }
            }
        }
        // No entry lets these through without looking at the pid.
        for r in p.syscalls.iter().filter(|r| r.action == "SCMP_ACT_ALLOW") {
            for name in PID_ARG0.iter().chain(&["setpriority", "ioprio_set"]) {
                if r.names.iter().any(|n| n == name) {
                    let target = if PID_ARG0.contains(name) { 0 } else { 1 };
                    let args = r.args.as_deref().unwrap_or_default();
                    assert!(
                        args.iter().any(|a| a.index == target),
                        "{name} allowed without a pid rule"
                    );
                }
            }
        }
    }

    #[test]
    fn common_syscalls_are_still_allowed() {
        let p = profile();
        for name in [
            "read",
            "write",
            "futex",
            "mmap",
            "execve",
            "openat",
            "epoll_wait",
            "clock_nanosleep",
            "getrandom",
            "rt_sigaction",
            "exit_group",
            "wait4",
            "pipe2",
            "sched_getaffinity",
            "getrlimit",
            "setrlimit",
        ] {
            assert_eq!(call(&p, name, 0, 0), Outcome::Allow, "{name}");
        }
        // pthread_create's flags: CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|PARENT_SETTID|CHILD_CLEARTID.
        assert_eq!(call(&p, "clone", 0x003d_0f00, 0), Outcome::Allow);
        // fork(): SIGCHLD|CHILD_SETTID|CHILD_CLEARTID.
        assert_eq!(call(&p, "clone", 0x0120_0011, 0), Outcome::Allow);
    }
}
