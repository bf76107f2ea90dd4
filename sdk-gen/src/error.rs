//! The one error type of this crate: every variant names the file (or URL)
//! and, where it applies, the line or JSON pointer, and says what to do.

use std::path::PathBuf;

/// Why a spec could not be loaded at all.
///
/// Problems confined to one part of a spec (an unresolvable schema among
/// hundreds) are not errors: they become [`crate::Warning`]s and the rest loads.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be read.
    #[error("cannot read {}: {cause} (check the path; a spec can also be an http(s) URL)", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        cause: std::io::Error,
    },
    /// The URL could not be fetched.
    #[error("cannot fetch {url}: {message}")]
    Fetch {
        /// The URL.
        url: String,
        /// What went wrong (HTTP status or transport error).
        message: String,
    },
    /// The text is neither valid JSON nor valid YAML.
    #[error(
        "{location}:{line}:{column}: invalid {format}: {message} (fix the text at that position)"
    )]
    Syntax {
        /// File or URL.
        location: String,
        /// `JSON` or `YAML`.
        format: &'static str,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// The document parsed but is not an OpenAPI or Swagger description.
    #[error("{location}: not an OpenAPI description: {problem} (expected a top-level `openapi: 3.x` or `swagger: \"2.0\"` field)")]
    NotOpenApi {
        /// File or URL.
        location: String,
        /// What was found instead.
        problem: String,
    },
    /// An OpenAPI version this crate does not read.
    #[error("{location}: unsupported version {version:?}: codemode reads Swagger 2.0 and OpenAPI 3.0 and 3.1")]
    UnsupportedVersion {
        /// File or URL.
        location: String,
        /// The version found.
        version: String,
    },
    /// A `$ref` the spec cannot do without (the root's `paths`, say) does not resolve.
    #[error("{location}: $ref {reference:?} {problem}")]
    Ref {
        /// Where the `$ref` is: file or URL and JSON pointer.
        location: String,
        /// The `$ref` value.
        reference: String,
        /// Why it does not resolve.
        problem: String,
    },
    /// An option passed by the caller is invalid.
    #[error("{0}")]
    InvalidOption(String),
}
