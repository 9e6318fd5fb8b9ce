#!/usr/bin/env node
// Interop check of cqda's MCP server with the official MCP TypeScript SDK client.
//
//   node sdk_client.mjs --deps DIR [options] --command CQDA -- serve --stdio --input ... --output ...
//        --cache ... --policy ... --codebook ... [--roster ...]
//   node sdk_client.mjs --deps DIR [options] --transport https --url https://127.0.0.1:PORT/mcp --token T
//
//   --deps DIR          the folder scripts/node-deps.sh installed the packages into (or CQDA_NODE_DEPS)
//   --transport T       stdio (default) or https (Streamable HTTP; the server's CA comes from
//                       NODE_EXTRA_CA_CERTS, which the caller sets before Node starts)
//   --command BIN       the server to spawn for stdio; its arguments follow `--`. Instead, the
//                       environment variable CQDA_INTEROP_COMMAND may hold a JSON array [BIN, ARG...]
//   --url URL, --token T  the https endpoint and its bearer token (or CQDA_INTEROP_TOKEN)
//   --roster FILE       the roster whose person names must never reach the client (default: the
//                       --roster argument of the stdio command)
//   --require LIST      comma-separated capabilities whose checks must run, not be skipped:
//                       resources, prompts, completions, logging, progress, cancel
//   --skip LIST         capabilities whose checks are not run (reported as skipped); for a
//                       transport where a check's timing cannot hold (see container-test.sh)
//   --timeout SECONDS   the whole check's limit (default 300)
//   --verbose           print the server's stderr as it comes (stdio)
//
// Exit status: 0 when every check that ran passed (and nothing required was skipped), 1 when a
// check failed, 2 on a usage error. Every tool the server lists must have a check in TOOL_CHECKS
// below: a new tool without one fails the run.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { depsDir, load, packageVersion } from './deps.mjs';

const REQUIRABLE = ['resources', 'prompts', 'completions', 'logging', 'progress', 'cancel'];
const INVALID_PARAMS = -32602;
const RESOURCE_NOT_FOUND = -32002;
const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
// The protocol revisions cqda speaks, newest first (DESIGN.md §7).
const SERVER_REVISIONS = ['2025-11-25', '2025-06-18', '2025-03-26'];

// ---------------------------------------------------------------------------------------------
// Command line

function usage(message) {
  console.error(`sdk_client: ${message}`);
  console.error('usage: node sdk_client.mjs --deps DIR [--transport stdio|https] [--require LIST] [--roster FILE]\n' +
                '         (--command BIN -- ARGS... | --url URL --token TOKEN) [--timeout S] [--verbose]');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { transport: 'stdio', require: new Set(), skip: new Set(), timeout: 300, verbose: false, serverArgs: [] };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--deps': opts.deps = value(); break;
      case '--transport': opts.transport = value(); break;
      case '--command': opts.command = value(); break;
      case '--url': opts.url = value(); break;
      case '--token': opts.token = value(); break;
      case '--roster': opts.roster = value(); break;
      case '--timeout': opts.timeout = Number(value()); break;
      case '--verbose': opts.verbose = true; break;
      case '--require':
        for (const r of value().split(',').map(s => s.trim()).filter(Boolean)) {
          if (!REQUIRABLE.includes(r)) usage(`--require: unknown capability "${r}" (one of ${REQUIRABLE.join(', ')})`);
          opts.require.add(r);
        }
        break;
      case '--skip':
        for (const r of value().split(',').map(s => s.trim()).filter(Boolean)) {
          if (!REQUIRABLE.includes(r)) usage(`--skip: unknown capability "${r}" (one of ${REQUIRABLE.join(', ')})`);
          opts.skip.add(r);
        }
        break;
      case '--': opts.serverArgs = argv.slice(i + 1); i = argv.length; break;
      default: usage(`unknown argument ${a}`);
    }
  }
  if (!['stdio', 'https'].includes(opts.transport)) usage(`--transport must be stdio or https, not ${opts.transport}`);
  if (opts.transport === 'stdio') {
    if (!opts.command && process.env.CQDA_INTEROP_COMMAND) {
      let cmd;
      try { cmd = JSON.parse(process.env.CQDA_INTEROP_COMMAND); } catch { usage('CQDA_INTEROP_COMMAND must be a JSON array'); }
      if (!Array.isArray(cmd) || cmd.length === 0 || !cmd.every(s => typeof s === 'string')) usage('CQDA_INTEROP_COMMAND must be a JSON array of strings');
      [opts.command, ...opts.serverArgs] = cmd;
    }
    if (!opts.command) usage('stdio needs --command BIN -- ARGS... (or CQDA_INTEROP_COMMAND)');
    if (!opts.roster) {
      const at = opts.serverArgs.indexOf('--roster');
      if (at >= 0 && at + 1 < opts.serverArgs.length) opts.roster = opts.serverArgs[at + 1];
    }
  } else {
    opts.token ??= process.env.CQDA_INTEROP_TOKEN;
    if (!opts.url) usage('https needs --url');
    if (!opts.token) usage('https needs --token (or CQDA_INTEROP_TOKEN)');
    if (!opts.url.startsWith('https://')) usage('--url must be an https:// URL');
  }
  if (!(opts.timeout > 0)) usage('--timeout must be a positive number of seconds');
  for (const r of opts.skip) if (opts.require.has(r)) usage(`${r} is both required and skipped`);
  return opts;
}

// ---------------------------------------------------------------------------------------------
// Results

const results = [];
const required = new Set();

function say(line) { process.stdout.write(`${line}\n`); }

async function check(name, fn) {
  try {
    const note = await fn();
    results.push({ name, status: 'pass', note });
    say(`PASS  ${name}${note ? ` (${note})` : ''}`);
    return true;
  } catch (e) {
    // node:assert appends a diff to custom messages: one line is enough here.
    const message = String(e?.message ?? e).split('\n')[0];
    results.push({ name, status: 'fail', note: message });
    say(`FAIL  ${name}: ${message}`);
    return false;
  }
}

// A check that cannot run because the server does not advertise what it needs: a skip, or a
// failure when --require names it.
function skip(name, key, why) {
  if (key && required.has(key)) {
    results.push({ name, status: 'fail', note: `required by --require ${key}, but ${why}` });
    say(`FAIL  ${name}: required by --require ${key}, but ${why}`);
  } else {
    results.push({ name, status: 'skip', note: why });
    say(`SKIP  ${name}: ${why}`);
  }
}

