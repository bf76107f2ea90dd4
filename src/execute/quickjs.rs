//! The QuickJS engine (rquickjs): a fresh `Runtime` + `Context` per
//! execution with a memory limit, a stack limit and an interrupt handler
//! that stops any JavaScript (loops, getters, `toJSON`, regexps) once the
//! deadline passes or the client cancels.
//!
//! The context gets the standard built-ins only (no `std`/`os` modules, no
//! module loader, no timers). The prelude (`prelude.js`) receives three host
//! functions as arguments — call, log, done — that take and return strings.
//! Promises of API calls are settled by the event loop here, which runs
//! pending jobs, then blocks on the host for the next finished call.

use super::engine::{Engine, EngineFailure, Host, RunSpec, Wait};
use super::output::ErrorKind;
use rquickjs::context::intrinsic;
use rquickjs::{Context, Ctx, Function, Module, Object, Persistent, Runtime, Value, WriteOptions};
use std::cell::RefCell;
use std::rc::Rc;

const PRELUDE_SOURCE: &str = include_str!("prelude.js");

/// The prelude without comments and indentation (it is parsed into every
/// fresh context, so its size is per-execution cost). The prelude has no
/// multi-line strings or templates, so this is safe line by line.
fn prelude() -> &'static str {
    static COMPACT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    COMPACT.get_or_init(|| {
        PRELUDE_SOURCE
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// The prelude compiled once, per process, to QuickJS bytecode (as an ES
/// module whose default export is the prelude function). Parsing the prelude
/// source was about half the cost of a fresh sandbox; reading bytecode is
/// much cheaper. `None` if compiling failed (then the source is parsed).
fn prelude_bytecode() -> Option<&'static [u8]> {
    static BYTECODE: std::sync::OnceLock<Option<Vec<u8>>> = std::sync::OnceLock::new();
    BYTECODE
        .get_or_init(|| {
            let source = prelude().replacen("0, function", "export default function", 1);
            let rt = Runtime::new().ok()?;
            let ctx = Context::custom::<Intrinsics>(&rt).ok()?;
            ctx.with(|ctx| {
                let module = Module::declare(ctx, "codemode:prelude", source).ok()?;
                module.write(WriteOptions::default()).ok()
            })
        })
        .as_deref()
}

/// Loads the prelude function into a fresh context, from bytecode when
/// there is some.
fn load_prelude<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<Function<'js>> {
    let Some(bytecode) = prelude_bytecode() else {
        return ctx.eval(prelude());
    };
    // SAFETY: `bytecode` was written by `JS_WriteObject` in this process, by
    // the same QuickJS build, from our own prelude source (never from
    // sandboxed code), and it is `'static`, as QuickJS's ROM-data reading
    // requires.
    #[allow(unsafe_code)]
    let module = unsafe { Module::load(ctx.clone(), bytecode) }?;
    let (module, _evaluated) = module.eval()?;
    module.get("default")
}

/// The QuickJS executor.
#[derive(Debug, Default)]
pub(crate) struct QuickJs;

type Intrinsics = (
    intrinsic::Date,
    intrinsic::Eval,
    intrinsic::RegExpCompiler,
    intrinsic::RegExp,
    intrinsic::Json,
    intrinsic::Proxy,
    intrinsic::MapSet,
    intrinsic::TypedArrays,
    intrinsic::Promise,
);

