#!/bin/sh
# Image preparation of the typescript language pack: a V8 start-up snapshot of a warm tsc in
# /opt/devmentor/tsc.blob. Run as root inside the image being built, by both builders:
# containers/build-images.sh (in the chroot, before trimming) and containers/typescript/Dockerfile
# (a RUN line), with language.toml next to it.
#
# Why: before reading a line of the student's code, tsc loads its own 6 MB of JavaScript and
# parses and binds about 60,000 lines of declarations (lib.es2022 and @types/node), the same
# for every program. The snapshot holds a heap in which that work is done; `node
# --snapshot-blob` restores it and only main.ts is parsed and checked. The compiler is Debian's
# typescript.js itself, driven through its public API with the options of language.toml
# (TSC_OPTIONS in its [env]), and it prints the same `main.ts(L,C): error TSxxxx: …` lines and
# exits non-zero as tsc does. The compile command runs plain tsc when the snapshot is absent.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=/opt/devmentor/tsc.blob
TSC_OPTIONS=$(sed -n 's/^[[:space:]]*TSC_OPTIONS[[:space:]]*=[[:space:]]*"\(.*\)"[[:space:]]*$/\1/p' "$here/language.toml")
[ -n "$TSC_OPTIONS" ] || { echo "TSC_OPTIONS is missing from the [env] of language.toml" >&2; exit 1; }
export TSC_OPTIONS

warm=/tmp/devmentor-warm
mkdir -p "$warm" /opt/devmentor
cat >"$warm/tsc-snapshot.js" <<'JS'
// Built into a V8 start-up snapshot (node --build-snapshot): see containers/typescript/prepare.sh.
"use strict";
const fs = require("fs");
const path = require("path");
const v8 = require("v8");

// A snapshot's entry script may only require Node's own modules: typescript.js is evaluated
// as the CommonJS module it is.
const tsPath = "/usr/share/nodejs/typescript/lib/typescript.js";
const mod = { exports: {} };
new Function("module", "exports", "require", "__filename", "__dirname", fs.readFileSync(tsPath, "utf8"))(
  mod, mod.exports, require, tsPath, path.dirname(tsPath));
const ts = mod.exports;

// Declaration files, parsed (and, once a checker has run, bound) at build time. The student's
// own file is never cached.
const cache = new Map();
function host(options) {
  const h = ts.createCompilerHost(options);
  const read = h.getSourceFile;
  h.getSourceFile = (name, version, onError, create) => {
    if (!name.endsWith(".d.ts")) return read.call(h, name, version, onError, create);
    let file = cache.get(name);
    if (!file) {
      file = read.call(h, name, version, onError, create);
      if (file) cache.set(name, file);
    }
    return file;
  };
  return h;
}

function compile(args) {
  const parsed = ts.parseCommandLine(args);
  const formatHost = {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => process.cwd(),
    getNewLine: () => "\n",
  };
  if (parsed.errors.length > 0) {
    process.stdout.write(ts.formatDiagnostics(parsed.errors, formatHost));
    return 1;
  }
  const program = ts.createProgram(parsed.fileNames, parsed.options, host(parsed.options));
  // What tsc's emitFilesAndReportErrors reports, in its order: the type errors only when the
  // syntax is sound, so a file with both gets the same first message as from tsc itself.
  let all = program.getSyntacticDiagnostics().slice();
  if (all.length === 0) {
    all = all.concat(program.getOptionsDiagnostics(), program.getGlobalDiagnostics());
    if (all.length === 0) all = all.concat(program.getSemanticDiagnostics());
  }
  const emitted = program.emit();
  const diagnostics = ts.sortAndDeduplicateDiagnostics(all.concat(emitted.diagnostics));
  process.stdout.write(ts.formatDiagnostics(diagnostics, formatHost));
  // tsc's exit codes: 0 clean, 1 errors and nothing written, 2 errors and output written.
  if (diagnostics.length === 0) return 0;
  return emitted.emitSkipped ? 1 : 2;
}

// Warm up with the pack's own options, so the declaration files it loads are the cached ones.
const warm = "/tmp/devmentor-warm/warm";
fs.mkdirSync(warm, { recursive: true });
fs.writeFileSync(path.join(warm, "main.ts"),
  'import * as fs from "fs";\nconst lines: string[] = fs.readFileSync(0, "utf8").split("\\n");\nconsole.log(lines.length, [1, 2].at(-1), new Map<string, number>());\n');
process.chdir(warm);
const status = compile(process.env.TSC_OPTIONS.split(/\s+/).filter(Boolean).concat(["main.ts"]));
if (status !== 0) throw new Error("the warm-up program did not compile");
process.chdir("/");

v8.startupSnapshot.setDeserializeMainFunction(() => {
  // `node --snapshot-blob tsc.blob -- OPTIONS main.ts`: everything after `--`.
  const dash = process.argv.indexOf("--");
  process.exitCode = compile(process.argv.slice(dash >= 0 ? dash + 1 : 1));
});
JS
cd "$warm"
node --snapshot-blob "$out" --build-snapshot tsc-snapshot.js
chmod 0644 "$out"
rm -rf "$warm"
echo "tsc start-up snapshot: $(du -h "$out" | cut -f1) in $out"
