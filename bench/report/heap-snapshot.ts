import { readFileSync } from 'node:fs';

/**
 * Summary of a V8 heap snapshot (`node --heapsnapshot-signal=SIGUSR2`, then `kill -USR2 <pid>`;
 * the snapshot is taken after a full collection, so it holds live objects only): self size by
 * node type (objects by constructor), and the largest strings. Used for bench/findings.md's
 * memory section: `node bench/report/heap-snapshot.ts Heap.<...>.heapsnapshot`.
 */

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

const MIB = 2 ** 20;

function summarise(file: string, top: number): string {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const [iType, iName, iSize] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [
    number,
    number,
    number,
  ];
  const byKind = new Map<string, { bytes: number; count: number }>();
  const strings: Array<{ bytes: number; text: string }> = [];
  let total = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + iType]!]!;
    const name = snap.strings[snap.nodes[i + iName]!]!;
    const bytes = snap.nodes[i + iSize]!;
    total += bytes;
    const kind = type === 'object' || type === 'native' ? `${type}: ${name.slice(0, 60)}` : type;
    const entry = byKind.get(kind) ?? { bytes: 0, count: 0 };
    entry.bytes += bytes;
    entry.count++;
    byKind.set(kind, entry);
    if (type === 'string' && bytes > 16 * 1024) {
      strings.push({ bytes, text: name.slice(0, 70).replace(/\s+/g, ' ') });
    }
  }
  const lines = [`${file}: ${(total / MIB).toFixed(1)} MiB in ${snap.nodes.length / width} nodes`, ''];
  lines.push('| MiB | count | kind |', '| ---: | ---: | --- |');
  for (const [kind, { bytes, count }] of [...byKind].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top)) {
    lines.push(`| ${(bytes / MIB).toFixed(2)} | ${count} | ${kind.replace(/\|/g, '\\|')} |`);
  }
  lines.push('', '| KiB | largest strings (sources, mostly) |', '| ---: | --- |');
  for (const s of strings.sort((a, b) => b.bytes - a.bytes).slice(0, 10)) {
    lines.push(`| ${(s.bytes / 1024).toFixed(0)} | \`${s.text.replace(/[|`]/g, ' ')}\` |`);
  }
  return lines.join('\n');
}

if (import.meta.main) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node bench/report/heap-snapshot.ts <file.heapsnapshot> [top]\n');
    process.exitCode = 2;
  } else {
    process.stdout.write(`${summarise(file, Number(process.argv[3] ?? 20))}\n`);
  }
}