impl Engine for QuickJs {
    fn run(&self, spec: &RunSpec<'_>, host: Rc<RefCell<dyn Host>>) -> Result<(), EngineFailure> {
        let internal = |what: &str, e: rquickjs::Error| EngineFailure {
            kind: match e {
                rquickjs::Error::Allocation => ErrorKind::Memory,
                _ => ErrorKind::Runtime,
            },
            message: format!("internal error ({what}): {e}"),
        };
        let rt = Runtime::new().map_err(|e| internal("runtime", e))?;
        rt.set_memory_limit(spec.limits.memory_bytes);
        rt.set_max_stack_size(spec.limits.stack_bytes);
        let stop = spec.stop.clone();
        rt.set_interrupt_handler(Some(Box::new(move || stop.reason().is_some())));
        // The last rejection nobody handled: explains a hang, and is how an
        // out-of-memory inside a promise job surfaces.
        let unhandled: Rc<RefCell<Option<String>>> = Rc::default();
        let u = unhandled.clone();
        rt.set_host_promise_rejection_tracker(Some(Box::new(
            move |_ctx, _promise, reason, handled| {
                if !handled {
                    let text = if reason.is_null() || reason.is_undefined() {
                        "out of memory".to_string()
                    } else {
                        describe_value(&reason)
                    };
                    *u.borrow_mut() = Some(text);
                }
            },
        )));
        let ctx = Context::custom::<Intrinsics>(&rt).map_err(|e| internal("context", e))?;
        let result = match ctx.with(|ctx| start(&ctx, spec, host.clone())) {
            Ok(settle) => {
                let r = event_loop(&rt, &ctx, spec, &host, &settle, &unhandled);
                drop(settle);
                r
            }
            Err(e) => Err(e),
        };
        drop(ctx);
        drop(rt);
        result
    }
}

/// Evaluates the prelude, compiles the code and starts it. Returns the
/// prelude's `settle` function for the event loop.
fn start<'js>(
    ctx: &Ctx<'js>,
    spec: &RunSpec<'_>,
    host: Rc<RefCell<dyn Host>>,
) -> Result<Persistent<Function<'static>>, EngineFailure> {
    let fail = |e: rquickjs::Error| exception(ctx, spec, e);
    let prelude: Function = load_prelude(ctx).map_err(fail)?;

    let h = host.clone();
    let host_call = Function::new(
        ctx.clone(),
        move |api: String, op: String, params: String| -> String {
            match h.borrow_mut().start_call(&api, &op, &params) {
                Ok(id) => format!("{{\"id\":{id}}}"),
                Err(e) => format!("{{\"error\":{}}}", e.to_json()),
            }
        },
    )
    .map_err(fail)?;
    let h = host.clone();
    let host_log = Function::new(ctx.clone(), move |level: String, text: String| {
        h.borrow_mut().log(&level, &text);
    })
    .map_err(fail)?;
    let h = host;
    let host_done = Function::new(ctx.clone(), move |ok: bool, json: String| {
        h.borrow_mut().finish(ok, json);
    })
    .map_err(fail)?;
    let names = spec.namespaces.to_vec();
    let api: Object = prelude
        .call((host_call, host_log, host_done, names))
        .map_err(fail)?;
    let run: Function = api.get("run").map_err(fail)?;
    let settle: Function = api.get("settle").map_err(fail)?;

    // Compiling the code does not run it: it is one function expression.
    let main: Value = ctx.eval(spec.js).map_err(fail)?;
    run.call::<_, ()>((main,)).map_err(fail)?;
    Ok(Persistent::save(ctx, settle))
}

/// Runs jobs, then waits for the host, until the code finishes or must stop.
fn event_loop(
    rt: &Runtime,
    ctx: &Context,
    spec: &RunSpec<'_>,
    host: &Rc<RefCell<dyn Host>>,
    settle: &Persistent<Function<'static>>,
    unhandled: &Rc<RefCell<Option<String>>>,
) -> Result<(), EngineFailure> {
    // A job can only throw past its promise when QuickJS itself failed
    // (out of memory while rejecting) or was interrupted.
    let mut job_failed = false;
    loop {
        loop {
            match rt.execute_pending_job() {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    e.0.with(|c| {
                        let _ = c.catch();
                    });
                    job_failed = true;
                }
            }
            if let Some(kind) = spec.stop.reason() {
                return Err(stopped(kind, spec));
            }
        }
        if let Some(kind) = spec.stop.reason() {
            return Err(stopped(kind, spec));
        }
        if host.borrow().is_finished() {
            return Ok(());
        }
        let next = host.borrow_mut().wait();
        match next {
            Wait::Settled { id, json } => {
                ctx.with(|ctx| {
                    let f = settle
                        .clone()
                        .restore(&ctx)
                        .map_err(|e| exception(&ctx, spec, e))?;
                    f.call::<_, ()>((id, json))
                        .map_err(|e| exception(&ctx, spec, e))
                })?;
            }
            Wait::Stop => {}
            Wait::Idle if job_failed => {
                return Err(classify("out of memory".into(), spec));
            }
            Wait::Idle => {
                let last = unhandled.borrow_mut().take();
                if let Some(reason) = last {
                    let f = classify(reason.clone(), spec);
                    if f.kind != ErrorKind::Runtime {
                        return Err(f);
                    }
                    return Err(EngineFailure {
                        kind: ErrorKind::Runtime,
                        message: format!("the code awaited a promise that never settles, and a promise was rejected without a handler: {reason}"),
                    });
                }
                return Err(EngineFailure {
                    kind: ErrorKind::Runtime,
                    message: "the code awaited a promise that never settles (nothing else was pending); make sure every promise you await resolves, and that the code returns".into(),
                });
            }
        }
    }
}

