#!/usr/bin/env python3
"""Derives src/sandbox/seccomp.json from moby v20.10.24 profiles/seccomp/default.json.

Usage: scripts/seccomp-profile.py MOBY_DEFAULT_JSON [OUT]
  MOBY_DEFAULT_JSON  `git show v20.10.24:profiles/seccomp/default.json` of github.com/moby/moby
  OUT                default src/sandbox/seccomp.json
What it removes and restricts, and why: src/sandbox/seccomp.rs.
"""
import json, sys

SRC = sys.argv[1] if len(sys.argv) > 1 else sys.exit(__doc__)
PID_BITS = 31
OUT = sys.argv[2] if len(sys.argv) > 2 else 'src/sandbox/seccomp.json'

REMOVED = [
    # asked for by issue 13
    'io_uring_setup', 'io_uring_enter', 'io_uring_register',
    'userfaultfd', 'bpf', 'perf_event_open',
    'ptrace', 'process_vm_readv', 'process_vm_writev',
    'keyctl', 'add_key', 'request_key', 'pidfd_getfd',
    # same class, our judgement
    'kcmp', 'process_madvise', 'modify_ldt', 'socketcall',
]
# Moved from the unconditional list to the argument rules below.
RESTRICTED = ['socket', 'socketpair',
              'prlimit64', 'sched_setaffinity', 'sched_setscheduler', 'sched_setparam',
              'sched_setattr', 'pidfd_open', 'setpriority', 'ioprio_set']
PID_ARG0 = ['prlimit64', 'sched_setaffinity', 'sched_setscheduler', 'sched_setparam',
            'sched_setattr', 'pidfd_open']
EAFNOSUPPORT = 97

p = json.load(open(SRC))
out_calls = []
for i, call in enumerate(p['syscalls']):
    names = [n for n in call['names'] if n not in REMOVED and not (i == 0 and n in RESTRICTED)]
    if not names:
        continue  # the ptrace (minKernel 4.8) entry and the CAP_SYS_PTRACE entry vanish whole
    call = dict(call)
    call['names'] = names
    out_calls.append(call)

out_calls[0]['comment'] = (
    "Docker's default profile, moby v20.10.24 profiles/seccomp/default.json, minus "
    + ", ".join(REMOVED)
    + " (removed from every list) and minus " + ", ".join(RESTRICTED)
    + " (allowed only by the argument rules at the end); archMap's x86_64 entry drops SCMP_ARCH_X86,"
    + " so i386 system calls (int 0x80) are refused. See src/sandbox/seccomp.rs."
)

def entry(names, args, comment, action='SCMP_ACT_ALLOW', errno=None, includes=None):
    e = {'names': list(names), 'action': action}
    if errno is not None:
        e['errnoRet'] = errno
    e.update({'args': args, 'comment': comment, 'includes': includes or {}, 'excludes': {}})
    return e

# libseccomp rewrites socket rules into socketcall(SYS_SOCKET) on arches that multiplex it
# (x86, s390, ppc, mips) and then refuses an ERRNO rule next to an ALLOW one (EEXIST):
# the EAFNOSUPPORT rules load only where socket is a plain syscall.
DIRECT_SOCKET_ARCHES = {'arches': ['amd64', 'arm64']}

def arg(index, op, value, value_two=None):
    a = {'index': index, 'value': value}
    if value_two is not None:
        a['valueTwo'] = value_two
    a['op'] = op
    return a

FAMILIES = {1: 'AF_UNIX', 2: 'AF_INET', 10: 'AF_INET6'}
for fam, name in FAMILIES.items():
    out_calls.append(entry(['socket'], [arg(0, 'SCMP_CMP_EQ', fam)],
                           f'socket: {name} ({fam}) is allowed; the three allow rules are OR-ed'))
# Every other family fails with EAFNOSUPPORT, as on a kernel built without it. One comparison
# per rule: runc (and runsc) turn several comparisons of the same argument into OR-ed rules.
others = [arg(0, 'SCMP_CMP_LT', 1)] + [arg(0, 'SCMP_CMP_EQ', v) for v in range(3, 10)] + [arg(0, 'SCMP_CMP_GT', 10)]
for a in others:
    out_calls.append(entry(['socket'], [a], 'socket: every other family fails with EAFNOSUPPORT',
                           action='SCMP_ACT_ERRNO', errno=EAFNOSUPPORT, includes=DIRECT_SOCKET_ARCHES))
out_calls.append(entry(['socketpair'], [arg(0, 'SCMP_CMP_EQ', 1)], 'socketpair: AF_UNIX (1) only'))
for a in [arg(0, 'SCMP_CMP_LT', 1), arg(0, 'SCMP_CMP_GT', 1)]:
    out_calls.append(entry(['socketpair'], [a], 'socketpair: every other family fails with EAFNOSUPPORT',
                           action='SCMP_ACT_ERRNO', errno=EAFNOSUPPORT, includes=DIRECT_SOCKET_ARCHES))

LOW32 = 0xFFFFFFFF
def pid_rules(index):
    """Rules whose union is: the low 32 bits of the argument (the pid_t the kernel reads) are not 1."""
    rules = [(arg(index, 'SCMP_CMP_MASKED_EQ', LOW32, 0), 'pid 0 (the caller itself)')]
    for k in range(1, PID_BITS + 1):
        rules.append((arg(index, 'SCMP_CMP_MASKED_EQ', 1 << k, 1 << k), f'pid with bit {k} set (so not 1)'))
    return rules

for a, why in pid_rules(0):
    out_calls.append(entry(PID_ARG0, [a], f'arg 0 (pid): {why}; never PID 1, the supervisor'))
for a, why in pid_rules(1):
    out_calls.append(entry(['setpriority'], [arg(0, 'SCMP_CMP_EQ', 0), a],
                           f'setpriority(PRIO_PROCESS, who): {why}; never PID 1, never PRIO_PGRP or PRIO_USER'))
for a, why in pid_rules(1):
    out_calls.append(entry(['ioprio_set'], [arg(0, 'SCMP_CMP_EQ', 1), a],
                           f'ioprio_set(IOPRIO_WHO_PROCESS, who): {why}; never PID 1, never a process group or user'))

arch_map = [dict(a) for a in p['archMap']]
for a in arch_map:
    if a['architecture'] == 'SCMP_ARCH_X86_64':
        # No i386 (int 0x80) syscalls: there socket rules cannot see the family (socketcall).
        a['subArchitectures'] = [s for s in a['subArchitectures'] if s != 'SCMP_ARCH_X86']
res = {'defaultAction': p['defaultAction'], 'defaultErrnoRet': 1, 'archMap': arch_map, 'syscalls': out_calls}
with open(OUT, 'w') as f:
    f.write(json.dumps(res, indent='\t') + '\n')
print(OUT, len(out_calls), 'entries')
