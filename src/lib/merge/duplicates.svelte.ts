import { messageOf } from '$lib/api.js';
import { liveClient } from '$lib/live/live-client.js';
import type { DuplicatePair } from '$shared/schemas/merge.js';
import { dismissPair, duplicatePairs } from './merge-api.js';

/** The duplicates screen: suggested pairs page by page; a merge anywhere takes its pairs away. */
export class DuplicatesList {
  pairs = $state<DuplicatePair[]>([]);
  nextCursor = $state<string | null>(null);
  loading = $state(false);
  loaded = $state(false);
  error = $state<string | null>(null);

  async load(more = false) {
    this.loading = true;
    try {
      const page = await duplicatePairs(more ? this.nextCursor : null);
      this.pairs = more ? [...this.pairs, ...page.pairs] : page.pairs;
      this.nextCursor = page.nextCursor;
      this.error = null;
    } catch (err) {
      this.error = messageOf(err, 'Could not load the duplicates.');
    } finally {
      this.loading = false;
      this.loaded = true;
    }
  }

  async dismiss(pair: DuplicatePair) {
    try {
      await dismissPair(pair.a.id, pair.b.id);
      this.pairs = this.pairs.filter((p) => p !== pair);
    } catch (err) {
      this.error = messageOf(err, 'Could not dismiss that pair.');
    }
  }

  /** Listens for merges (managers receive them all); returns the stop function. */
  listen(): () => void {
    return liveClient.on('customer:merged', ({ mergedId }) => {
      this.pairs = this.pairs.filter((p) => p.a.id !== mergedId && p.b.id !== mergedId);
    });
  }
}
