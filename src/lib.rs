//! # codemode
//!
//! Gives AI agents a whole HTTP API through two MCP tools, `search` and
//! `execute`. This crate is the server and CLI; the spec → model →
//! TypeScript work lives in the `sdk-gen` crate.
//!
//! - [`cli`]: command-line parsing (raw args → resolved settings) and the
//!   commands that print SDKs and spec summaries.
//! - [`server`]: the MCP server (`codemode serve`): tools, transports, auth,
//!   scopes, metrics and audit.
//! - [`demo`]: the built-in bookshop API (spec + in-process server) that
//!   `codemode serve` uses when no spec is given.
//! - [`search`]: the `search` tool's engine (index, ranking, rendering).
//! - [`execute`]: the sandbox that runs model-written TypeScript against the SDK.

pub mod cli;
pub mod demo;
pub mod execute;
pub mod search;
pub mod server;
