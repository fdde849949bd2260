import type { BulkAction, BulkEntity, BulkJob } from '$shared/schemas/bulk.js';
import { formatCount } from '$lib/format.js';

// The words of bulk actions: menu labels, the confirmation ("Add tag 'vip' to 12,408
// customers"), the progress line and the result.

export const NOUNS: Record<BulkEntity, { one: string; many: string }> = {
  customers: { one: 'customer', many: 'customers' },
  orders: { one: 'order', many: 'orders' },
  products: { one: 'product', many: 'products' }
};

export const ACTION_LABELS: Record<BulkAction, string> = {
  add_tags: 'Add tags…',
  remove_tags: 'Remove tags…',
  set_attribute: 'Set attribute…',
  mark_fulfilled: 'Mark fulfilled',
  set_category: 'Set category…',
  set_status: 'Set status…',
  export: 'Export CSV'
};

const rows = (entity: BulkEntity, count: number | null) =>
  count === null
    ? NOUNS[entity].many
    : `${formatCount(count)} ${count === 1 ? NOUNS[entity].one : NOUNS[entity].many}`;

const quoted = (tags: string[]) => tags.map((t) => `'${t}'`).join(', ');

/** What a job does, in a sentence: "Add tag 'vip' to 12,408 customers". */
export function describeAction(
  entity: BulkEntity,
  action: BulkAction,
  params: Record<string, unknown>,
  count: number | null,
  /** Names the params only hold as ids or keys: the attribute's label, the category's name. */
  names: { attribute?: string; value?: string; category?: string } = {}
): string {
  const target = rows(entity, count);
  const tags = (params.tags as string[] | undefined) ?? [];
  switch (action) {
    case 'add_tags':
      return `Add ${tags.length === 1 ? 'tag' : 'tags'} ${quoted(tags)} to ${target}`;
    case 'remove_tags':
      return `Remove ${tags.length === 1 ? 'tag' : 'tags'} ${quoted(tags)} from ${target}`;
    case 'set_attribute': {
      const attribute = names.attribute ?? String(params.key);
      return params.value === null || params.value === undefined
        ? `Clear ${attribute} on ${target}`
        : `Set ${attribute} to ${names.value ?? JSON.stringify(params.value)} on ${target}`;
    }
    case 'mark_fulfilled':
      return `Mark ${target} fulfilled`;
    case 'set_category':
      return params.categoryId === null
        ? `Remove the category of ${target}`
        : names.category
          ? `Move ${target} to the category '${names.category}'`
          : `Set the category of ${target}`;
    case 'set_status':
      return `Set ${target} ${String(params.status)}`;
    case 'export':
      return `Export ${target} to CSV`;
  }
}

/** "1,200 of 12,408 · 10%", or "Preparing…" before the job has counted its rows. */
export function progressText(job: BulkJob): string {
  if (job.total === null) return job.state === 'queued' ? 'Waiting to start…' : 'Preparing…';
  return `${formatCount(job.processed)} of ${formatCount(job.total)} · ${percent(job)}%`;
}

export function percent(job: BulkJob): number {
  if (!job.total) return job.state === 'done' ? 100 : 0;
  return Math.floor((job.processed / job.total) * 100);
}

/** "12,400 updated · 8 skipped (already had the tags) · 0 failed". */
export function resultText(job: BulkJob): string {
  const parts = [`${formatCount(job.updated)} ${job.action === 'export' ? 'exported' : 'updated'}`];
  if (job.skipped) parts.push(`${formatCount(job.skipped)} skipped`);
  if (job.failed) parts.push(`${formatCount(job.failed)} failed`);
  return parts.join(' · ');
}

/** Why rows were skipped or failed: "already had the tags: 8". */
export const reasonLines = (job: BulkJob): string[] =>
  Object.entries(job.reasons).map(([reason, n]) => `${reason}: ${formatCount(n)}`);

/** The toast when a job ends. */
export function finishedNotice(job: BulkJob): {
  tone: 'success' | 'warning' | 'danger';
  title: string;
  detail: string;
} {
  const what = describeAction(job.entity, job.action, job.params, job.total);
  if (job.state === 'done')
    return { tone: job.failed ? 'warning' : 'success', title: `Done: ${what}`, detail: resultText(job) };
  if (job.state === 'cancelled')
    return { tone: 'warning', title: `Cancelled: ${what}`, detail: `${resultText(job)} before it stopped` };
  return { tone: 'danger', title: `Failed: ${what}`, detail: job.error ?? resultText(job) };
}
