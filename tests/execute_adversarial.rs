//! Adversarial suite: code written to escape, exhaust or abuse the sandbox.
//! Every case must be contained with the right error kind, and the executor
//! must keep serving afterwards (each case runs a normal execution next).
#![allow(clippy::unwrap_used)]

mod execute_support;

use codemode::execute::{Executor, Limits};
use execute_support::*;
use serde_json::json;
use std::sync::OnceLock;
use std::time::Duration;

fn limits() -> Limits {
    Limits {
        timeout: Duration::from_millis(3000),
        memory_bytes: 32 << 20,
        max_calls: 20,
        max_result_tokens: 2000,
        max_log_bytes: 4000,
        max_response_bytes: 1 << 20,
        ..Limits::default()
    }
}

/// One executor and mock shared by the cases (as a server would be).
fn shared() -> &'static (Mock, Executor) {
    static S: OnceLock<(Mock, Executor)> = OnceLock::new();
    S.get_or_init(|| {
        let mock = Mock::start();
        let ex = mock_executor(&mock, limits());
        (mock, ex)
    })
}

#[track_caller]
fn still_serving(ex: &Executor) {
    let out = run(
        ex,
        "const r = await mock.getItem({ id: 'ok' }); return [1 + 1, r.path];",
    );
    assert_eq!(ok(&out), &json!([2, "/v1/items/ok"]));
}

/// Same, with a generous clock: for cases that must hit a memory or stack
/// limit however slow the machine is.
fn generous() -> &'static (Mock, Executor) {
    static S: OnceLock<(Mock, Executor)> = OnceLock::new();
    S.get_or_init(|| {
        let mock = Mock::start();
        let ex = mock_executor(
            &mock,
            Limits {
                timeout: Duration::from_secs(120),
                ..limits()
            },
        );
        (mock, ex)
    })
}

/// Runs `code`, expects error `kind`, checks the executor still serves.
#[track_caller]
fn contained(code: &str, kind: &str) -> String {
    let (_, ex) = if matches!(kind, "memory" | "limit") {
        generous()
    } else {
        shared()
    };
    let m = err(&run(ex, code), kind);
    still_serving(ex);
    m
}

macro_rules! case {
    ($name:ident, $kind:literal, $code:expr) => {
        #[test]
        fn $name() {
            contained($code, $kind);
        }
    };
}

// --- time ---
case!(infinite_loop, "timeout", "for (;;) {}");
case!(
    infinite_loop_in_try_finally,
    "timeout",
    "try { for (;;) {} } finally { for (;;) {} }"
);
case!(
    infinite_loop_catching_the_interrupt,
    "timeout",
    "for (;;) { try { for (;;) {} } catch (e) {} }"
);
case!(
    infinite_loop_after_await,
    "timeout",
    "await null; while (true) {}"
);
case!(
    infinite_loop_in_getter_of_result,
    "timeout",
    "return { get x() { for (;;) {} } }"
);
case!(
    infinite_loop_in_to_json,
    "timeout",
    "return { toJSON() { while (true) {} } }"
);
case!(
    infinite_loop_in_params_to_json,
    "timeout",
    "await mock.getItem({ id: '1', toJSON() { for (;;) {} } })"
);
case!(
    microtask_flood,
    "timeout",
    "let n = 0; function f() { n++; return null } for (;;) { await Promise.resolve().then(f) }"
);
case!(
    redos,
    "timeout",
    "return /^(a+)+$/.test('a'.repeat(40) + 'b')"
);
case!(
    slow_upstream,
    "timeout",
    "await mock.getSlow({ ms: 10000 })"
);
case!(
    never_resolving_promise,
    "runtime",
    "await new Promise(() => {})"
);

// --- memory ---
case!(string_doubling, "memory", "let s = 'x'; for (;;) s += s;");
case!(
    array_growth,
    "memory",
    "const a = []; for (;;) a.push({ a: 1, b: [1, 2, 3] });"
);
case!(
    typed_arrays,
    "memory",
    "const b = []; for (;;) b.push(new Uint8Array(1 << 20));"
);
case!(
    huge_json_parse,
    "memory",
    "return JSON.parse('[' + '1,'.repeat(20000000) + '1]').length"
);
case!(
    promise_storm,
    "memory",
    "await Promise.all(Array.from({ length: 5000000 }, () => Promise.resolve(1)))"
);
case!(
    deep_recursion,
    "limit",
    "function f(n) { return f(n + 1) + 1 } return f(0)"
);
case!(
    deep_async_recursion,
    "limit",
    "async function f(n) { return (await f(n + 1)) + 1 } return await f(0)"
);
case!(
    deep_recursion_in_to_json,
    "limit",
    "const o = {}; o.toJSON = () => [o]; return o"
);

