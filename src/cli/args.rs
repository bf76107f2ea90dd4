//! What users type: the clap definitions of every command and flag. Help
//! text here is the CLI's manual, so it says what each thing is for.

use clap::{Args, Parser, Subcommand};

/// codemode: give AI agents a whole HTTP API through two MCP tools.
///
/// Point it at an OpenAPI spec (3.0, 3.1 or Swagger 2.0; JSON or YAML; a file
/// path or an http(s) URL; `$ref`s to other files are followed).
#[derive(Debug, Parser)]
#[command(name = "codemode", version, max_term_width = 100)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Print the TypeScript declarations generated for a spec.
    ///
    /// One `declare namespace` with a function per operation
    /// (`function reposGet(params: ReposGetParams): Promise<ReposGetResponse>`)
    /// and a type per schema. Example: `codemode sdk api.github.com.json --namespace github`
    Sdk(SdkArgs),
    /// Summarize a spec: title, version, servers, operation and schema counts, warnings.
    ///
    /// Use it to check that a spec loads before serving it. `--json` prints one
    /// object with `title`, `version`, `openapi`, `servers`, `operations`,
    /// `schemas` and `warnings` for scripts.
    Inspect(InspectArgs),
    /// Serve APIs to AI agents over MCP: two tools, `search` and `execute`.
    #[command(long_about = crate::cli::serve::LONG_ABOUT)]
    Serve(crate::cli::serve::ServeArgs),
}

#[derive(Debug, Args)]
pub(crate) struct SdkArgs {
    /// The spec: a file path or an http(s) URL.
    pub(crate) spec: String,
    /// Namespace name for the declarations [default: derived from the spec's title, e.g. `github`].
    #[arg(long, value_name = "NAME")]
    pub(crate) namespace: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    /// The spec: a file path or an http(s) URL.
    pub(crate) spec: String,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub(crate) json: bool,
}
