import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The layering of server/ and db/, read from their import statements (type-only imports included:
// a type-only circle is still a circle to read). realtime/ is transport and depends on services/,
// never the reverse; routes/ never reach the transport; no module of server/ or db/ (the seed, the
// simulator, the migrations) imports itself in a circle, within either tree or across them.

const ROOT = path.resolve(import.meta.dirname, '..');
/** The trees scanned, relative to the repository's root. */
const TREES = ['server', 'db'];

/** Every module of `dir` (tests left out: they may import anything), by path relative to the root. */
function modulesUnder(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.join(dir, entry.name);
    if (entry.isDirectory()) return modulesUnder(relative);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [relative] : [];
  });
}

/** `import ... from 'x'`, `export ... from 'x'`, `import 'x'` and `import('x')`: the specifiers. */
export function specifiers(source: string): string[] {
  const found: string[] = [];
  const statement = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/g;
  const dynamic = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const re of [statement, dynamic]) for (const m of source.matchAll(re)) found.push(m[1]);
  return found;
}

/**
 * The scanned module a relative specifier names (`./hub.js` in server/realtime/ ->
 * `server/realtime/hub.ts`), or null outside the scanned trees (the shared contract in src/).
 */
function resolve(from: string, specifier: string, modules: Set<string>): string | null {
  if (!specifier.startsWith('.')) return null;
  const target = path.normalize(path.join(path.dirname(from), specifier)).replace(/\.js$/, '.ts');
  if (!TREES.includes(target.split(path.sep)[0])) return null;
  if (modules.has(target)) return target;
  if (modules.has(path.join(target, 'index.ts'))) return path.join(target, 'index.ts');
  throw new Error(`${from} imports ${specifier}, which is not a module of ${TREES.join('/ or ')}/`);
}

function importGraph(): Map<string, string[]> {
  const modules = TREES.flatMap((tree) => modulesUnder(tree));
  const known = new Set(modules);
  return new Map(
    modules.map((m) => {
      const source = readFileSync(path.join(ROOT, m), 'utf8');
      const edges = specifiers(source)
        .map((s) => resolve(m, s, known))
        .filter((t): t is string => t !== null);
      return [m, [...new Set(edges)]];
    })
  );
}

/** Every circle of imports, each once, as the path around it (depth-first search, colouring). */
function circles(graph: Map<string, string[]>): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (m: string) => {
    state.set(m, 'open');
    stack.push(m);
    for (const next of graph.get(m) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(m, 'done');
  };
  for (const m of [...graph.keys()].sort()) if (!state.has(m)) visit(m);
  return found;
}

/** A server module's layer (`services`, `routes`, `realtime`...); db/ modules have none. */
const layer = (m: string) => {
  const [tree, first] = m.split(path.sep);
  return tree === 'server' ? first : null;
};

describe('the import graph of server/ and db/', () => {
  const graph = importGraph();

  it('is read: the scan finds the modules and their imports, in both trees and across them', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.get('server/realtime/hub.ts')).toContain('server/realtime/types.ts');
    expect(graph.get('server/pulse.ts')).toContain('server/realtime/index.ts');
    expect(graph.get('db/seed/generate-chunk.ts')).toContain('db/seed/types.ts');
    expect(graph.get('db/simulate/simulator.ts')).toContain('db/seed/vocabulary/channels.ts');
    expect(graph.get('server/services/demo-activity.ts')).toContain('db/simulate/simulator.ts');
  });

  it('services/ and routes/ never import realtime/ (realtime depends on services, not the reverse)', () => {
    const wrong = [...graph]
      .filter(([m]) => layer(m) === 'services' || layer(m) === 'routes')
      .flatMap(([m, edges]) => edges.filter((t) => layer(t) === 'realtime').map((t) => `${m} -> ${t}`));
    expect(wrong).toEqual([]);
  });

  it('has no circle of imports', () => {
    expect(circles(graph).map((c) => c.join(' -> '))).toEqual([]);
  });
});

describe('the scan itself', () => {
  it('reads every form of import and re-export', () => {
    const source = [
      `import a from './a.js';`,
      `import type { B } from '../b.js';`,
      `import {\n  c,\n  type C\n} from "./c.js";`,
      `export { d } from './d.js';`,
      `export type { E } from './e.js';`,
      `export * from './f.js';`,
      `import './g.js';`,
      `const h = await import('./h.js');`,
      `// a comment that says import nothing from here`
    ].join('\n');
    expect(specifiers(source)).toEqual([
      './a.js',
      '../b.js',
      './c.js',
      './d.js',
      './e.js',
      './f.js',
      './g.js',
      './h.js'
    ]);
  });

  it('finds a circle, and only the circle', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts', 'd.ts']],
      ['d.ts', []]
    ]);
    expect(circles(graph)).toEqual([['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
    expect(
      circles(
        new Map([
          ['a.ts', ['b.ts']],
          ['b.ts', []]
        ])
      )
    ).toEqual([]);
  });
});
