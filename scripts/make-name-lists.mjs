#!/usr/bin/env node
// Builds the name gazetteer in data/names/ from the locale data of the
// MIT-licensed npm package @faker-js/faker.
//
// Usage:
//   node scripts/make-name-lists.mjs <path to node_modules/@faker-js/faker> \
//        [--dict /usr/share/dict/american-english] [--out data/names]
//
// The script reads only local files; it never downloads anything. Install the
// package yourself in a scratch folder first, e.g.
//   cd "$(mktemp -d)" && npm init -y && npm install @faker-js/faker
// and install Debian's word list with `apt-get install wamerican`.
//
// Output (UTF-8, NFC, LF, sorted by code point, deduplicated):
//   given-names.txt  one given name per line
//   surnames.txt     one surname per line
//   ambiguous.txt    lowercase names (from both lists) that are also ordinary
//                    lowercase English words in the word list
//   ATTRIBUTION.md   source, version, licence, locales, counts

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// Locales whose name data is in Latin script. Pseudo-locales (en_BORK, the
// slang of en_AU_ocker) are left out; locales without their own person data
// inherit from others and add nothing.
const LOCALES = [
  'af_ZA', 'az', 'cs_CZ', 'da', 'de', 'de_AT', 'de_CH', 'en', 'en_AU', 'en_GH',
  'en_HK', 'en_IN', 'en_NG', 'en_NP', 'en_ZA', 'eo', 'es', 'es_MX', 'fi', 'fr',
  'fr_BE', 'fr_CH', 'fr_SN', 'hr', 'hu', 'id_ID', 'it', 'ku_kmr_latin', 'lv',
  'nb_NO', 'nl', 'nl_BE', 'pl', 'pt_BR', 'pt_PT', 'ro', 'ro_MD', 'sk', 'sl_SI',
  'sr_RS_latin', 'sv', 'tr', 'uz_UZ_latin', 'vi', 'yo_NG', 'zu_ZA',
];

// A single token of letters (and combining marks), starting with a capital,
// with at most inner hyphens or apostrophes: Anne-Marie, O'Brien, D'Angelo.
const TOKEN = /^\p{Lu}[\p{L}\p{M}]*(?:['\u2019-][\p{L}\p{M}]+)*$/u;

function usage(msg) {
  if (msg) console.error(`error: ${msg}`);
  console.error('usage: node scripts/make-name-lists.mjs <path to node_modules/@faker-js/faker> '
    + '[--dict FILE] [--out DIR]');
  process.exit(2);
}

const args = process.argv.slice(2);
let fakerDir = null;
let dictFile = '/usr/share/dict/american-english';
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let outDir = path.join(repoRoot, 'data', 'names');
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--dict') dictFile = args[++i] ?? usage('--dict needs a file');
  else if (a === '--out') outDir = args[++i] ?? usage('--out needs a directory');
  else if (a === '-h' || a === '--help') usage();
  else if (a.startsWith('-')) usage(`unknown option ${a}`);
  else if (fakerDir === null) fakerDir = a;
  else usage(`unexpected argument ${a}`);
}
if (fakerDir === null) usage('the faker package location is required');
fakerDir = path.resolve(fakerDir);

const pkg = JSON.parse(fs.readFileSync(path.join(fakerDir, 'package.json'), 'utf8'));
if (pkg.name !== '@faker-js/faker') usage(`${fakerDir} is not @faker-js/faker (found ${pkg.name})`);
const licenseText = fs.readFileSync(path.join(fakerDir, 'LICENSE'), 'utf8').replace(/\r\n/g, '\n').trimEnd();

// Resolve the package's main entry point (ESM) and import it from the given folder.
let entry = pkg.exports?.['.'];
if (entry && typeof entry === 'object') entry = entry.import ?? entry.default ?? entry.node;
if (entry && typeof entry === 'object') entry = entry.default;
entry = entry ?? pkg.module ?? pkg.main ?? 'index.js';
const faker = await import(pathToFileURL(path.join(fakerDir, entry)).href);
const allLocales = faker.allLocales;
if (!allLocales) usage('this version of @faker-js/faker does not export allLocales');

// person.first_name / person.last_name are arrays in old versions and
// { generic, female, male } objects (or a subset) in newer ones.
function flatten(def) {
  if (def === undefined || def === null) return [];
  if (typeof def === 'string') return [def];
  if (Array.isArray(def)) return def.flatMap(flatten);
  if (typeof def === 'object') return Object.values(def).flatMap(flatten);
  return [];
}

function clean(raw) {
  const s = raw.normalize('NFC').trim();
  if (!TOKEN.test(s)) return null;       // multi-word names, digits, dots, other scripts
  if ([...s].length < 2) return null;
  return s;
}

const given = new Set();
const surnames = new Set();
const used = [];
for (const code of LOCALES) {
  const def = allLocales[code];
  if (!def) { console.error(`warning: locale ${code} not present in this version, skipped`); continue; }
  const person = def.person ?? {};
  const f = flatten(person.first_name);
  const l = flatten(person.last_name);
  if (f.length === 0 && l.length === 0) continue;
  used.push(code);
  for (const n of f) { const c = clean(n); if (c) given.add(c); }
  for (const n of l) { const c = clean(n); if (c) surnames.add(c); }
}

const byCodePoint = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
const givenList = [...given].sort(byCodePoint);
const surnameList = [...surnames].sort(byCodePoint);

// Ordinary words: entries of the word list that are entirely lowercase.
const words = new Set();
for (const line of fs.readFileSync(dictFile, 'utf8').split('\n')) {
  const w = line.trim().normalize('NFC');
  if (w && w === w.toLowerCase() && !w.includes("'")) words.add(w);
}
const ambiguous = new Set();
for (const n of [...givenList, ...surnameList]) {
  const lc = n.toLowerCase();
  if (words.has(lc)) ambiguous.add(lc);
}
const ambiguousList = [...ambiguous].sort(byCodePoint);

fs.mkdirSync(outDir, { recursive: true });
const write = (name, lines) => fs.writeFileSync(path.join(outDir, name), lines.join('\n') + '\n', 'utf8');
write('given-names.txt', givenList);
write('surnames.txt', surnameList);
write('ambiguous.txt', ambiguousList);

const sizes = ['given-names.txt', 'surnames.txt', 'ambiguous.txt']
  .map((f) => fs.statSync(path.join(outDir, f)).size);
const total = sizes.reduce((a, b) => a + b, 0);

const attribution = `# Name lists: sources and licences

The files in this folder are generated by \`scripts/make-name-lists.mjs\`. Do not edit them by
hand; regenerate them instead.

| file | entries | bytes | content |
| --- | ---: | ---: | --- |
| \`given-names.txt\` | ${givenList.length} | ${sizes[0]} | given names, one per line |
| \`surnames.txt\` | ${surnameList.length} | ${sizes[1]} | surnames, one per line |
| \`ambiguous.txt\` | ${ambiguousList.length} | ${sizes[2]} | names that are also ordinary English words, lowercase |

All three lists are UTF-8 in Unicode normalization form C, one entry per line, sorted by code
point and free of duplicates. Only single tokens are kept: letters (with combining marks), at least
two characters long, beginning with a capital letter, with at most inner hyphens or apostrophes
(\`Anne-Marie\`, \`O'Brien\`). Multi-word entries (\`De la Cruz\`), entries with digits or dots and
entries in non-Latin scripts are dropped.

## Given names and surnames

Source: the locale data (\`person.first_name\`, \`person.last_name\`; all of the generic, female and
male lists) of the npm package **\`${pkg.name}\` version ${pkg.version}**
(<https://github.com/faker-js/faker>), released under the MIT License, reproduced below.

Locales used (${used.length}), all in Latin script:
${used.map((c) => `\`${c}\``).join(', ')}.