fn stopped(kind: ErrorKind, spec: &RunSpec<'_>) -> EngineFailure {
    let message = match kind {
        ErrorKind::Cancelled => "the execution was cancelled by the client".to_string(),
        _ => format!(
            "the execution exceeded its time limit of {} ms and was stopped; do less work per execution (fewer calls, smaller loops) or check for an infinite loop",
            spec.limits.timeout.as_millis()
        ),
    };
    EngineFailure { kind, message }
}

/// Turns an rquickjs error (usually a pending exception) into a failure.
fn exception(ctx: &Ctx<'_>, spec: &RunSpec<'_>, e: rquickjs::Error) -> EngineFailure {
    if let Some(kind) = spec.stop.reason() {
        let _ = ctx.catch();
        return stopped(kind, spec);
    }
    let message = match e {
        rquickjs::Error::Exception => {
            let v = ctx.catch();
            describe_value(&v)
        }
        rquickjs::Error::Allocation => "out of memory".into(),
        other => other.to_string(),
    };
    classify(message, spec)
}

fn describe_value(v: &Value<'_>) -> String {
    if let Some(obj) = v.as_object() {
        let name: Option<String> = obj.get("name").ok();
        let msg: Option<String> = obj.get("message").ok();
        match (name, msg) {
            (Some(n), Some(m)) => format!("{n}: {m}"),
            (None, Some(m)) => m,
            _ => "uncaught exception".into(),
        }
    } else if let Some(s) = v.as_string().and_then(|s| s.to_string().ok()) {
        s
    } else {
        "uncaught exception".into()
    }
}

fn classify(message: String, spec: &RunSpec<'_>) -> EngineFailure {
    let kind = if message.contains("out of memory") || message.contains("too long") {
        ErrorKind::Memory
    } else if message.contains("stack overflow") || message.contains("call stack") {
        ErrorKind::Limit
    } else if message.starts_with("SyntaxError") {
        ErrorKind::Syntax
    } else {
        ErrorKind::Runtime
    };
    let message = match kind {
        ErrorKind::Memory => format!(
            "out of memory: the code used more than the {} MiB memory limit; process data in smaller pieces and return less",
            spec.limits.memory_bytes >> 20
        ),
        ErrorKind::Limit => "stack overflow: the code recursed too deeply; use a loop instead of deep recursion".into(),
        _ => message,
    };
    EngineFailure { kind, message }
}

/// Rewrites the messages QuickJS gives for memory and stack errors reported
/// through the prelude (`kind` `memory`/`limit`) into actionable ones.
pub(crate) fn explain(kind: ErrorKind, message: String, limits: &super::limits::Limits) -> String {
    match kind {
        ErrorKind::Memory => format!(
            "{message}: the code used more than the {} MiB memory limit; process data in smaller pieces and return less",
            limits.memory_bytes >> 20
        ),
        ErrorKind::Limit if message == "stack overflow" => {
            "stack overflow: the code recursed too deeply; use a loop instead of deep recursion".into()
        }
        _ => message,
    }
}

#[cfg(test)]
mod prelude_tests {
    use super::*;

    #[test]
    fn the_prelude_compiles_to_bytecode_and_loads_from_it() {
        assert!(prelude_bytecode().is_some(), "prelude bytecode");
        let rt = Runtime::new().expect("runtime");
        let ctx = Context::custom::<Intrinsics>(&rt).expect("context");
        ctx.with(|ctx| {
            let f = load_prelude(&ctx).expect("prelude loads from bytecode");
            assert_eq!(f.get::<_, u32>("length").expect("length"), 4);
        });
    }
}
