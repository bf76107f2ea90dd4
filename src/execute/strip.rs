//! TypeScript in, one JavaScript async function out.
//!
//! Models write code in three shapes; all become the body of
//! `(async function () { … })`:
//! - a body with top-level `await` and `return` (used as is);
//! - an `async () => { … }` arrow or function expression as the last
//!   statement (it is called and its result returned);
//! - a script whose last statement is an expression (its value is returned).
//!
//! Markdown fences around the code are dropped. Types are stripped with swc;
//! syntax errors name the line and column in the caller's code and quote the
//! offending line.

use swc_common::{sync::Lrc, FileName, Globals, Mark, SourceMap, Spanned, DUMMY_SP, GLOBALS};
use swc_ecma_ast::{
    AwaitExpr, CallExpr, Callee, EsVersion, Expr, ParenExpr, Program, ReturnStmt, Stmt,
};
use swc_ecma_parser::{lexer::Lexer, Parser, StringInput, Syntax, TsSyntax};

/// The wrapper's first line; user code starts on the next line.
const OPEN: &str = "(async function () {\n";
const CLOSE: &str = "\n})";

/// Entries in each worker's cache of stripped code.
const CACHE_ENTRIES: usize = 64;

thread_local! {
    static CACHE: std::cell::RefCell<lru::LruCache<String, Result<std::sync::Arc<str>, String>>> =
        std::cell::RefCell::new(lru::LruCache::new(
            std::num::NonZeroUsize::new(CACHE_ENTRIES).unwrap_or(std::num::NonZeroUsize::MIN),
        ));
}

/// [`to_js`] with a small per-thread cache keyed by the exact code (agents
/// retry and repeat code; stripping is pure, so caching is safe).
pub(crate) fn to_js_cached(code: &str) -> Result<std::sync::Arc<str>, String> {
    if let Some(hit) = CACHE.with(|c| c.borrow_mut().get(code).cloned()) {
        return hit;
    }
    let out = to_js(code).map(std::sync::Arc::<str>::from);
    CACHE.with(|c| c.borrow_mut().put(code.to_string(), out.clone()));
    out
}

/// Turns model-written TypeScript into a JavaScript expression that
/// evaluates to an async function of no arguments. `Err` is a syntax error
/// message meant for the model.
pub(crate) fn to_js(code: &str) -> Result<String, String> {
    let (code, line_offset) = strip_fences(code);
    if code.trim().is_empty() {
        return Err(
            "the code is empty: send TypeScript such as `return await api.someOperation({ ... })`"
                .into(),
        );
    }
    check_nesting(code)?;
    let wrapped = format!("{OPEN}{code}{CLOSE}");
    GLOBALS.set(&Globals::new(), || {
        let cm: Lrc<SourceMap> = Default::default();
        let fm = cm.new_source_file(Lrc::new(FileName::Anon), wrapped);
        let lexer = Lexer::new(
            Syntax::Typescript(TsSyntax::default()),
            EsVersion::EsNext,
            StringInput::from(&*fm),
            None,
        );
        let mut parser = Parser::new_from(lexer);
        let parsed = parser.parse_script();
        let mut errors = parser.take_errors();
        let script = match parsed {
            Ok(s) => s,
            Err(e) => {
                errors.insert(0, e);
                Default::default()
            }
        };
        if let Some(e) = errors.first() {
            let loc = cm.lookup_char_pos(e.span().lo);
            let line = loc.line.saturating_sub(1); // the wrapper's first line
            let line = line.max(1);
            let col = loc.col_display + 1;
            let msg = e.kind().msg();
            return Err(syntax_message(code, line, col, line_offset, &msg));
        }
        // The wrapper must still be one expression statement: code such as
        // `}); (function () {` would otherwise escape it.
        if script.body.len() != 1 {
            return Err("syntax error: unbalanced braces or parentheses in the code".into());
        }
        let unresolved = Mark::new();
        let top_level = Mark::new();
        let program = Program::Script(script)
            .apply(swc_ecma_transforms_base::resolver(
                unresolved, top_level, true,
            ))
            .apply(swc_ecma_transforms_typescript::strip(unresolved, top_level));
        let Program::Script(mut script) = program else {
            return Err("internal error: expected a script".into());
        };
        let Some(Stmt::Expr(outer)) = script.body.first_mut() else {
            return Err("syntax error: unbalanced braces or parentheses in the code".into());
        };
        let Some(func) = wrapper_fn(&mut outer.expr) else {
            return Err("syntax error: unbalanced braces or parentheses in the code".into());
        };
        if let Some(body) = func.body.as_mut() {
            return_last_expression(&mut body.stmts);
        }
        Ok(swc_ecma_codegen::to_code_default(cm.clone(), None, &script))
    })
}

/// Deepest bracket nesting accepted. The parser and the AST passes recurse
/// per level; this bound (with the code size limit and the workers' large
/// stacks) keeps hostile code from overflowing the native stack.
const MAX_NESTING: usize = 1000;

/// Rejects code nested deeper than [`MAX_NESTING`] brackets (outside
/// string literals and comments).
fn check_nesting(code: &str) -> Result<(), String> {
    let b = code.as_bytes();
    let (mut depth, mut max, mut i) = (0usize, 0usize, 0usize);
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"') => {
                i += 1;
                while i < b.len() && b[i] != q && b[i] != b'\n' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    if max > MAX_NESTING {
        return Err(format!(
            "the code nests brackets {max} levels deep (the limit is {MAX_NESTING}); flatten it"
        ));
    }
    Ok(())
}

