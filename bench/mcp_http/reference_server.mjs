#!/usr/bin/env node
// The reference server of bench/mcp_http.sh: the official MCP TypeScript SDK's McpServer and
// StreamableHTTPServerTransport, written as the SDK's own examples are (stateful sessions, one
// transport and one McpServer per session, JSON responses), serving one tool, read_document,
// whose result is a fixed payload captured from cqda (so both servers send the same bytes of
// tool result).
//
//   node reference_server.mjs --deps DIR --result FILE [--port N]
//
//   --deps DIR     the folder scripts/node-deps.sh installed the packages into
//   --result FILE  a JSON CallToolResult ({content, structuredContent, ...}) to answer every call with
//   --port N       TCP port on 127.0.0.1 (default 0: any free port)
//
// Prints "serving MCP on http://127.0.0.1:PORT/mcp" on stderr once listening. Plain HTTP on the
// loopback address only; no authentication (the SDK leaves that to the application).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { load } from '../../tests/interop/deps.mjs';

function usage(message) {
  console.error(`reference_server: ${message}`);
  console.error('usage: node reference_server.mjs --deps DIR --result FILE [--port N]');
  process.exit(2);
}

const opts = { port: 0 };
for (let i = 2; i < process.argv.length; ++i) {
  const a = process.argv[i];
  const value = () => (i + 1 < process.argv.length ? process.argv[++i] : usage(`${a} needs a value`));
  if (a === '--deps') opts.deps = value();
  else if (a === '--result') opts.result = value();
  else if (a === '--port') opts.port = Number(value());
  else usage(`unknown argument ${a}`);
}
if (!opts.deps || !opts.result) usage('--deps and --result are required');

const { McpServer } = await load(opts.deps, '@modelcontextprotocol/sdk/server/mcp.js');
const { StreamableHTTPServerTransport } = await load(opts.deps, '@modelcontextprotocol/sdk/server/streamableHttp.js');
const { isInitializeRequest } = await load(opts.deps, '@modelcontextprotocol/sdk/types.js');
const { z } = await load(opts.deps, 'zod');

const result = JSON.parse(readFileSync(opts.result, 'utf8'));

// The same input schema as cqda's read_document (docs/MCP.md).
function makeServer() {
  const server = new McpServer({ name: 'sdk-reference', version: '1.0.0' });
  server.registerTool(
    'read_document',
    {
      description: 'A page of one document (a fixed payload captured from cqda).',
      inputSchema: {
        id: z.string(),
        offset: z.number().int().min(0).optional(),
        limit: z.number().int().min(1).max(500).optional(),
      },
    },
    async () => result,
  );
  return server;
}

const transports = new Map();  // session id -> StreamableHTTPServerTransport

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', chunk => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function fail(res, status, message) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

async function handle(req, res) {
  if (new URL(req.url, 'http://127.0.0.1').pathname !== '/mcp') return fail(res, 404, 'not found');
  const sessionId = req.headers['mcp-session-id'];
  if (req.method === 'POST') {
    let body;
    try { body = JSON.parse(await readBody(req)); } catch { return fail(res, 400, 'parse error'); }
    let transport = sessionId ? transports.get(sessionId) : undefined;
    if (!transport) {
      if (sessionId || !isInitializeRequest(body)) return fail(res, sessionId ? 404 : 400, 'no valid session');
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        enableJsonResponse: true,
        onsessioninitialized: id => transports.set(id, transport),
      });
      transport.onclose = () => { if (transport.sessionId) transports.delete(transport.sessionId); };
      await makeServer().connect(transport);
    }
    return transport.handleRequest(req, res, body);
  }
  if (req.method === 'GET' || req.method === 'DELETE') {
    const transport = sessionId && transports.get(sessionId);
    if (!transport) return fail(res, 404, 'no valid session');
    return transport.handleRequest(req, res);
  }
  return fail(res, 405, 'method not allowed');
}

const httpServer = http.createServer((req, res) => {
  handle(req, res).catch(err => {
    console.error(`reference_server: ${err.stack ?? err}`);
    if (!res.headersSent) fail(res, 500, 'internal error');
  });
});
// Node's default keep-alive timeout (5 s) is shorter than a pause between benchmark points.
httpServer.keepAliveTimeout = 60_000;
httpServer.listen(opts.port, '127.0.0.1', () => {
  console.error(`serving MCP on http://127.0.0.1:${httpServer.address().port}/mcp`);
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
