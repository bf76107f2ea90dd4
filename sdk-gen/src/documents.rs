//! Reading spec documents (files or URLs, JSON or YAML) and resolving `$ref`s
//! across them.
//!
//! Documents are loaded lazily: a file is read only when a `$ref` that the
//! normalizer follows points into it. That keeps DigitalOcean's 2,850-file
//! spec cheap (code samples and error responses are never read) and means
//! `$ref`-looking data inside `example`s is never touched.

use crate::error::Error;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use url::Url;

/// Index of a loaded document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct DocId(pub(crate) usize);

/// Where a document came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Location {
    File(PathBuf),
    Url(Url),
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::File(p) => write!(f, "{}", p.display()),
            Location::Url(u) => write!(f, "{u}"),
        }
    }
}

impl Location {
    /// Parses what a user typed: an `http(s)://` URL or a file path.
    pub(crate) fn from_user(source: &str) -> Location {
        match Url::parse(source) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => Location::Url(url),
            Ok(url) if url.scheme() == "file" => match url.to_file_path() {
                Ok(p) => Location::File(p),
                Err(()) => Location::File(PathBuf::from(source)),
            },
            _ => Location::File(PathBuf::from(source)),
        }
    }

    /// Resolves a `$ref`'s document part relative to this document.
    fn join(&self, relative: &str) -> Result<Location, String> {
        if let Ok(url) = Url::parse(relative) {
            if matches!(url.scheme(), "http" | "https") {
                return Ok(Location::Url(url));
            }
        }
        match self {
            Location::Url(base) => base
                .join(relative)
                .map(Location::Url)
                .map_err(|e| format!("is not a valid URL relative to {base}: {e}")),
            Location::File(base) => {
                let decoded = percent_decode(relative);
                let dir = base.parent().unwrap_or_else(|| Path::new(""));
                Ok(Location::File(normalize_path(&dir.join(decoded))))
            }
        }
    }
}

/// Removes `.` and `..` components without touching the file system, so the
/// same file reached by two relative paths is loaded once.
fn normalize_path(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// A parsed document.
#[derive(Debug)]
pub(crate) struct Document {
    pub(crate) location: Location,
    pub(crate) root: Arc<Value>,
}

/// Where a `$ref` led: the document and the (decoded) JSON pointer in it.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) doc: DocId,
    pub(crate) root: Arc<Value>,
    pub(crate) pointer: String,
}

impl Target {
    /// The value at the pointer, if the pointer exists.
    pub(crate) fn value(&self) -> Option<&Value> {
        lookup(&self.root, &self.pointer)
    }
}

/// All documents loaded so far.
#[derive(Debug, Default)]
pub(crate) struct Documents {
    docs: Vec<Document>,
    /// SHA-256 over every document's location and text, in load order.
    digest: sha2::Sha256,
    by_location: HashMap<Location, DocId>,
    /// Documents that failed to load, with the reason, so each is reported once.
    failed: HashMap<Location, String>,
}

impl Documents {
    /// Loads the root document; errors here stop the load.
    pub(crate) fn open_root(&mut self, location: Location) -> Result<DocId, Error> {
        let text = read(&location)?;
        self.insert(location, &text)
    }

    /// Parses text already in hand as the root document.
    pub(crate) fn open_text(&mut self, location: Location, text: &str) -> Result<DocId, Error> {
        self.insert(location, text)
    }

    fn insert(&mut self, location: Location, text: &str) -> Result<DocId, Error> {
        let value = parse(&location.to_string(), text)?;
        {
            use sha2::Digest as _;
            self.digest.update(location.to_string().as_bytes());
            self.digest.update([0]);
            self.digest.update(text.as_bytes());
            self.digest.update([0]);
        }
        let id = DocId(self.docs.len());
        self.docs.push(Document {
            location: location.clone(),
            root: Arc::new(value),
        });
        self.by_location.insert(location, id);
        Ok(id)
    }

