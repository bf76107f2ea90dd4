//! The MCP service: exactly two tools, `search` and `execute`, with typed
//! input and output schemas, honest annotations and descriptions that teach
//! the workflow and list the caller's APIs. Every call is authorized against
//! the caller's scopes (through the [`Backend`]), counted in metrics and
//! written to the audit log.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rmcp::handler::server::tool::{schema_for_output, schema_for_type};
use rmcp::model::{
    CacheScope, CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock,
    Implementation, JsonObject, ListPromptsRequestMethod, ListPromptsResult,
    ListResourceTemplatesRequestMethod, ListResourceTemplatesResult, ListResourcesRequestMethod,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, ProgressNotificationParam,
    ServerCapabilities, ServerConfig, Tool, ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};

use super::audit::{self, AuditEvent};
use super::backend::{
    ApiInfo, Backend, Caller, CancellationToken, ExecuteInput, ExecuteOutput, ProgressSink,
    SearchInput, SearchOutput, ToolError,
};
use super::metrics::Metrics;

/// Longest API description shown in the tool list, in characters.
const API_DESCRIPTION_CHARS: usize = 50;
/// Budget for the API list in the `search` description, in characters
/// (≈ 4 characters per token; with the schemas `tools/list` stays near 900 tokens, see tests/mcp_tools.rs).
const API_LIST_CHARS: usize = 1_100;
/// Default and maximum `search` results.
const DEFAULT_LIMIT: u32 = 5;
const MAX_LIMIT: u32 = 20;
/// Extra time the backend gets past the timeout before the server cancels it.
const TIMEOUT_GRACE: Duration = Duration::from_secs(2);

const SEARCH_DESCRIPTION: &str = "Find API operations for a task. Returns TypeScript signatures to call from `execute`. Search first, then write one script.";
const EXECUTE_DESCRIPTION: &str = "Run one TypeScript script that does the whole task. Call operations found by `search` as `await <api>.<operation>(params)`; credentials are added for you. Loop, filter and join in the script; `return` only what is needed. console.log goes to logs.";

/// The MCP server. Cheap to clone (one per HTTP session).
#[derive(Clone)]
pub struct CodemodeServer {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Arc<dyn Backend>,
    metrics: Arc<Metrics>,
    /// The stdio caller; over HTTP the caller comes from the request.
    local: Option<Caller>,
    search_input: Arc<JsonObject>,
    search_output: Arc<JsonObject>,
    execute_input: Arc<JsonObject>,
    execute_output: Arc<JsonObject>,
}

impl std::fmt::Debug for CodemodeServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodemodeServer")
            .field("local", &self.inner.local)
            .finish()
    }
}

impl CodemodeServer {
    /// A server over `backend`. `local` is the caller for transports without
    /// authentication (stdio); HTTP requests carry their own [`Caller`].
    pub fn new(backend: Arc<dyn Backend>, metrics: Arc<Metrics>, local: Option<Caller>) -> Self {
        CodemodeServer {
            inner: Arc::new(Inner {
                backend,
                metrics,
                local,
                search_input: compact_schema(&schema_for_type::<SearchInput>(), true),
                search_output: compact_schema(&schema_for_output::<SearchOutput>(), false),
                execute_input: compact_schema(&schema_for_type::<ExecuteInput>(), true),
                execute_output: compact_schema(&schema_for_output::<ExecuteOutput>(), false),
            }),
        }
    }

    /// The two tools as `caller` sees them (only the APIs it may use are listed).
    pub fn tools_for(&self, caller: &Caller) -> Vec<Tool> {
        let apis: Vec<ApiInfo> = self
            .inner
            .backend
            .apis()
            .into_iter()
            .filter(|a| caller.scopes.allows_api(&a.name))
            .collect();
        let mut search_desc = String::from(SEARCH_DESCRIPTION);
        search_desc.push_str(&api_list(&apis));
        vec![
            Tool::new_with_raw(
                "search",
                Some(Cow::Owned(search_desc)),
                self.inner.search_input.clone(),
            )
            .with_title("Search operations")
            .with_raw_output_schema(self.inner.search_output.clone())
            .annotate(
                ToolAnnotations::new()
                    .read_only(true)
                    .destructive(false)
                    .idempotent(true)
                    .open_world(false),
            ),
            Tool::new_with_raw(
                "execute",
                Some(Cow::Borrowed(EXECUTE_DESCRIPTION)),
                self.inner.execute_input.clone(),
            )
            .with_title("Run a script")
            .with_raw_output_schema(self.inner.execute_output.clone())
            .annotate(
                ToolAnnotations::new()
                    .read_only(false)
                    .destructive(true)
                    .idempotent(false)
                    .open_world(true),
            ),
        ]
    }

