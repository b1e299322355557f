//! Language packs: `containers/<lang>/language.toml`, one folder per language.
//!
//! A pack is data, not code: the image, the file name, the compile and run commands and the
//! limits. Adding a language is adding a folder. The seven shipped packs are also built into the
//! binary, so `devmentor check` works from any directory.

use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// The packs shipped with the product, used when no `containers/` folder is found.
const BUILTIN: &[(&str, &str)] = &[
    ("python", include_str!("../../containers/python/language.toml")),
    ("javascript", include_str!("../../containers/javascript/language.toml")),
    ("c", include_str!("../../containers/c/language.toml")),
    ("cpp", include_str!("../../containers/cpp/language.toml")),
    ("java", include_str!("../../containers/java/language.toml")),
    ("go", include_str!("../../containers/go/language.toml")),
    ("rust", include_str!("../../containers/rust/language.toml")),
    ("typescript", include_str!("../../containers/typescript/language.toml")),
    ("sql", include_str!("../../containers/sql/language.toml")),
    ("php", include_str!("../../containers/php/language.toml")),
    ("ruby", include_str!("../../containers/ruby/language.toml")),
    ("bash", include_str!("../../containers/bash/language.toml")),
    ("pascal", include_str!("../../containers/pascal/language.toml")),
    ("csharp", include_str!("../../containers/csharp/language.toml")),
];

#[derive(Debug, thiserror::Error)]
pub enum LanguageError {
    #[error("language pack {path}: {message}")]
    Invalid { path: String, message: String },
    #[error("cannot read the language packs in {path}: {source}")]
    Read { path: String, source: std::io::Error },
}

/// Resource limits of one step (compile or run) of a check.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub timeout_s: f64,
    pub memory_mb: u64,
    pub cpus: f64,
    pub pids: i64,
    pub scratch_mb: u64,
    /// Output kept per stream, in KiB.
    pub output_kb: usize,
}

/// Limits as written in a file: every field optional, laid over the defaults.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LimitsOverride {
    pub timeout_s: Option<f64>,
    pub memory_mb: Option<u64>,
    pub cpus: Option<f64>,
    pub pids: Option<i64>,
    pub scratch_mb: Option<u64>,
    pub output_kb: Option<usize>,
}

impl Limits {
    pub fn apply(mut self, o: &LimitsOverride) -> Limits {
        if let Some(v) = o.timeout_s {
            self.timeout_s = v;
        }
        if let Some(v) = o.memory_mb {
            self.memory_mb = v;
        }
        if let Some(v) = o.cpus {
            self.cpus = v;
        }
        if let Some(v) = o.pids {
            self.pids = v;
        }
        if let Some(v) = o.scratch_mb {
            self.scratch_mb = v;
        }
        if let Some(v) = o.output_kb {
            self.output_kb = v;
        }
        self
    }

