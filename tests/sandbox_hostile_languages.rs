//! The security suite, language by language: a fork bomb, a memory hog, a busy loop, an output
//! flood and a connection to the host, written in each of the 14 languages the sandbox runs
//! (where the language can express it: SQL neither forks nor connects, Pascal does not connect). Each case asserts the verdict the student would see and that the
//! host is unharmed (no container left behind, the host's listener saw nothing).

mod common;

use common::{check, finish, sandbox};
use devmentor::check::CheckResult;
use devmentor::sandbox::Verdict;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// One language's hostile programs. `connect` reads "HOST PORT" from stdin, tries a TCP
/// connection and prints `CONNECTED` or `blocked …`.
struct Hostile {
    lang: &'static str,
    /// Starts processes (or threads, where the language has no fork) without end.
    fork_bomb: Option<&'static str>,
    memory_hog: &'static str,
    busy_loop: &'static str,
    flood: &'static str,
    connect: Option<&'static str>,
}

const TIMEOUT_S: u64 = 3;

fn shown(r: &CheckResult) -> String {
    format!(
        "{} exit={:?} signal={:?}\nstdout: {:.300}\nstderr: {:.600}",
        r.verdict, r.exit_code, r.signal, r.stdout, r.stderr
    )
}

async fn run_all(h: &Hostile) {
    let (sb, limits) = sandbox(|c| c.exec_timeout_seconds = TIMEOUT_S).await;
    let lang = h.lang;
    // Compiled languages compile first, under their own time limit.
    let bound = Duration::from_secs(TIMEOUT_S + 60);

    if let Some(code) = h.fork_bomb {
        let t = Instant::now();
        let r = check(&sb, &limits, lang, code, "").await;
        assert!(
            matches!(
                r.verdict,
                Verdict::RuntimeError | Verdict::Timeout | Verdict::MemoryLimit
            ),
            "{lang} fork bomb: {}",
            shown(&r)
        );
        assert!(t.elapsed() < bound, "{lang} fork bomb took {:?}", t.elapsed());
        // The host can still start processes.
        assert!(std::process::Command::new("true")
            .status()
            .expect("host can fork")
            .success());
    }

    let r = check(&sb, &limits, lang, h.memory_hog, "").await;
    assert_eq!(r.verdict, Verdict::MemoryLimit, "{lang} memory hog: {}", shown(&r));

    let r = check(&sb, &limits, lang, h.busy_loop, "").await;
    assert_eq!(r.verdict, Verdict::Timeout, "{lang} busy loop: {}", shown(&r));
    assert!(
        r.duration_ms >= TIMEOUT_S * 1000 && r.duration_ms < TIMEOUT_S * 1000 + 1500,
        "{lang} busy loop: reported {} ms for a {TIMEOUT_S} s limit",
        r.duration_ms
    );

    let t = Instant::now();
    let r = check(&sb, &limits, lang, h.flood, "").await;
    assert!(r.truncated, "{lang} flood: {}", shown(&r));
    assert!(
        !matches!(r.verdict, Verdict::Ok | Verdict::InternalError),
        "{lang} flood: a run stopped for its output is not a success: {}",
        shown(&r)
    );
    let cap = sb.languages().find(lang).expect("the language").run_limits.output_kb * 1024;
    assert!(
        r.stdout.len() <= cap,
        "{lang} flood kept {} bytes, over the {cap}-byte cap",
        r.stdout.len()
    );
    assert!(t.elapsed() < bound, "{lang} flood took {:?}", t.elapsed());

    if let Some(code) = h.connect {
        let host = common::bridge::host_address();
        let listener = TcpListener::bind((Ipv4Addr::UNSPECIFIED, 0)).expect("a port to listen on");
        let port = listener.local_addr().expect("its port").port();
        // The control: the address and port answer from the host itself.
        TcpStream::connect_timeout(&(host, port).into(), Duration::from_secs(2))
            .unwrap_or_else(|e| panic!("control: {host}:{port} does not answer on the host: {e}"));
        listener.accept().expect("the control connection");
        listener.set_nonblocking(true).expect("non-blocking accept");
        let r = check(&sb, &limits, lang, code, &format!("{host} {port}\n")).await;
        assert_eq!(r.verdict, Verdict::Ok, "{lang} connect: {}", shown(&r));
        assert!(r.stdout.contains("blocked"), "{lang} connect: {}", shown(&r));
        assert!(!r.stdout.contains("CONNECTED"), "{lang} connect: {}", shown(&r));
        match listener.accept() {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            other => panic!("{lang}: the host's listener saw a connection from the sandbox: {other:?}"),
        }
    }
    finish(sb).await;
}

macro_rules! hostile_tests {
    ($($name:ident => $table:expr;)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                run_all(&$table).await;
            }
        )*
    };
}

