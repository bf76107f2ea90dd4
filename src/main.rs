//! The `codemode` binary: parse arguments, run the command, turn any error
//! into one paragraph on stderr and a non-zero exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    match codemode::cli::run(std::env::args_os()) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
