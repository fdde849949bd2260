// npm run import -- <customers|products|orders> FILE [--dry-run] [--errors FILE] [--source NAME]
// Imports a CSV, NDJSON or JSON file into DATABASE_URL (or the embedded database `npm start`
// runs), detecting its encoding, delimiter and header and mapping its columns by their names.
// Prints a progress bar on stderr and, at the end, exactly one line on stdout:
// `imported N, updated N, rejected N`. Exits 0 when the import ran to its end (rejected rows
// included; --errors writes them as a CSV to fix and import again), 2 when it could not run.
// --source names the system the file's external ids come from (customers' are unique per source).
import { createReadStream, createWriteStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import {
  DEFAULT_IMPORT_SOURCE,
  IMPORT_ENTITIES,
  ImportSource,
  suggestMapping,
  type ImportEntity
} from '#shared/schemas/imports.js';
import { embeddedUrl } from '../../db/embedded.js';
import { migrateDatabase } from '../../db/migrate.js';
import { loadConfig } from '../config.js';
import { previewFile } from '../services/integrations/import/preview.js';
import { failedRowsCsv, failedRowsHeader } from '../services/integrations/import/failed-rows.js';
import { runImport } from '../services/integrations/import/pipeline.js';

const USAGE =
  'Usage: npm run import -- <customers|products|orders> FILE [--dry-run] [--errors FILE] [--source NAME]';

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

function bar(done: number, total: number): string {
  const width = 30;
  const share = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(share * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.floor(share * 100)
    .toString()
    .padStart(3)}%`;
}

async function main() {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        'dry-run': { type: 'boolean', default: false },
        errors: { type: 'string' },
        source: { type: 'string' }
      }
    });
  } catch (err) {
    fail((err as Error).message);
  }
  const [entity, file, ...rest] = parsed.positionals;
  if (!IMPORT_ENTITIES.includes(entity as ImportEntity)) fail(`Unknown entity "${entity ?? ''}".`);
  if (!file || rest.length) fail('Name one file.');
  const size = await stat(file).then(
    (s) => (s.isFile() ? s.size : fail(`${file} is not a file.`)),
    () => fail(`Cannot read ${file}.`)
  );

  const config = loadConfig();
  const url = process.env.DATABASE_URL ?? embeddedUrl(config.EMBEDDED_PG_PORT);
  const client = new pg.Client({ connectionString: url, application_name: 'pulse-import' });
  try {
    await client.connect();
  } catch (err) {
    fail(
      `No database at ${process.env.DATABASE_URL ? 'DATABASE_URL' : 'the embedded address (is npm start running?)'}: ${(err as Error).message}`
    );
  }
  client.on('error', () => undefined);
  let errorsOut: ReturnType<typeof createWriteStream> | undefined;
  const appliers: pg.Client[] = [];
  try {
    await migrateDatabase(url);
    const head = Buffer.alloc(Math.min(size, 64 * 1024));
    const handle = await open(file, 'r');
    await handle.read(head, 0, head.length, 0);
    await handle.close();
    const preview = await previewFile(entity as ImportEntity, head, size, {});
    const source = ImportSource.safeParse(parsed.values.source ?? DEFAULT_IMPORT_SOURCE);
    if (!source.success) fail(`--source: ${source.error.issues[0].message}`);
    const options = {
      ...preview.options,
      mapping: suggestMapping(entity as ImportEntity, preview.columns),
      source: source.data
    };
    const missing = preview.fields.filter((f) => f.required && !options.mapping[f.key]);
    // Orders from JSON may carry their items in an `items` array instead of item columns.
    const itemsNested =
      entity === 'orders' && preview.columns.some((c) => c === 'items' || c === 'line_items');
    const blocking = missing.filter(
      (f) => !(itemsNested && ['sku', 'quantity', 'unit_price'].includes(f.key))
    );
    if (blocking.length)
      fail(
        `No column for ${blocking.map((f) => f.label).join(', ')} (columns: ${preview.columns.join(', ') || 'none'}).`
      );
    process.stderr.write(
      `${entity} from ${file}: ${options.format}, ${options.encoding}` +
        (options.format === 'csv' ? `, delimiter ${JSON.stringify(options.delimiter)}` : '') +
        (parsed.values['dry-run'] ? ' (dry run: nothing is written)' : '') +
        '\n'
    );
    let columns: string[] = [];
    if (parsed.values.errors) errorsOut = createWriteStream(parsed.values.errors);
    let headerWritten = false;
    const tty = process.stderr.isTTY;
    let lastShown = 0;
    // A customer file's batches apply on two more connections, two at once (pipeline.ts).
    for (let i = 0; entity === 'customers' && i < 2; i++) {
      const applier = new pg.Client({ connectionString: url, application_name: 'pulse-import' });
      applier.on('error', () => undefined);
      appliers.push(applier);
      await applier.connect();
    }
    const totals = await runImport({
      client,
      appliers,
      entity: entity as ImportEntity,
      options,
      source: createReadStream(file),
      dryRun: parsed.values['dry-run'] ?? false,
      onColumns: (c) => void (columns = c),
      onBatch: async (t, rejects) => {
        if (errorsOut && rejects.length) {
          if (!headerWritten) errorsOut.write(failedRowsHeader(columns));
          headerWritten = true;
          if (!errorsOut.write(failedRowsCsv(columns, rejects)))
            await new Promise<void>((resolve) => errorsOut!.once('drain', () => resolve()));
        }
        const now = Date.now();
        if (tty || now - lastShown > 2000) {
          lastShown = now;
          process.stderr.write(
            `${tty ? '\r' : ''}${bar(t.bytesRead, size)} ${t.rows} rows${tty ? '' : '\n'}`
          );
        }
      }
    });
    process.stderr.write(`${tty ? '\r' : ''}${bar(size, size)} ${totals.rows} rows\n`);
    if (errorsOut) {
      if (!headerWritten) errorsOut.write(failedRowsHeader(columns));
      await new Promise<void>((resolve) => errorsOut!.end(() => resolve()));
    }
    process.stdout.write(
      `imported ${totals.imported}, updated ${totals.updated}, rejected ${totals.rejected}\n`
    );
  } catch (err) {
    process.stderr.write(`Import stopped: ${(err as Error).message}\n`);
    process.exitCode = 2;
  } finally {
    for (const applier of appliers) await applier.end().catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}

await main();