hostile_tests! {
    python => PYTHON;
    javascript => JAVASCRIPT;
    c => C;
    cpp => CPP;
    java => JAVA;
    go => GO;
    rust => RUST;
    pascal => PASCAL;
    csharp => CSHARP;
    php => PHP;
    ruby => RUBY;
    typescript => TYPESCRIPT;
    bash => BASH;
    sql => SQL;
}

const PYTHON: Hostile = Hostile {
    lang: "python",
    fork_bomb: Some("import os\nwhile True:\n    os.fork()\n"),
    memory_hog: "chunks = []\nwhile True:\n    chunks.append(bytearray(10 * 1024 * 1024))\n",
    busy_loop: "while True:\n    pass\n",
    flood: "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n",
    connect: Some(
        "import socket\nhost, port = input().split()\ns = socket.socket()\ns.settimeout(2)\ntry:\n    s.connect((host, int(port)))\n    print('CONNECTED')\nexcept OSError as e:\n    print('blocked', e.errno)\n",
    ),
};

const JAVASCRIPT: Hostile = Hostile {
    lang: "javascript",
    fork_bomb: Some(
        "const { spawn } = require('child_process');\nfor (;;) {\n  try { spawn('/bin/sh', ['-c', 'sleep 100']).on('error', () => {}); } catch (e) {}\n}\n",
    ),
    memory_hog: "const chunks = [];\nfor (;;) chunks.push(Buffer.alloc(10 * 1024 * 1024, 1));\n",
    busy_loop: "for (;;) {}\n",
    flood: "const fs = require('fs');\nconst s = 'x'.repeat(65536);\nfor (;;) fs.writeSync(1, s);\n",
    connect: Some(
        "const net = require('net');\nconst [host, port] = require('fs').readFileSync(0, 'utf8').trim().split(' ');\nconst s = net.connect(Number(port), host);\ns.on('connect', () => { console.log('CONNECTED'); process.exit(0); });\ns.on('error', (e) => { console.log('blocked', e.code); process.exit(0); });\nsetTimeout(() => { console.log('blocked timeout'); process.exit(0); }, 2000);\n",
    ),
};

const C_CONNECT: &str = r#"#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
int main(void) {
    char host[64]; int port;
    if (scanf("%63s %d", host, &port) != 2) return 2;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) { printf("blocked socket %s\n", strerror(errno)); return 0; }
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET; a.sin_port = htons(port); inet_pton(AF_INET, host, &a.sin_addr);
    if (connect(s, (struct sockaddr *)&a, sizeof a) == 0) printf("CONNECTED\n");
    else printf("blocked %s\n", strerror(errno));
    return 0;
}
"#;

const C: Hostile = Hostile {
    lang: "c",
    fork_bomb: Some("#include <unistd.h>\nint main(void) { for (;;) fork(); }\n"),
    memory_hog: "#include <stdlib.h>\n#include <string.h>\nint main(void) { for (;;) { char *p = malloc(1 << 20); if (!p) return 2; memset(p, 1, 1 << 20); } }\n",
    busy_loop: "int main(void) { volatile unsigned long i = 0; for (;;) i++; }\n",
    flood: "#include <stdio.h>\nint main(void) { for (;;) fputs(\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\\n\", stdout); }\n",
    connect: Some(C_CONNECT),
};

const CPP: Hostile = Hostile {
    lang: "cpp",
    fork_bomb: Some("#include <unistd.h>\nint main() { for (;;) fork(); }\n"),
    memory_hog: "#include <vector>\n#include <cstring>\nint main() { std::vector<char*> v; for (;;) { char *p = new char[1 << 20]; std::memset(p, 1, 1 << 20); v.push_back(p); } }\n",
    busy_loop: "int main() { volatile unsigned long i = 0; for (;;) i++; }\n",
    flood: "#include <iostream>\nint main() { for (;;) std::cout << \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\\n\"; }\n",
    connect: Some(C_CONNECT),
};

const JAVA: Hostile = Hostile {
    lang: "java",
    // No fork in Java: threads count against the same pids limit.
    fork_bomb: Some(
        "public class Main { public static void main(String[] a) { for (;;) { new Thread(() -> { try { Thread.sleep(100000); } catch (InterruptedException e) {} }).start(); } } }\n",
    ),
    memory_hog: "import java.util.*;\npublic class Main { public static void main(String[] a) { List<byte[]> l = new ArrayList<>(); for (;;) l.add(new byte[10 << 20]); } }\n",
    busy_loop: "public class Main { public static void main(String[] a) { long i = 0; while (true) { i++; } } }\n",
    flood: "public class Main { public static void main(String[] a) { String s = \"x\".repeat(1000); while (true) System.out.print(s); } }\n",
    connect: Some(
        "import java.net.*;\nimport java.util.*;\npublic class Main { public static void main(String[] a) throws Exception { Scanner in = new Scanner(System.in); String host = in.next(); int port = in.nextInt(); try (Socket s = new Socket()) { s.connect(new InetSocketAddress(host, port), 2000); System.out.println(\"CONNECTED\"); } catch (Exception e) { System.out.println(\"blocked \" + e.getMessage()); } } }\n",
    ),
};