    fn validate(&self, what: &str) -> Result<(), String> {
        let ok = self.timeout_s > 0.0
            && self.timeout_s <= 600.0
            && (16..=65536).contains(&self.memory_mb)
            && self.cpus > 0.0
            && self.cpus <= 64.0
            && (8..=4096).contains(&self.pids)
            && (1..=4096).contains(&self.scratch_mb)
            && (1..=65536).contains(&self.output_kb);
        if ok {
            Ok(())
        } else {
            Err(format!(
                "{what} out of range (timeout_s 0–600, memory_mb 16–65536, cpus 0–64, pids 8–4096, scratch_mb 1–4096, output_kb 1–65536): {self:?}"
            ))
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PackFile {
    name: String,
    display_name: String,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    extensions: Vec<String>,
    image: String,
    file: String,
    #[serde(default)]
    file_from_source: Option<String>,
    #[serde(default)]
    compile: Option<String>,
    #[serde(default)]
    prepare: Option<String>,
    run: String,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    memory_error_patterns: Vec<String>,
    #[serde(default)]
    limits: LimitsOverride,
    #[serde(default)]
    compile_limits: LimitsOverride,
}

/// One language, ready to use.
#[derive(Debug, Clone)]
pub struct LanguagePack {
    pub name: String,
    pub display_name: String,
    pub aliases: Vec<String>,
    pub extensions: Vec<String>,
    pub image: String,
    pub file: String,
    pub file_from_source: Option<regex::Regex>,
    pub compile: Option<String>,
    /// Shell commands run when a container starts, before it waits for a program: set-up
    /// that would otherwise sit in the student's latency (Python writes its error hook).
    pub prepare: Option<String>,
    pub run: String,
    pub env: BTreeMap<String, String>,
    pub memory_error_patterns: Vec<String>,
    pub run_limits: Limits,
    pub compile_limits: Limits,
}

impl LanguagePack {
    /// Parses one `language.toml`. `defaults` are the run limits every language starts from.
    pub fn parse(text: &str, origin: &str, defaults: Limits) -> Result<LanguagePack, LanguageError> {
        let invalid = |message: String| LanguageError::Invalid {
            path: origin.to_string(),
            message,
        };
        let f: PackFile = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        if f.name.is_empty() || !f.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()) {
            return Err(invalid(format!(
                "name {:?} must be lowercase letters and digits",
                f.name
            )));
        }
        if !is_safe_file_name(&f.file) {
            return Err(invalid(format!("file {:?} must be a plain file name", f.file)));
        }
        let file_from_source = match f.file_from_source {
            None => None,
            Some(p) => {
                let re = regex::Regex::new(&p).map_err(|e| invalid(format!("file_from_source: {e}")))?;
                if re.capture_names().all(|n| n != Some("name")) {
                    return Err(invalid("file_from_source needs a (?P<name>…) group".into()));
                }
                Some(re)
            }
        };
        let run_limits = defaults.apply(&f.limits);
        // A compile step starts from generous defaults: compilers need more than programs.
        let compile_defaults = Limits {
            timeout_s: 30.0,
            memory_mb: 1024,
            pids: 128,
            scratch_mb: 256,
            ..run_limits
        };
        let compile_limits = compile_defaults.apply(&f.compile_limits);
        run_limits.validate("limits").map_err(invalid)?;
        compile_limits.validate("compile_limits").map_err(invalid)?;
        Ok(LanguagePack {
            aliases: f.aliases.iter().map(|a| a.to_lowercase()).collect(),
            extensions: f
                .extensions
                .iter()
                .map(|e| e.trim_start_matches('.').to_lowercase())
                .collect(),
            name: f.name,
            display_name: f.display_name,
            image: f.image,
            file: f.file,
            file_from_source,
            compile: f.compile.filter(|c| !c.trim().is_empty()),
            prepare: f.prepare.filter(|c| !c.trim().is_empty()),
            run: f.run,
            env: f.env,
            memory_error_patterns: f.memory_error_patterns,
            run_limits,
            compile_limits,
        })
    }

    pub fn is_compiled(&self) -> bool {
        self.compile.is_some()
    }

    /// The file name the source is saved under: Java's public class decides its file's name.
    pub fn file_name_for(&self, source: &str) -> String {
        if let Some(re) = &self.file_from_source {
            if let Some(name) = re.captures(source).and_then(|c| c.name("name")) {
                let ext = Path::new(&self.file).extension().and_then(|e| e.to_str()).unwrap_or("");
                let candidate = format!("{}.{ext}", name.as_str());
                if is_safe_file_name(&candidate) {
                    return candidate;
                }
            }
        }
        self.file.clone()
    }
}

fn is_safe_file_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// All known languages, by name.
#[derive(Debug, Clone)]
pub struct Languages {
    packs: BTreeMap<String, LanguagePack>,
}

impl Languages {
    /// Loads every `<dir>/<lang>/language.toml`, or the built-in packs when `dir` does not exist.
    /// `overrides` are the operator's per-language limits from `devmentor.toml`.
    pub fn load(
        dir: &Path,
        defaults: Limits,
        overrides: &BTreeMap<String, LimitsOverride>,
    ) -> Result<Languages, LanguageError> {
        let mut sources = Vec::new();
        if dir.is_dir() {
            let entries = std::fs::read_dir(dir).map_err(|source| LanguageError::Read {
                path: dir.display().to_string(),
                source,
            })?;
            for entry in entries.flatten() {
                let path = entry.path().join("language.toml");
                if path.is_file() {
                    let text = std::fs::read_to_string(&path).map_err(|source| LanguageError::Read {
                        path: path.display().to_string(),
                        source,
                    })?;
                    sources.push((path.display().to_string(), text));
                }
            }
        }
        if sources.is_empty() {
            sources = BUILTIN
                .iter()
                .map(|(n, t)| (format!("(built-in) {n}/language.toml"), t.to_string()))
                .collect();
        }
        let mut packs = BTreeMap::new();
        for (origin, text) in sources {
            let mut pack = LanguagePack::parse(&text, &origin, defaults)?;
            if let Some(o) = overrides.get(&pack.name) {
                pack.run_limits = pack.run_limits.apply(o);
            }
            packs.insert(pack.name.clone(), pack);
        }
        Ok(Languages { packs })
    }

    /// The packs as the configuration asks: its folder, its default limits and overrides.
    pub fn from_config(c: &crate::config::SandboxConfig) -> Result<Languages, LanguageError> {
        Self::load(
            &c.languages_dir,
            default_limits(c.exec_timeout_seconds, c.output_limit_bytes),
            &c.limits,
        )
    }

    pub fn builtin(defaults: Limits) -> Languages {
        // The built-in packs are checked by a unit test, so parsing them cannot fail at run time.
        Self::load(Path::new("/nonexistent/devmentor-builtin"), defaults, &BTreeMap::new())
            .unwrap_or_else(|e| panic!("built-in language packs are invalid: {e}"))
    }

    /// Finds a language by name or alias (`py`, `c++`, `golang`…), case-insensitively.
    pub fn find(&self, name: &str) -> Option<&LanguagePack> {
        let name = name.trim().to_lowercase();
        self.packs
            .get(&name)
            .or_else(|| self.packs.values().find(|p| p.aliases.contains(&name)))
    }

    /// Finds a language by a file's extension.
    pub fn by_extension(&self, ext: &str) -> Option<&LanguagePack> {
        let ext = ext.trim_start_matches('.').to_lowercase();
        self.packs.values().find(|p| p.extensions.contains(&ext))
    }

    pub fn names(&self) -> Vec<&str> {
        self.packs.keys().map(String::as_str).collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = &LanguagePack> {
        self.packs.values()
    }
}

/// Limits every language starts from, before its own `[limits]`.
pub fn default_limits(exec_timeout_seconds: u64, output_limit_bytes: usize) -> Limits {
    Limits {
        timeout_s: exec_timeout_seconds as f64,
        memory_mb: 256,
        cpus: 1.0,
        pids: 64,
        scratch_mb: 64,
        output_kb: output_limit_bytes.div_ceil(1024).max(1),
    }
}

/// Per-language warm-pool sizes from the configuration.
pub fn pool_sizes(default: usize, per_language: &HashMap<String, usize>, langs: &Languages) -> HashMap<String, usize> {
    langs
        .iter()
        .map(|p| (p.name.clone(), per_language.get(&p.name).copied().unwrap_or(default)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn langs() -> Languages {
        Languages::builtin(default_limits(10, 65536))
    }

    #[test]
    fn the_seven_builtin_packs_parse() {
        let l = langs();
        // Each built-in pack by name (other languages may be added beside them).
        for name in [
            "c",
            "cpp",
            "go",
            "java",
            "javascript",
            "python",
            "rust",
            "php",
            "ruby",
            "bash",
        ] {
            assert!(l.names().contains(&name), "{name} is built in: {:?}", l.names());
        }
        for p in l.iter() {
            assert!(p.image.starts_with("devmentor/"), "{}", p.name);
        }
        assert!(l.find("java").unwrap().is_compiled());
        assert!(!l.find("python").unwrap().is_compiled());
    }

    #[test]
    fn aliases_and_extensions_find_languages() {
        let l = langs();
        assert_eq!(l.find("PY").unwrap().name, "python");
        assert_eq!(l.find("c++").unwrap().name, "cpp");
        assert_eq!(l.by_extension(".rs").unwrap().name, "rust");
        assert_eq!(l.by_extension("JS").unwrap().name, "javascript");
        assert!(l.find("cobol").is_none());
        assert!(l.by_extension("txt").is_none());
        assert_eq!(l.find("rb").unwrap().name, "ruby");
        assert_eq!(l.find("Shell").unwrap().name, "bash");
        assert_eq!(l.by_extension("sh").unwrap().name, "bash");
        assert_eq!(l.by_extension("php").unwrap().name, "php");
    }

    #[test]
    fn java_file_name_follows_the_public_class() {
        let l = langs();
        let java = l.find("java").unwrap();
        assert_eq!(java.file_name_for("public class Hello { }"), "Hello.java");
        assert_eq!(java.file_name_for("class Hidden { }"), "Main.java");
        assert_eq!(java.file_name_for("public final class Äpfel {}"), "Main.java");
    }

    #[test]
    fn limits_are_layered_and_validated() {
        let mut o = BTreeMap::new();
        o.insert(
            "python".to_string(),
            LimitsOverride {
                memory_mb: Some(128),
                ..Default::default()
            },
        );
        let l = Languages::load(Path::new("/nonexistent"), default_limits(7, 65536), &o).unwrap();
        let py = l.find("python").unwrap();
        assert_eq!(py.run_limits.memory_mb, 128);
        assert_eq!(py.run_limits.timeout_s, 7.0);
        let c = l.find("c").unwrap();
        assert_eq!(c.compile_limits.memory_mb, 512);
        let bad = "name='x'\ndisplay_name='X'\nimage='i'\nfile='a.x'\nrun='r'\n[limits]\nmemory_mb=1\n";
        let err = LanguagePack::parse(bad, "t", default_limits(10, 1024)).unwrap_err();
        assert!(err.to_string().contains("out of range"), "{err}");
        let bad = "name='x'\ndisplay_name='X'\nimage='i'\nfile='../a'\nrun='r'\n";
        assert!(LanguagePack::parse(bad, "t", default_limits(10, 1024)).is_err());
    }
}