// --- surface ---
case!(eval_is_gone, "runtime", "return eval('1 + 1')");
case!(
    function_constructor,
    "runtime",
    "return Function('return globalThis')()"
);
case!(
    constructor_constructor,
    "runtime",
    "return [].constructor.constructor('return this')()"
);
case!(
    async_function_constructor,
    "runtime",
    "return await (async () => {}).constructor('return 1')()"
);
case!(
    generator_function_constructor,
    "runtime",
    "return (function* () {}).constructor('yield 1')().next()"
);
case!(dynamic_import, "runtime", "return await import('fs')");
case!(static_import, "syntax", "import fs from 'fs';\nreturn fs");
case!(require_is_absent, "runtime", "return require('fs')");
case!(process_is_absent, "runtime", "return process.env");
case!(deno_is_absent, "runtime", "return Deno.env.toObject()");
case!(
    atomics_wait_is_gone,
    "runtime",
    "Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)"
);

// --- calls ---
case!(
    call_storm_hits_the_call_limit,
    "limit",
    "await Promise.all(Array.from({ length: 1000 }, (_, i) => mock.getItem({ id: String(i) })))"
);
case!(
    traversal_dot_dot_value_refused,
    "runtime",
    "await mock.getItem({ id: '..' })"
);
case!(
    generic_traversal_refused,
    "runtime",
    "await mock.request({ path: '/items/../../admin' })"
);
case!(
    generic_encoded_traversal_refused,
    "runtime",
    "await mock.request({ path: '/items/%2e%2E/%2E%2e/admin' })"
);
case!(
    generic_encoded_slash_refused,
    "runtime",
    "await mock.request({ path: '/items/..%2F..%2Fadmin' })"
);
case!(
    generic_absolute_url_refused,
    "runtime",
    "await mock.request({ path: 'http://169.254.169.254/latest/meta-data/' })"
);
case!(
    generic_scheme_relative_refused,
    "runtime",
    "await mock.request({ path: '//evil.example.com/x' })"
);
case!(
    generic_userinfo_refused,
    "runtime",
    "await mock.request({ path: '@evil.example.com/x' })"
);
case!(
    crlf_in_header_param,
    "runtime",
    "await mock.getItem({ id: '1', 'X-Trace': 'a\\r\\nX-Injected: 1' })"
);
case!(
    crlf_in_generic_header,
    "runtime",
    "await mock.request({ path: '/x', headers: { 'X-A': 'a\\nHost: evil' } })"
);
case!(
    crlf_in_generic_header_name,
    "runtime",
    "await mock.request({ path: '/x', headers: { 'X-A\\r\\nX-B': 'a' } })"
);
case!(
    host_header_refused,
    "runtime",
    "await mock.request({ path: '/x', headers: { Host: 'evil.example.com' } })"
);
case!(
    redirect_to_other_host,
    "policy",
    "await mock.getRedirect({ kind: 'external' })"
);
case!(
    redirect_to_metadata,
    "policy",
    "await mock.getRedirect({ kind: 'metadata' })"
);
case!(
    redirect_loop,
    "api",
    "await mock.getRedirect({ kind: 'loop' })"
);
case!(
    oversized_response,
    "limit",
    "await mock.getBig({ bytes: 2000000 })"
);

#[test]
fn promise_chain_flood_is_stopped() {
    // Each link becomes garbage as the next is created, so whether the clock
    // or the heap limit stops it first depends on GC timing: both are
    // containment, nothing else is.
    let (_, ex) = shared();
    let out = run(
        ex,
        "function f() { return Promise.resolve().then(f) } f(); await new Promise(() => {})",
    );
    let kind = serde_json::to_value(out.error.as_ref().unwrap().kind).unwrap();
    assert!(kind == "timeout" || kind == "memory", "{kind}");
    still_serving(ex);
}

#[test]
fn path_traversal_values_stay_inside_one_segment() {
    let mock = Mock::start();
    let ex = mock_executor(&mock, limits());
    let r = ok(&run(&ex, "const a = await mock.getItem({ id: '../../admin' }); const b = await mock.getItem({ id: 'x/../../y?z=1#f' }); const c = await mock.getItem({ id: '%2e%2e' }); return [a.path, b.path, c.path]")).clone();
    assert_eq!(
        r,
        json!([
            "/v1/items/..%2F..%2Fadmin",
            "/v1/items/x%2F..%2F..%2Fy%3Fz%3D1%23f",
            "/v1/items/%252e%252e"
        ])
    );
    for s in mock.seen() {
        assert!(s.uri.starts_with("/v1/items/"), "{}", s.uri);
    }
}

