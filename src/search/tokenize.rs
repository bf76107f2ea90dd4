//! Text → search terms, the same way for indexing and for queries.
//!
//! Identifiers are split the way agents write them: `postEphemeral`,
//! `mark_uncollectible`, `rerun-failed-jobs`, `chat.postEphemeral`,
//! `{owner}`, `HTTPServer` → `http server`. Every word is lower-cased and
//! stemmed (English Porter2), so `replies`/`reply` and `branches`/`branch`
//! meet. [`IdentTokenizer`] is the same analysis registered with tantivy.
//!
//! Query-side vocabulary lives here too: stop words, REST-verb and common
//! API-noun synonyms, abbreviations (`pr` → `pull request`), and which HTTP
//! methods a verb implies ([`Intent`]).

use rust_stemmers::{Algorithm, Stemmer};
use std::collections::HashMap;
use std::sync::OnceLock;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// Name under which [`IdentTokenizer`] is registered in every index.
pub(crate) const TOKENIZER: &str = "codemode_ident";

/// Longest word kept; longer runs are noise (base64, hashes).
const MAX_WORD_CHARS: usize = 40;

fn stemmer() -> &'static Stemmer {
    static STEMMER: OnceLock<Stemmer> = OnceLock::new();
    STEMMER.get_or_init(|| Stemmer::create(Algorithm::English))
}

/// Lower-cases and stems one word. After Porter2, nouns made from verbs
/// meet their verb: `-tion` loses `ion` (`creation`/`create` → `creat`,
/// `deletion` → `delet`) and `-mission` becomes `-mit` (`submission` →
/// `submit`), so "submitted" finds "submissions".
pub(crate) fn stem(word: &str) -> String {
    let lower = word.to_lowercase();
    let mut s = stemmer().stem(&lower).into_owned();
    if s.len() > 5 && s.ends_with("tion") {
        s.truncate(s.len() - 3);
    } else if s.len() > 5 && s.ends_with("miss") {
        s.truncate(s.len() - 2);
        s.push('t');
    }
    s
}

/// Splits text into words at every non-alphanumeric character and at
/// camelCase boundaries; returns `(byte_from, byte_to)` spans.
pub(crate) fn word_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut start: Option<usize> = None;
    for i in 0..chars.len() {
        let (pos, c) = chars[i];
        if !c.is_alphanumeric() {
            if let Some(s) = start.take() {
                spans.push((chars[s].0, pos));
            }
            continue;
        }
        match start {
            None => start = Some(i),
            Some(s) => {
                let prev = chars[i - 1].1;
                let next = chars.get(i + 1).map(|&(_, n)| n);
                // fooBar | 2Bar
                let lower_to_upper =
                    (prev.is_lowercase() || prev.is_ascii_digit()) && c.is_uppercase();
                // HTTPServer: split before the `S` of `Server`.
                let acronym_end = prev.is_uppercase()
                    && c.is_uppercase()
                    && next.is_some_and(char::is_lowercase)
                    && i - s >= 1;
                if lower_to_upper || acronym_end {
                    spans.push((chars[s].0, pos));
                    start = Some(i);
                }
            }
        }
    }
    if let Some(s) = start {
        spans.push((chars[s].0, text.len()));
    }
    spans.retain(|&(a, b)| text[a..b].chars().count() <= MAX_WORD_CHARS);
    spans
}

/// The stemmed terms of `text`, in order (index-side analysis: nothing dropped).
#[cfg(test)]
pub(crate) fn terms(text: &str) -> Vec<String> {
    word_spans(text)
        .into_iter()
        .map(|(a, b)| stem(&text[a..b]))
        .collect()
}

/// Memoized [`stem`]: API texts repeat the same few thousand words, and
/// stemming is the costly part of indexing.
#[derive(Debug, Clone, Default)]
pub(crate) struct StemCache {
    stems: HashMap<String, String>,
}

impl StemCache {
    /// Entries kept before the cache starts over (bounds memory).
    const MAX_ENTRIES: usize = 200_000;

    pub(crate) fn stem(&mut self, word: &str) -> String {
        if let Some(s) = self.stems.get(word) {
            return s.clone();
        }
        if self.stems.len() >= Self::MAX_ENTRIES {
            self.stems.clear();
        }
        let s = stem(word);
        self.stems.insert(word.to_string(), s.clone());
        s
    }
}