    fn caller(&self, ctx: &RequestContext<RoleServer>) -> Result<Caller, ErrorData> {
        if let Some(parts) = ctx.extensions.get::<axum::http::request::Parts>() {
            return parts.extensions.get::<Caller>().cloned().ok_or_else(|| {
                ErrorData::internal_error("request reached the tools without authentication", None)
            });
        }
        self.inner
            .local
            .clone()
            .ok_or_else(|| ErrorData::internal_error("no caller for this transport", None))
    }

    async fn search(&self, caller: &Caller, args: JsonObject) -> (CallToolResult, AuditEvent) {
        let started = Instant::now();
        let bytes_in = json_len(&args);
        let mut event = AuditEvent {
            caller: caller.id.clone(),
            tool: "search".into(),
            bytes_in,
            ..AuditEvent::default()
        };
        let outcome = match self.search_input(caller, args) {
            Ok(input) => self.inner.backend.search(caller, input).await,
            Err(e) => Err(e),
        };
        let result = match outcome {
            Ok(out) => {
                event.results = Some(out.results.len() as u64);
                event.outcome = "ok".into();
                structured(&out, false)
            }
            Err(e) => {
                event.outcome = e.kind().into();
                error_result(&e.to_string())
            }
        };
        event.duration_ms = started.elapsed().as_millis() as u64;
        event.bytes_out = result_len(&result);
        (result, event)
    }

    fn search_input(&self, caller: &Caller, args: JsonObject) -> Result<SearchInput, ToolError> {
        let mut input: SearchInput = parse_args(
            args,
            "{\"query\": \"list open issues\", \"api\"?: \"github\"}",
        )?;
        if input.query.trim().is_empty() {
            return Err(ToolError::InvalidInput(
                "`query` is empty: describe the task, e.g. \"create an invoice\"".into(),
            ));
        }
        if let Some(api) = &input.api {
            let visible: Vec<String> = self
                .inner
                .backend
                .apis()
                .into_iter()
                .map(|a| a.name)
                .filter(|n| caller.scopes.allows_api(n))
                .collect();
            if !visible.iter().any(|n| n == api) {
                return Err(ToolError::InvalidInput(format!(
                    "unknown API {api:?}: use one of {}",
                    visible.join(", ")
                )));
            }
        }
        if let Some(m) = &input.method {
            if sdk_gen::Method::parse(m).is_none() {
                return Err(ToolError::InvalidInput(format!(
                    "method {m:?} is not an HTTP method: use GET, POST, PUT, PATCH or DELETE"
                )));
            }
        }
        input.limit = Some(input.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT));
        Ok(input)
    }

    async fn execute(
        &self,
        caller: &Caller,
        args: JsonObject,
        ctx: &RequestContext<RoleServer>,
    ) -> (CallToolResult, AuditEvent) {
        let started = Instant::now();
        let bytes_in = json_len(&args);
        let mut input: ExecuteInput =
            match parse_args(args, "{\"code\": \"return await api.op({...})\"}") {
                Ok(i) => i,
                Err(e) => {
                    return self.execute_failed(caller, bytes_in, "invalid_input", &e.to_string())
                }
            };
        if input.code.trim().is_empty() {
            return self.execute_failed(
                caller,
                bytes_in,
                "invalid_input",
                "`code` is empty: send a TypeScript script that returns the result",
            );
        }
        let max = caller.limits.timeout_ms;
        let timeout_ms = input.timeout_ms.unwrap_or(max).clamp(1, max.max(1));
        input.timeout_ms = Some(timeout_ms);

        // Progress: forward the engine's reports when the client sent a token.
        let (sink, forwarder) = match ctx.meta.get_progress_token() {
            Some(token) => {
                let (sink, mut rx) = ProgressSink::channel();
                let peer = ctx.peer.clone();
                let task = tokio::spawn(async move {
                    while let Some(p) = rx.recv().await {
                        let mut param = ProgressNotificationParam::new(token.clone(), p.progress);
                        if let Some(total) = p.total {
                            param = param.with_total(total);
                        }
                        if let Some(message) = p.message {
                            param = param.with_message(message);
                        }
                        if peer.notify_progress(param).await.is_err() {
                            break;
                        }
                    }
                });
                (sink, Some(task))
            }
            None => (ProgressSink::disabled(), None),
        };

        // Cancellation: the client's cancel (or a closed stream) and the
        // server's hard deadline both fire the engine's token.
        let cancel: CancellationToken = ctx.ct.child_token();
        let run = self
            .inner
            .backend
            .execute(caller, input, sink, cancel.clone());
        tokio::pin!(run);
        let deadline = tokio::time::sleep(Duration::from_millis(timeout_ms) + TIMEOUT_GRACE);
        let output = tokio::select! {
            out = &mut run => out,
            () = deadline => {
                cancel.cancel();
                match tokio::time::timeout(TIMEOUT_GRACE, &mut run).await {
                    Ok(out) => out,
                    Err(_) => ExecuteOutput::failed("timeout", format!("the script ran longer than {timeout_ms} ms and was stopped: make it do less per call, or raise timeout_ms")),
                }
            }
        };
        if let Some(task) = forwarder {
            // Reports already queued still go out; then the task ends.
            let _ = tokio::time::timeout(Duration::from_millis(200), task).await;
        }

        let secs = started.elapsed().as_secs_f64();
        self.inner.metrics.execution(secs, &output.calls);
        let result = structured(&output, !output.ok);
        let event = AuditEvent {
            caller: caller.id.clone(),
            tool: "execute".into(),
            calls: output.calls.clone(),
            results: None,
            duration_ms: started.elapsed().as_millis() as u64,
            bytes_in,
            bytes_out: result_len(&result),
            outcome: match (&output.ok, &output.error) {
                (true, _) => "ok".into(),
                (false, Some(e)) => e.kind.clone(),
                (false, None) => "error".into(),
            },
        };
        (result, event)
    }

    fn execute_failed(
        &self,
        caller: &Caller,
        bytes_in: u64,
        kind: &str,
        message: &str,
    ) -> (CallToolResult, AuditEvent) {
        let out = ExecuteOutput::failed(kind, message);
        let result = structured(&out, true);
        let event = AuditEvent {
            caller: caller.id.clone(),
            tool: "execute".into(),
            bytes_in,
            bytes_out: result_len(&result),
            outcome: kind.into(),
            ..AuditEvent::default()
        };
        (result, event)
    }
}

