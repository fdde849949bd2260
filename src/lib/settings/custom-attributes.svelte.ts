import { ApiError } from '$lib/api.js';
import { attributesApi } from '$lib/customer360/api.js';
import type { AttributeDefinition, AttributeType } from '$shared/schemas/customer360.js';
import { optionList } from './attribute-keys.js';

export { keyFromLabel, optionList } from './attribute-keys.js';

export interface AttributeDraft {
  label: string;
  key: string;
  type: AttributeType;
  /** Comma-separated, for one-of-list attributes. */
  options: string;
}

/** The custom attributes customers may carry: managers and admins define them here. */
export class CustomAttributesSettings {
  list = $state<AttributeDefinition[]>([]);
  phase = $state<'loading' | 'ready' | 'error'>('loading');
  saving = $state(false);
  problems = $state<Record<string, string>>({});
  error = $state<string | null>(null);

  async load() {
    try {
      this.list = (await attributesApi.list()).attributes;
      this.phase = 'ready';
    } catch {
      this.phase = 'error';
    }
  }

  #fail(err: unknown) {
    if (err instanceof ApiError) {
      this.problems = err.fieldErrors;
      this.error = Object.keys(this.problems).length ? null : err.message;
    } else this.error = 'That did not save. Try again.';
  }

  async create(draft: AttributeDraft): Promise<boolean> {
    this.saving = true;
    this.problems = {};
    this.error = null;
    try {
      const { attribute } = await attributesApi.create({
        key: draft.key,
        label: draft.label,
        type: draft.type,
        options: draft.type === 'choice' ? optionList(draft.options) : []
      });
      this.list = [...this.list, attribute].sort((a, b) => a.label.localeCompare(b.label));
      return true;
    } catch (err) {
      this.#fail(err);
      return false;
    } finally {
      this.saving = false;
    }
  }

  async update(id: number, changes: { label?: string; options?: string[] }): Promise<string | null> {
    try {
      const { attribute } = await attributesApi.update(id, changes);
      this.list = this.list.map((a) => (a.id === id ? attribute : a));
      return null;
    } catch (err) {
      if (err instanceof ApiError) return Object.values(err.fieldErrors)[0] ?? err.message;
      return 'That did not save. Try again.';
    }
  }

  async remove(id: number) {
    await attributesApi.remove(id);
    this.list = this.list.filter((a) => a.id !== id);
  }
}
