#!/usr/bin/env node
// Turns the MCP conformance suite's results (RESULTS_DIR/server-<scenario>-<time>/checks.json,
// one folder per scenario run) into a Markdown table. Used by scripts/conformance.sh.
//
//   node conformance_table.mjs RESULTS_DIR OUT.md URL SUITE_VERSION [SCENARIO...]
//
// A scenario passes when it has at least one SUCCESS and no FAILURE (WARNING and INFO are
// listed but do not fail it). Scenarios named on the command line without results are listed
// as "no result" (the suite crashed or timed out on them). Prints the plain summary line.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

// What the server must serve for each server scenario of the suite (0.1.x): the fixture tools,
// resources and prompts it calls by name. Scenarios not listed need no fixture.
export const FIXTURES = {
  'completion-complete': 'prompt `test_prompt_with_arguments`',
  'tools-call-simple-text': 'tool `test_simple_text`',
  'tools-call-image': 'tool `test_image_content`',
  'tools-call-audio': 'tool `test_audio_content`',
  'tools-call-embedded-resource': 'tool `test_embedded_resource`',
  'tools-call-mixed-content': 'tool `test_multiple_content_types`',
  'tools-call-with-logging': 'tool `test_tool_with_logging`',
  'tools-call-error': 'tool `test_error_handling`',
  'tools-call-with-progress': 'tool `test_tool_with_progress`',
  'tools-call-sampling': 'tool `test_sampling`',
  'tools-call-elicitation': 'tool `test_elicitation`',
  'json-schema-2020-12': 'tool `json_schema_2020_12_tool`',
  'elicitation-sep1034-defaults': 'tool `test_elicitation_sep1034_defaults`',
  'elicitation-sep1330-enums': 'tool `test_elicitation_sep1330_enums`',
  'server-sse-polling': 'tool `test_reconnection`',
  'resources-read-text': 'resource `test://static-text`',
  'resources-read-binary': 'resource `test://static-binary`',
  'resources-templates-read': 'template `test://template/{id}/data`',
  'resources-subscribe': 'resource `test://watched-resource`',
  'resources-unsubscribe': 'resource `test://watched-resource`',
  'prompts-get-simple': 'prompt `test_simple_prompt`',
  'prompts-get-with-args': 'prompt `test_prompt_with_arguments`',
  'prompts-get-embedded-resource': 'prompt `test_prompt_with_embedded_resource`',
  'prompts-get-with-image': 'prompt `test_prompt_with_image`',
};

const cell = s => String(s ?? '').replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();

function main() {
  const [dir, out, url, version, ...named] = process.argv.slice(2);
  if (!dir || !out) {
    console.error('usage: node conformance_table.mjs RESULTS_DIR OUT.md URL SUITE_VERSION [SCENARIO...]');
    process.exit(2);
  }
  // The newest run of each scenario.
  const runs = new Map();
  for (const entry of existsSync(dir) ? readdirSync(dir) : []) {
    const m = entry.match(/^server-(.+)-(\d{4}-\d{2}-\d{2}T[\d-]+Z)$/);
    const file = path.join(dir, entry, 'checks.json');
    if (!m || !existsSync(file)) continue;
    const mtime = statSync(file).mtimeMs;
    if (!runs.has(m[1]) || runs.get(m[1]).mtime < mtime) runs.set(m[1], { file, mtime, started: m[2] });
  }
  // In the order they ran (the folder names carry the start time), after the named ones.
  const byTime = [...runs.entries()].sort((a, b) => (a[1].started < b[1].started ? -1 : 1)).map(([name]) => name);
  const scenarios = [...new Set([...named, ...byTime])];
  const rows = [];
  let passed = 0;
  let failed = 0;
  for (const scenario of scenarios) {
    const run = runs.get(scenario);
    if (!run) {
      rows.push([scenario, 'no result', '', '', '', FIXTURES[scenario] ?? '', 'the suite wrote no checks.json (crash or time-out)']);
      ++failed;
      continue;
    }
    let checks;
    try {
      checks = JSON.parse(readFileSync(run.file, 'utf8'));
    } catch (e) {
      rows.push([scenario, 'no result', '', '', '', FIXTURES[scenario] ?? '', `unreadable checks.json: ${e.message}`]);
      ++failed;
      continue;
    }
    const count = s => checks.filter(c => c.status === s).length;
    const ok = count('FAILURE') === 0 && count('SUCCESS') > 0;
    ok ? ++passed : ++failed;
    const notes = checks.filter(c => c.status === 'FAILURE' || c.status === 'WARNING')
      .map(c => `${c.status === 'FAILURE' ? '✗' : '⚠'} ${c.name}${c.errorMessage ? `: ${c.errorMessage}` : ''}`)
      .join('; ');
    rows.push([scenario, ok ? 'pass' : 'FAIL', count('SUCCESS'), count('FAILURE'), count('WARNING'), FIXTURES[scenario] ?? '', notes.slice(0, 600)]);
  }
  const lines = [
    '# MCP conformance results',
    '',
    `Server: ${url || '(not given)'}; suite: @modelcontextprotocol/conformance ${version || '?'}; ${new Date().toISOString()}.`,
    '',
    `${passed} of ${scenarios.length} scenarios passed.`,
    '',
    '| scenario | result | checks passed | failed | warnings | needs fixture | failures and warnings |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(r => `| ${r.map(cell).join(' | ')} |`),
    '',
  ];
  writeFileSync(out, lines.join('\n'));
  console.log(`conformance: ${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

// Run as a program (conformance.sh --list imports FIXTURES only).
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) main();
