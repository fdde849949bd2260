import { Readable } from 'node:stream';
import {
  IMPORT_FIELDS,
  suggestMapping,
  type ImportEntity,
  type ImportOptions,
  type ImportPreview
} from '#shared/schemas/imports.js';
import { detect, SAMPLE_BYTES } from './detect.js';
import { readRecords } from './records.js';

export const PREVIEW_ROWS = 20;

/**
 * What the start of a file says: the detection, the options (detection overridden by what the
 * user chose), the columns, mapping suggestions and the first rows as they will be read.
 */
export async function previewFile(
  entity: ImportEntity,
  head: Buffer,
  size: number,
  chosen: Partial<ImportOptions>,
  uploadId = 0,
  fileName = ''
): Promise<ImportPreview> {
  const detected = detect(head.subarray(0, SAMPLE_BYTES));
  const reading = { ...detected, ...chosen };
  let columns: string[] = [];
  const rows: ImportPreview['rows'] = [];
  const warnings: string[] = [];
  const cut = head.length < size;
  try {
    for await (const item of readRecords(Readable.from([head]), reading, (c) => (columns = c))) {
      if (rows.length >= PREVIEW_ROWS) break;
      if (item.kind === 'row')
        rows.push({
          line: item.line,
          values: Object.fromEntries(
            Object.entries(item.values).map(([k, v]) => [
              k,
              typeof v === 'string' ? v : (JSON.stringify(v) ?? '')
            ])
          )
        });
      // The sample's last record may be cut short: only the file's own problems are worth a word.
      else if (!cut) warnings.push(`Line ${item.line}: ${item.reason}`);
    }
  } catch (err) {
    warnings.push(
      `The start of the file cannot be read as ${reading.format}: ${(err as Error).message.slice(0, 120)}`
    );
  }
  const mapping = { ...suggestMapping(entity, columns), ...(chosen.mapping ?? {}) };
  for (const [field, column] of Object.entries(mapping))
    if (column !== null && !columns.includes(column)) mapping[field] = null;
  const options: ImportOptions = { ...reading, mapping };
  const nested = entity === 'orders' && columns.some((c) => c === 'items' || c === 'line_items');
  for (const field of IMPORT_FIELDS[entity])
    if (
      field.required &&
      !mapping[field.key] &&
      !(nested && ['sku', 'quantity', 'unit_price'].includes(field.key))
    )
      warnings.push(`No column is mapped to ${field.label}: every row would be rejected.`);
  if (rows.some((r) => Object.values(r.values).some((v) => v.includes('\ufffd'))))
    warnings.push(
      'Some text is not valid UTF-8: choose Windows-1252 as the encoding if the file comes from Excel.'
    );
  if (size === 0) warnings.push('The file is empty.');
  return {
    uploadId,
    entity,
    fileName,
    size,
    detected,
    options,
    columns,
    fields: IMPORT_FIELDS[entity],
    rows,
    warnings
  };
}
