//! `execute` against a loopback mock upstream: typed calls, the generic
//! request, errors, scopes, credentials, limits, real shared specs, the CLI.
#![allow(clippy::unwrap_used)]

mod execute_support;

use codemode::execute::{AuthScheme, Credentials, Limits, Scopes, Secret, SecretSource};
use execute_support::*;
use serde_json::json;
use std::time::Duration;

#[test]
fn typed_call_returns_parsed_body_and_trace() {
    let mock = Mock::start();
    let ex = mock_executor(&mock, Limits::default());
    let out = run(
        &ex,
        r#"
        const item: any = await mock.getItem({ id: "42", q: "hello world", tags: ["a", "b"], csv: ["x", "y"], filter: { state: "open" }, "X-Trace": "t1" });
        return { path: item.path, query: item.query, trace: item.headers["x-trace"] };
    "#,
    );
    let r = ok(&out);
    assert_eq!(r["path"], "/v1/items/42");
    let q = r["query"].as_str().unwrap();
    assert!(q.contains("q=hello+world"), "{q}");
    assert!(q.contains("tags=a&tags=b"), "{q}");
    assert!(q.contains("csv=x%2Cy"), "{q}");
    assert!(q.contains("filter%5Bstate%5D=open"), "{q}");
    assert_eq!(r["trace"], "t1");
    assert_eq!(out.calls.len(), 1);
    assert_eq!(out.calls[0].method, "GET");
    assert_eq!(out.calls[0].path, "/items/42");
    assert_eq!(out.calls[0].status, Some(200));
}

#[test]
fn three_code_shapes_and_fences_are_accepted() {
    let mock = Mock::start();
    let ex = mock_executor(&mock, Limits::default());
    let body = ok(&run(
        &ex,
        "const r = await mock.getItem({ id: 'a' }); return r.path;",
    ))
    .clone();
    let arrow = ok(&run(
        &ex,
        "async () => { const r = await mock.getItem({ id: 'a' }); return r.path; }",
    ))
    .clone();
    let last = ok(&run(
        &ex,
        "const r = await mock.getItem({ id: 'a' });\nr.path",
    ))
    .clone();
    let fenced = ok(&run(&ex, "```typescript\nconst r: { path: string } = await mock.getItem({ id: 'a' });\nreturn r.path;\n```")).clone();
    for v in [body, arrow, last, fenced] {
        assert_eq!(v, json!("/v1/items/a"));
    }
}

#[test]
fn json_and_form_bodies_are_encoded_per_content_type() {
    let mock = Mock::start();
    let ex = mock_executor(&mock, Limits::default());
    let r = ok(&run(
        &ex,
        "return await mock.createItem({ body: { name: 'widget', n: 3 } })",
    ))
    .clone();
    assert_eq!(r["json"], json!({"name": "widget", "n": 3}));
    assert_eq!(r["headers"]["content-type"], "application/json");
    let r = ok(&run(
        &ex,
        "return await mock.submitForm({ body: { a: 'x y', meta: { k: 'v' }, list: [1, 2] } })",
    ))
    .clone();
    assert_eq!(r["body"], "a=x+y&meta%5Bk%5D=v&list%5B0%5D=1&list%5B1%5D=2");
    assert_eq!(
        r["headers"]["content-type"],
        "application/x-www-form-urlencoded"
    );
}

