"""End-to-end tests of `codemode serve` with the official Python MCP client (mcp 2.x).

Driven by tests/mcp_python.rs (which passes CODEMODE_BIN); runnable alone:
    CODEMODE_BIN=target/debug/codemode target/py-venv/bin/python tests/python/mcp_e2e.py

Starts a loopback mock upstream API (the Notes API of fixtures/mcp/notes.yaml,
which demands the upstream credential), writes a config with three callers
and OAuth, then checks, over Streamable HTTP in both protocol eras and over
stdio: tools/list, search, execute against the mock, scope filtering,
progress, cancellation, 401/403, Origin, metrics, and that no token or
credential reaches the logs. Exits non-zero on the first failure.
"""

import asyncio
import base64
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx2
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ["CODEMODE_BIN"]
UPSTREAM_SECRET = "upstream-secret-7f3a"
ADMIN_TOKEN = "admin-token-91c2e"
READER_TOKEN = "reader-token-55d1b"
NOGRANT_TOKEN = "nogrant-token-0a8e"
ISSUER = "https://auth.example.test"

NOTES = [{"id": 1, "text": "buy milk", "tags": ["home"]}, {"id": 2, "text": "ship it", "tags": ["work"]}]
upstream_auth_seen = []


class MockApi(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _send(self, status, body=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorized(self):
        auth = self.headers.get("authorization")
        upstream_auth_seen.append(auth)
        if auth != f"Bearer {UPSTREAM_SECRET}":
            self._send(401, {"error": "bad upstream credential"})
            return False
        return True

    def do_GET(self):
        if not self._authorized():
            return
        if self.path.startswith("/notes/"):
            nid = int(self.path.split("/")[2])
            note = next((n for n in NOTES if n["id"] == nid), None)
            self._send(200 if note else 404, note or {"error": "not found"})
        elif self.path.startswith("/notes"):
            self._send(200, NOTES)
        else:
            self._send(200, {"count": len(NOTES)})

    def do_DELETE(self):
        if self._authorized():
            self._send(204)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sha(token):
    return hashlib.sha256(token.encode()).hexdigest()


def b64u(n):
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print(f"  ok: {what}", flush=True)


def structured(result):
    return result.structured_content


class Server:
    """A `codemode serve --http` process."""

    def __init__(self, config, port, workdir):
        self.port = port
        self.log_path = Path(workdir) / f"server-{port}.log"
        env = dict(os.environ, NOTES_SECRET=UPSTREAM_SECRET)
        self.proc = subprocess.Popen(
            [BIN, "serve", "--config", str(config), "--http", f"127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL,
            stderr=open(self.log_path, "wb"),
            env=env,
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited: {self.log_path.read_text()}")
            try:
                if httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    return
            except Exception:
                time.sleep(0.1)
        raise AssertionError("server did not become healthy")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/mcp"

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        return self.log_path.read_text()


def http_client(url, token, mode):
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return Client(streamable_http_client(url, http_client=create_mcp_http_client(headers=headers)), mode=mode)


async def tools_and_search(client, era):
    tools = (await client.list_tools()).tools
    names = sorted(t.name for t in tools)
    check(names == ["execute", "search"], f"[{era}] tools/list has exactly search and execute")
    search = next(t for t in tools if t.name == "search")
    execute = next(t for t in tools if t.name == "execute")
    check(search.annotations.read_only_hint is True, f"[{era}] search is read-only")
    check(
        execute.annotations.read_only_hint is False
        and execute.annotations.idempotent_hint is False
        and execute.annotations.open_world_hint is True,
        f"[{era}] execute is not read-only, not idempotent, open-world",
    )
    check(search.output_schema and execute.output_schema, f"[{era}] both tools declare outputSchema")
    check("- notes: " in search.description, f"[{era}] search description lists the notes API")

    r = await client.call_tool("search", {"query": "delete note"})
    hits = structured(r)["results"]
    check(not r.is_error and hits[0]["operation"] == "deleteNote", f"[{era}] search finds deleteNote first")
    check("function deleteNote(" in hits[0]["signature"], f"[{era}] search returns a TypeScript signature")
    check(json.loads(r.content[0].text) == structured(r), f"[{era}] text content is a copy of structuredContent")

    r = await client.call_tool("search", {"query": "  "})
    check(r.is_error and "query" in r.content[0].text, f"[{era}] empty query is a tool error naming the field")
    r = await client.call_tool("search", {"query": "notes", "api": "nope"})
    check(r.is_error and "unknown API" in r.content[0].text, f"[{era}] unknown api filter is a tool error")


async def execute_basics(client, era):
    r = await client.call_tool("execute", {"code": "return await notes.listNotes()"})
    out = structured(r)
    check(not r.is_error and out["ok"] and out["result"] == NOTES, f"[{era}] execute calls the mock API")
    call = out["calls"][0]
    check(
        (call["api"], call["operation"], call["method"], call["status"]) == ("notes", "listNotes", "GET", 200),
        f"[{era}] execute reports the upstream call",
    )
    r = await client.call_tool("execute", {"code": "console.log(\"hello\");\nthrow new Error(\"boom\");"})
    out = structured(r)
    check(
        r.is_error and not out["ok"] and out["error"]["kind"] == "runtime" and out["logs"] == ["hello"],
        f"[{era}] a failing script is isError with structured error and logs",
    )
    r = await client.call_tool("execute", {"code": 42})
    check(r.is_error, f"[{era}] mistyped arguments are a tool error")

    seen = []

    async def on_progress(progress, total, message):
        seen.append((progress, total, message))

    r = await client.call_tool("execute", {"code": "for (let i = 0; i < 4; i++) { await notes.listNotes(); }\nreturn { done: true };"}, progress_callback=on_progress)
    check(structured(r)["result"] == {"done": True}, f"[{era}] long run returns its result")
    check(len(seen) >= 3 and seen[-1][0] >= seen[0][0], f"[{era}] progress notifications arrive ({len(seen)})")


async def cancellation(url, token, era, metrics_url):
    def cancelled_count():
        text = httpx2.get(metrics_url).text
        for line in text.splitlines():
            if line.startswith('codemode_tool_errors_total{tool="execute",kind="cancelled"}'):
                return int(line.split()[-1])
        return 0

    before = cancelled_count()
    async with http_client(url, token, era) as client:
        started = asyncio.Event()

        async def on_progress(progress, total, message):
            started.set()

        task = asyncio.create_task(
            client.call_tool("execute", {"code": "await notes.listNotes();\nfor (;;) {}"}, progress_callback=on_progress)
        )
        # The first progress report proves the run is under way server-side.
        await asyncio.wait_for(started.wait(), timeout=10)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        deadline = time.time() + 5
        while time.time() < deadline and cancelled_count() == before:
            await asyncio.sleep(0.1)
    check(cancelled_count() == before + 1, f"[{era}] cancelling the call stops the run server-side")


async def scoped_reader(url, era):
    async with http_client(url, READER_TOKEN, era) as client:
        r = await client.call_tool("search", {"query": "delete note", "limit": 20})
        ops = [h["operation"] for h in structured(r)["results"]]
        check("deleteNote" not in ops and "getNote" in ops, f"[{era}] read-only caller does not see deleteNote")
        r = await client.call_tool("search", {"query": "stats"})
        check(structured(r)["results"] == [], f"[{era}] tag-scoped caller does not see admin operations")
        r = await client.call_tool("execute", {"code": "return await notes.deleteNote({ id: 1 })"})
        out = structured(r)
        check(r.is_error and out["error"]["kind"] == "policy", f"[{era}] execute refuses an out-of-scope call")
        r = await client.call_tool("execute", {"code": "return await notes.getNote({ id: 2 })"})
        check(structured(r)["result"] == NOTES[1], f"[{era}] read-only caller may call getNote")
        r = await client.call_tool("execute", {"code": "for (;;) {}", "timeout_ms": 60000})
        out = structured(r)
        check(r.is_error and out["error"]["kind"] == "timeout", f"[{era}] the caller's timeout limit caps timeout_ms")


def raw_http_checks(server, oauth_key, workdir):
    url = server.url
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
    }
    hdrs = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
    r = httpx2.post(url, json=init, headers=hdrs)
    www = r.headers.get("www-authenticate", "")
    check(r.status_code == 401 and "resource_metadata=" in www, "no token: 401 with WWW-Authenticate resource_metadata")
    meta_url = www.split('resource_metadata="')[1].split('"')[0]
    meta = httpx2.get(meta_url.replace("localhost", "127.0.0.1")).json()
    check(meta["resource"] == url and meta["authorization_servers"] == [ISSUER], "RFC 9728 metadata names resource and issuer")
    check(httpx2.get(f"http://127.0.0.1:{server.port}/.well-known/oauth-protected-resource").json() == meta, "metadata also at the root well-known path")
    r = httpx2.post(url, json=init, headers={**hdrs, "authorization": "Bearer wrong-token-xyz"})
    check(r.status_code == 401 and 'error="invalid_token"' in r.headers["www-authenticate"], "bad token: 401 invalid_token")
    r = httpx2.post(url, json=init, headers={**hdrs, "authorization": f"Bearer {NOGRANT_TOKEN}"})
    check(r.status_code == 403 and "insufficient_scope" in r.headers["www-authenticate"], "token without grants: 403 insufficient_scope")
    r = httpx2.post(url, json=init, headers={**hdrs, "authorization": f"Bearer {ADMIN_TOKEN}", "origin": "http://evil.example"})
    check(r.status_code == 403, "disallowed Origin: 403")
    r = httpx2.post(url, json=init, headers={**hdrs, "authorization": f"Bearer {ADMIN_TOKEN}", "origin": "http://app.example.test"})
    check(r.status_code == 200, "allowed Origin passes")
    r = httpx2.post(url, json=init, headers={**hdrs, "authorization": f"Bearer {ADMIN_TOKEN}", "host": "evil.example"})
    check(r.status_code in (403, 421, 400), f"unknown Host refused ({r.status_code})")
    r = httpx2.post(url, content=b"x" * (300 * 1024), headers={**hdrs, "authorization": f"Bearer {ADMIN_TOKEN}"})
    check(r.status_code == 413, f"oversized body refused with 413 ({r.status_code})")

    # Legacy sessions are bound to the caller that created them.
    r = httpx2.post(url, json=init, headers={**hdrs, "authorization": f"Bearer {ADMIN_TOKEN}"})
    sid = r.headers["mcp-session-id"]
    listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
    r = httpx2.post(url, json=listing, headers={**hdrs, "authorization": f"Bearer {READER_TOKEN}", "mcp-session-id": sid, "mcp-protocol-version": "2025-11-25"})
    check(r.status_code == 404, "another caller cannot use the session")

    # OAuth: a JWT for this resource works with the mapped scopes; another audience does not.
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": url, "sub": "alice", "exp": now + 300, "scope": "notes.read"}
    good = jwt.encode(claims, oauth_key, algorithm="RS256", headers={"kid": "k1"})
    r = httpx2.post(url, json=init, headers={**hdrs, "authorization": f"Bearer {good}"})
    check(r.status_code == 200, "OAuth JWT for this resource is accepted")
    other = jwt.encode({**claims, "aud": "https://other.example/mcp"}, oauth_key, algorithm="RS256", headers={"kid": "k1"})
    r = httpx2.post(url, json=init, headers={**hdrs, "authorization": f"Bearer {other}"})
    check(r.status_code == 401 and "audience" in r.headers["www-authenticate"], "JWT for another audience: 401")
    return good


async def oauth_scopes(url, token):
    async with http_client(url, token, "2026-07-28") as client:
        r = await client.call_tool("search", {"query": "note", "limit": 20})
        ops = {h["operation"] for h in structured(r)["results"]}
        check("listNotes" in ops and "deleteNote" not in ops, "OAuth scope notes.read maps to read-only grants")


async def stdio(config):
    params = StdioServerParameters(
        command=BIN,
        args=["serve", "--config", str(config)],
        env={**os.environ, "NOTES_SECRET": UPSTREAM_SECRET},
    )
    async with Client(params, mode="legacy") as client:
        await tools_and_search(client, "stdio")
        await execute_basics(client, "stdio")


async def stdio_local_scopes(config):
    """[local] scopes apply to the stdio user."""
    local = Path(config).with_name("local.toml")
    local.write_text(Path(config).read_text() + '\n[local]\nscopes = [{ api = "notes", read_only = true }]\n')
    params = StdioServerParameters(
        command=BIN,
        args=["serve", "--config", str(local)],
        env={**os.environ, "NOTES_SECRET": UPSTREAM_SECRET},
    )
    async with Client(params, mode="legacy") as client:
        r = await client.call_tool("search", {"query": "delete note", "limit": 20})
        ops = [h["operation"] for h in structured(r)["results"]]
        check("deleteNote" not in ops and "getNote" in ops, "[stdio] [local] scopes hide deleteNote from the local user")
        r = await client.call_tool("execute", {"code": "return await notes.deleteNote({ id: 1 })"})
        check(r.is_error and structured(r)["error"]["kind"] == "policy", "[stdio] [local] scopes refuse deleteNote")


async def demo():
    """`codemode serve` with no spec serves the built-in demo bookshop."""
    params = StdioServerParameters(command=BIN, args=["serve"], env={**os.environ})
    async with Client(params, mode="legacy") as client:
        tools = (await client.list_tools()).tools
        search = next(t for t in tools if t.name == "search")
        check("- bookshop: " in search.description, "[demo] zero-config serve lists the demo bookshop API")
        r = await client.call_tool("search", {"query": "list books"})
        check(structured(r)["results"][0]["operation"] == "booksList", "[demo] search finds booksList")
        r = await client.call_tool("execute", {"code": "return await bookshop.booksList()"})
        out = structured(r)
        check(out["ok"] and out["calls"][0]["status"] == 200 and out["result"]["items"], "[demo] execute calls the demo API with its injected token")


async def main():
    work = tempfile.mkdtemp(prefix="codemode-e2e-")
    mock = ThreadingHTTPServer(("127.0.0.1", 0), MockApi)
    threading.Thread(target=mock.serve_forever, daemon=True).start()
    mock_url = f"http://127.0.0.1:{mock.server_address[1]}"

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pub = key.public_key().public_numbers()
    jwks = {"keys": [{"kty": "RSA", "kid": "k1", "alg": "RS256", "n": b64u(pub.n), "e": b64u(pub.e)}]}
    (Path(work) / "jwks.json").write_text(json.dumps(jwks))

    port = free_port()
    config = Path(work) / "codemode.toml"
    config.write_text(
        f"""
[server]
public_url = "http://127.0.0.1:{port}"
allowed_origins = ["http://app.example.test"]
max_body_bytes = 262144
allow_private_network = true

[[apis]]
name = "notes"
spec = "{ROOT / 'fixtures/mcp/notes.yaml'}"
base_url = "{mock_url}"
description = "Personal notes: list, read, create, delete"
[apis.credentials]
scheme = "bearer"
env = "NOTES_SECRET"

[[callers]]
name = "admin"
token_sha256 = "{sha(ADMIN_TOKEN)}"
scopes = [{{ api = "*" }}]

[[callers]]
name = "reader"
token_sha256 = "{sha(READER_TOKEN)}"
scopes = [{{ api = "notes", read_only = true, tags = ["notes"] }}]
limits = {{ timeout_ms = 400 }}

[[callers]]
name = "nogrant"
token_sha256 = "{sha(NOGRANT_TOKEN)}"
scopes = []

[oauth]
issuer = "{ISSUER}"
jwks = "jwks.json"
[oauth.scopes]
"notes.read" = [{{ api = "notes", read_only = true }}]
"""
    )

    server = Server(config, port, work)
    logs = ""
    try:
        for era in ("2026-07-28", "legacy"):
            print(f"HTTP, era {era}", flush=True)
            async with http_client(server.url, ADMIN_TOKEN, era) as client:
                expected = "2026-07-28" if era == "2026-07-28" else "2025-11-25"
                check(client.protocol_version == expected, f"[{era}] negotiated {client.protocol_version}")
                await tools_and_search(client, era)
                await execute_basics(client, era)
            await scoped_reader(server.url, era)
            await cancellation(server.url, ADMIN_TOKEN, era, f"http://127.0.0.1:{port}/metrics")
        print("HTTP: auth, origin, limits, OAuth", flush=True)
        good_jwt = raw_http_checks(server, key, work)
        await oauth_scopes(server.url, good_jwt)
        metrics = httpx2.get(f"http://127.0.0.1:{port}/metrics").text
        check('codemode_upstream_calls_total{api="notes",status="2xx"}' in metrics, "metrics count upstream calls")
        check("codemode_execute_duration_seconds_bucket" in metrics, "metrics have the execute histogram")
        check('codemode_http_refused_total{reason="invalid_token"}' in metrics and 'codemode_http_refused_total{reason="origin"} 1' in metrics, "metrics count refused requests by reason")
    finally:
        logs = server.stop()

    audit = [json.loads(l) for l in logs.splitlines() if l.startswith("{") and '"codemode::audit"' in l]
    check(any(e["fields"].get("operations") == "notes.listNotes" and e["fields"]["caller"] == "admin" for e in audit), "audit events name caller and operations")
    for secret in (ADMIN_TOKEN, READER_TOKEN, NOGRANT_TOKEN, UPSTREAM_SECRET, good_jwt, "wrong-token-xyz"):
        check(secret not in logs, f"logs do not contain secret {secret[:6]}…")

    print("stdio", flush=True)
    await stdio(config)
    await stdio_local_scopes(config)
    check(all(a == f"Bearer {UPSTREAM_SECRET}" for a in upstream_auth_seen), "every upstream call carried the host's credential")
    print("demo (no spec)", flush=True)
    await demo()
    mock.shutdown()
    print("ALL PASSED")


if __name__ == "__main__":
    asyncio.run(main())
