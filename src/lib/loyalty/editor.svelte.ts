import { ApiError, messageOf } from '$lib/api.js';
import { liveClient } from '$lib/live/live-client.js';
import type { DraftState, PreviewJob, PublishResult } from '$shared/schemas/loyalty-editor.js';
import { ProgramConfig, type ProgramVersion } from '$shared/schemas/loyalty-program.js';
import { loyaltyApi } from './api.js';

/** Field paths ("tiers.levels.2.threshold") to the first message about them. */
export type FieldErrors = Record<string, string>;

/** The zod issues of a config, keyed by path, first message per path. */
export function configErrors(config: unknown): FieldErrors {
  const parsed = ProgramConfig.safeParse(config);
  if (parsed.success) return {};
  const out: FieldErrors = {};
  for (const issue of parsed.error.issues) {
    const path = issue.path.join('.');
    if (!(path in out)) out[path] = issue.message;
  }
  return out;
}

/**
 * The program editor: the version in force (read-only) and its history, the draft being edited,
 * its impact preview (a server job whose progress arrives on the socket) and publishing it.
 */
export class ProgramEditor {
  phase = $state<'loading' | 'ready' | 'error'>('loading');
  loadError = $state<string | null>(null);
  current = $state<ProgramVersion | null>(null);
  versions = $state<ProgramVersion[]>([]);
  currentId = $state<number | null>(null);
  /** The saved draft's identity and row version (null: no draft saved yet). */
  draftId = $state<number | null>(null);
  draftRowVersion = $state<number | null>(null);
  draftNumber = $state<number | null>(null);
  /** The config on screen (edited in place). */
  config = $state<ProgramConfig | null>(null);
  dirty = $state(false);
  saving = $state(false);
  /** Field errors from the last save attempt (client-side zod, or the server's). */
  errors = $state<FieldErrors>({});
  message = $state<{ tone: 'success' | 'danger'; text: string } | null>(null);
  preview = $state<PreviewJob | null>(null);
  publishing = $state(false);
  published = $state<PublishResult | null>(null);

  #release: (() => void)[] = [];

  start() {
    this.#release.push(
      liveClient.on('loyalty:preview_progress', (job) => {
        // The furthest along wins; a finished job is final.
        if (!this.preview || job.id !== this.preview.id) return;
        if (this.preview.state !== 'running') return;
        if (job.state !== 'running' || job.progress >= this.preview.progress) this.preview = job;
      })
    );
    void this.load();
  }

  stop() {
    for (const release of this.#release) release();
    this.#release = [];
  }

  async load() {
    try {
      const [draft, versions] = await Promise.all([loyaltyApi.draft(), loyaltyApi.versions()]);
      this.#applyDraft(draft);
      this.versions = versions.versions;
      this.currentId = versions.currentId;
      this.phase = 'ready';
    } catch (err) {
      this.loadError = messageOf(err, 'The program could not be loaded');
      this.phase = 'error';
    }
  }

  #applyDraft(state: DraftState) {
    this.current = state.current;
    this.draftId = state.draft?.id ?? null;
    this.draftRowVersion = state.draft?.rowVersion ?? null;
    this.draftNumber = state.draft?.version ?? null;
    this.config = structuredClone(state.draft?.config ?? null) as ProgramConfig | null;
    this.dirty = false;
  }

  /** Starts a draft from the version in force (not saved until the first save). */
  startDraft() {
    if (!this.current) return;
    this.config = structuredClone($state.snapshot(this.current.config)) as ProgramConfig;
    this.dirty = true;
    this.errors = {};
    this.message = null;
  }

  touch() {
    this.dirty = true;
    this.errors = configErrors($state.snapshot(this.config));
  }

  /** Saves the draft; false (with field errors shown) when it is not valid or the save failed. */
  async save(): Promise<boolean> {
    if (!this.config) return false;
    const snapshot = $state.snapshot(this.config);
    const errors = configErrors(snapshot);
    this.errors = errors;
    if (Object.keys(errors).length > 0) {
      this.message = {
        tone: 'danger',
        text: `${Object.keys(errors).length === 1 ? 'One field needs' : `${Object.keys(errors).length} fields need`} attention before the draft can be saved.`
      };
      return false;
    }
    this.saving = true;
    try {
      const state = await loyaltyApi.saveDraft({
        config: snapshot as ProgramConfig,
        ...(this.draftRowVersion !== null ? { version: this.draftRowVersion } : {})
      });
      this.#applyDraft(state);
      this.message = { tone: 'success', text: 'Draft saved.' };
      // The history lists the draft too.
      void loyaltyApi
        .versions()
        .then((v) => {
          this.versions = v.versions;
          this.currentId = v.currentId;
        })
        .catch(() => undefined);
      return true;
    } catch (err) {
      if (err instanceof ApiError) {
        const fields: FieldErrors = {};
        for (const [path, msg] of Object.entries(err.fieldErrors))
          fields[path.replace(/^config\./, '')] = msg;
        this.errors = fields;
      }
      this.message = { tone: 'danger', text: messageOf(err, 'The draft could not be saved') };
      return false;
    } finally {
      this.saving = false;
    }
  }

  async discard() {
    try {
      if (this.draftId !== null) await loyaltyApi.discardDraft();
      const state = await loyaltyApi.draft();
      this.#applyDraft(state);
      this.preview = null;
      this.errors = {};
      this.message = { tone: 'success', text: 'Draft discarded.' };
    } catch (err) {
      this.message = { tone: 'danger', text: messageOf(err, 'The draft could not be discarded') };
    }
  }

  /** Saves when needed, then replays the last 12 months under the draft on the server. */
  async runPreview() {
    if (this.dirty || this.draftId === null) {
      if (!(await this.save())) return;
    }
    try {
      const { job } = await loyaltyApi.startPreview();
      this.preview = job;
      // Finished before the socket said so (or the socket is down): the server's word.
      const latest = await loyaltyApi.preview(job.id);
      if (this.preview?.id === job.id && latest.job.progress >= this.preview.progress) {
        if (this.preview.state === 'running') this.preview = latest.job;
      }
    } catch (err) {
      this.message = { tone: 'danger', text: messageOf(err, 'The preview could not be started') };
    }
  }

  /** Whether the preview on screen is of the draft as saved now. */
  get previewIsCurrent() {
    return (
      !!this.preview &&
      !this.dirty &&
      this.preview.draftId === this.draftId &&
      this.preview.draftVersion === this.draftRowVersion
    );
  }

  async publish(effectiveAt: string | null): Promise<boolean> {
    if (this.draftId === null || this.draftRowVersion === null) return false;
    this.publishing = true;
    try {
      const result = await loyaltyApi.publish({
        draftId: this.draftId,
        version: this.draftRowVersion,
        ...(effectiveAt ? { effectiveAt } : {})
      });
      this.published = result;
      this.preview = null;
      await this.load();
      this.message = {
        tone: 'success',
        text:
          `Version ${result.version.version} published` +
          (new Date(result.version.effectiveAt!).getTime() > Date.now() + 60_000
            ? `, in force from ${new Date(result.version.effectiveAt!).toLocaleString('en')}.`
            : ', in force now.') +
          (result.graced > 0
            ? ` ${result.graced} ${result.graced === 1 ? 'member keeps' : 'members keep'} their tier until ${new Date(result.graceUntil!).toLocaleDateString('en')}.`
            : '')
      };
      return true;
    } catch (err) {
      this.message = { tone: 'danger', text: messageOf(err, 'The draft could not be published') };
      if (err instanceof ApiError && err.status === 409) await this.load();
      return false;
    } finally {
      this.publishing = false;
    }
  }
}
