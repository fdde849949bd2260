import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

// Writes tests/support/durations.json (read by sequencer.ts) from a Vitest JSON report of a full
// run: `npx vitest run --reporter=json --outputFile.json=report.json`, then
// `npx tsx tests/support/record-durations.ts report.json`.

const report = JSON.parse(readFileSync(process.argv[2], 'utf8')) as {
  testResults: { name: string; startTime: number; endTime: number }[];
};
const root = path.resolve(import.meta.dirname, '../..');
const seconds = report.testResults
  .map((r) => [path.relative(root, r.name), Math.round((r.endTime - r.startTime) / 1000)] as const)
  .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
writeFileSync(
  path.join(import.meta.dirname, 'durations.json'),
  `${JSON.stringify(Object.fromEntries(seconds), null, 2)}\n`
);
process.stdout.write(`${seconds.length} files recorded\n`);
