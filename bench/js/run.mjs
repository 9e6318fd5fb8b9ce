// Runs an existing JavaScript PII library over the cqda benchmark corpus, with the same
// timing rules and scores as bench/anonymize_bench.cc.
//
//   node bench/js/run.mjs --library redact-pii|openredaction --corpus DIR --truth truth.json
//        [--unit file|paragraph] [--limit-mb N] [--runs 3] [--out results.json]
//
// Every file is read into memory first; only the redaction calls are timed (one file after
// another, one thread, a fresh redactor per run built outside the timer); the best of --runs
// is reported. MB are 10^6 bytes of UTF-8 input. --limit-mb takes the first files of
// truth.json up to that size, the same rule as anonymize_bench --limit-mb. With
// --unit paragraph each file is split at blank lines before the timer starts and the library
// is called once per paragraph (the outputs are joined again with blank lines); this helps a
// library whose cost grows faster than the length of its input.
//
// Configuration: each library's defaults, which already enable its name detection
// (redact-pii: all built-in rules including `names`; OpenRedaction: includeNames,
// includeAddresses, includePhones, includeEmails and context analysis are on by default).
// Neither library has a roster of known people, so none is given.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

import { score, printSummary } from './metrics.mjs';

const require = createRequire(import.meta.url);

const LIBRARIES = {
  'redact-pii': {
    package: 'redact-pii',
    make() {
      const { SyncRedactor } = require('redact-pii');
      const redactor = new SyncRedactor();
      return (text) => redactor.redact(text);
    },
  },
  openredaction: {
    package: '@openredaction/openredaction',
    make() {
      const { OpenRedaction } = require('@openredaction/openredaction');
      const shield = new OpenRedaction();
      return (text) => shield.detect(text).redacted;
    },
  },
};

function packageVersion(name) {
  const here = dirname(fileURLToPath(import.meta.url));
  return JSON.parse(readFileSync(join(here, 'node_modules', name, 'package.json'), 'utf8')).version;
}

function main() {
  const { values: args } = parseArgs({
    options: {
      library: { type: 'string' },
      corpus: { type: 'string' },
      truth: { type: 'string' },
      unit: { type: 'string', default: 'file' },
      'limit-mb': { type: 'string', default: '0' },
      runs: { type: 'string', default: '3' },
      out: { type: 'string' },
    },
  });
  const lib = LIBRARIES[args.library];
  if (!lib || !args.corpus || !args.truth || !['file', 'paragraph'].includes(args.unit)) {
    console.error('usage: node run.mjs --library redact-pii|openredaction --corpus DIR --truth truth.json ' +
      '[--unit file|paragraph] [--limit-mb N] [--runs 3] [--out FILE]');
    process.exit(2);
  }
  const runs = Math.max(1, Number.parseInt(args.runs, 10));
  const limitBytes = Number.parseFloat(args['limit-mb']) * 1e6;

  // ---- inputs (untimed) ----
  const truth = JSON.parse(readFileSync(args.truth, 'utf8'));
  const files = [];
  let totalBytes = 0;
  for (const f of truth.files) {
    if (limitBytes > 0 && totalBytes >= limitBytes) break;
    const input = readFileSync(join(args.corpus, f.path));
    files.push({
      path: f.path,
      input,
      units: args.unit === 'paragraph' ? input.toString('utf8').split('\n\n') : [input.toString('utf8')],
      output: null,
      identifiers: f.identifiers.map((id) => ({
        value: id.value,
        group: id.type === 'person' ? (id.rostered ? 'person_rostered' : 'person_unrostered') : id.type,
        planted: id.count,
      })),
      kept: f.kept.map((k) => ({ context: k.context, word: k.word, planted: k.count })),
    });
    totalBytes += input.length;
  }

  // ---- timed runs ----
  const seconds = [];
  for (let run = 0; run < runs; run += 1) {
    const redact = lib.make();
    const outputs = files.map((f) => new Array(f.units.length));
    const start = performance.now();
    for (let i = 0; i < files.length; i += 1) {
      const units = files[i].units;
      const out = outputs[i];
      for (let j = 0; j < units.length; j += 1) out[j] = redact(units[j]);
    }
    const stop = performance.now();
    seconds.push((stop - start) / 1000);
    for (let i = 0; i < files.length; i += 1) files[i].output = outputs[i].join('\n\n');
    console.error(`  ${args.library} run ${run + 1}/${runs}: ${seconds[run].toFixed(2)} s`);
  }
  const best = Math.min(...seconds);

  // ---- scores (untimed) ----
  for (const f of files) f.output = Buffer.from(f.output, 'utf8');
  const result = {
    tool: args.library,
    library: `${lib.package}@${packageVersion(lib.package)}`,
    node: process.version,
    unit: args.unit,
    threads: 1,
    files: files.length,
    corpus_bytes: totalBytes,
    runs_seconds: seconds,
    best_seconds: best,
    mb_per_s: totalBytes / 1e6 / best,
    ...score(files),
  };
  console.log(`${args.library}: ${files.length} files, ${(totalBytes / 1e6).toFixed(1)} MB, best of ${runs}: ` +
    `${best.toFixed(3)} s = ${result.mb_per_s.toFixed(2)} MB/s`);
  printSummary(result);
  if (args.out) writeFileSync(args.out, `${JSON.stringify(result, null, 1)}\n`);
}

main();