#[test]
fn refused_requests_never_reach_the_network() {
    let mock = Mock::start();
    let ex = mock_executor(&mock, limits());
    for code in [
        "await mock.getItem({ id: '..' })",
        "await mock.request({ path: '/a/../b' })",
        "await mock.getItem({ id: '1', 'X-Trace': 'a\\r\\nb' })",
        "await mock.request({ path: 'http://127.0.0.1/' })",
    ] {
        assert!(!run(&ex, code).ok);
    }
    assert!(mock.seen().is_empty());
    // A redirect off-host is not followed: only the first request is seen.
    err(
        &run(&ex, "await mock.getRedirect({ kind: 'metadata' })"),
        "policy",
    );
    assert_eq!(mock.seen().len(), 1);
}

#[test]
fn call_storm_sends_at_most_the_call_limit() {
    let mock = Mock::start();
    let ex = mock_executor(
        &mock,
        Limits {
            max_calls: 10,
            ..limits()
        },
    );
    err(&run(&ex, "await Promise.all(Array.from({ length: 500 }, (_, i) => mock.getItem({ id: String(i) })))"), "limit");
    assert!(mock.seen().len() <= 10);
    still_serving(&ex);
}

#[test]
fn private_addresses_refused_without_opt_in() {
    let mock = Mock::start();
    for base in [
        mock.url("/v1"),
        format!("http://localhost:{}/v1", mock.addr.port()),
        "http://169.254.169.254/v1".into(),
        "http://[::1]:9/v1".into(),
        "http://10.0.0.1:9/v1".into(),
    ] {
        let ex = Executor::new(
            vec![api("mock", "fixtures/mock-api.yaml", base.clone(), None)],
            codemode::execute::ExecutorConfig {
                limits: limits(),
                workers: 1,
                allow_private_network: false,
            },
        )
        .unwrap();
        let m = err(&run(&ex, "await mock.getText()"), "policy");
        assert!(m.contains("refused"), "{base}: {m}");
    }
    assert!(mock.seen().is_empty());
}

#[test]
fn globals_match_the_allowlist() {
    let (_, ex) = shared();
    let out = run(ex, "return Object.getOwnPropertyNames(globalThis).sort()");
    let names: Vec<String> = serde_json::from_value(ok(&out).clone()).unwrap();
    let allowed = [
        "AggregateError",
        "ApiError",
        "Array",
        "ArrayBuffer",
        "AsyncDisposableStack",
        "BigInt",
        "BigInt64Array",
        "BigUint64Array",
        "Boolean",
        "DataView",
        "Date",
        "DisposableStack",
        "Error",
        "EvalError",
        "Float16Array",
        "Float32Array",
        "Float64Array",
        "Function",
        "Infinity",
        "Int16Array",
        "Int32Array",
        "Int8Array",
        "InternalError",
        "Iterator",
        "JSON",
        "LimitError",
        "Map",
        "Math",
        "NaN",
        "Number",
        "Object",
        "PolicyError",
        "Promise",
        "Proxy",
        "RangeError",
        "ReferenceError",
        "Reflect",
        "RegExp",
        "Set",
        "String",
        "SuppressedError",
        "Symbol",
        "SyntaxError",
        "TypeError",
        "URIError",
        "Uint16Array",
        "Uint32Array",
        "Uint8Array",
        "Uint8ClampedArray",
        "WeakMap",
        "WeakSet",
        "console",
        "decodeURI",
        "decodeURIComponent",
        "encodeURI",
        "encodeURIComponent",
        "escape",
        "globalThis",
        "isFinite",
        "isNaN",
        "mock",
        "parseFloat",
        "parseInt",
        "queueMicrotask",
        "undefined",
        "unescape",
    ];
    for n in &names {
        assert!(allowed.contains(&n.as_str()), "unexpected global {n}");
    }
    for n in [
        "eval",
        "Atomics",
        "SharedArrayBuffer",
        "require",
        "process",
        "Deno",
        "std",
        "os",
        "fetch",
        "setTimeout",
    ] {
        assert!(!names.iter().any(|g| g == n), "{n} must not exist");
    }
}