/// Shrinks a generated schema for the tool list (every token counts):
/// inlines `$defs`, drops `$schema` (2020-12 is MCP's default), titles,
/// numeric formats and bounds, defaults, `null` alternatives of optional
/// fields (absent is how they are omitted), and, for output schemas, the
/// field descriptions.
fn compact_schema(schema: &JsonObject, keep_descriptions: bool) -> Arc<JsonObject> {
    use serde_json::Value;
    fn walk(v: &Value, defs: &JsonObject, keep: bool, top: bool) -> Value {
        match v {
            Value::Object(o) => {
                if let Some(Value::String(r)) = o.get("$ref") {
                    if let Some(def) = r.strip_prefix("#/$defs/").and_then(|n| defs.get(n)) {
                        return walk(def, defs, keep, false);
                    }
                }
                if let Some(Value::Array(alts)) = o.get("anyOf") {
                    let non_null: Vec<&Value> = alts
                        .iter()
                        .filter(|a| a.get("type") != Some(&Value::from("null")))
                        .collect();
                    if non_null.len() == 1 {
                        return walk(non_null[0], defs, keep, false);
                    }
                }
                let mut out = JsonObject::new();
                for (k, val) in o {
                    match k.as_str() {
                        "$schema" | "$defs" | "title" | "format" | "minimum" | "maximum"
                        | "default" => {}
                        "description" if !keep || top => {}
                        "type" => {
                            let t = match val {
                                Value::Array(ts) => {
                                    let rest: Vec<&Value> =
                                        ts.iter().filter(|t| *t != "null").collect();
                                    if rest.len() == 1 {
                                        rest[0].clone()
                                    } else {
                                        val.clone()
                                    }
                                }
                                other => other.clone(),
                            };
                            out.insert(k.clone(), t);
                        }
                        "properties" => {
                            let props = match val {
                                Value::Object(p) => Value::Object(
                                    p.iter()
                                        .map(|(name, s)| (name.clone(), walk(s, defs, keep, false)))
                                        .collect(),
                                ),
                                other => other.clone(),
                            };
                            out.insert(k.clone(), props);
                        }
                        _ => {
                            out.insert(k.clone(), walk(val, defs, keep, false));
                        }
                    }
                }
                Value::Object(out)
            }
            Value::Array(items) => {
                Value::Array(items.iter().map(|i| walk(i, defs, keep, false)).collect())
            }
            other => other.clone(),
        }
    }
    let defs = match schema.get("$defs") {
        Some(serde_json::Value::Object(d)) => d.clone(),
        _ => JsonObject::new(),
    };
    match walk(
        &serde_json::Value::Object(schema.clone()),
        &defs,
        keep_descriptions,
        true,
    ) {
        serde_json::Value::Object(o) => Arc::new(o),
        _ => Arc::new(schema.clone()),
    }
}

