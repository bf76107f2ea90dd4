//! The command line: [`args`] defines what users type (clap), this module
//! dispatches each command. Commands print to stdout; errors go back to
//! `main` as one `anyhow` chain.

mod args;
mod exec;
mod inspect;
mod search;
pub(crate) mod serve;

use args::{Cli, Command};
use clap::Parser as _;
use std::ffi::OsString;
use std::io::Write as _;
use std::process::ExitCode;

/// Runs the CLI with these arguments (the first is the program name).
pub fn run(args: impl IntoIterator<Item = OsString>) -> anyhow::Result<ExitCode> {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print to stdout and succeed; usage errors
            // print clap's message (with the fix) and fail.
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return Ok(ExitCode::from(code));
        }
    };
    match cli.command {
        Command::Sdk(a) => {
            let api = load(&a.spec)?;
            let namespace = match a.namespace {
                Some(n) => n,
                None => sdk_gen::typescript::default_namespace(&api),
            };
            let ts = sdk_gen::typescript::declarations(&api, &namespace)?;
            print_all(&ts)?;
        }
        Command::Inspect(a) => {
            let api = load(&a.spec)?;
            let text = if a.json {
                let mut s = serde_json::to_string_pretty(&inspect::summary(&api))?;
                s.push('\n');
                s
            } else {
                inspect::human(&api)
            };
            print_all(&text)?;
        }
        Command::Search(a) => {
            let api = load(&a.spec)?;
            print_all(&search::run(&a, api)?)?;
        }
        Command::Exec(a) => return exec::run(a),
        Command::Serve(a) => serve::run(a)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Loads a spec. sdk-gen's errors already name the file and position.
pub(crate) fn load(spec: &str) -> anyhow::Result<sdk_gen::Api> {
    Ok(sdk_gen::load(spec)?)
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
fn print_all(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}