async function expectRpcError(promise, code, what) {
  let value;
  try {
    value = await promise;
  } catch (e) {
    assert.equal(e?.code, code, `${what}: expected JSON-RPC error ${code}, got ${e?.code ?? 'no code'}: ${e?.message ?? e}`);
    return e;
  }
  assert.fail(`${what}: expected JSON-RPC error ${code}, got a result: ${JSON.stringify(value).slice(0, 300)}`);
}

const codePoints = s => [...s];

// ---------------------------------------------------------------------------------------------
// A transport wrapper that keeps every message in both directions: the leak check reads all
// text the server sent, and the ordering checks (progress after the response) read the order.

class RecordingTransport {
  constructor(inner) {
    this.inner = inner;
    this.inbound = [];
    this.outbound = [];
  }
  async start() {
    this.inner.onmessage = (message, extra) => {
      this.inbound.push(message);
      this.onmessage?.(message, extra);
    };
    this.inner.onerror = error => this.onerror?.(error);
    this.inner.onclose = () => this.onclose?.();
    return this.inner.start();
  }
  async send(message, options) {
    this.outbound.push(message);
    return this.inner.send(message, options);
  }
  async close() { return this.inner.close(); }
  get sessionId() { return this.inner.sessionId; }
  get protocolVersion() { return this.inner.protocolVersion; }
  setProtocolVersion(version) { this.inner.setProtocolVersion?.(version); }
}

// ---------------------------------------------------------------------------------------------
// Helpers for the checks

// The rows of a small RFC 4180 CSV file (quoted fields, doubled quotes; no line breaks in fields).
function parseCsv(text) {
  const rows = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) continue;
    const fields = [];
    let field = '';
    let quoted = false;
    for (let i = 0; i < line.length; ++i) {
      const c = line[i];
      if (quoted) {
        if (c === '"' && line[i + 1] === '"') { field += '"'; ++i; } else if (c === '"') quoted = false; else field += c;
      } else if (c === '"') quoted = true;
      else if (c === ',') { fields.push(field); field = ''; } else field += c;
    }
    fields.push(field);
    rows.push(fields);
  }
  return rows;
}

// The full names of the people in the roster (the same names the e2e tests look for): a
// rostered person's name must never reach an MCP client, only its pseudonym.
function rosterNames(file) {
  const [header, ...rows] = parseCsv(readFileSync(file, 'utf8'));
  const name = header.indexOf('name');
  const type = header.indexOf('type');
  assert.ok(name >= 0 && type >= 0, `${file}: no name and type columns`);
  return rows.filter(r => r[type] === 'person' && /\S\s+\S/.test(r[name] ?? '')).map(r => r[name].trim());
}

// Arguments for a tool's required properties, from what earlier checks found (document ids,
// segment ids, code ids): for tools whose check only needs "a valid call".
function argumentsFromSchema(schema, ctx) {
  const out = {};
  for (const key of schema?.required ?? []) out[key] = valueFor(key, schema.properties?.[key] ?? {}, ctx);
  return out;
}

function valueFor(key, p, ctx) {
  if (Array.isArray(p.enum)) return p.enum.includes('offline') ? 'offline' : p.enum[0];
  if ('const' in p) return p.const;
  if (p.default !== undefined) return p.default;
  const k = key.toLowerCase();
  if (p.type === 'array') return [valueFor(key.replace(/s$/, ''), p.items ?? {}, ctx)];
  if (p.type === 'object') return argumentsFromSchema(p, ctx);
  if (p.type === 'integer' || p.type === 'number') return p.minimum ?? 1;
  if (p.type === 'boolean') return false;
  if (/document/.test(k)) return ctx.documents?.[0]?.id ?? 'unknown';
  if (/segment/.test(k)) return ctx.segments?.values().next().value?.id ?? 'unknown';
  if (/code/.test(k)) return ctx.codeIds?.[0] ?? 'unknown';
  return 'interop check';
}

// The ids of every code in a codebook, children included.
function codeIdsOf(codebook) {
  const ids = [];
  const walk = codes => {
    for (const c of codes ?? []) {
      if (typeof c?.id === 'string') ids.push(c.id);
      walk(c?.children);
    }
  };
  for (const category of codebook?.categories ?? []) walk(category?.codes);
  return ids;
}

// All pages of a paginated list method.
async function allPages(fetchPage, key, what) {
  const items = [];
  const cursors = new Set();
  let cursor;
  let pages = 0;
  for (;;) {
    const page = await fetchPage(cursor === undefined ? {} : { cursor });
    ++pages;
    assert.ok(Array.isArray(page[key]), `${what}: the result has no ${key} array`);
    items.push(...page[key]);
    if (page.nextCursor === undefined) break;
    assert.equal(typeof page.nextCursor, 'string', `${what}: nextCursor is not a string`);
    assert.ok(!cursors.has(page.nextCursor), `${what}: the same nextCursor came twice (a loop)`);
    assert.ok(pages < 1000, `${what}: more than 1000 pages`);
    cursors.add(page.nextCursor);
    cursor = page.nextCursor;
  }
  return { items, pages };
}

// ---------------------------------------------------------------------------------------------
// Tool checks. Every tool the server lists needs an entry here, in the order they run (later
// checks use what earlier ones found in ctx).

function textOf(result) {
  assert.ok(Array.isArray(result.content) && result.content.length > 0, 'the result has no content');
  const text = result.content.find(c => c.type === 'text');
  assert.ok(text && typeof text.text === 'string', 'the result has no text content block');
  return text.text;
}

async function callOk(ctx, name, args, options) {
  const result = await ctx.client.callTool({ name, arguments: args }, undefined, options);
  assert.notEqual(result.isError, true, `${name} ${JSON.stringify(args)} failed: ${result.content?.[0]?.text ?? ''}`);
  textOf(result);  // structured results are rendered as text too
  if (ctx.tools.get(name)?.outputSchema) assert.ok(result.structuredContent, `${name} returned no structuredContent`);
  return result;
}

async function callToolError(ctx, name, args) {
  const result = await ctx.client.callTool({ name, arguments: args });
  assert.equal(result.isError, true, `${name} ${JSON.stringify(args)} should fail with isError: true`);
  assert.ok(textOf(result).length > 0, `${name}: the error has no message`);
  return result;
}

