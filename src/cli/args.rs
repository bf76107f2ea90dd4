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
    /// Find the operations that do something, as an agent's `search` tool would.
    ///
    /// QUERY can be free text ("list open pull requests for a repo"), an
    /// operation name (`reposGet`), an operationId (`repos/get`),
    /// `METHOD /path`, a bare path, or a type name (prints its declaration).
    /// Exact names and paths rank first. Prints the best results as compact
    /// TypeScript signatures within a token budget; `--json` prints an array,
    /// best first, of objects with `name`, `method`, `path`, `score`,
    /// `signature` (and `api`, `summary`, `exact`, `deprecated`).
    ///
    /// The index is cached under `--cache-dir` (default `$CODEMODE_CACHE_DIR`,
    /// `$XDG_CACHE_HOME/codemode` or `~/.cache/codemode`), keyed by the
    /// spec's content, so the next search on the same spec skips indexing.
    ///
    /// Example: `codemode search api.github.com.json "merge a pull request" --limit 3`
    Search(SearchArgs),
    /// Run TypeScript against the API in a fresh sandbox and print the result.
    ///
    /// The code calls the typed SDK (`return await github.reposGet({ owner: "rust-lang", repo: "rust" })`;
    /// see `codemode sdk`) or `<api>.request({ method, path, query, headers, body })`. It may be a
    /// body with top-level `await`/`return`, an `async () => {…}` arrow, or a script whose last
    /// expression is the result.
    ///
    /// Credentials come from the environment and are added by the host; the code never sees them:
    /// `CODEMODE_<API>_TOKEN` holds the secret (`<API>` is the namespace upper-cased, e.g.
    /// `CODEMODE_GITHUB_TOKEN`; for basic auth the secret is `user:password`), and
    /// `CODEMODE_<API>_AUTH` optionally says how to send it: `bearer`, `basic`, `header:NAME`,
    /// `query:NAME` or `cookie:NAME` [default: from the spec's security schemes, else bearer].
    ///
    /// Exit code 0 when the code succeeded, 1 when it failed.
    Exec(ExecArgs),
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

#[derive(Debug, Args)]
pub(crate) struct SearchArgs {
    /// The spec: a file path or an http(s) URL.
    pub(crate) spec: String,
    /// What to find: words, an operation name, an operationId, `METHOD /path`, a path or a type name.
    pub(crate) query: String,
    /// How many operations to return (1-50).
    #[arg(long, short = 'n', default_value_t = 5, value_name = "N")]
    pub(crate) limit: usize,
    /// Only operations with this HTTP method (GET, POST, …).
    #[arg(long, value_name = "METHOD")]
    pub(crate) method: Option<String>,
    /// Only operations with this tag (as written in the spec, any case).
    #[arg(long, value_name = "TAG")]
    pub(crate) tag: Option<String>,
    /// Print a JSON array instead of text.
    #[arg(long)]
    pub(crate) json: bool,
    /// Token budget of the text output (o200k tokens).
    #[arg(long, default_value_t = 1200, value_name = "TOKENS")]
    pub(crate) budget: usize,
    /// Where to cache the index [default: $CODEMODE_CACHE_DIR, $XDG_CACHE_HOME/codemode or ~/.cache/codemode].
    #[arg(long, value_name = "DIR", conflicts_with = "no_cache")]
    pub(crate) cache_dir: Option<std::path::PathBuf>,
    /// Build the index in memory and do not cache it.
    #[arg(long)]
    pub(crate) no_cache: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ExecArgs {
    /// The spec: a file path or an http(s) URL.
    pub(crate) spec: String,
    /// The TypeScript to run.
    #[arg(
        long,
        value_name = "CODE",
        required_unless_present = "file",
        conflicts_with = "file"
    )]
    pub(crate) code: Option<String>,
    /// Read the TypeScript from this file (`-` for stdin).
    #[arg(long, value_name = "FILE")]
    pub(crate) file: Option<std::path::PathBuf>,
    /// Send requests here instead of the spec's first server URL.
    #[arg(long, value_name = "URL")]
    pub(crate) base_url: Option<String>,
    /// Allow requests to private, loopback and link-local addresses (refused by default).
    #[arg(long)]
    pub(crate) allow_private_network: bool,
    /// Namespace of the SDK in the code [default: derived from the spec's title, e.g. `github`].
    #[arg(long, value_name = "NAME")]
    pub(crate) namespace: Option<String>,
    /// Only allow GET and HEAD requests.
    #[arg(long)]
    pub(crate) read_only: bool,
    /// Wall-clock limit in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 30_000)]
    pub(crate) timeout_ms: u64,
    /// Print one JSON object: {"ok", "result", "logs", "calls", "error"}.
    #[arg(long)]
    pub(crate) json: bool,
}
