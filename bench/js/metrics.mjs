// Scoring for the anonymizer benchmark, the same definitions as bench/bench_metrics.h:
// byte-exact, case-sensitive counting on UTF-8 bytes, with alphanumeric ends not glued to
// other word bytes. Keep the two in step (docs/BENCHMARKS.md states them).

export const DIRECT_GROUPS = new Set([
  'email', 'phone', 'iban', 'payment_card', 'national_id', 'person_rostered',
]);

function wordByte(c) {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) ||
    c === 0x5f || c >= 0x80;
}

// Occurrences of `needle` (a Buffer) in `hay` (a Buffer), non-overlapping.
export function countBounded(hay, needle) {
  if (needle.length === 0) return 0;
  const checkFront = wordByte(needle[0]);
  const checkBack = wordByte(needle[needle.length - 1]);
  let n = 0;
  let pos = hay.indexOf(needle, 0);
  while (pos !== -1) {
    const end = pos + needle.length;
    const frontOk = !checkFront || pos === 0 || !wordByte(hay[pos - 1]);
    const backOk = !checkBack || end === hay.length || !wordByte(hay[end]);
    if (frontOk && backOk) {
      n += 1;
      pos = hay.indexOf(needle, end);
    } else {
      pos = hay.indexOf(needle, pos + 1);
    }
  }
  return n;
}

class Tally {
  constructor() {
    this.values = 0; this.values_removed = 0; this.occurrences = 0; this.occurrences_removed = 0;
  }
  add(inCount, outCount) {
    this.values += 1;
    if (outCount === 0) this.values_removed += 1;
    this.occurrences += inCount;
    this.occurrences_removed += inCount - Math.min(inCount, outCount);
  }
  merge(o) {
    this.values += o.values; this.values_removed += o.values_removed;
    this.occurrences += o.occurrences; this.occurrences_removed += o.occurrences_removed;
  }
  toJSON() {
    const ratio = (a, b) => (b === 0 ? 0 : a / b);
    return {
      values: this.values, values_removed: this.values_removed,
      recall: ratio(this.values_removed, this.values),
      occurrences: this.occurrences, occurrences_removed: this.occurrences_removed,
      recall_occurrences: ratio(this.occurrences_removed, this.occurrences),
    };
  }
}

// files: [{path, input: Buffer, output: Buffer, identifiers: [{value, group, planted}],
//          kept: [{context, word, planted}]}]
export function score(files) {
  const byGroup = new Map();
  const leaks = {};
  const lost = {};
  let mismatches = 0;
  let keptIn = 0; let keptOut = 0;
  const keptByWord = new Map();
  for (const f of files) {
    for (const p of f.identifiers) {
      const needle = Buffer.from(p.value, 'utf8');
      const inCount = countBounded(f.input, needle);
      const outCount = countBounded(f.output, needle);
      if (inCount < p.planted) mismatches += 1;
      if (!byGroup.has(p.group)) byGroup.set(p.group, new Tally());
      byGroup.get(p.group).add(inCount, outCount);
      if (outCount > 0) {
        leaks[p.group] ??= [];
        if (leaks[p.group].length < 8) leaks[p.group].push(`${p.value}  (${f.path})`);
      }
    }
    for (const k of f.kept) {
      const needle = Buffer.from(k.context, 'utf8');
      const inCount = countBounded(f.input, needle);
      const outCount = Math.min(inCount, countBounded(f.output, needle));
      if (inCount < k.planted) mismatches += 1;
      keptIn += inCount; keptOut += outCount;
      const w = keptByWord.get(k.word) ?? [0, 0];
      w[0] += inCount; w[1] += outCount;
      keptByWord.set(k.word, w);
      if (outCount < inCount) {
        lost[k.word] ??= [];
        if (lost[k.word].length < 4) lost[k.word].push(`${k.context}  (${f.path})`);
      }
    }
  }
  const recall = {};
  const direct = new Tally(); const all = new Tally();
  for (const group of [...byGroup.keys()].sort()) {
    const t = byGroup.get(group);
    recall[group] = t.toJSON();
    all.merge(t);
    if (DIRECT_GROUPS.has(group)) direct.merge(t);
  }
  const byWord = {};
  for (const word of [...keptByWord.keys()].sort()) {
    const [i, o] = keptByWord.get(word);
    byWord[word] = { occurrences: i, kept: o, share: i === 0 ? 0 : o / i };
  }
  return {
    recall, recall_direct: direct.toJSON(), recall_all: all.toJSON(),
    kept: { occurrences: keptIn, kept: keptOut, share: keptIn === 0 ? 0 : keptOut / keptIn, by_word: byWord },
    leak_examples: leaks, lost_examples: lost, truth_mismatches: mismatches,
  };
}

export function printSummary(r) {
  for (const [group, t] of Object.entries(r.recall)) {
    console.log(`  recall ${group.padEnd(18)} ${t.recall.toFixed(4)} per value (${t.values_removed}/${t.values}), ` +
      `${t.recall_occurrences.toFixed(4)} per occurrence`);
  }
  console.log(`  recall ${'DIRECT'.padEnd(18)} ${r.recall_direct.recall.toFixed(4)} per value, ` +
    `${r.recall_direct.recall_occurrences.toFixed(4)} per occurrence`);
  console.log(`  ordinary words kept: ${r.kept.share.toFixed(4)} (${r.kept.kept}/${r.kept.occurrences})`);
  if (r.truth_mismatches !== 0) {
    console.log(`  warning: ${r.truth_mismatches} planted values occur less often in the input than truth.json says`);
  }
}
