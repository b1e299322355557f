//! Embeds the starter task set (`containers/tasks/<slug>/`) in the library, so `devmentor
//! migrate` loads it from any directory and in the app image, as the error catalogue is.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let root = Path::new("containers/tasks");
    println!("cargo:rerun-if-changed=containers/tasks");
    let mut out = String::from(
        "/// A file of a task folder: its name and text.\npub type File = (&'static str, &'static str);\n",
    );
    out.push_str("/// (slug, task.toml, solution files) of every starter task.\n");
    out.push_str("pub const STARTER: &[(&str, &str, &[File])] = &[\n");
    let mut dirs: Vec<_> = std::fs::read_dir(root)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    for dir in dirs {
        println!("cargo:rerun-if-changed={}", dir.display());
        let toml = dir.join("task.toml");
        if !toml.exists() {
            continue;
        }
        let slug = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        let abs = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        let _ = write!(
            out,
            "    ({slug:?}, include_str!({:?}), &[",
            abs(&toml).display().to_string()
        );
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort();
        for f in files {
            let name = f.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
            if name.starts_with("solution.") {
                println!("cargo:rerun-if-changed={}", f.display());
                let _ = write!(out, "({name:?}, include_str!({:?})), ", abs(&f).display().to_string());
            }
        }
        out.push_str("]),\n");
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("starter_tasks.rs");
    std::fs::write(dest, out).expect("writing the starter task list");
}
