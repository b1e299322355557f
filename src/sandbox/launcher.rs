//! The launcher: how a sandbox container is started, what the host writes to it, and how the
//! host knows — with certainty — how the program ended.
//!
//! Every container runs `dm-init` (`containers/init/dm-init.c`, built into every image at
//! [`INIT`]) as PID 1. Docker refuses archive uploads into a read-only container and a warm
//! container must exist before the code does, so the code travels on the container's stdin:
//! dm-init blocks on a one-line header, `"<key> <file|tar> <code bytes> <stdin bytes> <name>\n"`,
//! then reads the code (a source file, or a tar of compiled artifacts) and hands the program
//! exactly its stdin, then end of file.
//!
//! The program never holds the container's stdout or stderr: dm-init gives it pipes of its own
//! and forwards what it prints. When the program ends, dm-init writes one trailer on each
//! stream, `"\x01DM1 <o|e> <outcome> <bytes> <mac>\n"`, authenticated with HMAC-SHA256 under a
//! key that is new for every run and travels only in the header, which the program never sees;
//! dm-init is non-dumpable, so the key cannot be read out of its memory either. The host checks
//! the MAC, the stream name and that `<bytes>` is exactly what it received before the trailer,
//! and then cross-checks the outcome against Docker's record of dm-init's exit code (dm-init
//! exits with the program's status). A look-alike printed by the program is only output.
//!
//! Compile mode writes the compiler's messages to stderr and, on success, a tar of `build/` to
//! stdout; the run container of the same language receives that tar as its code.

use super::language::LanguagePack;
use sha2::{Digest, Sha256};

/// Where every sandbox image has dm-init (containers/build-images.sh and the Dockerfiles put it
/// there from containers/init/dm-init.c).
pub const INIT: &str = "/opt/devmentor/dm-init";

/// Version of the image recipe the sandbox expects (label `devmentor.init` on every image):
/// bumped when dm-init's protocol changes, so an image built before is refused with a clear
/// message instead of failing every run.
pub const INIT_PROTOCOL: &str = "1";
/// The image label that carries [`INIT_PROTOCOL`].
pub const INIT_LABEL: &str = "devmentor.init";

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

/// The container's command for `pack` and `step`: dm-init with the step's set-up and program.
pub fn command(pack: &LanguagePack, step: Step) -> Vec<String> {
    let (prepare, program) = match (step, &pack.compile) {
        // The compiler's stdout joins its messages on stderr; stdout carries only the artifacts.
        // A subshell, because compile commands may `exec` the compiler.
        (Step::Compile, Some(compile)) => (
            String::new(),
            format!("( {compile}\n) </dev/null 1>&2 || exit $?\nexec tar -cf - build"),
        ),
        // The run step's set-up happens while the container waits; it never sees the payload.
        _ => (pack.prepare.clone().unwrap_or_default(), pack.run.clone()),
    };
    vec![INIT.to_string(), step.as_str().to_string(), prepare, program]
}

/// One run's secret: authenticates the trailers. Never logged, never in the container's
/// configuration (Docker would show it), only in the payload's header.
pub struct RunKey([u8; 32]);

impl RunKey {
    /// A fresh key from the kernel's random source.
    pub fn new() -> Result<RunKey, std::io::Error> {
        use std::io::Read;
        let mut key = [0u8; 32];
        std::fs::File::open("/dev/urandom")?.read_exact(&mut key)?;
        Ok(RunKey(key))
    }

    fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn mac(&self, text: &[u8]) -> [u8; 32] {
        // HMAC-SHA256 (RFC 2104); the key is one block-sized-or-shorter secret.
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(&self.0);
        let inner = Sha256::new()
            .chain_update(block.map(|b| b ^ 0x36))
            .chain_update(text)
            .finalize();
        Sha256::new()
            .chain_update(block.map(|b| b ^ 0x5c))
            .chain_update(inner)
            .finalize()
            .into()
    }
}

impl std::fmt::Debug for RunKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RunKey(<redacted>)")
    }
}

/// How the program ended, as dm-init saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Exited(i64),
    Signaled(i64),
    /// dm-init itself could not start the program; the number says at which point.
    InitFailed(i64),
}

impl Ending {
    /// The exit code Docker records for dm-init after this ending.
    pub fn container_exit_code(self) -> i64 {
        match self {
            Ending::Exited(n) => n,
            Ending::Signaled(n) => 128 + n,
            Ending::InitFailed(_) => 125,
        }
    }
}

/// Which stream a trailer was found on; each trailer names its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    fn tag(self) -> char {
        match self {
            Stream::Stdout => 'o',
            Stream::Stderr => 'e',
        }
    }
}

/// A verified trailer: the ending, and how many bytes of the stream were the program's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trailer {
    pub ending: Ending,
    pub program_bytes: u64,
    /// Length of the trailer itself, at the end of the stream.
    pub len: usize,
}

/// Longest trailer dm-init writes, with room to spare.
pub const TRAILER_MAX: usize = 128;