async function readWholeDocument(ctx, id, limit) {
  const segments = [];
  let offset = 0;
  let document;
  for (let pages = 0; ; ++pages) {
    assert.ok(pages < 10000, `read_document ${id}: too many pages`);
    const page = (await callOk(ctx, 'read_document', { id, offset, limit })).structuredContent;
    assert.equal(page.document.id, id, `read_document ${id}: the page names document ${page.document.id}`);
    assert.equal(page.offset, offset, `read_document ${id}: asked for offset ${offset}, the page says ${page.offset}`);
    assert.ok(page.segments.length <= limit, `read_document ${id}: ${page.segments.length} segments for limit ${limit}`);
    document = page.document;
    segments.push(...page.segments);
    if (page.next_offset === undefined) break;
    assert.equal(page.next_offset, offset + page.segments.length, `read_document ${id}: next_offset ${page.next_offset} after ${page.segments.length} segments from ${offset}`);
    assert.ok(page.segments.length > 0, `read_document ${id}: an empty page with a next_offset`);
    offset = page.next_offset;
  }
  assert.equal(segments.length, document.segments, `read_document ${id}: paging gave ${segments.length} segments, the document has ${document.segments}`);
  return { document, segments };
}

const TOOL_CHECKS = [
  ['list_documents', async ctx => {
    const { documents } = (await callOk(ctx, 'list_documents', {})).structuredContent;
    assert.ok(documents.length > 0, 'no documents');
    const ids = new Set(documents.map(d => d.id));
    assert.equal(ids.size, documents.length, 'document ids are not unique');
    ctx.documents = documents;
    return `${documents.length} documents`;
  }],
  ['get_codebook', async ctx => {
    const { codebook } = (await callOk(ctx, 'get_codebook', {})).structuredContent;
    assert.ok(Array.isArray(codebook.categories) && codebook.categories.length > 0, 'the codebook has no categories');
    ctx.codeIds = codeIdsOf(codebook);
    assert.ok(ctx.codeIds.length > 0, 'the codebook has no codes');
    return `${codebook.categories.length} categories, ${ctx.codeIds.length} codes`;
  }],
  ['read_document', async ctx => {
    assert.ok(ctx.documents, 'needs list_documents');
    const doc = ctx.documents.find(d => d.path.startsWith('interviews/') && d.segments > 6) ??
                [...ctx.documents].sort((a, b) => b.segments - a.segments)[0];
    // One page of three, then the whole document in pages of seven.
    const first = (await callOk(ctx, 'read_document', { id: doc.id, limit: 3 })).structuredContent;
    assert.equal(first.segments.length, Math.min(3, doc.segments), 'limit 3 did not give 3 segments');
    if (doc.segments > 3) assert.equal(first.next_offset, 3, 'next_offset after a page of 3 from 0');
    const paged = await readWholeDocument(ctx, doc.id, 7);
    assert.deepEqual(paged.segments.slice(0, first.segments.length), first.segments, 'the same segments differ between pages');
    assert.equal(new Set(paged.segments.map(s => s.id)).size, paged.segments.length, 'segment ids repeat');
    // Every document, for the search and leak checks below.
    ctx.segments = new Map();
    ctx.texts = [];
    for (const d of ctx.documents) {
      const whole = await readWholeDocument(ctx, d.id, 500);
      for (const s of whole.segments) {
        assert.equal(codePoints(s.text).length, s.length, `segment ${s.id}: length ${s.length}, text has ${codePoints(s.text).length} code points`);
        assert.ok(!ctx.segments.has(s.id), `segment id ${s.id} appears in two documents`);
        ctx.segments.set(s.id, { ...s, document_id: d.id });
      }
    }
    await callToolError(ctx, 'read_document', { id: 'no-such-document' });
    await expectRpcError(ctx.client.callTool({ name: 'read_document', arguments: { id: 'NOT VALID' } }), INVALID_PARAMS,
                         'read_document with an id that breaks the input schema');
    await expectRpcError(ctx.client.callTool({ name: 'read_document', arguments: {} }), INVALID_PARAMS,
                         'read_document without the required id');
    return `paged ${doc.path} (${doc.segments} segments); read all ${ctx.documents.length} documents, ${ctx.segments.size} segments`;
  }],
  ['search_corpus', async ctx => {
    assert.ok(ctx.segments, 'needs read_document');
    // The keyword: the most frequent word of 5+ ASCII letters in the corpus as read, sent in
    // upper case (the search is case-insensitive). The expected hit count comes from the text.
    // Words of the pseudonymized paths ("person" of p01-person-6nh9.txt) are left out.
    const inPaths = new Set(ctx.documents.flatMap(d => d.path.toLowerCase().match(/[a-z]+/g) ?? []));
    const counts = new Map();
    for (const s of ctx.segments.values())
      for (const w of s.text.toLowerCase().match(/\b[a-z]{5,}\b/g) ?? [])
        if (!inPaths.has(w)) counts.set(w, (counts.get(w) ?? 0) + 1);
    const [word] = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
    const occurrences = doc => {
      let n = 0;
      for (const s of ctx.segments.values()) {
        if (doc && s.document_id !== doc) continue;
        const t = s.text.toLowerCase();
        for (let at = t.indexOf(word); at >= 0; at = t.indexOf(word, at + word.length)) ++n;
      }
      return n;
    };
    const expected = occurrences();
    const context = 10;
    const found = (await callOk(ctx, 'search_corpus', { query: word.toUpperCase(), limit: 3, context })).structuredContent;
    assert.equal(found.total, expected, `"${word}": total ${found.total}, the documents as read contain it ${expected} times`);
    assert.equal(found.hits.length, Math.min(3, expected), `"${word}": ${found.hits.length} hits for limit 3`);
    assert.equal(found.truncated, expected > 3, `"${word}": truncated is ${found.truncated}`);
    for (const hit of found.hits) {
      assert.equal(hit.match.toLowerCase(), word, `a hit for "${word}" matched "${hit.match}"`);
      const seg = ctx.segments.get(hit.segment_id);
      assert.ok(seg, `a hit names segment ${hit.segment_id}, which read_document never returned`);
      assert.equal(hit.document_id, seg.document_id, `hit in segment ${hit.segment_id}: document ${hit.document_id}, read_document says ${seg.document_id}`);
      // Spans are code-point offsets in the document, like the segments' start.
      const cp = codePoints(seg.text);
      const from = hit.start - seg.start;
      const to = hit.end - seg.start;
      assert.equal(cp.slice(from, to).join(''), hit.match, `hit span [${hit.start}, ${hit.end}) does not point at "${hit.match}" in segment ${seg.id}`);
      assert.ok(codePoints(hit.left).length <= context && codePoints(hit.right).length <= context, 'context longer than asked for');
      assert.ok(cp.slice(0, from).join('').endsWith(hit.left), 'left context is not the text before the match');
      assert.ok(cp.slice(to).join('').startsWith(hit.right), 'right context is not the text after the match');
    }
    // Restricted to one document.
    const doc = found.hits[0].document_id;
    const inDoc = (await callOk(ctx, 'search_corpus', { query: word, document_id: doc, limit: 200 })).structuredContent;
    assert.equal(inDoc.total, occurrences(doc), `"${word}" in ${doc}: total ${inDoc.total}, expected ${occurrences(doc)}`);
    assert.ok(inDoc.hits.every(h => h.document_id === doc), 'document_id did not restrict the search');
    // RE2: the same word, case-insensitive, finds the same number of hits.
    const regex = (await callOk(ctx, 'search_corpus', { query: `(?i)${word}`, regex: true, limit: 5 })).structuredContent;
    assert.equal(regex.total, expected, `regex (?i)${word}: total ${regex.total}, expected ${expected}`);
    assert.ok(regex.hits.every(h => h.match.toLowerCase() === word), 'a regex hit does not match the pattern');
    await callToolError(ctx, 'search_corpus', { query: '(unclosed', regex: true });
    await expectRpcError(ctx.client.callTool({ name: 'search_corpus', arguments: { query: '' } }), INVALID_PARAMS,
                         'search_corpus with an empty query');
    // The rostered names are not in the anonymized corpus, so searching for them finds nothing.
    for (const name of ctx.names) {
      const none = (await callOk(ctx, 'search_corpus', { query: name })).structuredContent;
      assert.equal(none.total, 0, `searching for the rostered name "${name}" found ${none.total} hits`);
    }
    return `"${word.toUpperCase()}": ${expected} hits; regex; one document; ${ctx.names.length} rostered names find nothing`;
  }],
  ['auto_code', async ctx => {
    const args = argumentsFromSchema(ctx.tools.get('auto_code').inputSchema, ctx);
    ctx.autoCodeArgs = args;
    await callOk(ctx, 'auto_code', args, { timeout: 300_000 });
    return `arguments ${JSON.stringify(args)}`;
  }],
  ['suggest_codes', async ctx => {
    // The interop servers code offline: the tool must say, as a tool error, that it needs a
    // model (tests/llm_run covers it with one).
    const result = await callToolError(ctx, 'suggest_codes', {});
    assert.match(textOf(result), /--llm-backend/, 'the error should say how to give the server a model');
    return 'without a model: a tool error naming --llm-backend';
  }],
  ['code_segment', async ctx => {
    assert.ok(ctx.segments && ctx.codeIds, 'needs read_document and get_codebook');
    const seg = [...ctx.segments.values()].find(s => codePoints(s.text).length > 40);
    const cp = codePoints(seg.text);
    const quote = cp.slice(5, 30).join('');
    const { codings } = (await callOk(ctx, 'code_segment', { document_id: seg.document_id, segment_id: seg.id, quote,
                                                              codes: [ctx.codeIds[0]], coder: 'interop', memo: 'check' })).structuredContent;
    assert.equal(codings.length, 1, 'one code gives one coding');
    const [coding] = codings;
    assert.equal(coding.quote, quote, 'the stored quote is not the one sent');
    assert.equal(cp.slice(coding.start, coding.end).join(''), quote, 'the span does not point at the quote');
    // Coding it again changes nothing; a quote that is not verbatim is refused.
    const again = (await callOk(ctx, 'code_segment', { document_id: seg.document_id, segment_id: seg.id, quote,
                                                         codes: [ctx.codeIds[0]], coder: 'interop' })).structuredContent;
    assert.equal(again.codings[0].id, coding.id, 'the same coding was stored twice');
    await callToolError(ctx, 'code_segment', { document_id: seg.document_id, segment_id: seg.id, quote: quote + ' and more words not there',
                                               codes: [ctx.codeIds[0]], coder: 'interop' });
    await callToolError(ctx, 'code_segment', { document_id: seg.document_id, segment_id: seg.id, quote, codes: ['no-such-code'], coder: 'interop' });
    await expectRpcError(ctx.client.callTool({ name: 'code_segment', arguments: { document_id: seg.document_id, segment_id: seg.id,
                                                                                   codes: [ctx.codeIds[0]], coder: 'interop' } }),
                         INVALID_PARAMS, 'code_segment without a quote or a span');
    ctx.coding = coding;
    return `coded "${quote}" in ${seg.id} as ${coding.code_id}`;
  }],
  ['list_codings', async ctx => {
    assert.ok(ctx.coding, 'needs code_segment');
    const mine = (await callOk(ctx, 'list_codings', { coder: 'interop', code_id: ctx.coding.code_id })).structuredContent;
    assert.ok(mine.codings.some(c => c.id === ctx.coding.id), 'list_codings does not list the new coding');
    assert.ok(mine.codings.every(c => c.coder === 'interop' && c.code_id === ctx.coding.code_id), 'the filters were not applied');
    const all = (await callOk(ctx, 'list_codings', { limit: 5 })).structuredContent;
    assert.ok(all.total >= mine.total, 'the unfiltered total is smaller than a filtered one');
    if (all.total > 5) assert.equal(all.next_offset, 5, 'next_offset after a page of 5');
    return `${mine.total} of ${all.total} codings by interop`;
  }],
  ['remove_coding', async ctx => {
    assert.ok(ctx.coding, 'needs code_segment');
    await callOk(ctx, 'remove_coding', { id: ctx.coding.id, by: 'interop' });
    await callToolError(ctx, 'remove_coding', { id: ctx.coding.id, by: 'interop' });
    const left = (await callOk(ctx, 'list_codings', { coder: 'interop' })).structuredContent;
    assert.ok(!left.codings.some(c => c.id === ctx.coding.id), 'a removed coding is still listed');
    return `removed #${ctx.coding.id}`;
  }],
  ['add_memo', async ctx => {
    const { memo } = (await callOk(ctx, 'add_memo', { text: 'An interop memo.', title: 'interop', author: 'interop',
                                                       code_id: ctx.codeIds[0] })).structuredContent;
    assert.equal(memo.text, 'An interop memo.');
    ctx.memo = memo;
    return `memo #${memo.id}`;
  }],
  ['list_memos', async ctx => {
    assert.ok(ctx.memo, 'needs add_memo');
    const { memos } = (await callOk(ctx, 'list_memos', { author: 'interop' })).structuredContent;
    assert.ok(memos.some(m => m.id === ctx.memo.id), 'list_memos does not list the new memo');
    return `${memos.length} memo(s) by interop`;
  }],
  ['update_codebook', async ctx => {
    const before = (await callOk(ctx, 'get_codebook', {})).structuredContent.codebook;
    const id = `interop-${Date.now().toString(36)}`;
    const added = (await callOk(ctx, 'update_codebook', { author: 'interop', change: { op: 'add', category_id: before.categories[0].id,
      code: { id, name: 'Interop check', definition: 'A code added by the interop check.' } } })).structuredContent;
    assert.equal(added.version.version, before.version + 1, 'the version did not grow by one');
    const after = (await callOk(ctx, 'get_codebook', {})).structuredContent.codebook;
    assert.ok(codeIdsOf(after).includes(id), 'the new code is not in the codebook');
    const retired = (await callOk(ctx, 'update_codebook', { author: 'interop', change: { op: 'retire', code_id: id } })).structuredContent;
    assert.equal(retired.version.version, before.version + 2);
    await callToolError(ctx, 'update_codebook', { author: 'interop', change: { op: 'rename', code_id: 'no-such-code', new_id: 'other' } });
    return `versions ${before.version} -> ${retired.version.version}`;
  }],
  ['code_frequencies', async ctx => {
    const { codes } = (await callOk(ctx, 'code_frequencies', {})).structuredContent;
    for (const id of ctx.codeIds) assert.ok(codes.some(c => c.code_id === id), `code ${id} has no frequency row`);
    const total = codes.reduce((n, c) => n + c.codings, 0);
    assert.ok(total > 0, 'no codings counted after auto_code');
    return `${codes.length} codes, ${total} codings`;
  }],
  ['export_project', async ctx => {
    const out = (await callOk(ctx, 'export_project', {})).structuredContent;
    assert.ok(out.folder.startsWith('exports/'), `exported to ${out.folder}`);
    assert.ok(out.files.some(f => f.path.endsWith('/report.md')), 'no report.md among the exports');
    assert.ok(out.files.every(f => /^[0-9a-f]{64}$/.test(f.sha256)), 'a file without its SHA-256');
    return `${out.files.length} files in ${out.folder}`;
  }],
  ['verify_run_log', async ctx => {
    const { logs } = (await callOk(ctx, 'verify_run_log', {})).structuredContent;
    assert.ok(logs.length > 0, 'no run logs');
    assert.ok(logs.some(l => l.intact === null), "the session's own open log is not listed");
    assert.ok(logs.every(l => l.intact !== false), `a run log is not intact: ${JSON.stringify(logs.find(l => l.intact === false))}`);
    return `${logs.length} log(s)`;
  }],
];