/// tantivy tokenizer doing [`terms`]' analysis (split + lower-case + stem).
#[derive(Debug, Clone, Default)]
pub(crate) struct IdentTokenizer {
    tokens: Vec<Token>,
    cache: StemCache,
}

/// Token stream over the pre-analyzed tokens of one text.
#[derive(Debug)]
pub(crate) struct IdentTokenStream<'a> {
    tokens: &'a mut [Token],
    next: usize,
    /// Returned if a caller asks for a token before advancing.
    empty: Token,
}

impl Tokenizer for IdentTokenizer {
    type TokenStream<'a> = IdentTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> IdentTokenStream<'a> {
        self.tokens.clear();
        for (position, (from, to)) in word_spans(text).into_iter().enumerate() {
            self.tokens.push(Token {
                offset_from: from,
                offset_to: to,
                position,
                text: self.cache.stem(&text[from..to]),
                position_length: 1,
            });
        }
        IdentTokenStream {
            tokens: &mut self.tokens,
            next: 0,
            empty: Token::default(),
        }
    }
}

impl TokenStream for IdentTokenStream<'_> {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        match self.next.checked_sub(1) {
            Some(i) => &self.tokens[i],
            None => &self.empty,
        }
    }

    fn token_mut(&mut self) -> &mut Token {
        match self.next.checked_sub(1) {
            Some(i) => &mut self.tokens[i],
            None => &mut self.empty,
        }
    }
}

/// Words that carry no meaning in a query ("how do I list the …").
const STOP_WORDS: &[&str] = &[
    "a",
    "an",
    "the",
    "and",
    "or",
    "of",
    "to",
    "in",
    "on",
    "for",
    "from",
    "with",
    "by",
    "at",
    "as",
    "into",
    "onto",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "being",
    "do",
    "does",
    "did",
    "this",
    "that",
    "these",
    "those",
    "it",
    "its",
    "which",
    "what",
    "who",
    "whom",
    "how",
    "when",
    "where",
    "why",
    "can",
    "could",
    "should",
    "would",
    "will",
    "shall",
    "want",
    "wants",
    "need",
    "needs",
    "please",
    "some",
    "any",
    "s",
    "t",
    "not",
    "just",
    "via",
    "using",
    "use",
    "there",
    "their",
    "them",
    "they",
    "he",
    "she",
    "his",
    "her",
    "we",
    "our",
    "us",
    "you",
    "your",
    "have",
    "has",
    "had",
    "if",
    "then",
    "than",
    "so",
    "up",
    "out",
    "about",
    "also",
    "only",
    "already",
    "e",
    "g",
    "eg",
    "ie",
    "etc",
    "way",
    "thing",
    "things",
    "one",
    "specific",
    "certain",
    "given",
    "particular",
    "existing",
    "whether",
    "while",
    "before",
    "after",
    "across",
    "through",
    "under",
    "over",
    "again",
];

/// First-person words: the authenticated user's own resources (`/me`, `/user`).
const FIRST_PERSON: &[&str] = &["i", "me", "my", "mine", "myself", "am"];