const GO: Hostile = Hostile {
    lang: "go",
    fork_bomb: Some(
        "package main\n\nimport \"os/exec\"\n\nfunc main() {\n\tfor {\n\t\t_ = exec.Command(\"/bin/sh\", \"-c\", \"sleep 100\").Start()\n\t}\n}\n",
    ),
    memory_hog: "package main\n\nfunc main() {\n\tvar all [][]byte\n\tfor {\n\t\tb := make([]byte, 10<<20)\n\t\tfor i := range b {\n\t\t\tb[i] = 1\n\t\t}\n\t\tall = append(all, b)\n\t}\n}\n",
    busy_loop: "package main\n\nfunc main() {\n\ti := 0\n\tfor {\n\t\ti++\n\t}\n}\n",
    flood: "package main\n\nimport (\n\t\"os\"\n\t\"strings\"\n)\n\nfunc main() {\n\ts := strings.Repeat(\"x\", 65536)\n\tfor {\n\t\tos.Stdout.WriteString(s)\n\t}\n}\n",
    connect: Some(
        "package main\n\nimport (\n\t\"fmt\"\n\t\"net\"\n\t\"time\"\n)\n\nfunc main() {\n\tvar host, port string\n\tfmt.Scan(&host, &port)\n\tc, err := net.DialTimeout(\"tcp\", net.JoinHostPort(host, port), 2*time.Second)\n\tif err != nil {\n\t\tfmt.Println(\"blocked\", err)\n\t\treturn\n\t}\n\tc.Close()\n\tfmt.Println(\"CONNECTED\")\n}\n",
    ),
};

const RUST: Hostile = Hostile {
    lang: "rust",
    fork_bomb: Some(
        "fn main() {\n    loop {\n        let _ = std::process::Command::new(\"/bin/sh\").arg(\"-c\").arg(\"sleep 100\").spawn();\n    }\n}\n",
    ),
    memory_hog: "fn main() {\n    let mut all = Vec::new();\n    loop {\n        all.push(vec![1u8; 10 << 20]);\n    }\n}\n",
    busy_loop: "fn main() {\n    let mut i: u64 = 0;\n    loop {\n        i = i.wrapping_add(1);\n        std::hint::black_box(i);\n    }\n}\n",
    flood: "use std::io::Write;\nfn main() {\n    let s = \"x\".repeat(65536);\n    let mut out = std::io::stdout();\n    loop {\n        let _ = out.write_all(s.as_bytes());\n    }\n}\n",
    connect: Some(
        "use std::net::{TcpStream, ToSocketAddrs};\nuse std::time::Duration;\nfn main() {\n    let mut line = String::new();\n    std::io::stdin().read_line(&mut line).unwrap();\n    let mut it = line.split_whitespace();\n    let (host, port) = (it.next().unwrap(), it.next().unwrap());\n    let addr = format!(\"{host}:{port}\").to_socket_addrs().unwrap().next().unwrap();\n    match TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {\n        Ok(_) => println!(\"CONNECTED\"),\n        Err(e) => println!(\"blocked {e}\"),\n    }\n}\n",
    ),
};

const PASCAL: Hostile = Hostile {
    lang: "pascal",
    fork_bomb: Some("uses BaseUnix;\nbegin\n  while true do\n    fpFork;\nend.\n"),
    memory_hog: "var p: pointer;\nbegin\n  while true do\n  begin\n    GetMem(p, 10 * 1024 * 1024);\n    FillChar(p^, 10 * 1024 * 1024, 1);\n  end;\nend.\n",
    busy_loop: "begin\n  while true do ;\nend.\n",
    flood: "begin\n  while true do\n    writeln('xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx');\nend.\n",
    // Free Pascal's socket units are not part of a beginner's toolbox; the C case covers the kernel.
    connect: None,
};

