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
IFS=' ' read -r DM_KIND DM_CSIZE DM_ISIZE DM_NAME || exit 120
cd /sandbox || exit 121
"#;

/// The script a container of `pack` runs for `step`.
pub fn script(pack: &LanguagePack, step: Step) -> String {
    match (step, &pack.compile) {
        (Step::Compile, Some(compile)) => format!(
            "{PREAMBLE}head -c \"$DM_CSIZE\" > \"$DM_NAME\" || exit 122
FILE=$DM_NAME; STEM=${{DM_NAME%.*}}
mkdir -p build || exit 122
( {compile}
) </dev/null 1>&2
DM_STATUS=$?
[ \"$DM_STATUS\" -eq 0 ] || exit \"$DM_STATUS\"
exec tar -cf - build
"
        ),
        _ => format!(
            "{PREAMBLE}if [ \"$DM_KIND\" = tar ]; then head -c \"$DM_CSIZE\" | tar -xf - || exit 122
else head -c \"$DM_CSIZE\" > \"$DM_NAME\" || exit 122; fi
FILE=$DM_NAME; STEM=${{DM_NAME%.*}}
head -c \"$DM_ISIZE\" | {{ {run}
}}
",
            run = pack.run
        ),
    }
}

/// Frames code and stdin for the launcher.
pub fn payload(kind: PayloadKind, file_name: &str, code: &[u8], stdin: &[u8]) -> Vec<u8> {
    let kind = match kind {
        PayloadKind::File => "file",
        PayloadKind::Tar => "tar",
    };
    let header = format!("{kind} {} {} {file_name}\n", code.len(), stdin.len());
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
        let p = payload(PayloadKind::File, "main.py", b"print(1)\n", b"abc");
        assert_eq!(p, b"file 9 3 main.py\nprint(1)\nabc".to_vec());
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
        let input = payload(PayloadKind::File, "main.py", b"CODE\n", b"line1\nline2");
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
        assert_eq!(String::from_utf8_lossy(&out.stdout), "CODE\n|\nline1\nline2|\n");
        assert_eq!(out.status.code(), Some(7));
    }
}
