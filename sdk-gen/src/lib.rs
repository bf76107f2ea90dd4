//! # sdk-gen: any OpenAPI spec → a normalized model → TypeScript
//!
//! `sdk-gen` reads an API description the way platform teams find them —
//! Swagger 2.0, OpenAPI 3.0 or 3.1, JSON or YAML, one file or thousands
//! linked by `$ref`, from disk or a URL — and turns it into an [`Api`]: one
//! list of operations with valid, unique JavaScript names, and one list of
//! named types. Everything downstream reads only that model:
//!
//! - [`typescript::declarations`] renders the whole API as one TypeScript
//!   declaration file (a namespace with one function per operation);
//! - [`typescript::operation_signature`] renders one operation compactly (its
//!   signature plus the types it uses, depth-limited) for search results;
//! - the `codemode` server builds its search index and the sandbox's
//!   operation table from the same [`Operation`]s.
//!
//! Data flow: [`load`] → `documents` (read + parse, `$ref`s across files,
//! loaded lazily) → `normalize` (info, servers, security, operations) and
//! `schema` (JSON Schema → [`Schema`], every `$ref` a named type) → `names`
//! (identifiers and type names, collisions settled deterministically).
//!
//! Problems confined to one part of a spec become [`Warning`]s; only a spec
//! that cannot be read at all is an [`Error`].
//!
//! ```
//! let spec = r##"
//! openapi: 3.0.0
//! info: { title: Pets, version: "1" }
//! paths:
//!   /pets/{id}:
//!     get:
//!       operationId: pets/get
//!       parameters:
//!         - { name: id, in: path, required: true, schema: { type: integer } }
//!       responses:
//!         "200":
//!           description: ok
//!           content:
//!             application/json:
//!               schema: { $ref: "#/components/schemas/Pet" }
//! components:
//!   schemas:
//!     Pet: { type: object, required: [name], properties: { name: { type: string } } }
//! "##;
//! let api = sdk_gen::load_str("pets.yaml", spec)?;
//! assert_eq!(api.operations[0].name, "petsGet");
//! let ts = sdk_gen::typescript::declarations(&api, "pets")?;
//! assert!(ts.contains("function petsGet(params: PetsGetParams): Promise<PetsGetResponse>;"));
//! # Ok::<(), sdk_gen::Error>(())
//! ```

mod documents;
mod error;
pub mod json_schema;
mod model;
mod names;
mod normalize;
mod schema;
pub mod typescript;
mod yaml;

pub use error::Error;
pub use model::*;
pub use names::is_identifier;

use documents::{Documents, Location};

/// This crate's version (part of cache keys built from its output).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Loads a spec from a file path or an `http(s)://` URL. `$ref`s to other
/// files or URLs resolve relative to the document they appear in.
pub fn load(source: &str) -> Result<Api, Error> {
    let mut docs = Documents::default();
    let root = docs.open_root(Location::from_user(source))?;
    normalize::normalize(docs, root)
}

/// Loads a spec from text in hand; `name` (a path or URL) is used in messages
/// and to resolve relative `$ref`s.
pub fn load_str(name: &str, text: &str) -> Result<Api, Error> {
    let mut docs = Documents::default();
    let root = docs.open_text(Location::from_user(name), text)?;
    normalize::normalize(docs, root)
}