/// The `async function` inside the wrapper's parentheses.
fn wrapper_fn(expr: &mut Expr) -> Option<&mut swc_ecma_ast::Function> {
    match expr {
        Expr::Paren(p) => wrapper_fn(&mut p.expr),
        Expr::Fn(f) if f.function.is_async => Some(&mut f.function),
        _ => None,
    }
}

fn unparen(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => unparen(&p.expr),
        e => e,
    }
}

/// The last statement, when an expression, becomes `return`: a function or
/// arrow is called and awaited, anything else is returned as is.
fn return_last_expression(stmts: &mut [Stmt]) {
    let Some(Stmt::Expr(last)) = stmts.last_mut() else {
        return;
    };
    let expr = std::mem::replace(&mut last.expr, Box::new(Expr::dummy_invalid()));
    let span = last.span;
    let arg = match unparen(&expr) {
        Expr::Arrow(_) | Expr::Fn(_) => Box::new(Expr::Await(AwaitExpr {
            span: DUMMY_SP,
            arg: Box::new(Expr::Call(CallExpr {
                span: DUMMY_SP,
                callee: Callee::Expr(Box::new(Expr::Paren(ParenExpr {
                    span: DUMMY_SP,
                    expr,
                }))),
                ..Default::default()
            })),
        })),
        _ => expr,
    };
    if let Some(slot) = stmts.last_mut() {
        *slot = Stmt::Return(ReturnStmt {
            span,
            arg: Some(arg),
        });
    }
}

trait DummyInvalid {
    fn dummy_invalid() -> Self;
}
impl DummyInvalid for Expr {
    fn dummy_invalid() -> Self {
        Expr::Invalid(swc_ecma_ast::Invalid { span: DUMMY_SP })
    }
}

fn syntax_message(code: &str, line: usize, col: usize, offset: usize, msg: &str) -> String {
    let shown = line + offset;
    let text = code.lines().nth(line - 1).unwrap_or("");
    let text: String = text.chars().take(200).collect();
    let gutter = shown.to_string();
    let pad = " ".repeat(gutter.len());
    let caret = " ".repeat(col.saturating_sub(1).min(200));
    format!(
        "SyntaxError at line {shown}:{col}: {msg}\n{gutter} | {text}\n{pad} | {caret}^\nFix the syntax and send the code again."
    )
}

/// Drops markdown fences. Returns the code and how many lines were removed
/// before it (so error line numbers match what the caller sent).
pub(crate) fn strip_fences(code: &str) -> (&str, usize) {
    let Some(start) = code.find("```") else {
        return (code, 0);
    };
    // Only when the fence opens the text (after blank lines) or the text
    // holds fenced blocks; take the first block.
    let after = &code[start + 3..];
    let Some(nl) = after.find('\n') else {
        return (code, 0);
    };
    let info = after[..nl].trim();
    if !info
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '+')
    {
        return (code, 0);
    }
    let body_start = start + 3 + nl + 1;
    let body = &code[body_start..];
    let end = body.find("\n```").map(|i| i + 1).or_else(|| {
        if body.trim_end().ends_with("```") {
            body.rfind("```")
        } else {
            None
        }
    });
    let body = match end {
        Some(e) => &body[..e],
        None => body,
    };
    let offset = code[..body_start].matches('\n').count();
    (body, offset)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn body_with_await_and_return() {
        let js = to_js("const x: number = await f();\nreturn x + 1;").unwrap_or_default();
        assert!(js.contains("return x + 1"), "{js}");
        assert!(!js.contains(": number"), "{js}");
    }

    #[test]
    fn arrow_is_called() {
        let js = to_js("async () => { return 1 }").unwrap_or_default();
        assert!(js.contains("return await (async ()=>"), "{js}");
    }

    #[test]
    fn last_expression_is_returned() {
        let js =
            to_js("interface A { x: number }\nconst a: A = { x: 1 };\na.x * 2").unwrap_or_default();
        assert!(js.contains("return a.x * 2"), "{js}");
    }

    #[test]
    fn fences_are_dropped() {
        let js = to_js("```ts\nreturn 5 as number;\n```\n").unwrap_or_default();
        assert!(js.contains("return 5"), "{js}");
    }

    #[test]
    fn syntax_error_has_line_and_column() {
        let err = to_js("const a = 1;\nconst b = (2;\nreturn b").unwrap_err();
        assert!(err.starts_with("SyntaxError at line 2:"), "{err}");
        assert!(err.contains("2 | const b = (2;"), "{err}");
        let err = to_js("```ts\nlet x = ;\n```").unwrap_err();
        assert!(err.starts_with("SyntaxError at line 2:"), "{err}");
    }

    #[test]
    fn deep_nesting_is_refused_before_parsing() {
        let code = format!("return {}1{}", "(".repeat(5000), ")".repeat(5000));
        assert!(to_js(&code).unwrap_err().contains("levels deep"));
        let ok = format!("const s = '{}'; return s", "(".repeat(5000));
        assert!(to_js(&ok).is_ok());
    }

    #[test]
    fn escaping_the_wrapper_is_refused() {
        assert!(to_js("}); (async function () {").is_err());
        assert!(to_js("import fs from 'fs';\nreturn 1").is_err());
    }
}
