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

pub mod cli;
pub mod demo;
pub mod server;