    /// Hex SHA-256 of everything read so far (locations and texts).
    pub(crate) fn source_sha256(&self) -> String {
        use sha2::Digest as _;
        self.digest
            .clone()
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    pub(crate) fn get(&self, id: DocId) -> &Document {
        &self.docs[id.0]
    }

    /// `file#/pointer` for messages.
    pub(crate) fn describe(&self, doc: DocId, pointer: &str) -> String {
        format!("{}#{}", self.docs[doc.0].location, pointer)
    }

    /// Resolves `reference` (a `$ref` value) found in document `from`.
    /// Loads the target document on first use. The error says why it does
    /// not resolve, ready to follow the quoted reference in a message.
    pub(crate) fn resolve(&mut self, from: DocId, reference: &str) -> Result<Target, String> {
        let (doc_part, fragment) = match reference.split_once('#') {
            Some((d, f)) => (d, f),
            None => (reference, ""),
        };
        let doc = if doc_part.is_empty() {
            from
        } else {
            let location = self.docs[from.0].location.join(doc_part)?;
            self.load(location)?
        };
        let pointer = percent_decode(fragment);
        if !pointer.is_empty() && !pointer.starts_with('/') {
            return Err(format!(
                "has fragment {fragment:?}, which is not a JSON pointer (it must start with '/', e.g. '#/components/schemas/Pet')"
            ));
        }
        let root = Arc::clone(&self.docs[doc.0].root);
        if lookup(&root, &pointer).is_none() {
            return Err(format!(
                "points nowhere: {} has nothing at {}",
                self.docs[doc.0].location,
                if pointer.is_empty() { "/" } else { &pointer }
            ));
        }
        Ok(Target { doc, root, pointer })
    }

    fn load(&mut self, location: Location) -> Result<DocId, String> {
        if let Some(id) = self.by_location.get(&location) {
            return Ok(*id);
        }
        if let Some(why) = self.failed.get(&location) {
            return Err(why.clone());
        }
        match read(&location).and_then(|text| self.insert(location.clone(), &text)) {
            Ok(id) => Ok(id),
            Err(e) => {
                let why = format!("cannot be loaded: {e}");
                self.failed.insert(location, why.clone());
                Err(why)
            }
        }
    }
}

fn read(location: &Location) -> Result<String, Error> {
    match location {
        Location::File(path) => std::fs::read(path)
            .map_err(|cause| Error::Read {
                path: path.clone(),
                cause,
            })
            .map(|bytes| {
                String::from_utf8(bytes)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
            }),
        Location::Url(url) => fetch(url),
    }
}

fn fetch(url: &Url) -> Result<String, Error> {
    let fail = |message: String| Error::Fetch {
        url: url.to_string(),
        message,
    };
    let client = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .user_agent(concat!("codemode-sdk-gen/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let response = client
        .get(url.clone())
        .send()
        .map_err(|e| fail(e.to_string()))?;
    let status = response.status();
    if !status.is_success() {
        return Err(fail(format!("the server answered {status}")));
    }
    response.text().map_err(|e| fail(e.to_string()))
}

/// Parses JSON when the text starts like JSON, YAML otherwise (YAML 1.2 is a
/// superset of JSON, but the JSON parser is faster and its errors clearer).
pub(crate) fn parse(location: &str, text: &str) -> Result<Value, Error> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        serde_json::from_str(text).map_err(|e| Error::Syntax {
            location: location.to_string(),
            format: "JSON",
            line: e.line(),
            column: e.column(),
            message: strip_position(&e.to_string()),
        })
    } else {
        crate::yaml::parse(location, text)
    }
}

/// serde_json ends its messages with " at line L column C", which the error
/// already shows in front.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// `Value::pointer` without an allocation per segment (it is on the hot path:
/// every operation, parameter and response is reached through a pointer).
pub(crate) fn lookup<'v>(root: &'v Value, pointer: &str) -> Option<&'v Value> {
    if pointer.is_empty() {
        return Some(root);
    }
    let rest = pointer.strip_prefix('/')?;
    let mut target = root;
    for segment in rest.split('/') {
        let unescaped;
        let key = if segment.contains('~') {
            unescaped = segment.replace("~1", "/").replace("~0", "~");
            unescaped.as_str()
        } else {
            segment
        };
        target = match target {
            Value::Object(map) => map.get(key)?,
            Value::Array(list) => {
                if key.len() > 1 && key.starts_with('0') {
                    return None;
                }
                list.get(key.parse::<usize>().ok()?)?
            }
            _ => return None,
        };
    }
    Some(target)
}