// ---------------------------------------------------------------------------------------------
// Capability checks

async function checkResources(ctx) {
  const caps = ctx.client.getServerCapabilities();
  if (!caps?.resources) return skip('resources', 'resources', 'the server does not advertise resources');
  await check('resources', async () => {
    const { items: resources, pages } = await allPages(p => ctx.client.listResources(p), 'resources', 'resources/list');
    for (const r of resources) {
      assert.equal(typeof r.uri, 'string', 'a resource without a uri');
      assert.equal(typeof r.name, 'string', `resource ${r.uri} has no name`);
    }
    const { items: templates } = await allPages(p => ctx.client.listResourceTemplates(p), 'resourceTemplates', 'resources/templates/list');
    await expectRpcError(ctx.client.listResources({ cursor: 'not-a-cursor' }), INVALID_PARAMS, 'resources/list with an invalid cursor');
    // A document resource: from a template with one variable, or from the list.
    assert.ok(ctx.documents?.length, 'needs list_documents');
    const doc = ctx.documents[0];
    const template = templates.find(t => /document/i.test(t.uriTemplate) && (t.uriTemplate.match(/\{[^}]+\}/g) ?? []).length === 1);
    const uri = template ? template.uriTemplate.replace(/\{[^}]+\}/, encodeURIComponent(doc.id))
                         : resources.find(r => r.uri.includes(doc.id))?.uri;
    assert.ok(uri, 'no document resource: neither a template with one variable nor a listed resource names a document');
    const read = await ctx.client.readResource({ uri });
    assert.ok(Array.isArray(read.contents) && read.contents.length > 0, `${uri}: no contents`);
    const content = read.contents[0];
    assert.equal(content.uri, uri, `reading ${uri} answered for ${content.uri}`);
    assert.ok(typeof content.text === 'string' ? content.text.length > 0 : typeof content.blob === 'string', `${uri}: neither text nor blob`);
    if (ctx.segments && typeof content.text === 'string') {
      const first = [...ctx.segments.values()].find(s => s.document_id === doc.id);
      if (first) assert.ok(content.text.includes(first.text), `${uri} does not contain the document's first segment as read_document gives it`);
    }
    if (template) {
      const missing = template.uriTemplate.replace(/\{[^}]+\}/, 'no-such-document');
      await expectRpcError(ctx.client.readResource({ uri: missing }), RESOURCE_NOT_FOUND, `resources/read ${missing}`);
    }
    return `${resources.length} resources in ${pages} page(s), ${templates.length} templates, read ${uri}`;
  });
}

