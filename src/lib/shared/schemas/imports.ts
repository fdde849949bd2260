import { z } from 'zod';

// Imports of customers, products and orders from CSV, NDJSON or JSON files: the file is uploaded
// (streamed to the server), detected, mapped to the entity's fields, then run (or dry run) by the
// server in batches. The browser follows a job with `import:progress`.

export const IMPORT_ENTITIES = ['customers', 'products', 'orders'] as const;
export type ImportEntity = (typeof IMPORT_ENTITIES)[number];

export const IMPORT_FORMATS = ['csv', 'ndjson', 'json'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];
export const IMPORT_ENCODINGS = ['utf-8', 'windows-1252'] as const;
export type ImportEncoding = (typeof IMPORT_ENCODINGS)[number];
export const IMPORT_DELIMITERS = [',', ';', '\t'] as const;
export type ImportDelimiter = (typeof IMPORT_DELIMITERS)[number];

export interface ImportField {
  key: string;
  label: string;
  required: boolean;
  /** Column names (normalised: lower case, letters and digits only) suggested for this field. */
  aliases: string[];
  hint?: string;
}

const f = (key: string, label: string, required: boolean, aliases: string[], hint?: string): ImportField => ({
  key,
  label,
  required,
  aliases: [key.replace(/_/g, ''), ...aliases],
  hint
});

/** The fields a file's columns map to, per entity. Orders come one row per item. */
export const IMPORT_FIELDS: Record<ImportEntity, ImportField[]> = {
  customers: [
    f('email', 'Email', true, ['emailaddress', 'mail', 'customeremail']),
    f(
      'external_id',
      'External id',
      false,
      ['externalcustomerid', 'sourceid', 'customerid', 'id'],
      'the id in the system the file comes from: rows with one are matched by it first'
    ),
    f('first_name', 'First name', true, ['firstname', 'givenname', 'forename', 'name']),
    f('last_name', 'Last name', false, ['lastname', 'surname', 'familyname']),
    f('phone', 'Phone', false, ['phonenumber', 'mobile', 'tel', 'telephone']),
    f('language', 'Language', false, ['lang', 'locale'], 'en or en-GB'),
    f('tags', 'Tags', false, ['tag', 'labels'], 'separated by | or ,'),
    f('notes', 'Notes', false, ['note', 'comment', 'comments']),
    f('marketing_consent', 'Marketing consent', false, ['acceptsmarketing', 'consent', 'optin', 'newsletter'])
  ],
  products: [
    f('sku', 'SKU', true, ['productsku', 'code', 'itemcode', 'variantsku']),
    f('name', 'Name', true, ['title', 'productname', 'product']),
    f('price', 'Price', true, ['unitprice', 'amount', 'variantprice']),
    f('stock', 'Stock', false, ['quantity', 'qty', 'inventory', 'onhand']),
    f('description', 'Description', false, ['body', 'bodyhtml', 'details']),
    f('active', 'Active', false, ['enabled', 'published', 'status'])
  ],
  orders: [
    f('order_id', 'Order id (source)', true, [
      'externalid',
      'orderid',
      'ordernumber',
      'id',
      'name',
      'number'
    ]),
    f('customer_email', 'Customer email', false, ['email', 'customer', 'buyeremail'], 'email or customer id'),
    f('customer_id', 'Customer id (Pulse)', false, ['customerid', 'customerref']),
    f('customer_external_id', 'Customer external id', false, ['externalcustomerid', 'buyerid']),
    f('order_date', 'Order date', false, ['date', 'createdat', 'orderedat', 'placedat']),
    f('status', 'Status', false, ['orderstatus', 'financialstatus', 'state']),
    f('currency', 'Currency', false, ['curr']),
    f('channel', 'Channel', false, ['source', 'saleschannel']),
    f('sku', 'Item SKU', true, ['itemsku', 'lineitemsku', 'productsku']),
    f('quantity', 'Item quantity', true, ['qty', 'lineitemquantity', 'itemquantity']),
    f('unit_price', 'Item unit price', true, ['price', 'lineitemprice', 'itemprice'])
  ]
};

