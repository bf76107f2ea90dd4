//! Drives the real `codemode serve` binary with the official Python MCP
//! client (mcp 2.x) over Streamable HTTP (both protocol eras) and stdio:
//! see tests/python/mcp_e2e.py for what is checked.
//!
//! Needs a Python with `mcp==2.3.0`: `$CODEMODE_TEST_PYTHON`, else
//! `target/py-venv/bin/python` (`.ci/run` creates it). Fails, never skips,
//! when it is missing.

use std::path::PathBuf;
use std::process::Command;

fn python() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let python = std::env::var_os("CODEMODE_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/py-venv/bin/python"));
    let probe = Command::new(&python)
        .args([
            "-c",
            "import mcp, importlib.metadata as m; print(m.version('mcp'))",
        ])
        .output();
    match probe {
        Ok(out) if out.status.success() => python,
        _ => panic!(
            "Python with the `mcp` package not found at {}.\n\
             Install it: python3 -m venv target/py-venv && target/py-venv/bin/pip install mcp==2.3.0\n\
             (or point CODEMODE_TEST_PYTHON at a python that has it; .ci/run does this)",
            python.display()
        ),
    }
}

#[test]
fn python_client_end_to_end() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(python())
        .arg(root.join("tests/python/mcp_e2e.py"))
        .env("CODEMODE_BIN", env!("CARGO_BIN_EXE_codemode"))
        .env("RUST_LOG", "debug")
        .output()
        .expect("run the Python MCP client");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("ALL PASSED"),
        "Python MCP client tests failed\n--- stdout\n{stdout}\n--- stderr (last 6000 bytes)\n{}",
        &stderr[stderr.len().saturating_sub(6000)..]
    );
}
