import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

// `npm run import`: one line at the end, exit 0 when it ran (rejected rows too), 2 when it could
// not run; --errors writes the failed rows; --dry-run writes nothing.

let db: TestDatabase;
let dir: string;

function cli(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli/import.ts', ...args], {
      cwd: path.resolve(import.meta.dirname, '../..'),
      env: { ...process.env, DATABASE_URL: db.url, ...env }
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(path.join(tmpdir(), 'pulse-import-cli-'));
});
afterAll(async () => {
  await db?.drop();
});

describe('npm run import', () => {
  it('imports, reports one line, writes the failed rows, and changes nothing the second time', async () => {
    const file = path.join(dir, 'products.csv');
    await writeFile(file, 'sku;name;price\nCLI-1;Lamp;19.90\nCLI-2;Shade;5\nbad sku;X;1\n');
    const errors = path.join(dir, 'errors.csv');

    const dry = await cli(['products', file, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toBe('imported 2, updated 0, rejected 1\n');
    expect(
      (await db.sql.query(`SELECT count(*)::int AS n FROM products WHERE sku LIKE 'CLI-%'`)).rows[0].n
    ).toBe(0);

    const first = await cli(['products', file, '--errors', errors]);
    expect(first.code).toBe(0);
    expect(first.stdout).toBe('imported 2, updated 0, rejected 1\n');
    expect(first.stderr).toMatch(/\[#+\] 100%/);
    expect(await readFile(errors, 'utf8')).toBe(
      'sku,name,price,import_line,import_errors\nbad sku,X,1,4,"sku: SKU ""BAD SKU"" is not valid"\n'
    );
    const again = await cli(['products', file]);
    expect(again.stdout).toBe('imported 0, updated 0, rejected 1\n');
    expect(again.code).toBe(0);
  }, 120_000);

  it('exits non-zero when it cannot run', async () => {
    const file = path.join(dir, 'c.csv');
    await writeFile(file, 'email,first_name\na@cli.test,A\n');
    const missing = await cli(['customers', path.join(dir, 'nope.csv')]);
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toMatch(/Cannot read/);
    const entity = await cli(['tickets', file]);
    expect(entity.code).toBe(2);
    expect(entity.stderr).toMatch(/Unknown entity "tickets"/);
    const noDb = await cli(['customers', file], { DATABASE_URL: 'postgres://nobody:x@127.0.0.1:1/none' });
    expect(noDb.code).toBe(2);
    expect(noDb.stderr).toMatch(/No database/);
  }, 120_000);
});