fn trailer_text(stream: Stream, ending: Ending, bytes: u64) -> String {
    let (k, n) = match ending {
        Ending::Exited(n) => ('x', n),
        Ending::Signaled(n) => ('s', n),
        Ending::InitFailed(n) => ('i', n),
    };
    format!("DM1 {} {k}{n} {bytes}", stream.tag())
}

/// The trailer dm-init writes (the host never writes one; tests use this to check the parser).
pub fn trailer(key: &RunKey, stream: Stream, ending: Ending, bytes: u64) -> Vec<u8> {
    let text = trailer_text(stream, ending, bytes);
    let mac: String = key.mac(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    format!("\u{1}{text} {mac}\n").into_bytes()
}

/// Finds a valid trailer at the very end of `tail`, whose last byte is byte number `seen` of
/// the stream. Anything that does not verify — wrong key, wrong stream, a byte count that does
/// not match what arrived — is not a trailer: it is the program's output.
pub fn parse_trailer(tail: &[u8], seen: u64, key: &RunKey, stream: Stream) -> Option<Trailer> {
    let body = tail.strip_suffix(b"\n")?;
    let start = body.iter().rposition(|b| *b == 1)?;
    let line = std::str::from_utf8(&body[start + 1..]).ok()?;
    let (text, mac) = line.rsplit_once(' ')?;
    let mut parts = text.split(' ');
    let (Some("DM1"), Some(tag), Some(ending), Some(bytes), None) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    if tag.len() != 1 || !tag.starts_with(stream.tag()) || mac.len() != 64 {
        return None;
    }
    let expected = key.mac(text.as_bytes());
    let given: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(mac.get(2 * i..2 * i + 2)?, 16).ok())
        .collect::<Option<_>>()?;
    // Constant time: the comparison says nothing about how much of a guess was right.
    if given.iter().zip(expected.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) != 0 {
        return None;
    }
    let n: i64 = ending.get(1..)?.parse().ok()?;
    let ending = match ending.as_bytes().first()? {
        b'x' => Ending::Exited(n),
        b's' => Ending::Signaled(n),
        b'i' => Ending::InitFailed(n),
        _ => return None,
    };
    let program_bytes: u64 = bytes.parse().ok()?;
    let len = tail.len() - start;
    if program_bytes + len as u64 != seen {
        return None;
    }
    Some(Trailer {
        ending,
        program_bytes,
        len,
    })
}