async function promptArgumentValue(ctx, prompt, arg, chosen) {
  if (ctx.client.getServerCapabilities()?.completions) {
    const done = await ctx.client.complete({ ref: { type: 'ref/prompt', name: prompt.name }, argument: { name: arg.name, value: '' },
                                             context: { arguments: chosen } });
    if (done.completion.values.length > 0) return done.completion.values[0];
  }
  const n = arg.name.toLowerCase();
  if (/code/.test(n) && ctx.codeIds?.length) return ctx.codeIds[0];
  if (/document/.test(n) && ctx.documents?.length) return ctx.documents[0].id;
  return 'experiences of night work';
}

async function checkPrompts(ctx) {
  const caps = ctx.client.getServerCapabilities();
  if (!caps?.prompts) return skip('prompts', 'prompts', 'the server does not advertise prompts');
  await check('prompts', async () => {
    const { items: prompts, pages } = await allPages(p => ctx.client.listPrompts(p), 'prompts', 'prompts/list');
    assert.ok(prompts.length > 0, 'prompts are advertised but none is listed');
    await expectRpcError(ctx.client.listPrompts({ cursor: 'not-a-cursor' }), INVALID_PARAMS, 'prompts/list with an invalid cursor');
    for (const prompt of prompts) {
      const args = {};
      for (const arg of prompt.arguments ?? []) if (arg.required) args[arg.name] = await promptArgumentValue(ctx, prompt, arg, args);
      const got = await ctx.client.getPrompt({ name: prompt.name, arguments: args });
      assert.ok(Array.isArray(got.messages) && got.messages.length > 0, `prompt ${prompt.name}: no messages`);
      for (const m of got.messages) {
        assert.ok(['user', 'assistant'].includes(m.role), `prompt ${prompt.name}: role ${m.role}`);
        assert.ok(m.content, `prompt ${prompt.name}: a message without content`);
      }
      const requiredArg = (prompt.arguments ?? []).find(a => a.required);
      if (requiredArg) {
        const without = { ...args };
        delete without[requiredArg.name];
        await expectRpcError(ctx.client.getPrompt({ name: prompt.name, arguments: without }), INVALID_PARAMS,
                             `prompt ${prompt.name} without its required argument ${requiredArg.name}`);
      }
    }
    await expectRpcError(ctx.client.getPrompt({ name: 'no_such_prompt', arguments: {} }), INVALID_PARAMS, 'prompts/get of an unknown prompt');
    ctx.prompts = prompts;
    return `${prompts.length} prompts in ${pages} page(s): ${prompts.map(p => p.name).join(', ')}`;
  });
}