const CSHARP: Hostile = Hostile {
    lang: "csharp",
    // Threads count against the pids limit like processes.
    fork_bomb: Some(
        "using System.Threading;\nclass Program {\n    static void Main() {\n        while (true) new Thread(() => Thread.Sleep(100000)).Start();\n    }\n}\n",
    ),
    memory_hog: "using System.Collections.Generic;\nclass Program {\n    static void Main() {\n        var all = new List<byte[]>();\n        while (true) {\n            var b = new byte[10 << 20];\n            for (int i = 0; i < b.Length; i += 4096) b[i] = 1;\n            all.Add(b);\n        }\n    }\n}\n",
    busy_loop: "class Program {\n    static void Main() {\n        long i = 0;\n        while (true) i++;\n    }\n}\n",
    flood: "class Program {\n    static void Main() {\n        var s = new string('x', 1000);\n        while (true) System.Console.Write(s);\n    }\n}\n",
    connect: Some(
        "using System;\nusing System.Net.Sockets;\nclass Program {\n    static void Main() {\n        var parts = Console.ReadLine().Split(' ');\n        try {\n            var c = new TcpClient();\n            if (c.ConnectAsync(parts[0], int.Parse(parts[1])).Wait(2000)) Console.WriteLine(\"CONNECTED\");\n            else Console.WriteLine(\"blocked timeout\");\n        } catch (Exception e) {\n            Console.WriteLine(\"blocked \" + e.GetBaseException().Message);\n        }\n    }\n}\n",
    ),
};

const PHP: Hostile = Hostile {
    lang: "php",
    fork_bomb: Some("<?php\nwhile (true) {\n    @proc_open('sleep 100', [], $pipes);\n}\n"),
    memory_hog: "<?php\n$all = [];\nwhile (true) {\n    $all[] = str_repeat('x', 10 * 1024 * 1024);\n}\n",
    busy_loop: "<?php\nwhile (true) {\n}\n",
    flood: "<?php\n$s = str_repeat('x', 65536);\nwhile (true) {\n    echo $s;\n}\n",
    connect: Some(
        "<?php\n[$host, $port] = explode(' ', trim(fgets(STDIN)));\n$s = @fsockopen($host, (int)$port, $errno, $errstr, 2);\necho $s ? \"CONNECTED\\n\" : \"blocked $errstr\\n\";\n",
    ),
};

const RUBY: Hostile = Hostile {
    lang: "ruby",
    fork_bomb: Some("loop do\n  begin\n    fork { sleep 100 }\n  rescue StandardError\n  end\nend\n"),
    memory_hog: "all = []\nloop { all << ('x' * (10 * 1024 * 1024)) }\n",
    busy_loop: "loop {}\n",
    flood: "s = 'x' * 65536\nloop { $stdout.write(s) }\n",
    connect: Some(
        "require 'socket'\nhost, port = gets.split\nbegin\n  Socket.tcp(host, port.to_i, connect_timeout: 2)\n  puts 'CONNECTED'\nrescue StandardError => e\n  puts \"blocked #{e.class}\"\nend\n",
    ),
};

const TYPESCRIPT: Hostile = Hostile {
    lang: "typescript",
    fork_bomb: Some(
        "import { spawn } from \"child_process\";\nfor (;;) {\n  try {\n    spawn(\"/bin/sh\", [\"-c\", \"sleep 100\"]).on(\"error\", () => {});\n  } catch (e) {}\n}\n",
    ),
    memory_hog: "const chunks: Buffer[] = [];\nfor (;;) chunks.push(Buffer.alloc(10 * 1024 * 1024, 1));\n",
    busy_loop: "let i = 0;\nfor (;;) i++;\n",
    flood: "import * as fs from \"fs\";\nconst s: string = \"x\".repeat(65536);\nfor (;;) fs.writeSync(1, s);\n",
    connect: Some(
        "import * as net from \"net\";\nimport * as fs from \"fs\";\nconst [host, port] = fs.readFileSync(0, \"utf8\").trim().split(\" \");\nconst s = net.connect(Number(port), host);\ns.on(\"connect\", () => { console.log(\"CONNECTED\"); process.exit(0); });\ns.on(\"error\", (e: Error) => { console.log(\"blocked\", e.message); process.exit(0); });\nsetTimeout(() => { console.log(\"blocked timeout\"); process.exit(0); }, 2000);\n",
    ),
};

const BASH: Hostile = Hostile {
    lang: "bash",
    fork_bomb: Some("while true; do\n  sleep 100 &\ndone\n"),
    memory_hog: "a=x\nwhile true; do\n  a=$a$a\ndone\n",
    busy_loop: "while :; do :; done\n",
    flood: "yes xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
    connect: Some(
        "read -r host port\nif (echo > \"/dev/tcp/$host/$port\") 2>/dev/null; then\n  echo CONNECTED\nelse\n  echo blocked\nfi\n",
    ),
};

const SQL: Hostile = Hostile {
    lang: "sql",
    // SQL starts no processes and opens no sockets.
    fork_bomb: None,
    memory_hog: "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r)\nSELECT length(group_concat(hex(randomblob(1000)))) FROM r;\n",
    busy_loop: "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r)\nSELECT count(*) FROM r;\n",
    // The table mode lays out a whole result before printing it: an endless query is a memory
    // hog (above); a big finite one floods.
    flood: "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r LIMIT 200000)\nSELECT x, 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' FROM r;\n",
    connect: None,
};
