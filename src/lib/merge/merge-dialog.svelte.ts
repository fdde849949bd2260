import { ApiError, messageOf } from '$lib/api.js';
import type { CustomerMerge, MergeChoices, MergePreview, MergeSide } from '$shared/schemas/merge.js';
import { mergeCustomers, mergePreview } from './merge-api.js';

type Side = 'survivor' | 'merged';
export type FieldKey = 'name' | 'email' | 'phone' | 'language' | 'marketingConsent';

/** The fields the dialog asks about, each with how a side shows its value. */
export const FIELDS: { key: FieldKey; label: string; show: (s: MergeSide) => string }[] = [
  { key: 'name', label: 'Name', show: (s) => `${s.firstName} ${s.lastName}`.trim() },
  { key: 'email', label: 'Primary email', show: (s) => s.email },
  { key: 'phone', label: 'Primary phone', show: (s) => s.phone ?? 'No phone' },
  { key: 'language', label: 'Language', show: (s) => s.language },
  {
    key: 'marketingConsent',
    label: 'Email marketing consent',
    show: (s) => (s.marketingConsent ? 'Consented' : 'Not consented')
  }
];

/**
 * The merge dialog's state: both customers as the server last showed them, which one is kept,
 * the choice per field, and the merge request (a stale version reloads the preview and says so).
 */
export class MergeDialogState {
  preview = $state<MergePreview | null>(null);
  loading = $state(false);
  submitting = $state(false);
  error = $state<string | null>(null);
  /** Field choices; a field whose values are equal on both sides is not asked. */
  choices = $state<Record<FieldKey, Side>>({
    name: 'survivor',
    email: 'survivor',
    phone: 'survivor',
    language: 'survivor',
    marketingConsent: 'survivor'
  });
  addresses = $state<'both' | 'survivor' | 'merged'>('both');
  survivorId = $state(0);
  mergedId = $state(0);
  private request = 0;

  /** Tags after the merge: the union of both. */
  tags = $derived(
    this.preview ? [...new Set([...this.preview.survivor.tags, ...this.preview.merged.tags])].sort() : []
  );

  async open(survivorId: number, mergedId: number) {
    this.survivorId = survivorId;
    this.mergedId = mergedId;
    this.error = null;
    for (const f of FIELDS) this.choices[f.key] = 'survivor';
    this.addresses = 'both';
    await this.load();
  }

  /** Keep the other customer instead (choices follow the values, not the sides). */
  async swap() {
    const flipped = Object.fromEntries(
      Object.entries(this.choices).map(([k, v]) => [k, v === 'survivor' ? 'merged' : 'survivor'])
    ) as Record<FieldKey, Side>;
    [this.survivorId, this.mergedId] = [this.mergedId, this.survivorId];
    this.choices = flipped;
    this.addresses =
      this.addresses === 'both' ? 'both' : this.addresses === 'survivor' ? 'merged' : 'survivor';
    await this.load();
  }

  async load() {
    const ticket = ++this.request;
    this.loading = true;
    try {
      const preview = await mergePreview(this.survivorId, this.mergedId);
      if (ticket === this.request) this.preview = preview;
    } catch (err) {
      if (ticket === this.request) this.error = messageOf(err, 'Could not load the two customers.');
    } finally {
      if (ticket === this.request) this.loading = false;
    }
  }

  /** Whether both sides hold the same value for `key` (nothing to choose). */
  same(key: FieldKey) {
    const f = FIELDS.find((x) => x.key === key)!;
    return !this.preview || f.show(this.preview.survivor) === f.show(this.preview.merged);
  }

  async submit(): Promise<CustomerMerge | null> {
    if (!this.preview || this.submitting) return null;
    this.submitting = true;
    this.error = null;
    const choices: MergeChoices = { addresses: this.addresses };
    for (const f of FIELDS) if (!this.same(f.key)) choices[f.key] = this.choices[f.key];
    try {
      const { merge } = await mergeCustomers(this.survivorId, {
        mergedId: this.mergedId,
        choices,
        expectedVersions: { survivor: this.preview.survivor.version, merged: this.preview.merged.version }
      });
      return merge;
    } catch (err) {
      if (err instanceof ApiError && err.code === 'stale_version') {
        this.error =
          'One of them changed while you were choosing. Here they are as they are now; check and merge again.';
        await this.load();
      } else {
        this.error = messageOf(err, 'The merge did not go through.');
      }
      return null;
    } finally {
      this.submitting = false;
    }
  }
}