async function checkCompletions(ctx) {
  const caps = ctx.client.getServerCapabilities();
  if (!caps?.completions) return skip('completions', 'completions', 'the server does not advertise completions');
  if (!ctx.prompts?.some(p => p.arguments?.length)) return skip('completions', 'completions', 'no prompt with arguments to complete');
  await check('completions', async () => {
    let completed = 0;
    for (const prompt of ctx.prompts) {
      for (const arg of prompt.arguments ?? []) {
        const ref = { type: 'ref/prompt', name: prompt.name };
        const all = (await ctx.client.complete({ ref, argument: { name: arg.name, value: '' } })).completion;
        assert.ok(Array.isArray(all.values) && all.values.length <= 100, `${prompt.name}.${arg.name}: ${all.values?.length} values (at most 100)`);
        if (all.values.length === 0) continue;
        ++completed;
        const prefix = codePoints(all.values[0]).slice(0, 2).join('');
        const some = (await ctx.client.complete({ ref, argument: { name: arg.name, value: prefix } })).completion;
        assert.ok(some.values.length > 0, `${prompt.name}.${arg.name}: nothing for the prefix "${prefix}" of a value it offered`);
        assert.ok(some.values.every(v => v.toLowerCase().startsWith(prefix.toLowerCase())), `${prompt.name}.${arg.name}: a value does not start with "${prefix}"`);
      }
    }
    assert.ok(completed > 0, 'no prompt argument has any completion');
    await expectRpcError(ctx.client.complete({ ref: { type: 'ref/prompt', name: 'no_such_prompt' }, argument: { name: 'x', value: '' } }),
                         INVALID_PARAMS, 'completion/complete for an unknown prompt');
    return `${completed} prompt argument(s) complete`;
  });
}

async function checkLogging(ctx, { LoggingMessageNotificationSchema }) {
  const caps = ctx.client.getServerCapabilities();
  if (!caps?.logging) return skip('logging', 'logging', 'the server does not advertise logging');
  await check('logging', async () => {
    const levels = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];
    const messages = [];
    ctx.client.setNotificationHandler(LoggingMessageNotificationSchema, n => { messages.push(n.params); });
    await ctx.client.setLoggingLevel('debug');
    const calls = async () => {
      await callOk(ctx, 'list_documents', {});
      if (ctx.tools.has('search_corpus')) await callOk(ctx, 'search_corpus', { query: 'work', limit: 1 });
      if (ctx.tools.has('auto_code')) await callOk(ctx, 'auto_code', ctx.autoCodeArgs ?? {}, { timeout: 300_000 });
      await ctx.client.ping();
    };
    await calls();
    assert.ok(messages.length > 0, 'no notifications/message during tool calls at level debug');
    for (const m of messages) {
      assert.ok(levels.includes(m.level), `a log message with level ${m.level}`);
      assert.ok(m.data !== undefined, 'a log message without data');
    }
    const atDebug = messages.length;
    messages.length = 0;
    await ctx.client.setLoggingLevel('emergency');
    await calls();
    assert.ok(messages.every(m => m.level === 'emergency'), `after logging/setLevel emergency: ${messages.map(m => m.level).join(', ')}`);
    await expectRpcError(ctx.client.setLoggingLevel('loud'), INVALID_PARAMS, 'logging/setLevel with an unknown level');
    await ctx.client.setLoggingLevel('info');
    return `${atDebug} message(s) at debug; none below emergency after raising the level`;
  });
}

function progressTokenOf(ctx, toolName, fromIndex) {
  const request = ctx.recorder.outbound.slice(fromIndex).find(m => m.method === 'tools/call' && m.params?.name === toolName);
  assert.ok(request, `the ${toolName} request was not sent`);
  return { id: request.id, token: request.params?._meta?.progressToken };
}

