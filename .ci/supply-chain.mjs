#!/usr/bin/env node
// What can be checked about the dependencies without npm's advisory service (which does not answer
// from CI): every locked package comes from the npm registry over https with an integrity hash, the
// production tree is complete (`npm ls --omit=dev`), and every production licence is on the list.
// `npm audit --omit=dev`, where the service answers, is described in docs/reliability.md.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Permissive licences a closed or open redistribution of Pulse may carry without obligations beyond notices. */
const ALLOWED = new Set([
  'MIT',
  'ISC',
  'Apache-2.0',
  'BSD-2-Clause',
  'BSD-3-Clause',
  '0BSD',
  'BlueOak-1.0.0',
  'CC0-1.0',
  'Unlicense',
  'Python-2.0',
  'CC-BY-4.0'
]);

const problems = [];
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));

// npm leaves `resolved` out of the lockfile for packages of the configured registry
// (omit-lockfile-registry-resolved); those come from it, so it must be the https registry.
const REGISTRY = 'https://registry.npmjs.org/';
const registry = execFileSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8' }).trim();
if (registry.replace(/\/?$/, '/') !== REGISTRY)
  problems.push(`npm's registry is ${registry}, not ${REGISTRY}`);

for (const [path, entry] of Object.entries(lock.packages)) {
  if (path === '' || entry.link) continue;
  if (entry.resolved !== undefined && !entry.resolved.startsWith(REGISTRY))
    problems.push(`${path}: resolved from ${entry.resolved}, not ${REGISTRY}`);
  if (!/^sha512-/.test(entry.integrity ?? '')) problems.push(`${path}: no sha512 integrity hash`);
}

/** An SPDX expression is allowed when one side of each OR, and every side of each AND, is allowed. */
function allowed(expression) {
  const bare = expression.replace(/[()]/g, '').trim();
  return bare.split(/\s+OR\s+/).some((alt) => alt.split(/\s+AND\s+/).every((id) => ALLOWED.has(id.trim())));
}

function licenceOf(path, entry) {
  let licence = entry.license;
  if (!licence) {
    const manifest = JSON.parse(readFileSync(`${path}/package.json`, 'utf8'));
    licence = manifest.license ?? manifest.licenses;
  }
  if (Array.isArray(licence)) licence = licence.map((l) => l.type ?? l).join(' OR ');
  if (licence && typeof licence === 'object') licence = licence.type;
  return licence;
}

const counts = new Map();
for (const [path, entry] of Object.entries(lock.packages)) {
  if (path === '' || entry.dev || entry.link) continue;
  // Optional platform packages for other systems are not installed here; the lockfile names them.
  let licence;
  try {
    licence = licenceOf(path, entry);
  } catch {
    if (entry.optional) continue;
    problems.push(`${path}: installed manifest missing`);
    continue;
  }
  if (!licence || !allowed(licence)) problems.push(`${path}: licence ${licence ?? 'unknown'} is not allowed`);
  counts.set(licence, (counts.get(licence) ?? 0) + 1);
}

try {
  execFileSync('npm', ['ls', '--omit=dev', '--all'], { stdio: 'pipe' });
} catch (err) {
  problems.push(
    `npm ls --omit=dev: ${String(err.stdout ?? err.message)
      .split('\n')
      .slice(-5)
      .join(' ')}`
  );
}

console.log(
  'production licences:',
  [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([l, n]) => `${l} ${n}`)
    .join(', ')
);
if (problems.length) {
  for (const p of problems) console.error(`supply chain: ${p}`);
  process.exit(1);
}
console.log(`supply chain: ${Object.keys(lock.packages).length - 1} locked packages checked, no problem`);