Left out: locales whose names are written in other scripts (Arabic, Cyrillic, Greek, Hebrew,
Devanagari, CJK, Thai and others), the pseudo-locale \`en_BORK\`, the slang locale
\`en_AU_ocker\`, and locales that have no name data of their own.

### Licence of ${pkg.name}

\`\`\`text
${licenseText}
\`\`\`

## Ambiguous names

\`ambiguous.txt\` holds every name from the two lists whose lowercase form is also an entirely
lowercase entry in Debian's \`wamerican\` word list (\`/usr/share/dict/american-english\`), for
example \`may\`, \`will\`, \`rose\`, \`grace\`, \`mark\`, \`bill\`, \`hope\`, \`frank\`. The anonymizer uses it
to be careful with such words when they are not clearly used as names.

The word list itself is not included here, only the names it helped to select. \`wamerican\` is
built from SCOWL (Spell Checker Oriented Word Lists) by Kevin Atkinson. Its licence is
permissive: "Copyright 2000-2011 by Kevin Atkinson. Permission to use, copy, modify, distribute
and sell these word lists, the associated scripts, the output created from the scripts, and its
documentation for any purpose is hereby granted without fee, provided that the above copyright
notice appears in all copies and that both that copyright notice and this permission notice appear
in supporting documentation. Kevin Atkinson makes no representations about the suitability of
this array for any purpose. It is provided "as is" without express or implied warranty." The
sources SCOWL draws on are in the public domain or under similarly permissive notices (WordNet,
UKACD, Ispell); see \`/usr/share/doc/wamerican/copyright\` for the full text.

## Regenerating

\`\`\`sh
apt-get install -y wamerican
cd "$(mktemp -d)" && npm init -y && npm install ${pkg.name}@${pkg.version}
cd /path/to/cqda
node scripts/make-name-lists.mjs /tmp/…/node_modules/@faker-js/faker
\`\`\`

Options: \`--dict FILE\` (another lowercase word list), \`--out DIR\` (another output folder). The
script reads only local files and downloads nothing. The same package version and word list
give byte-identical output.
`;
fs.writeFileSync(path.join(outDir, 'ATTRIBUTION.md'), attribution, 'utf8');

console.log(`${pkg.name} ${pkg.version}, ${used.length} locales`);
console.log(`given-names.txt ${givenList.length}, surnames.txt ${surnameList.length}, `
  + `ambiguous.txt ${ambiguousList.length}, ${total} bytes in total`);