async function checkProgress(ctx) {
  if (!ctx.tools.has('auto_code')) return skip('progress', 'progress', 'the server has no auto_code tool');
  await check('progress', async () => {
    const seen = [];
    const sentBefore = ctx.recorder.outbound.length;
    await callOk(ctx, 'auto_code', ctx.autoCodeArgs ?? {}, { onprogress: p => seen.push(p), resetTimeoutOnProgress: true, timeout: 120_000 });
    const { id, token } = progressTokenOf(ctx, 'auto_code', sentBefore);
    assert.ok(token !== undefined, 'the SDK did not send a progressToken');
    assert.ok(seen.length >= 1, 'onprogress was never called for a request with a progressToken');
    // The notifications as they arrived: the SDK drops one that arrives right before the
    // response (it handles notifications a tick later), so onprogress may see one fewer.
    await ctx.client.ping();  // the stream is ordered: after the pong, everything sent has arrived
    const inbound = ctx.recorder.inbound;
    const responseAt = inbound.findIndex(m => m.id === id && ('result' in m || 'error' in m));
    const mine = m => m.method === 'notifications/progress' && m.params?.progressToken === token;
    const sent = inbound.slice(0, responseAt).filter(mine).map(m => m.params);
    for (let i = 1; i < sent.length; ++i)
      assert.ok(sent[i].progress > sent[i - 1].progress, `progress not strictly increasing: ${sent[i - 1].progress} then ${sent[i].progress}`);
    for (const p of sent) if (p.total !== undefined) assert.ok(p.progress <= p.total, `progress ${p.progress} beyond total ${p.total}`);
    const late = inbound.slice(responseAt + 1).filter(mine);
    assert.equal(late.length, 0, `${late.length} progress notification(s) after the response`);
    const last = sent[sent.length - 1];
    return `${sent.length} notification(s) (${seen.length} through onprogress), last ${last.progress}${last.total !== undefined ? `/${last.total}` : ''}`;
  });
}