/// Groups of words an agent uses interchangeably for the same API concept.
/// Each word expands to the others (at a lower weight).
const SYNONYMS: &[&[&str]] = &[
    // Reading.
    &[
        "get", "fetch", "retrieve", "read", "show", "view", "see", "return", "obtain", "describe",
        "inspect", "lookup", "info",
    ],
    &["list", "enumerate", "browse", "all", "index"],
    &["search", "find", "query", "lookup", "filter", "look"],
    &["find", "get", "lookup", "resolve"],
    // Writing.
    &[
        "create", "add", "new", "make", "insert", "register", "submit", "generate",
    ],
    &[
        "update",
        "edit",
        "modify",
        "change",
        "set",
        "alter",
        "adjust",
        "replace",
        "patch",
        "configure",
    ],
    &[
        "delete", "remove", "revoke", "destroy", "erase", "drop", "purge", "unset", "discard",
    ],
    &["remove", "kick", "evict", "expel"],
    &["send", "post", "publish", "deliver"],
    &[
        "start", "trigger", "run", "dispatch", "launch", "begin", "execute", "kick", "initiate",
    ],
    &["stop", "cancel", "halt", "abort", "terminate"],
    &[
        "restore", "recover", "undelete", "rollback", "revert", "undo", "untrash",
    ],
    &["retry", "rerun", "redeliver", "resend", "redo", "repeat"],
    &["copy", "duplicate", "clone"],
    &["move", "transfer", "relocate"],
    &["approve", "accept", "confirm", "grant"],
    &["reject", "deny", "decline"],
    &["pause", "snooze", "mute", "silence", "suspend"],
    &["resume", "unpause", "unmute", "unsuspend"],
    &["complete", "finish", "done", "close", "resolve", "finalize"],
    &["upload", "attach"],
    &["download", "export"],
    &["rename", "retitle"],
    &["check", "verify", "test", "validate"],
    &["reply", "respond", "answer"],
    &["share", "sharing", "shared", "shareable"],
    &["preview", "upcoming", "next", "estimate"],
    &[
        "like",
        "liked",
        "save",
        "saved",
        "favorite",
        "favourite",
        "bookmark",
        "star",
    ],
    &["recommend", "recommendation", "suggest", "suggestion"],
    &["listen", "listening", "play", "playing"],
    &["now", "current", "currently"],
    &[
        "block",
        "blocked",
        "blocker",
        "depend",
        "dependency",
        "dependent",
    ],
    &["item", "content", "contents", "entry", "child", "children"],
    // Things.
    &["user", "member", "person", "people", "someone", "account"],
    &["message", "msg", "chat"],
    &["comment", "reply", "note", "remark"],
    &["file", "document"],
    &["folder", "directory", "dir"],
    &["link", "url"],
    &["song", "track", "tune"],
    &["repository", "repo"],
    &["organization", "organisation", "org"],
    &[
        "permission",
        "access",
        "authorization",
        "allowed",
        "privilege",
        "role",
    ],
    &["webhook", "hook"],
    &["credential", "token", "secret"],
    &["log", "logs", "output", "stdout", "stderr"],
    &["image", "picture", "photo", "avatar"],
    &["label", "tag"],
    &["email", "mail"],
    &["team", "group"],
    &["setting", "preference", "config", "configuration", "option"],
    &["channel", "conversation"],
    &["notification", "alert"],
    &["refund", "reimburse", "repay"],
    &["invoice", "bill", "billing"],
    &["payment", "charge", "pay"],
    &["deploy", "deployment", "release", "publish"],
    &["build", "compile"],
    &["version", "release"],
    &[
        "schedule",
        "scheduled",
        "later",
        "delay",
        "tomorrow",
        "tonight",
    ],
    &["replica", "scale"],
    &["server", "guild"],
];

/// Abbreviations agents type, expanded to the words specs use.
const ABBREVIATIONS: &[(&str, &[&str])] = &[
    ("pr", &["pull", "request"]),
    ("prs", &["pull", "request"]),
    ("repo", &["repository"]),
    ("repos", &["repository"]),
    ("org", &["organization"]),
    ("orgs", &["organization"]),
    ("env", &["environment"]),
    ("envs", &["environment"]),
    ("dm", &["direct", "message", "im"]),
    ("dms", &["direct", "message", "im"]),
    ("msg", &["message"]),
    ("cfg", &["configuration"]),
    ("config", &["configuration"]),
    ("auth", &["authentication", "authorization"]),
    ("info", &["information"]),
    ("k8s", &["kubernetes"]),
    ("app", &["application"]),
    ("apps", &["application"]),
    ("db", &["database"]),
    ("dir", &["directory"]),
    ("ns", &["namespace"]),
    ("csr", &["certificate", "signing", "request"]),
    ("url", &["link"]),
    ("admin", &["administrator"]),
    ("perms", &["permission"]),
    ("stats", &["statistics"]),
    ("dnd", &["do", "disturb"]),
    ("2fa", &["two", "factor"]),
    ("mfa", &["multi", "factor"]),
    ("ssh", &["ssh", "key"]),
    ("gpg", &["gpg", "key"]),
    ("cdn", &["cache"]),
    ("ci", &["check", "workflow"]),
];

/// What a verb asks the API to do; each intent implies HTTP methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Intent {
    /// Read one thing.
    Read,
    /// Read many (a collection, search).
    List,
    /// Make a new thing.
    Create,
    /// Change a thing.
    Update,
    /// Remove a thing.
    Delete,
    /// Do something to a thing that is not plain CRUD (restore, cancel,
    /// approve, retry…): usually `POST /things/{id}/verb`.
    Action,
}