/// The API list appended to the `search` description, bounded in size.
fn api_list(apis: &[ApiInfo]) -> String {
    if apis.is_empty() {
        return "\nNo APIs are available to you.".into();
    }
    let mut out = String::from("\nAPIs:");
    for (i, a) in apis.iter().enumerate() {
        let desc = sdk_gen::typescript::summarize(&a.description, API_DESCRIPTION_CHARS);
        let line = format!("\n- {}: {} ({} ops)", a.name, desc, a.operations);
        if out.len() + line.len() > API_LIST_CHARS {
            let rest: Vec<&str> = apis[i..].iter().map(|a| a.name.as_str()).collect();
            let mut tail = format!("\n- also: {}", rest.join(", "));
            if out.len() + tail.len() > API_LIST_CHARS + 200 {
                tail = format!(
                    "\n- and {} more (search without `api` to find them)",
                    rest.len()
                );
            }
            out.push_str(&tail);
            break;
        }
        out.push_str(&line);
    }
    out
}

fn parse_args<T: serde::de::DeserializeOwned>(
    args: JsonObject,
    example: &str,
) -> Result<T, ToolError> {
    serde_json::from_value(serde_json::Value::Object(args)).map_err(|e| {
        ToolError::InvalidInput(format!("invalid arguments: {e}. Expected e.g. {example}"))
    })
}

fn structured<T: serde::Serialize>(value: &T, is_error: bool) -> CallToolResult {
    match serde_json::to_value(value) {
        Ok(v) if is_error => CallToolResult::structured_error(v),
        Ok(v) => CallToolResult::structured(v),
        Err(e) => error_result(&format!("internal error: cannot serialize the result: {e}")),
    }
}

fn error_result(message: &str) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message.to_string())])
}

fn json_len(v: &JsonObject) -> u64 {
    serde_json::to_vec(v).map(|b| b.len() as u64).unwrap_or(0)
}

fn result_len(r: &CallToolResult) -> u64 {
    serde_json::to_vec(r).map(|b| b.len() as u64).unwrap_or(0)
}

impl ServerHandler for CodemodeServer {
    fn get_info(&self) -> ServerConfig {
        // Not per caller (initialize/discover carry no caller here), so it
        // names no APIs: the `search` description lists the caller's.
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(
                Implementation::new("codemode", env!("CARGO_PKG_VERSION"))
                    .with_title("codemode")
                    .with_description("HTTP APIs through two tools: search and execute"),
            )
            .with_instructions(
                "Use `search` to find the operations for a task, then one `execute` script that does the whole task.",
            )
    }

    // No prompts or resources: say so (-32601) rather than answer empty
    // lists for capabilities this server does not declare.
    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        Err(ErrorData::method_not_found::<ListPromptsRequestMethod>())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Err(ErrorData::method_not_found::<ListResourcesRequestMethod>())
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Err(ErrorData::method_not_found::<
            ListResourceTemplatesRequestMethod,
        >())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let caller = self.caller(&ctx)?;
        let mut result = ListToolsResult::with_all_items(self.tools_for(&caller));
        // The descriptions list the caller's APIs: never share across callers.
        result.cache_scope = Some(CacheScope::Private);
        Ok(result)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let caller = self.caller(&ctx)?;
        let args = request.arguments.unwrap_or_default();
        let (result, event) = match request.name.as_ref() {
            "search" => self.search(&caller, args).await,
            "execute" => self.execute(&caller, args, &ctx).await,
            other => {
                return Err(ErrorData::invalid_params(
                    format!("unknown tool {other:?}: this server has `search` and `execute`"),
                    None,
                ));
            }
        };
        let error_kind = (event.outcome != "ok").then_some(event.outcome.as_str());
        self.inner.metrics.tool_call(&event.tool, error_kind);
        audit::record(&event);
        Ok(result.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_list_is_bounded() {
        let apis: Vec<ApiInfo> = (0..200)
            .map(|i| ApiInfo {
                name: format!("api{i}"),
                description: "A very long description of an API that goes on and on about everything it does. Second sentence.".into(),
                operations: 1000,
            })
            .collect();
        let list = api_list(&apis);
        assert!(list.len() <= API_LIST_CHARS + 200, "{}", list.len());
        assert!(list.contains("- api0: "));
        assert!(list.contains("more"));
        assert_eq!(api_list(&[]), "\nNo APIs are available to you.");
    }
}