async function checkCancel(ctx) {
  if (ctx.opts.skip.has('cancel')) return skip('cancel', 'cancel', 'skipped by --skip cancel');
  if (!ctx.tools.has('auto_code')) return skip('cancel', 'cancel', 'the server has no auto_code tool');
  await check('cancel', async () => {
    const controller = new AbortController();
    const reason = 'cqda-interop: cancelled after the first progress notification';
    let progress = 0;
    const sentBefore = ctx.recorder.outbound.length;
    const call = ctx.client.callTool({ name: 'auto_code', arguments: ctx.autoCodeArgs ?? {} }, undefined, {
      signal: controller.signal,
      timeout: 120_000,
      resetTimeoutOnProgress: true,
      onprogress: () => { if (++progress === 1) controller.abort(reason); },
    });
    let outcome;
    try {
      outcome = await call;
    } catch (e) {
      assert.ok(controller.signal.aborted, `auto_code failed before it was cancelled: ${e?.message ?? e}`);
      assert.ok(String(e?.message ?? e).includes(reason), `the call rejected, but not with the abort: ${e?.message ?? e}`);
    }
    assert.equal(outcome, undefined, `auto_code finished (${progress} progress notification(s)) instead of being cancelled`);
    const { id } = progressTokenOf(ctx, 'auto_code', sentBefore);
    assert.ok(ctx.recorder.outbound.some(m => m.method === 'notifications/cancelled' && m.params?.requestId === id),
              'the SDK sent no notifications/cancelled');
    // The server stays usable.
    await Promise.race([ctx.client.ping(), new Promise((_, reject) => setTimeout(() => reject(new Error('no answer to ping within 10 s after the cancellation')), 10_000))]);
    await callOk(ctx, 'list_documents', {});
    const answered = ctx.recorder.inbound.some(m => m.id === id && ('result' in m || 'error' in m));
    return answered ? 'cancelled; the server answered the cancelled request anyway (a race the protocol allows), ping works'
                    : 'cancelled, no response for the cancelled request, ping works';
  });
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  for (const r of opts.require) required.add(r);
  let dir;
  try { dir = depsDir(opts.deps); } catch (e) { usage(e.message); }

  const timer = setTimeout(() => {
    say(`FAIL  the interop check did not finish within ${opts.timeout} s`);
    process.exit(1);
  }, opts.timeout * 1000);
  timer.unref();

  const { Client } = await load(dir, '@modelcontextprotocol/sdk/client/index.js');
  const { StdioClientTransport } = await load(dir, '@modelcontextprotocol/sdk/client/stdio.js');
  const { StreamableHTTPClientTransport } = await load(dir, '@modelcontextprotocol/sdk/client/streamableHttp.js');
  const types = await load(dir, '@modelcontextprotocol/sdk/types.js');
  const { AjvJsonSchemaValidator } = await load(dir, '@modelcontextprotocol/sdk/validation/ajv');
  const Ajv2020 = (await load(dir, 'ajv/dist/2020.js')).default;
  const Ajv07 = (await load(dir, 'ajv/dist/ajv.js')).default;
  const addFormats = (await load(dir, 'ajv-formats')).default;
  say(`sdk-interop: @modelcontextprotocol/sdk ${packageVersion(dir, '@modelcontextprotocol/sdk')}, Node ${process.version}, transport ${opts.transport}`);

  // Output schemas are checked by the SDK in callTool. MCP's default dialect is JSON Schema
  // 2020-12, so schemas are compiled as such unless they name draft-07 or older themselves.
  const makeAjv = Ajv => { const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true }); addFormats(ajv); return ajv; };
  const by2020 = new AjvJsonSchemaValidator(makeAjv(Ajv2020));
  const by07 = new AjvJsonSchemaValidator(makeAjv(Ajv07));
  const jsonSchemaValidator = {
    getValidator: schema => (/draft-0[4-7]/.test(schema?.$schema ?? '') ? by07 : by2020).getValidator(schema),
  };

  let stderr = '';
  let child;
  const names = opts.roster ? rosterNames(opts.roster) : [];
  const makeTransport = headers => {
    if (opts.transport === 'stdio') {
      const t = new StdioClientTransport({ command: opts.command, args: opts.serverArgs, stderr: 'pipe' });
      t.stderr?.on('data', chunk => {
        stderr = (stderr + chunk.toString()).slice(-65536);
        if (opts.verbose) process.stderr.write(chunk);
      });
      return t;
    }
    return new StreamableHTTPClientTransport(new URL(opts.url), { requestInit: { headers } });
  };
  const recorder = new RecordingTransport(makeTransport({ Authorization: `Bearer ${opts.token}` }));
  const client = new Client({ name: 'cqda-interop', version: '1.0.0' }, { capabilities: {}, jsonSchemaValidator });
  const ctx = { client, recorder, names, opts, tools: new Map() };

  const connected = await check('initialize', async () => {
    await client.connect(recorder);
    if (opts.transport === 'stdio') child = recorder.inner._process;
    const info = client.getServerVersion();
    assert.equal(info?.name, 'cqda', `serverInfo.name is ${info?.name}`);
    assert.ok(typeof info.version === 'string' && info.version.length > 0, 'serverInfo.version is empty');
    const init = recorder.outbound.find(m => m.method === 'initialize');
    const answer = recorder.inbound.find(m => m.id === init.id);
    const version = answer?.result?.protocolVersion;
    // The server answers with the client's revision when it speaks it, else its newest.
    const asked = init.params.protocolVersion;
    const expected = SERVER_REVISIONS.includes(asked) ? asked : SERVER_REVISIONS[0];
    assert.equal(version, expected, `the client asked for ${asked}, the server answered ${version} (expected ${expected})`);
    const caps = Object.keys(client.getServerCapabilities() ?? {}).sort().join(', ');
    return `${info.name} ${info.version}, protocol ${version}, capabilities: ${caps || 'none'}`;
  });
  if (!connected) return finish(ctx, { stderr });

  await check('ping', async () => { await client.ping(); });

  if (opts.transport === 'https') {
    await check('https: no token or a wrong token is refused (401)', async () => {
      for (const headers of [{}, { Authorization: 'Bearer not-the-token' }]) {
        const other = new Client({ name: 'cqda-interop-unauthenticated', version: '1.0.0' });
        let error;
        try { await other.connect(makeTransport(headers)); } catch (e) { error = e; }
        await other.close().catch(() => {});
        assert.ok(error, `connecting with headers ${JSON.stringify(Object.keys(headers))} succeeded`);
        assert.ok(error.code === 401 || /\b401\b/.test(error.message), `refused, but not with 401: ${error.message}`);
      }
    });
  }

  const listed = await check('tools/list', async () => {
    const { items: tools, pages } = await allPages(p => client.listTools(p), 'tools', 'tools/list');
    // listTools() caches the output-schema validators of its own page only: cache all of them.
    client.cacheToolMetadata(tools);
    for (const tool of tools) {
      assert.match(tool.name, TOOL_NAME, `tool name "${tool.name}"`);
      assert.ok(!ctx.tools.has(tool.name), `tool ${tool.name} listed twice`);
      ctx.tools.set(tool.name, tool);
      assert.equal(tool.inputSchema?.type, 'object', `${tool.name}: inputSchema is not an object schema`);
      by2020.getValidator(tool.inputSchema);  // compiles
      assert.ok(tool.outputSchema, `${tool.name} has no outputSchema`);
      assert.ok(client.getToolOutputValidator(tool.name), `${tool.name}: the SDK holds no output validator`);
      assert.equal(typeof tool.description, 'string', `${tool.name} has no description`);
      for (const hint of ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'])
        assert.equal(typeof tool.annotations?.[hint], 'boolean', `${tool.name}: annotations.${hint} is not set`);
    }
    assert.ok(tools.length > 0, 'no tools');
    // The validator is on: it refuses a structuredContent that breaks the schema.
    const [first] = tools;
    assert.equal(client.getToolOutputValidator(first.name)('not an object').valid, false, 'the output validator accepts anything');
    await expectRpcError(client.listTools({ cursor: 'not-a-cursor' }), INVALID_PARAMS, 'tools/list with an invalid cursor');
    return `${tools.length} tools in ${pages} page(s): ${tools.map(t => t.name).join(', ')}`;
  });

  if (listed) {
    const known = new Set(TOOL_CHECKS.map(([name]) => name));
    for (const name of ctx.tools.keys())
      if (!known.has(name)) await check(`tool ${name}`, async () => assert.fail(`no interop check for tool ${name}: add one to TOOL_CHECKS in tests/interop/sdk_client.mjs`));
    for (const [name, fn] of TOOL_CHECKS) {
      if (ctx.tools.has(name)) await check(`tool ${name}`, () => fn(ctx));
    }
    await check('tools: unknown tool and unknown arguments give -32602', async () => {
      await expectRpcError(client.callTool({ name: 'no_such_tool', arguments: {} }), INVALID_PARAMS, 'an unknown tool');
      let strict = 0;
      for (const tool of ctx.tools.values()) {
        if (tool.inputSchema.additionalProperties !== false) continue;
        ++strict;
        await expectRpcError(client.callTool({ name: tool.name, arguments: { ...argumentsFromSchema(tool.inputSchema, ctx), no_such_argument: 1 } }),
                             INVALID_PARAMS, `${tool.name} with an argument its schema does not have`);
      }
      return `${strict} tool(s) with closed input schemas refuse an extra argument`;
    });
  }

  await checkResources(ctx);
  await checkPrompts(ctx);
  await checkCompletions(ctx);
  await checkLogging(ctx, types);
  await checkProgress(ctx);
  await checkCancel(ctx);

  await check('no rostered name reaches the client', async () => {
    assert.ok(names.length > 0, opts.roster ? `${opts.roster} lists no person with a full name` : 'no roster given (--roster FILE)');
    const seen = JSON.stringify(recorder.inbound);
    const leaked = names.filter(n => seen.includes(n));
    assert.ok(leaked.length === 0, `names in what the server sent: ${leaked.join(', ')}`);
    return `${names.length} names, ${recorder.inbound.length} messages, ${seen.length} characters`;
  });

  if (opts.transport === 'https') {
    await check('https: session ends (DELETE)', async () => { await recorder.inner.terminateSession(); });
  }
  await client.close();
  if (child) {
    await check('stdio: the server exits with status 0 when its stdin closes', async () => {
      if (child.exitCode === null && child.signalCode === null) await new Promise(resolve => child.once('exit', resolve));
      assert.equal(child.signalCode, null, `the server had to be killed (${child.signalCode}) after stdin closed`);
      assert.equal(child.exitCode, 0, `exit status ${child.exitCode}`);
    });
  }
  return finish(ctx, { stderr });
}

function finish(ctx, { stderr }) {
  const count = s => results.filter(r => r.status === s).length;
  const failed = count('fail');
  say('');
  say(`ran:     ${results.filter(r => r.status !== 'skip').map(r => r.name).join('; ')}`);
  say(`skipped: ${results.filter(r => r.status === 'skip').map(r => `${r.name} (${r.note})`).join('; ') || 'none'}`);
  if (failed && stderr) say(`--- the server's stderr (last lines) ---\n${stderr.split('\n').slice(-40).join('\n')}`);
  say(`sdk-interop: ${count('pass')} passed, ${failed} failed, ${count('skip')} skipped`);
  process.exitCode = failed ? 1 : 0;
}

main().catch(e => {
  say(`FAIL  ${e?.stack ?? e}`);
  process.exitCode = 1;
}).finally(() => {
  // Nothing should keep running; a stuck transport must not hang the test.
  setTimeout(() => process.exit(), 500).unref();
});