const INTENT_WORDS: &[(Intent, &[&str])] = &[
    (
        Intent::Read,
        &[
            "get", "fetch", "retrieve", "read", "show", "view", "see", "describe", "inspect",
            "lookup", "download", "check", "which", "what", "whether",
        ],
    ),
    (
        Intent::List,
        &[
            "list",
            "enumerate",
            "browse",
            "all",
            "search",
            "find",
            "query",
            "every",
            "history",
        ],
    ),
    (
        Intent::Create,
        &[
            "create", "add", "new", "make", "insert", "register", "submit", "generate", "post",
            "send", "upload", "invite", "give", "write",
        ],
    ),
    (
        Intent::Update,
        &[
            "update",
            "edit",
            "modify",
            "change",
            "set",
            "alter",
            "adjust",
            "replace",
            "rename",
            "mark",
            "move",
            "reorder",
            "overwrite",
            "toggle",
            "enable",
            "disable",
            "pin",
        ],
    ),
    (
        Intent::Delete,
        &[
            "delete",
            "remove",
            "revoke",
            "destroy",
            "erase",
            "drop",
            "purge",
            "unset",
            "discard",
            "kick",
            "unban",
            "unpin",
            "clear",
            "unassign",
            "unsubscribe",
        ],
    ),
    (
        Intent::Action,
        &[
            "start",
            "trigger",
            "dispatch",
            "run",
            "launch",
            "restore",
            "recover",
            "undelete",
            "cancel",
            "stop",
            "approve",
            "reject",
            "retry",
            "rerun",
            "redeliver",
            "resend",
            "merge",
            "lock",
            "unlock",
            "archive",
            "unarchive",
            "pause",
            "resume",
            "snooze",
            "evict",
            "refund",
            "capture",
            "verify",
            "test",
            "ping",
            "sync",
            "rollback",
            "revert",
            "transfer",
            "duplicate",
            "copy",
            "finalize",
            "void",
            "close",
            "reopen",
            "kick",
        ],
    ),
];

/// Two-word phrases that mean one verb ("kick off" a workflow is "start" it).
const PHRASES: &[(&str, &str, &str)] = &[
    ("kick", "off", "start"),
    ("kick", "out", "remove"),
    ("set", "up", "create"),
    ("sign", "up", "register"),
    ("sign", "in", "login"),
    ("log", "in", "login"),
    ("log", "out", "logout"),
    ("sign", "out", "logout"),
    ("look", "up", "lookup"),
    ("turn", "on", "enable"),
    ("turn", "off", "disable"),
    ("shut", "down", "stop"),
    ("clean", "up", "delete"),
    ("money", "back", "refund"),
    ("fill", "in", "update"),
    ("find", "out", "get"),
];

impl Intent {
    /// How well an HTTP method fits this intent (1.0 ideal, 0 not at all).
    pub(crate) fn method_fit(self, method: sdk_gen::Method) -> f32 {
        use sdk_gen::Method as M;
        match (self, method) {
            (Intent::Read | Intent::List, M::Get) => 1.0,
            (Intent::Read | Intent::List, M::Post) => 0.2,
            (Intent::Create, M::Post) => 1.0,
            (Intent::Create, M::Put) => 0.6,
            (Intent::Update, M::Patch | M::Put) => 1.0,
            (Intent::Update, M::Post) => 0.6,
            (Intent::Delete, M::Delete) => 1.0,
            (Intent::Delete, M::Post) => 0.4,
            (Intent::Action, M::Post) => 1.0,
            (Intent::Action, M::Put | M::Patch) => 0.5,
            _ => 0.0,
        }
    }
}

/// Query vocabulary, stemmed once.
#[derive(Debug)]
pub(crate) struct Vocabulary {
    stop: std::collections::HashSet<String>,
    first_person: std::collections::HashSet<String>,
    synonyms: HashMap<String, Vec<String>>,
    abbreviations: HashMap<String, Vec<String>>,
    intents: HashMap<String, Intent>,
    phrases: HashMap<(String, String), String>,
}

