//! Helpers shared by sdk-gen's integration tests: where the fixtures and the
//! shared real specs are, and running `tsc` over generated declarations.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root (one level above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("sdk-gen lives inside the workspace")
        .to_path_buf()
}

pub fn fixture(name: &str) -> String {
    workspace_root()
        .join("fixtures")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// `../shared/specs` beside the project, or `$CODEMODE_SHARED/specs`.
pub fn shared_specs() -> PathBuf {
    match std::env::var_os("CODEMODE_SHARED") {
        Some(dir) => PathBuf::from(dir).join("specs"),
        None => workspace_root().join("..").join("shared").join("specs"),
    }
}

/// One row of `shared/specs/INDEX.tsv`.
#[derive(Debug)]
pub struct SharedSpec {
    pub name: String,
    pub path: PathBuf,
    pub operations: usize,
}

pub fn shared_index() -> Vec<SharedSpec> {
    let dir = shared_specs();
    let index = std::fs::read_to_string(dir.join("INDEX.tsv")).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}. The real-spec tests need ../shared beside the project (or CODEMODE_SHARED set)",
            dir.join("INDEX.tsv").display()
        )
    });
    let mut lines = index.lines();
    let header: Vec<&str> = lines
        .next()
        .expect("INDEX.tsv has a header")
        .split('\t')
        .collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .expect("INDEX.tsv column")
    };
    let (name_col, path_col, ops_col) = (col("name"), col("path"), col("operations"));
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cells: Vec<&str> = l.split('\t').collect();
            SharedSpec {
                name: cells[name_col].to_string(),
                path: dir.join(cells[path_col]),
                operations: cells[ops_col].parse().expect("operation count"),
            }
        })
        .collect()
}

/// The `tsc` installed by `npm ci` at the workspace root (or `$TSC`).
pub fn tsc() -> PathBuf {
    if let Some(p) = std::env::var_os("TSC") {
        return PathBuf::from(p);
    }
    let local = workspace_root()
        .join("node_modules")
        .join(".bin")
        .join("tsc");
    assert!(
        local.exists(),
        "tsc not found at {}: run `npm ci` in the project root first (it installs TypeScript), or set TSC",
        local.display()
    );
    local
}

/// Writes each `(file name, declarations)` pair to a temporary directory and
/// runs `tsc --noEmit --strict` over all of them at once; panics with tsc's
/// output when it reports anything.
pub fn assert_tsc_accepts(files: &[(String, String)]) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut paths = Vec::new();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write declarations");
        paths.push(path);
    }
    let output = Command::new(tsc())
        .args([
            "--noEmit", "--strict", "--lib", "es2022", "--pretty", "false",
        ])
        .args(&paths)
        .output()
        .expect("run tsc");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.trim().is_empty(),
        "tsc rejected the generated declarations:\n{stdout}\n{stderr}"
    );
}
