//! The service's own CPU during a benchmark, read from `/proc`: this process (the `devmentor`
//! roles running in it, plus the benchmark's HTTP client), the PostgreSQL cluster and Redis.
//!
//! `bench pipeline` takes a [`CpuSample`] before and after its timed phase and reports the
//! difference as CPU-milliseconds per check. PostgreSQL is the postmaster with its children's
//! reaped time (`cutime`/`cstime`: a backend that exited during the run accrues there) plus the
//! live children's own time; Redis is every `redis-server`. Both are machine-wide: another
//! client of the same servers during the run is counted too, so run it on a quiet machine.

use std::collections::HashMap;

/// Linux reports process times in `USER_HZ` ticks, which is 100 on every architecture the
/// kernel exposes to user space (`getconf CLK_TCK`); reading it needs libc's `sysconf`.
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU time so far, in ticks.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CpuSample {
    pub devmentor: u64,
    pub postgres: u64,
    pub redis: u64,
}

/// The fields of `/proc/<pid>/stat` this module needs.
#[derive(Debug, Clone, PartialEq)]
struct Stat {
    comm: String,
    ppid: u32,
    /// utime + stime.
    own: u64,
    /// cutime + cstime: waited-for children that have exited.
    reaped: u64,
}

/// `pid (comm) state ppid … utime stime cutime cstime …`; the command may itself contain
/// spaces and parentheses, so it ends at the last `)`.
fn parse_stat(text: &str) -> Option<Stat> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text.get(open + 1..close)?.to_string();
    let rest: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
    let field = |i: usize| rest.get(i).and_then(|v| v.parse::<u64>().ok());
    // After the command: state (0), ppid (1), …, utime (11), stime (12), cutime (13), cstime (14).
    Some(Stat {
        comm,
        ppid: field(1)? as u32,
        own: field(11)? + field(12)?,
        reaped: field(13)? + field(14)?,
    })
}

fn processes() -> HashMap<u32, Stat> {
    let mut out = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        // A process may exit between listing and reading: it is simply not counted.
        if let Some(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .as_deref()
            .and_then(parse_stat)
        {
            out.insert(pid, stat);
        }
    }
    out
}

fn sum(procs: &HashMap<u32, Stat>) -> CpuSample {
    let mut s = CpuSample::default();
    let postmasters: Vec<u32> = procs
        .iter()
        .filter(|(_, p)| p.comm == "postgres" && procs.get(&p.ppid).is_none_or(|parent| parent.comm != "postgres"))
        .map(|(pid, _)| *pid)
        .collect();
    for (pid, p) in procs {
        if postmasters.contains(pid) {
            s.postgres += p.own + p.reaped;
        } else if postmasters.contains(&p.ppid) {
            s.postgres += p.own;
        }
        if p.comm == "redis-server" {
            s.redis += p.own + p.reaped;
        }
    }
    s
}

impl CpuSample {
    pub fn now() -> CpuSample {
        let own = std::fs::read_to_string("/proc/self/stat")
            .ok()
            .as_deref()
            .and_then(parse_stat)
            .map_or(0, |s| s.own);
        CpuSample {
            devmentor: own,
            ..sum(&processes())
        }
    }

    /// `{"devmentor", "postgres", "redis", "total"}` in CPU-milliseconds per check since `before`.
    pub fn per_check_since(&self, before: &CpuSample, checks: usize) -> serde_json::Value {
        let ms = |after: u64, before: u64| after.saturating_sub(before) as f64 * 1000.0 / TICKS_PER_SECOND;
        let n = checks.max(1) as f64;
        let (d, p, r) = (
            ms(self.devmentor, before.devmentor),
            ms(self.postgres, before.postgres),
            ms(self.redis, before.redis),
        );
        let per = |x: f64| crate::bench::round(x / n);
        serde_json::json!({
            "devmentor": per(d),
            "postgres": per(p),
            "redis": per(r),
            "total": per(d + p + r),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_with_spaces_and_parentheses_is_read_whole() {
        let s = parse_stat("42 (a (b) c) S 7 1 1 0 -1 4194560 10 0 0 0 250 30 4 6 20 0 1 0 5 0 0").unwrap();
        assert_eq!(s.comm, "a (b) c");
        assert_eq!((s.ppid, s.own, s.reaped), (7, 280, 10));
    }

    #[test]
    fn backends_count_under_their_postmaster_and_reaped_time_once() {
        let stat = |comm: &str, ppid, own, reaped| Stat {
            comm: comm.into(),
            ppid,
            own,
            reaped,
        };
        let procs = HashMap::from([
            (1, stat("systemd", 0, 5, 500)),
            (10, stat("postgres", 1, 100, 40)),
            (11, stat("postgres", 10, 7, 0)),
            (12, stat("postgres", 10, 3, 0)),
            (20, stat("redis-server", 1, 9, 1)),
            (30, stat("bash", 1, 50, 0)),
        ]);
        assert_eq!(
            sum(&procs),
            CpuSample {
                devmentor: 0,
                postgres: 150,
                redis: 10
            }
        );
    }

    #[test]
    fn per_check_is_the_difference_in_milliseconds() {
        let before = CpuSample {
            devmentor: 100,
            postgres: 50,
            redis: 10,
        };
        let after = CpuSample {
            devmentor: 400,
            postgres: 110,
            redis: 16,
        };
        assert_eq!(
            after.per_check_since(&before, 300),
            serde_json::json!({"devmentor": 10.0, "postgres": 2.0, "redis": 0.2, "total": 12.2})
        );
    }
}