#[test]
fn host_functions_and_secrets_are_unreachable() {
    let (_, ex) = shared();
    let r = ok(&run(
        ex,
        r#"
        const found = [];
        for (const n of Object.getOwnPropertyNames(globalThis)) {
            const v = globalThis[n];
            if (typeof v === 'function' && /host|native|call/i.test(n)) found.push(n);
        }
        return {
            found,
            proto: Object.getPrototypeOf(mock),
            keys: Object.keys(mock),
            ctor: typeof mock.constructor,
            then: typeof mock.then,
            src: String(mock.getItem),
            sym: typeof mock[Symbol.iterator],
        };
    "#,
    ))
    .clone();
    assert_eq!(r["found"], json!([]));
    assert_eq!(r["proto"], json!(null));
    assert_eq!(r["keys"], json!([]));
    assert_eq!(r["ctor"], "undefined");
    assert_eq!(r["then"], "undefined");
    assert_eq!(r["sym"], "undefined");
    assert!(!r["src"].as_str().unwrap().contains("sekret"));
    let out = run(
        ex,
        "const s = JSON.stringify(await mock.echoAuth()); return s",
    );
    assert!(!serde_json::to_string(&out)
        .unwrap()
        .contains("sekret-bearer-123"));
}

#[test]
fn namespaces_cannot_be_replaced_or_extended() {
    let (_, ex) = shared();
    let r = ok(&run(
        ex,
        r#"
        try { mock.getItem = () => 'fake' } catch (e) {}
        try { delete mock.request } catch (e) {}
        try { globalThis.mock = {} } catch (e) {}
        try { console.log = () => {} } catch (e) {}
        const r = await mock.getItem({ id: 'real' });
        console.log('still captured');
        return r.path;
    "#,
    ))
    .clone();
    assert_eq!(r, json!("/v1/items/real"));
}

#[test]
fn prototype_pollution_does_not_survive_into_the_next_run() {
    let mock = Mock::start();
    let ex = mock_executor(&mock, limits());
    // Two workers: pollute twice so both threads have run polluting code.
    for _ in 0..4 {
        ok(&run(
            &ex,
            r#"
            Object.prototype.polluted = 'yes';
            Array.prototype.map = null;
            JSON.stringify = () => '"hacked"';
            Promise.prototype.then = function () { return 'hijacked' };
            globalThis.leak = 42;
            return 1;
        "#,
        ));
    }
    for _ in 0..4 {
        let r = ok(&run(
            &ex,
            "return [({}).polluted ?? null, typeof [].map, JSON.stringify({ a: 1 }), typeof leak]",
        ))
        .clone();
        assert_eq!(r, json!([null, "function", "{\"a\":1}", "undefined"]));
    }
}

#[test]
fn prototype_pollution_does_not_reach_request_building() {
    let mock = Mock::start();
    let ex = mock_executor(&mock, limits());
    let r = ok(&run(
        &ex,
        r#"
        Object.prototype.id = '../../admin';
        Object.prototype.q = 'injected';
        Object.prototype['X-Trace'] = 'a\r\nb';
        const r = await mock.getItem({ id: 'safe' });
        return [r.path, r.query];
    "#,
    ))
    .clone();
    assert_eq!(r, json!(["/v1/items/safe", ""]));
}

#[test]
fn huge_results_and_log_floods_are_cut_to_valid_json() {
    let (_, ex) = shared();
    let out = run(ex, "for (let i = 0; i < 20000; i++) console.log('x'.repeat(100)); return { s: 'y'.repeat(5000000), a: Array.from({ length: 100000 }, (_, i) => i) }");
    let r = ok(&out);
    let text = serde_json::to_string(&out).unwrap();
    assert!(text.len() < 30_000, "{}", text.len());
    assert!(r["s"].as_str().unwrap().contains("more chars"));
    assert!(out.truncated.is_some());
    assert!(out.logs.last().unwrap().contains("more log lines dropped"));
    serde_json::from_str::<serde_json::Value>(&text).unwrap();
}

#[test]
fn thrown_hostile_values_are_described_safely() {
    let (_, ex) = shared();
    let m = err(
        &run(
            ex,
            "throw new Proxy({}, { get() { throw 1 }, has() { throw 1 } })",
        ),
        "runtime",
    );
    assert!(!m.is_empty());
    let m = err(
        &run(ex, "throw { message: { toString() { for (;;) {} } } }"),
        "timeout",
    );
    assert!(!m.is_empty());
    still_serving(ex);
}

#[test]
fn deeply_nested_source_is_a_clean_error() {
    let (_, ex) = shared();
    let code = format!("return {}1{}", "(".repeat(20000), ")".repeat(20000));
    let out = run(ex, &code);
    assert!(!out.ok);
    let code = format!("return {}1", "!".repeat(50000));
    let _ = run(ex, &code);
    still_serving(ex);
}

#[test]
fn many_sequential_executions_keep_working() {
    let (_, ex) = shared();
    for i in 0..300 {
        let out = run(
            ex,
            &format!("const a = Array.from({{ length: 100 }}, (_, j) => j * {i}); return a[99]"),
        );
        assert_eq!(ok(&out), &json!(99 * i));
    }
}