/** A column name as compared with the aliases. */
export const normaliseColumn = (name: string) => name.toLowerCase().replace(/[^a-z0-9]/g, '');

/** For each field, the first column whose name matches it (each column used once). */
export function suggestMapping(entity: ImportEntity, columns: string[]): Record<string, string | null> {
  const mapping: Record<string, string | null> = {};
  const used = new Set<string>();
  const normal = columns.map(normaliseColumn);
  // Exact names first (so `email` is the customer's email even when `name` could be a first name).
  for (const pass of [0, 1])
    for (const field of IMPORT_FIELDS[entity]) {
      if (mapping[field.key]) continue;
      const wanted = pass === 0 ? [field.aliases[0]] : field.aliases;
      const index = normal.findIndex((n, i) => !used.has(columns[i]) && wanted.includes(n));
      if (index >= 0) {
        mapping[field.key] = columns[index];
        used.add(columns[index]);
      }
    }
  for (const field of IMPORT_FIELDS[entity]) mapping[field.key] ??= null;
  return mapping;
}

export const ImportMapping = z.record(z.string().max(64), z.string().max(200).nullable());

/** The source external ids belong to when an import does not name one. */
export const DEFAULT_IMPORT_SOURCE = 'import';
/** A source of external ids (`shopify`, `legacy-crm`): customers' external ids are unique per source. */
export const ImportSource = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9_.-]{0,39}$/, 'lower-case letters, digits, . _ - (at most 40)');

/** How to read the file: what detection found, as the user confirmed or changed it. */
export const ImportOptions = z
  .object({
    format: z.enum(IMPORT_FORMATS),
    encoding: z.enum(IMPORT_ENCODINGS),
    delimiter: z.enum(IMPORT_DELIMITERS),
    header: z.boolean(),
    mapping: ImportMapping,
    /** Where the file's external ids come from (DEFAULT_IMPORT_SOURCE when not given). */
    source: ImportSource.optional()
  })
  .strict();
export type ImportOptions = z.infer<typeof ImportOptions>;

export const UploadQuery = z.object({
  entity: z.enum(IMPORT_ENTITIES),
  name: z.string().trim().min(1).max(200).default('upload')
});

export const PreviewBody = ImportOptions.partial().strict();

export const StartImportBody = z
  .object({
    uploadId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    dryRun: z.boolean().default(false),
    options: ImportOptions
  })
  .strict();

export const ImportListQuery = z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) });
export const RejectsQuery = z.object({
  offset: z.coerce.number().int().min(0).max(100_000_000).default(0),
  limit: z.coerce.number().int().min(1).max(500).default(100)
});

export const IMPORT_STATES = ['queued', 'running', 'done', 'failed'] as const;
export type ImportState = (typeof IMPORT_STATES)[number];

export interface ImportPreview {
  uploadId: number;
  entity: ImportEntity;
  fileName: string;
  size: number;
  detected: Omit<ImportOptions, 'mapping'>;
  options: ImportOptions;
  columns: string[];
  fields: ImportField[];
  /** The first rows as parsed with `options` (values by column). */
  rows: { line: number; values: Record<string, string> }[];
  /** Problems the preview already sees (a required field without a column, undecodable text). */
  warnings: string[];
}

export interface ImportReject {
  line: number;
  column: string | null;
  reason: string;
}

export interface ImportJob {
  id: number;
  uploadId: number;
  entity: ImportEntity;
  fileName: string;
  dryRun: boolean;
  state: ImportState;
  createdBy: number | null;
  /** Bytes of the file read so far, of `size`. */
  bytesRead: number;
  size: number;
  rows: number;
  imported: number;
  updated: number;
  unchanged: number;
  rejected: number;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** Where the rejected rows are, as a CSV to fix and import again (when there are some). */
  failedRowsUrl: string | null;
}

export const isImportFinished = (state: ImportState) => state === 'done' || state === 'failed';
