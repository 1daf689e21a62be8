// What the fake services of the catalog suites share (rest_catalog.mjs, the Iceberg REST
// catalog; s3tables_api.mjs, S3 Tables' own API): the fault queue's rule, the reset of a
// connection without an answer, serving on a free loopback port, and a raw HTTP exchange
// for their self-tests (any method, path and headers, nothing added).

import http from 'node:http';

// The next fault for `op` in `faults` (a queue of { op, kind, ms?, count? }; op 'any'
// matches every operation), consumed once per match (`count` for several); null when
// none. `check` validates each queued fault first (a test's typo fails loudly).
export function takeFault(faults, op, check = () => {}) {
  for (const f of faults) check(f);
  const i = faults.findIndex((f) => f.op === op || f.op === 'any');
  if (i < 0) return null;
  const f = faults[i];
  const left = (f.count ?? 1) - 1;
  if (left <= 0) faults.splice(i, 1);
  else f.count = left;
  return { op: f.op, kind: f.kind, ...(f.ms !== undefined ? { ms: f.ms } : {}) };
}

// A request as the fakes start handling it: { method, rawPath, rawQuery, headers, op:
// 'unknown', rawBody (Buffer), body (text, or undefined when empty) }, or null when the body
// passed `maxBodyBytes` (then answered 413 here).
export async function readRequest(req, res, maxBodyBytes) {
  const url = req.url ?? '/';
  const qi = url.indexOf('?');
  const ctx = {
    method: req.method, rawPath: qi < 0 ? url : url.slice(0, qi), rawQuery: qi < 0 ? '' : url.slice(qi + 1),
    headers: req.headers, op: 'unknown',
  };
  const chunks = [];
  let size = 0;
  for await (const c of req) {
    size += c.length;
    if (size > maxBodyBytes) { res.writeHead(413).end(); return null; }
    chunks.push(c);
  }
  ctx.rawBody = Buffer.concat(chunks);
  ctx.body = ctx.rawBody.length ? ctx.rawBody.toString('utf8') : undefined;
  return ctx;
}

// Closes the request's connection with no answer (a TCP reset where Node can).
export function resetConnection(res) {
  const sock = res.socket;
  if (sock?.resetAndDestroy) sock.resetAndDestroy();
  else sock?.destroy();
}

// Serves `handle(req, res)` (async) on 127.0.0.1 and a free port, keep-alive on: a handler
// that throws is a fake failure (a 500, or the connection closed once an answer started),
// recorded in `violations`. Returns { url, close() }.
export async function serveFake(handle, violations) {
  const server = http.createServer({ keepAlive: true }, (req, res) => {
    handle(req, res).catch((err) => {
      violations.push({ op: 'unknown', method: req.method, path: req.url, kind: 'fake-failure', message: String(err.stack ?? err) });
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  await new Promise((resolve, reject) => server.listen(0, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
  let closed = false;
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    async close() {
      if (closed) return;
      closed = true;
      await new Promise((r) => { server.close(() => r()); server.closeAllConnections(); });
    },
  };
}

// One exchange on a fresh connection, sent as given: { status, headers, body } with a
// JSON body parsed by `parse` (when the answer says application/json), or { error } when
// none came within `timeoutMs`.
export function rawExchange(base, method, path, headers, payload, { parse = JSON.parse, timeoutMs = 10_000 } = {}) {
  const url = new URL(base);
  return new Promise((resolve) => {
    const req = http.request({ host: url.hostname, port: url.port, method, path, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const json = (res.headers['content-type'] ?? '').includes('application/json') && text;
        resolve({ status: res.statusCode, headers: res.headers, body: json ? parse(text) : text });
      });
      res.on('error', (error) => resolve({ error }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on('error', (error) => resolve({ error }));
    req.end(payload.length ? payload : undefined);
  });
}
