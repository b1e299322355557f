//! The launcher: the `/bin/sh` script every sandbox container starts with, and the payload the
//! host writes to its standard input.
//!
//! Docker refuses archive uploads into a container with a read-only root, and a warm container
//! must exist before the code does, so the code travels on the container's stdin. The container
//! starts the launcher, which blocks on a one-line header; the host later writes
//! `"<kind> <code bytes> <stdin bytes> <file name>\n"`, the code (a file or a tar of compiled
//! artifacts) and the program's stdin. `head -c` reads exactly the sizes given, so the program
//! sees its own stdin and then a clean end of file, whatever the attach connection does.
//!
//! When the step ends, the launcher writes a trailer, `\x01DM:<nonce>:<status>\n`, on both
//! stdout and stderr (each stream keeps its own order, so once both trailers are in, all the
//! program's output is in). The host then has the exit status without waiting for Docker to
//! tear the container down, which is most of a fresh container's cost. The nonce is new for
//! every run, so ordinary output never looks like a trailer.
//!
//! Compile mode writes the compiler's messages to stderr and, on success, a tar of `build/` to
//! stdout; the run container of the same language receives that tar as its code.

use super::language::LanguagePack;

/// What the code part of a payload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadKind {
    /// A source file saved under the given name.
    File,
    /// A tar archive unpacked into the scratch area (compiled artifacts).
    Tar,
}

/// Which step a container serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    Compile,
    Run,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Compile => "compile",
            Step::Run => "run",
        }
    }
}

const PREAMBLE: &str = r#"set -u
IFS=' ' read -r DM_NONCE DM_KIND DM_CSIZE DM_ISIZE DM_NAME || exit 120
cd /sandbox || exit 121
"#;

const TRAILER: &str = r#"printf '\001DM:%s:%s\n' "$DM_NONCE" "$DM_STATUS"
printf '\001DM:%s:%s\n' "$DM_NONCE" "$DM_STATUS" >&2
exit "$DM_STATUS"
"#;

/// The script a container of `pack` runs for `step`.
pub fn script(pack: &LanguagePack, step: Step) -> String {
    // The run step's set-up happens while the container waits; it never reads the payload.
    let prepare = match (step, &pack.prepare) {
        (Step::Run, Some(p)) => format!("( {p}\n) </dev/null >/dev/null 2>&1\n"),
        _ => String::new(),
    };
    prepare + &body(pack, step)
}

fn body(pack: &LanguagePack, step: Step) -> String {
    match (step, &pack.compile) {
        (Step::Compile, Some(compile)) => format!(
            "{PREAMBLE}head -c \"$DM_CSIZE\" > \"$DM_NAME\" || exit 122
FILE=$DM_NAME; STEM=${{DM_NAME%.*}}
mkdir -p build || exit 122
( {compile}
) </dev/null 1>&2
DM_STATUS=$?
if [ \"$DM_STATUS\" -eq 0 ]; then tar -cf - build; DM_STATUS=$?; fi
{TRAILER}"
        ),
        _ => format!(
            "{PREAMBLE}if [ \"$DM_KIND\" = tar ]; then head -c \"$DM_CSIZE\" | tar -xf - || exit 122
else head -c \"$DM_CSIZE\" > \"$DM_NAME\" || exit 122; fi
FILE=$DM_NAME; STEM=${{DM_NAME%.*}}
head -c \"$DM_ISIZE\" | {{ {run}
}}
DM_STATUS=$?
{TRAILER}",
            run = pack.run
        ),
    }
}

/// A fresh nonce for one run's trailer: unpredictable enough that output never matches by chance.
pub fn nonce() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    let a = h.finish();
    h.write_u64(a);
    format!("{a:016x}{:016x}", h.finish())
}

/// The trailer the launcher writes when a step ends with `status`.
pub fn trailer(nonce: &str, status: i64) -> Vec<u8> {
    format!("\u{1}DM:{nonce}:{status}\n").into_bytes()
}

/// Finds the trailer at the end of `tail`: returns the exit status and the trailer's length.
pub fn parse_trailer(tail: &[u8], nonce: &str) -> Option<(i64, usize)> {
    let text = std::str::from_utf8(tail.strip_suffix(b"\n")?).ok().or_else(|| {
        // The tail may start inside a multi-byte character: look only after the marker byte.
        let start = tail.iter().rposition(|b| *b == 1)?;
        std::str::from_utf8(&tail[start..tail.len() - 1]).ok()
    })?;
    let start = text.rfind('\u{1}')?;
    let rest = text[start..].strip_prefix("\u{1}DM:")?;
    let (n, status) = rest.split_once(':')?;
    if n != nonce {
        return None;
    }
    let status = status.parse().ok()?;
    Some((status, text.len() - start + 1))
}

/// Frames code and stdin for the launcher.
pub fn payload(nonce: &str, kind: PayloadKind, file_name: &str, code: &[u8], stdin: &[u8]) -> Vec<u8> {
    let kind = match kind {
        PayloadKind::File => "file",
        PayloadKind::Tar => "tar",
    };
    let header = format!("{nonce} {kind} {} {} {file_name}\n", code.len(), stdin.len());
    let mut out = Vec::with_capacity(header.len() + code.len() + stdin.len());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(code);
    out.extend_from_slice(stdin);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::language::{default_limits, Languages};

    #[test]
    fn payload_header_names_sizes_and_file() {
        let p = payload("n1", PayloadKind::File, "main.py", b"print(1)\n", b"abc");
        assert_eq!(p, b"n1 file 9 3 main.py\nprint(1)\nabc".to_vec());
    }

    #[test]
    fn trailers_are_found_only_with_the_right_nonce() {
        let mut out = b"partial line".to_vec();
        out.extend(trailer("abc", 3));
        assert_eq!(parse_trailer(&out, "abc"), Some((3, 10)));
        assert_eq!(parse_trailer(&out, "abd"), None);
        assert_eq!(parse_trailer(b"\x01DM:abc:x\n", "abc"), None);
        assert_eq!(parse_trailer(b"no trailer\n", "abc"), None);
        let mut odd = vec![0xd0];
        odd.extend(trailer("abc", 0));
        assert_eq!(parse_trailer(&odd, "abc"), Some((0, 10)));
        assert_ne!(nonce(), nonce());
    }

    /// The launcher is plain POSIX sh: run it here with /bin/sh to prove the framing, the
    /// exact stdin and the exit status, without Docker.
    #[test]
    fn the_run_script_frames_code_and_stdin_exactly() {
        let langs = Languages::builtin(default_limits(10, 65536));
        let mut pack = langs.find("python").unwrap().clone();
        pack.run = "cat \"$FILE\"; echo '|'; cat; echo '|'; exit 7".into();
        let dir = std::env::temp_dir().join(format!("dm-launcher-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let script = script(&pack, Step::Run).replace("cd /sandbox", &format!("cd {}", dir.display()));
        let input = payload("N0", PayloadKind::File, "main.py", b"CODE\n", b"line1\nline2");
        let mut child = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(&script)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&input).unwrap();
        // Extra bytes after the framed stdin must never reach the program.
        stdin.write_all(b"EXTRA").unwrap();
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "CODE\n|\nline1\nline2|\n\u{1}DM:N0:7\n"
        );
        assert_eq!(out.status.code(), Some(7));
    }
}