pub(crate) fn vocabulary() -> &'static Vocabulary {
    static VOCAB: OnceLock<Vocabulary> = OnceLock::new();
    VOCAB.get_or_init(|| {
        let stop = STOP_WORDS.iter().map(|w| stem(w)).collect();
        let first_person = FIRST_PERSON.iter().map(|w| stem(w)).collect();
        let mut synonyms: HashMap<String, Vec<String>> = HashMap::new();
        for group in SYNONYMS {
            let stems: Vec<String> = group.iter().map(|w| stem(w)).collect();
            for s in &stems {
                let entry = synonyms.entry(s.clone()).or_default();
                for other in &stems {
                    if other != s && !entry.contains(other) {
                        entry.push(other.clone());
                    }
                }
            }
        }
        let abbreviations = ABBREVIATIONS
            .iter()
            .map(|(a, full)| (a.to_string(), full.iter().map(|w| stem(w)).collect()))
            .collect();
        let mut intents = HashMap::new();
        for (intent, words) in INTENT_WORDS {
            for w in *words {
                intents.entry(stem(w)).or_insert(*intent);
            }
        }
        let phrases = PHRASES
            .iter()
            .map(|(a, b, verb)| ((a.to_string(), b.to_string()), verb.to_string()))
            .collect();
        Vocabulary {
            phrases,
            stop,
            first_person,
            synonyms,
            abbreviations,
            intents,
        }
    })
}

impl Vocabulary {
    pub(crate) fn is_stop(&self, term: &str) -> bool {
        self.stop.contains(term)
    }

    pub(crate) fn is_first_person(&self, term: &str) -> bool {
        self.first_person.contains(term)
    }

    pub(crate) fn synonyms(&self, term: &str) -> &[String] {
        self.synonyms.get(term).map_or(&[], Vec::as_slice)
    }

    /// Expansion of an abbreviation, looked up by its lower-cased raw word.
    pub(crate) fn abbreviation(&self, word: &str) -> Option<&[String]> {
        self.abbreviations.get(word).map(Vec::as_slice)
    }

    /// The verb a two-word phrase stands for (lower-cased raw words).
    pub(crate) fn phrase(&self, first: &str, second: &str) -> Option<&str> {
        self.phrases
            .get(&(first.to_string(), second.to_string()))
            .map(String::as_str)
    }

    pub(crate) fn intent(&self, term: &str) -> Option<Intent> {
        self.intents.get(term).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_identifiers_like_agents_write_them() {
        assert_eq!(terms("postEphemeral"), ["post", "ephemer"]);
        assert_eq!(terms("mark_uncollectible"), ["mark", "uncollect"]);
        assert_eq!(terms("rerun-failed-jobs"), ["rerun", "fail", "job"]);
        assert_eq!(terms("chat.postEphemeral"), ["chat", "post", "ephemer"]);
        assert_eq!(terms("/repos/{owner}/{repo}"), ["repo", "owner", "repo"]);
        assert_eq!(terms("HTTPServer"), ["http", "server"]);
        assert_eq!(
            terms("io.k8s.api.apps.v1.Deployment"),
            ["io", "k8s", "api", "app", "v1", "deploy"]
        );
        assert_eq!(terms("repos/get"), ["repo", "get"]);
        assert_eq!(terms("listSiteDeploys"), ["list", "site", "deploy"]);
    }

    #[test]
    fn stems_plurals_and_verb_forms() {
        assert_eq!(terms("replies"), terms("reply"));
        assert_eq!(terms("branches"), terms("branch"));
        assert_eq!(terms("Deleting"), terms("delete"));
        assert_eq!(terms("submissions"), terms("submitted"));
        assert_eq!(terms("creation"), terms("create"));
    }

    #[test]
    fn tantivy_tokenizer_matches_terms() {
        let mut tokenizer = IdentTokenizer::default();
        let mut stream = tokenizer.token_stream("getRepoBySlug {owner}");
        let mut out = Vec::new();
        while stream.advance() {
            out.push((stream.token().text.clone(), stream.token().position));
        }
        let expected: Vec<(String, usize)> = terms("getRepoBySlug {owner}")
            .into_iter()
            .enumerate()
            .map(|(i, t)| (t, i))
            .collect();
        assert_eq!(out, expected);
    }

    #[test]
    fn vocabulary_knows_verbs_and_abbreviations() {
        let v = vocabulary();
        assert!(v.is_stop("the"));
        assert!(v.synonyms(&stem("remove")).contains(&stem("delete")));
        assert_eq!(v.intent(&stem("removing")), Some(Intent::Delete));
        assert_eq!(
            v.abbreviation("pr"),
            Some(&["pull".to_string(), "request".to_string()][..])
        );
    }
}