#[test]
fn generic_request_escape_hatch() {
    let mock = Mock::start();
    let ex = mock_executor(&mock, Limits::default());
    let r = ok(&run(&ex, r#"
        return await mock.request({ method: "PUT", path: "/undocumented/thing", query: { a: 1, b: [2, 3] }, headers: { "X-Extra": "yes" }, body: { z: true } });
    "#)).clone();
    assert_eq!(r["method"], "PUT");
    assert_eq!(r["path"], "/v1/undocumented/thing");
    assert_eq!(r["query"], "a=1&b=2&b=3");
    assert_eq!(r["headers"]["x-extra"], "yes");
    assert_eq!(r["json"], json!({"z": true}));
    // The bearer token is added to generic requests too.
    let seen = mock.seen();
    assert_eq!(
        seen.last().unwrap().header("authorization"),
        Some("Bearer sekret-bearer-123")
    );
}

#[test]
fn non_2xx_throws_api_error_with_status_and_excerpt() {
    let mock = Mock::start();
    let ex = mock_executor(&mock, Limits::default());
    let r = ok(&run(&ex, r#"
        try { await mock.getStatus({ code: 404 }); return "no"; }
        catch (e) { return { name: e.name, isApi: e instanceof ApiError, status: e.status, len: e.body.length, msg: e.message }; }
    "#)).clone();
    assert_eq!(r["name"], "ApiError");
    assert_eq!(r["isApi"], true);
    assert_eq!(r["status"], 404);
    assert!(r["len"].as_u64().unwrap() <= 1003, "{r}");
    assert!(r["msg"].as_str().unwrap().contains("404"), "{r}");
    // Uncaught: kind `api`, trace kept.
    let out = run(
        &ex,
        "console.log('before'); await mock.getStatus({ code: 500 });",
    );
    let m = err(&out, "api");
    assert!(m.contains("mock.getStatus") && m.contains("500"), "{m}");
    assert_eq!(out.logs, vec!["before"]);
    assert_eq!(out.calls[0].status, Some(500));
}

#[test]
fn validation_errors_name_the_parameter() {
    let mock = Mock::start();
    let ex = mock_executor(&mock, Limits::default());
    let m = err(&run(&ex, "await mock.getItem({})"), "runtime");
    assert!(m.contains("missing required path parameter `id`"), "{m}");
    let m = err(
        &run(&ex, "await mock.getItem({ id: '1', colour: 'red' })"),
        "runtime",
    );
    assert!(m.contains("unknown parameter `colour`"), "{m}");
    let m = err(&run(&ex, "await mock.createItem({})"), "runtime");
    assert!(m.contains("missing required request body `body`"), "{m}");
    let m = err(&run(&ex, "await mock.getItm({ id: '1' })"), "runtime");
    assert!(
        m.contains("not an operation") && m.contains("getItem"),
        "{m}"
    );
    assert!(
        mock.seen().is_empty(),
        "invalid calls must not reach the network"
    );
}

#[test]
fn text_and_empty_responses() {
    let mock = Mock::start();
    let ex = mock_executor(&mock, Limits::default());
    assert_eq!(
        ok(&run(&ex, "return await mock.getText()")),
        &json!("hello text")
    );
}

#[test]
fn scopes_refuse_calls_before_the_network() {
    let mock = Mock::start();
    let ex = mock_executor(&mock, Limits::default());
    let ro = Scopes::read_only();
    let m = err(
        &run_scoped(&ex, "await mock.createItem({ body: { name: 'x' } })", &ro),
        "policy",
    );
    assert!(m.contains("read-only"), "{m}");
    let m = err(
        &run_scoped(
            &ex,
            "await mock.request({ method: 'DELETE', path: '/items/1' })",
            &ro,
        ),
        "policy",
    );
    assert!(m.contains("read-only"), "{m}");
    let r = ok(&run_scoped(&ex, "try { await mock.deleteItem({ id: '1' }) } catch (e) { return [e.name, e instanceof PolicyError] }", &ro)).clone();
    assert_eq!(r, json!(["PolicyError", true]));
    assert!(
        mock.seen().is_empty(),
        "refused calls must not reach the network"
    );

    let only = Scopes {
        operations: Some(vec!["mock.getItem".into()]),
        ..Scopes::default()
    };
    ok(&run_scoped(
        &ex,
        "return await mock.getItem({ id: '1' })",
        &only,
    ));
    err(&run_scoped(&ex, "await mock.getText()", &only), "policy");
    // A generic request is checked as the operation it matches.
    ok(&run_scoped(
        &ex,
        "return await mock.request({ path: '/items/7' })",
        &only,
    ));
    err(
        &run_scoped(&ex, "await mock.request({ path: '/elsewhere' })", &only),
        "policy",
    );

    let tags = Scopes {
        tags: Some(vec!["items".into()]),
        ..Scopes::default()
    };
    ok(&run_scoped(
        &ex,
        "return await mock.createItem({ body: { name: 'x' } })",
        &tags,
    ));
    err(
        &run_scoped(&ex, "await mock.deleteItem({ id: '1' })", &tags),
        "policy",
    );

    let methods = Scopes {
        methods: Some(vec!["get".into()]),
        ..Scopes::default()
    };
    err(
        &run_scoped(
            &ex,
            "await mock.createItem({ body: { name: 'x' } })",
            &methods,
        ),
        "policy",
    );
    let no_generic = Scopes {
        generic_request: false,
        ..Scopes::default()
    };
    err(
        &run_scoped(&ex, "await mock.request({ path: '/items/1' })", &no_generic),
        "policy",
    );
}

const SECRET: &str = "cm-secret-7f3a9c1e5b";

fn assert_secret_absent(text: &str) {
    assert!(!text.contains(SECRET), "secret leaked: {text}");
    assert!(
        !text.contains("Y20tc2VjcmV0LTdmM2E5YzFlNWI"),
        "base64 secret leaked: {text}"
    );
}

#[test]
fn credentials_are_sent_upstream_and_appear_nowhere_in_output() {
    let mock = Mock::start();
    let ex = mock_executor_secret(&mock);
    let outs = vec![
        run(&ex, "const r = await mock.echoAuth(); console.log(JSON.stringify(r)); return r;"),
        run(&ex, "return Object.getOwnPropertyNames(globalThis).map(n => { try { return n + '=' + JSON.stringify(globalThis[n]) } catch (e) { return n } })"),
        run(&ex, "await mock.getStatus({ code: 401 })"),
        run(&ex, "await mock.request({ path: '/x', headers: { Authorization: 'Bearer mine' } })"),
        run(&ex, "return await keyed.getThing({ name: 'a', fields: ['x', 'y'] })"),
        run(&ex, "await keyed.request({ path: '/status/403' })"),
    ];
    for out in &outs {
        assert_secret_absent(&serde_json::to_string(out).unwrap());
    }
    // The echoed Authorization header came back redacted.
    assert_eq!(outs[0].result["you_sent"], "Bearer [redacted]");
    // The sandbox may not set the credential header itself.
    err(&outs[3], "runtime");
    // The mock echoes the query; the secret in it comes back redacted.
    assert_eq!(outs[4].result["query"], "fields=x%7Cy&api_key=[redacted]");
    let seen = mock.seen();
    assert!(seen
        .iter()
        .any(|s| s.header("authorization") == Some(&format!("Bearer {SECRET}"))));
    assert!(seen
        .iter()
        .any(|s| s.uri.contains(&format!("api_key={SECRET}"))));
    // An operation with `security: []` gets no credential.
    let out = run(&ex, "return await mock.getPublic()");
    ok(&out);
    let last = mock.seen().pop().unwrap();
    assert_eq!(last.header("authorization"), None);
}

fn mock_executor_secret(mock: &Mock) -> codemode::execute::Executor {
    executor_with(
        vec![
            api(
                "mock",
                "fixtures/mock-api.yaml",
                mock.url("/v1"),
                Some(bearer(SECRET)),
            ),
            api(
                "keyed",
                "fixtures/mock-apikey.yaml",
                mock.url("/api"),
                Some(Credentials {
                    scheme: AuthScheme::from_spec(&spec("fixtures/mock-apikey.yaml")).unwrap(),
                    source: SecretSource::Value(Secret::new(SECRET)),
                }),
            ),
        ],
        Limits::default(),
        2,
    )
}

#[test]
fn basic_and_header_credentials_from_env_and_file() {
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("key");
    std::fs::write(&file, "file-key-123\n").unwrap();
    // SAFETY of the test: a unique variable name no other test reads.
    unsafe_env_set("CODEMODE_TEST_BASIC_SECRET", "alice:pw-9");
    let ex = executor_with(
        vec![
            api(
                "a",
                "fixtures/mock-api.yaml",
                mock.url("/v1"),
                Some(Credentials {
                    scheme: AuthScheme::Basic,
                    source: SecretSource::Env("CODEMODE_TEST_BASIC_SECRET".into()),
                }),
            ),
            api(
                "b",
                "fixtures/mock-api.yaml",
                mock.url("/v1"),
                Some(Credentials {
                    scheme: AuthScheme::ApiKeyHeader("X-Api-Key".into()),
                    source: SecretSource::File(file),
                }),
            ),
        ],
        Limits::default(),
        1,
    );
    ok(&run(
        &ex,
        "await a.getItem({ id: '1' }); await b.getItem({ id: '2' }); return 1",
    ));
    let seen = mock.seen();
    assert_eq!(
        seen[0].header("authorization"),
        Some("Basic YWxpY2U6cHctOQ==")
    );
    assert_eq!(seen[1].header("x-api-key"), Some("file-key-123"));
    let out = run(
        &ex,
        "return await b.request({ path: '/x', headers: { 'x-api-key': 'mine' } })",
    );
    err(&out, "policy");
}

fn unsafe_env_set(k: &str, v: &str) {
    // Edition 2021: set_var is safe; the variable is unique to this test.
    std::env::set_var(k, v);
}

#[test]
fn missing_credential_env_is_a_clear_startup_error() {
    let r = codemode::execute::Executor::new(
        vec![api(
            "a",
            "fixtures/mock-api.yaml",
            "http://127.0.0.1:1/v1".into(),
            Some(Credentials {
                scheme: AuthScheme::Bearer,
                source: SecretSource::Env("CODEMODE_TEST_UNSET_VAR_XYZ".into()),
            }),
        )],
        Default::default(),
    );
    let e = r.err().unwrap().to_string();
    assert!(e.contains("CODEMODE_TEST_UNSET_VAR_XYZ is not set"), "{e}");
}

#[test]
fn call_count_limit() {
    let mock = Mock::start();
    let ex = mock_executor(
        &mock,
        Limits {
            max_calls: 3,
            ..Limits::default()
        },
    );
    let out = run(
        &ex,
        "for (let i = 0; i < 5; i++) await mock.getItem({ id: String(i) });",
    );
    let m = err(&out, "limit");
    assert!(m.contains("3 API calls"), "{m}");
    assert_eq!(out.calls.len(), 3);
    assert_eq!(mock.seen().len(), 3);
}

#[test]
fn concurrency_limit_queues_calls() {
    let mock = Mock::start();
    let ex = mock_executor(
        &mock,
        Limits {
            max_concurrent_calls: 2,
            ..Limits::default()
        },
    );
    let t = std::time::Instant::now();
    let out = run(&ex, "const rs = await Promise.all([1,2,3,4,5,6].map(() => mock.getSlow({ ms: 150 }))); return rs.length;");
    assert_eq!(ok(&out), &json!(6));
    // Six calls of 150 ms, two at a time: at least three rounds.
    assert!(
        t.elapsed() >= Duration::from_millis(440),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(out.calls.len(), 6);
}

#[test]
fn response_size_limit() {
    let mock = Mock::start();
    let ex = mock_executor(
        &mock,
        Limits {
            max_response_bytes: 10_000,
            ..Limits::default()
        },
    );
    ok(&run(
        &ex,
        "return (await mock.getBig({ bytes: 5000 }))[0].length",
    ));
    let m = err(&run(&ex, "await mock.getBig({ bytes: 50000 })"), "limit");
    assert!(m.contains("10000-byte limit"), "{m}");
}

#[test]
fn timeout_limit_covers_slow_upstreams() {
    let mock = Mock::start();
    let ex = mock_executor(
        &mock,
        Limits {
            timeout: Duration::from_millis(400),
            ..Limits::default()
        },
    );
    let t = std::time::Instant::now();
    let out = run(&ex, "await mock.getSlow({ ms: 5000 })");
    err(&out, "timeout");
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
}

#[test]
fn result_and_log_limits_truncate_to_valid_json() {
    let mock = Mock::start();
    let ex = mock_executor(
        &mock,
        Limits {
            max_result_tokens: 500,
            max_log_bytes: 1000,
            ..Limits::default()
        },
    );
    let out = run(&ex, "for (let i = 0; i < 500; i++) console.log('line ' + i + ' ' + 'z'.repeat(20)); return await mock.getList({ n: 1000 });");
    let r = ok(&out);
    let arr = r.as_array().unwrap();
    assert!(arr.len() < 1000);
    assert!(arr
        .last()
        .unwrap()
        .as_str()
        .unwrap()
        .contains("more items dropped"));
    assert!(serde_json::to_string(r).unwrap().len() <= 2000);
    assert!(out.truncated.as_deref().unwrap().contains("truncated"));
    let logs: usize = out.logs.iter().map(|l| l.len()).sum();
    assert!(logs < 1300, "{logs}");
    assert!(out.logs.last().unwrap().contains("more log lines dropped"));
}

#[test]
fn memory_and_stack_limits() {
    let mock = Mock::start();
    let ex = mock_executor(
        &mock,
        Limits {
            memory_bytes: 16 << 20,
            ..Limits::default()
        },
    );
    err(
        &run(
            &ex,
            "const a = []; for (;;) a.push(new Array(1000).fill(1));",
        ),
        "memory",
    );
    err(
        &run(&ex, "function f(n) { return f(n + 1) + 1 } return f(0)"),
        "limit",
    );
    ok(&run(&ex, "return 1"));
}

#[test]
fn cancellation_stops_a_running_sandbox() {
    let mock = Mock::start();
    let ex = mock_executor(&mock, Limits::default());
    let token = codemode::execute::CancellationToken::new();
    let t2 = token.clone();
    rt().spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        t2.cancel();
    });
    let t = std::time::Instant::now();
    let out = rt().block_on(ex.execute("for(;;){}", &Scopes::default(), token, None));
    err(&out, "cancelled");
    assert!(t.elapsed() < Duration::from_secs(10));
}

#[test]
fn progress_reports_every_call() {
    let mock = Mock::start();
    let ex = mock_executor(&mock, Limits::default());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let progress: codemode::execute::ProgressFn =
        std::sync::Arc::new(move |p: &codemode::execute::Progress| {
            s2.lock().unwrap().push((p.calls_done, p.call.status));
        });
    let out = rt().block_on(ex.execute(
        "await mock.getItem({ id: '1' }); await mock.getText(); return 1",
        &Scopes::default(),
        codemode::execute::CancellationToken::new(),
        Some(progress),
    ));
    ok(&out);
    assert_eq!(*seen.lock().unwrap(), vec![(1, Some(200)), (2, Some(200))]);
}

#[test]
fn real_specs_petstore_github_stripe_kubernetes() {
    let mock = Mock::start();
    let ex = executor_with(
        vec![
            api(
                "petstore",
                "../shared/specs/petstore-v2/petstore.json",
                mock.url("/v1"),
                None,
            ),
            api(
                "github",
                "../shared/specs/github-octokit/api.github.com.json",
                mock.url("/v1"),
                Some(bearer("gh-token")),
            ),
            api(
                "stripe",
                "../shared/specs/stripe/spec3.yaml",
                mock.url("/v1"),
                Some(bearer("sk_test_abc")),
            ),
            api(
                "kubernetes",
                "../shared/specs/kubernetes/swagger.json",
                mock.url("/v1"),
                None,
            ),
        ],
        Limits::default(),
        2,
    );
    let r = ok(&run(&ex, r#"
        const pets = await petstore.listPets({ limit: 5 });
        const repo = await github.reposGet({ owner: "rust-lang", repo: "../../admin" });
        const issue = await github.issuesCreate({ owner: "o", repo: "r", body: { title: "Bug", labels: ["x"] } });
        const cust = await stripe.postCustomers({ body: { email: "a@b.c", metadata: { plan: "pro" } } });
        const pods = await kubernetes.listCoreV1NamespacedPod({ namespace: "default", limit: 2 });
        return { pets: pets.path + "?" + pets.query, repo: repo.path, issue: [issue.path, issue.json], cust: cust.body, pods: pods.path + "?" + pods.query };
    "#)).clone();
    assert_eq!(r["pets"], "/v1/pets?limit=5");
    assert_eq!(r["repo"], "/v1/repos/rust-lang/..%2F..%2Fadmin");
    assert_eq!(
        r["issue"],
        json!(["/v1/repos/o/r/issues", {"title": "Bug", "labels": ["x"]}])
    );
    assert_eq!(r["cust"], "email=a%40b.c&metadata%5Bplan%5D=pro");
    assert_eq!(r["pods"], "/v1/api/v1/namespaces/default/pods?limit=2");
}

#[test]
fn cli_exec_json_and_secret_hygiene() {
    let mock = Mock::start();
    let bin = env!("CARGO_BIN_EXE_codemode");
    let out = std::process::Command::new(bin)
        .args(["exec", "fixtures/mock-api.yaml", "--base-url", &mock.url("/v1"), "--allow-private-network", "--json", "--code"])
        .arg("const r = await mock.echoAuth(); console.log(r.you_sent); const i = await mock.getItem({ id: 'z' }); return i.path")
        .env("CODEMODE_MOCK_TOKEN", SECRET)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert_secret_absent(&stdout);
    assert_secret_absent(&stderr);
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["result"], "/v1/items/z");
    assert_eq!(v["logs"], json!(["Bearer [redacted]"]));
    assert_eq!(
        v["calls"][1],
        json!({"api": "mock", "operation": "getItem", "method": "GET", "path": "/items/z", "status": 200, "ms": v["calls"][1]["ms"]})
    );
    assert!(v["error"].is_null());
    assert!(mock
        .seen()
        .iter()
        .any(|s| s.header("authorization") == Some(&format!("Bearer {SECRET}"))));

    // Failure: exit code 1, error kind in the JSON.
    let out = std::process::Command::new(bin)
        .args([
            "exec",
            "fixtures/mock-api.yaml",
            "--base-url",
            &mock.url("/v1"),
            "--allow-private-network",
            "--json",
            "--code",
            "await mock.getStatus({ code: 418 })",
        ])
        .env("CODEMODE_MOCK_TOKEN", SECRET)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "api");
    assert_secret_absent(&String::from_utf8_lossy(&out.stdout));

    // Without --allow-private-network the loopback mock is refused.
    let out = std::process::Command::new(bin)
        .args([
            "exec",
            "fixtures/mock-api.yaml",
            "--base-url",
            &mock.url("/v1"),
            "--json",
            "--code",
            "await mock.getText()",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "policy", "{v}");
}
