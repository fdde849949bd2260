import { describe, expect, it } from 'vitest';
import type { BulkJob } from '$shared/schemas/bulk.js';
import { describeAction, progressText } from './describe.js';
import { isFurther } from '$shared/schemas/bulk.js';

const job = (over: Partial<BulkJob>): BulkJob => ({
  id: 1,
  entity: 'customers',
  action: 'add_tags',
  params: { tags: ['vip'] },
  selection: {},
  createdBy: 1,
  state: 'running',
  total: 12408,
  processed: 0,
  updated: 0,
  skipped: 0,
  failed: 0,
  reasons: {},
  error: null,
  createdAt: '2026-01-01T00:00:00.000Z',
  startedAt: null,
  finishedAt: null,
  downloadUrl: null,
  ...over
});

describe('bulk action words', () => {
  it('states the exact count', () => {
    expect(describeAction('customers', 'add_tags', { tags: ['vip'] }, 12408)).toBe(
      "Add tag 'vip' to 12,408 customers"
    );
    expect(describeAction('orders', 'mark_fulfilled', {}, 1)).toBe('Mark 1 order fulfilled');
    expect(progressText(job({ processed: 1000 }))).toBe('1,000 of 12,408 · 8%');
    expect(progressText(job({ state: 'queued', total: null }))).toBe('Waiting to start…');
  });
});

describe('applying progress', () => {
  it('never goes back, and a finished job stays finished', () => {
    expect(isFurther(job({ processed: 2000 }), job({ processed: 1000 }))).toBe(true);
    expect(isFurther(job({ processed: 1000 }), job({ processed: 2000 }))).toBe(false);
    expect(isFurther(job({ state: 'queued' }), job({ state: 'running' }))).toBe(false);
    expect(isFurther(job({ state: 'cancelled', processed: 3000 }), job({ processed: 4000 }))).toBe(true);
    expect(isFurther(job({ processed: 5000 }), job({ state: 'cancelled', processed: 3000 }))).toBe(false);
  });
});