/// Frames code and stdin for dm-init.
pub fn payload(key: &RunKey, kind: PayloadKind, file_name: &str, code: &[u8], stdin: &[u8]) -> Vec<u8> {
    let kind = match kind {
        PayloadKind::File => "file",
        PayloadKind::Tar => "tar",
    };
    let header = format!("{} {kind} {} {} {file_name}\n", key.hex(), code.len(), stdin.len());
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

    fn key() -> RunKey {
        RunKey::new().unwrap()
    }

    #[test]
    fn payload_header_carries_the_key_sizes_and_file() {
        let k = key();
        let p = payload(&k, PayloadKind::File, "main.py", b"print(1)\n", b"abc");
        let expected = format!("{} file 9 3 main.py\nprint(1)\nabc", k.hex());
        assert_eq!(p, expected.into_bytes());
        assert_eq!(format!("{k:?}"), "RunKey(<redacted>)");
        assert_ne!(k.hex(), key().hex());
    }

    #[test]
    fn only_an_authentic_trailer_at_the_right_place_counts() {
        let k = key();
        let mut out = b"partial line".to_vec();
        let t = trailer(&k, Stream::Stdout, Ending::Exited(3), 12);
        out.extend(&t);
        let seen = out.len() as u64;
        let found = parse_trailer(&out, seen, &k, Stream::Stdout).unwrap();
        assert_eq!(found.ending, Ending::Exited(3));
        assert_eq!(found.program_bytes, 12);
        assert_eq!(found.len, t.len());
        // Another key, the other stream, a wrong count, a flipped outcome: all mere output.
        assert_eq!(parse_trailer(&out, seen, &key(), Stream::Stdout), None);
        assert_eq!(parse_trailer(&out, seen, &k, Stream::Stderr), None);
        assert_eq!(parse_trailer(&out, seen + 1, &k, Stream::Stdout), None);
        let forged = String::from_utf8(t.clone()).unwrap().replace(" x3 ", " x0 ");
        let mut f = b"partial line".to_vec();
        f.extend(forged.as_bytes());
        assert_eq!(parse_trailer(&f, f.len() as u64, &k, Stream::Stdout), None);
        assert_eq!(parse_trailer(b"no trailer\n", 11, &k, Stream::Stdout), None);
        assert!(t.len() < TRAILER_MAX);
        // The tail may start inside a multi-byte character.
        let mut odd = vec![0xd0];
        odd.extend(trailer(&k, Stream::Stderr, Ending::Signaled(11), 1));
        let found = parse_trailer(&odd, odd.len() as u64, &k, Stream::Stderr).unwrap();
        assert_eq!(found.ending, Ending::Signaled(11));
        assert_eq!(found.ending.container_exit_code(), 139);
    }

    /// The protocol is one number in one file (read by the offline builder), and every
    /// production Dockerfile builds dm-init and labels the image with that number.
    #[test]
    fn every_image_recipe_carries_dm_init_of_this_protocol() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("containers");
        let protocol = std::fs::read_to_string(dir.join("init/PROTOCOL")).unwrap();
        assert_eq!(protocol.trim(), INIT_PROTOCOL);
        let langs = Languages::builtin(default_limits(10, 65536));
        for pack in langs.iter() {
            let path = dir.join(&pack.name).join("Dockerfile");
            let dockerfile = std::fs::read_to_string(&path).unwrap();
            assert!(
                dockerfile.contains(&format!("COPY --from=dm-init /dm-init {INIT}")),
                "{} does not install dm-init",
                path.display()
            );
            assert!(
                dockerfile.contains(&format!("LABEL {INIT_LABEL}=\"{INIT_PROTOCOL}\"")),
                "{} does not carry the dm-init label",
                path.display()
            );
        }
    }

    /// Builds dm-init from its source with the host's C compiler (as the image builder does).
    fn build_init() -> std::path::PathBuf {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("containers/init/dm-init.c");
        let out = std::env::temp_dir().join(format!("dm-init-test-{}", std::process::id()));
        let status = std::process::Command::new("cc")
            .args(["-O2", "-Wall", "-Werror", "-o"])
            .arg(&out)
            .arg(&src)
            .status()
            .expect("a C compiler (cc) is needed to build dm-init: apt-get install gcc libc6-dev");
        assert!(status.success(), "dm-init did not compile");
        out
    }

    /// dm-init, run here without Docker: the framing, the exact stdin, the forwarded output and
    /// an authenticated trailer that matches the program's real ending.
    #[test]
    fn dm_init_frames_code_and_stdin_and_reports_the_real_ending() {
        let init = build_init();
        let langs = Languages::builtin(default_limits(10, 65536));
        let mut pack = langs.find("python").unwrap().clone();
        pack.prepare = None;
        let dir = std::env::temp_dir().join(format!("dm-launcher-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cases = [
            (
                "cat \"$FILE\"; echo '|'; cat; echo '|'; echo oops >&2; exit 7",
                Ending::Exited(7),
            ),
            ("kill -SEGV $$", Ending::Signaled(11)),
            // A forged trailer printed by the program is forwarded as output, nothing more.
            ("printf '\\001DM1 o x0 0 %064d\\n' 0; exit 4", Ending::Exited(4)),
        ];
        for (run, ending) in cases {
            pack.run = run.into();
            let cmd = command(&pack, Step::Run);
            let k = key();
            let input = payload(&k, PayloadKind::File, "main.py", b"CODE\n", b"line1\nline2");
            let mut child = std::process::Command::new(&init)
                .args(&cmd[1..])
                .current_dir(&dir)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(&input).unwrap();
            // Extra bytes after the framed stdin must never reach the program.
            stdin.write_all(b"EXTRA").unwrap();
            drop(stdin);
            let out = child.wait_with_output().unwrap();
            let t = parse_trailer(&out.stdout, out.stdout.len() as u64, &k, Stream::Stdout).unwrap_or_else(|| {
                panic!(
                    "{run}: no valid stdout trailer in {:?}",
                    String::from_utf8_lossy(&out.stdout)
                )
            });
            let e = parse_trailer(&out.stderr, out.stderr.len() as u64, &k, Stream::Stderr).unwrap();
            assert_eq!(t.ending, ending, "{run}");
            assert_eq!(e.ending, ending, "{run}");
            assert_eq!(out.status.code(), Some(ending.container_exit_code() as i32), "{run}");
            let program = &out.stdout[..t.program_bytes as usize];
            if ending == Ending::Exited(7) {
                assert_eq!(String::from_utf8_lossy(program), "CODE\n|\nline1\nline2|\n");
                assert_eq!(&out.stderr[..e.program_bytes as usize], b"oops\n");
            }
        }
        // Compile mode: the compiler's output goes to stderr (even when the command `exec`s
        // the compiler), and stdout carries a tar of build/.
        let mut c = langs.find("c").unwrap().clone();
        c.compile = Some("exec sh -c 'echo warning; cp \"$FILE\" build/main'".into());
        let k = key();
        let mut child = std::process::Command::new(&init)
            .args(&command(&c, Step::Compile)[1..])
            .current_dir(&dir)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(&payload(&k, PayloadKind::File, "main.c", b"int main;", b""))
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let t = parse_trailer(&out.stdout, out.stdout.len() as u64, &k, Stream::Stdout).unwrap();
        let e = parse_trailer(&out.stderr, out.stderr.len() as u64, &k, Stream::Stderr).unwrap();
        assert_eq!(t.ending, Ending::Exited(0));
        assert_eq!(&out.stderr[..e.program_bytes as usize], b"warning\n");
        let tar = &out.stdout[..t.program_bytes as usize];
        assert!(
            tar.len() >= 1024 && tar.windows(10).any(|w| w == b"build/main"),
            "not a tar of build/"
        );
        assert!(tar.windows(9).any(|w| w == b"int main;"));
        std::fs::remove_dir_all(&dir).ok();
        std::fs::remove_file(&init).ok();
    }
}
