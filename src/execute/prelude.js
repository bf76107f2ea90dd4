// The sandbox prelude: evaluated into every fresh context before the code.
// It receives the host functions as arguments (they are never globals),
// installs `console`, the error classes and one Proxy namespace per API,
// and returns { run, settle } to the host. Operation names resolve on the
// host, so this stays the same size whatever the API.
// Written as `0, function` rather than `(function`: QuickJS scans a
// parenthesized expression once more to rule out an arrow function.
0, function (hostCall, hostLog, hostDone, names) {
  'use strict';
  const G = globalThis;
  const stringify = JSON.stringify;
  const parse = JSON.parse;
  const P = Promise;
  const resolved = P.resolve.bind(P);
  const then = P.prototype.then;
  const defineProperty = Object.defineProperty;
  const getPrototypeOf = Object.getPrototypeOf;
  const freeze = Object.freeze;
  const InternalErr = typeof InternalError === 'function' ? InternalError : Error;
  const RangeErr = RangeError;

  class ApiError extends Error {
    constructor(message, status, body) {
      super(message);
      this.name = 'ApiError';
      this.status = status;
      this.body = body;
    }
  }
  class PolicyError extends Error {
    constructor(message) { super(message); this.name = 'PolicyError'; }
  }
  class LimitError extends Error {
    constructor(message) { super(message); this.name = 'LimitError'; }
  }

  function makeError(e) {
    if (e.kind === 'api') return new ApiError(e.message, e.status == null ? undefined : e.status, e.body == null ? undefined : e.body);
    if (e.kind === 'policy') return new PolicyError(e.message);
    if (e.kind === 'limit') return new LimitError(e.message);
    return new TypeError(e.message);
  }

  const pending = Object.create(null);

  function call(api, op, params) {
    let json;
    try {
      json = params === undefined ? 'null' : stringify(params);
    } catch (e) {
      return P.reject(new TypeError(api + '.' + (op || 'request') + ': the params cannot be converted to JSON: ' + (e && e.message)));
    }
    if (json === undefined) json = 'null';
    const res = parse(hostCall(api, op, json));
    if (res.error) return P.reject(makeError(res.error));
    return new P(function (resolve, reject) { pending[res.id] = [resolve, reject]; });
  }

  function settle(id, json) {
    const p = pending[id];
    delete pending[id];
    if (!p) return;
    const res = parse(json);
    if (res.error) p[1](makeError(res.error)); else p[0](res.ok);
  }

  const NOT_OPERATIONS = Object.create(null);
  ['then', 'toJSON', 'constructor', 'valueOf', 'toString', 'inspect', 'prototype', '__proto__'].forEach(function (n) { NOT_OPERATIONS[n] = 1; });
  function namespace(api) {
    const request = function request(args) { return call(api, '', args); };
    const describe = function toString() { return '[SDK namespace ' + api + ']'; };
    return new Proxy(freeze(Object.create(null)), {
      get(_t, prop) {
        if (typeof prop !== 'string') return undefined;
        if (prop === 'request') return request;
        if (prop === 'toString') return describe;
        if (NOT_OPERATIONS[prop] === 1) return undefined;
        return function (params) { return call(api, prop, params); };
      },
      set() { return false; },
      defineProperty() { return false; },
      deleteProperty() { return false; },
      setPrototypeOf() { return false; },
    });
  }

  function fmt(a) {
    if (typeof a === 'string') return a;
    try {
      if (a instanceof Error) return a.name + ': ' + a.message + (a.status !== undefined ? ' (status ' + a.status + ')' : '');
      const s = stringify(a);
      return s === undefined ? String(a) : s;
    } catch (e) {
      try { return String(a); } catch (_) { return '[unprintable]'; }
    }
  }
  const level = function (l) { return function () { const parts = []; for (let i = 0; i < arguments.length; i++) parts.push(fmt(arguments[i])); hostLog(l, parts.join(' ')); }; };
  const console = freeze({ log: level('log'), info: level('info'), warn: level('warn'), error: level('error'), debug: level('debug') });

  const fixed = function (name, value) { defineProperty(G, name, { value: value, writable: false, enumerable: false, configurable: false }); };
  fixed('console', console);
  fixed('ApiError', ApiError);
  fixed('PolicyError', PolicyError);
  fixed('LimitError', LimitError);
  for (let i = 0; i < names.length; i++) fixed(names[i], namespace(names[i]));

  // No code generation from strings: `eval` is removed and every function
  // constructor (Function, AsyncFunction, GeneratorFunction,
  // AsyncGeneratorFunction) is replaced by one that throws. Runs after the
  // code was compiled, before it starts.
  function harden() {
    const blocked = function Function() { throw new EvalError('code generation from strings (eval, Function) is disabled in this sandbox'); };
    const protos = [getPrototypeOf(function () {}), getPrototypeOf(async function () {}), getPrototypeOf(function* () {}), getPrototypeOf(async function* () {})];
    for (let i = 0; i < protos.length; i++) {
      defineProperty(protos[i], 'constructor', { value: blocked, writable: false, enumerable: false, configurable: false });
    }
    defineProperty(blocked, 'prototype', { value: protos[0], writable: false, enumerable: false, configurable: false });
    delete G.eval;
    // Atomics.wait would block the thread where the interrupt handler
    // cannot stop it; shared memory has no use here.
    delete G.Atomics;
    delete G.SharedArrayBuffer;
    fixed('Function', blocked);
  }

  function describe(e) {
    try {
      if (e instanceof ApiError) return stringify({ kind: 'api', message: e.message });
      if (e instanceof PolicyError) return stringify({ kind: 'policy', message: e.message });
      if (e instanceof LimitError) return stringify({ kind: 'limit', message: e.message });
      if (e !== null && typeof e === 'object' && 'message' in e) {
        const m = String(e.message);
        if (e instanceof InternalErr || e instanceof RangeErr) {
          if (m.indexOf('out of memory') >= 0 || m.indexOf('too long') >= 0 || m.indexOf('allocation') >= 0) return stringify({ kind: 'memory', message: 'out of memory' });
          if (m.indexOf('stack overflow') >= 0 || m.indexOf('call stack') >= 0) return stringify({ kind: 'limit', message: 'stack overflow' });
        }
        return stringify({ kind: 'runtime', message: String(e.name || 'Error') + ': ' + m });
      }
      // QuickJS throws a bare `null` when memory is so exhausted that not
      // even the error object can be allocated.
      if (e === null || e === undefined) return stringify({ kind: 'memory', message: 'out of memory (or the code threw ' + e + ')' });
      return stringify({ kind: 'runtime', message: 'Uncaught ' + (typeof e === 'string' ? e : fmt(e)) });
    } catch (_) {
      return '{"kind":"runtime","message":"the code threw a value that cannot be described"}';
    }
  }

  function done(v) {
    let json;
    try {
      json = stringify(v === undefined ? null : v);
    } catch (e) {
      const d = parse(describe(e));
      if (d.kind === 'runtime') d.message = 'the returned value cannot be converted to JSON: ' + d.message;
      hostDone(false, stringify(d));
      return;
    }
    hostDone(true, json === undefined ? 'null' : json);
  }
  function fail(e) { hostDone(false, describe(e)); }

  function run(main) {
    harden();
    let p;
    try { p = main(); } catch (e) { fail(e); return; }
    then.call(resolved(p), done, fail);
  }

  return { run: run, settle: settle };
}
