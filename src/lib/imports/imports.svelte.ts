import { api, ApiError, unwrap } from '$lib/api.js';
import { live } from '$lib/live/connection.svelte.js';
import { liveClient } from '$lib/live/live-client.js';
import {
  ImportSource,
  isImportFinished,
  type ImportEntity,
  type ImportJob,
  type ImportOptions,
  type ImportPreview,
  type ImportReject
} from '$shared/schemas/imports.js';

/** Whether `next` may replace `shown` (progress never goes back; a finished job stays finished). */
export function isFurther(next: ImportJob, shown: ImportJob | undefined): boolean {
  if (!shown) return true;
  if (isImportFinished(shown.state)) return false;
  if (isImportFinished(next.state)) return true;
  return next.bytesRead >= shown.bytesRead && next.rows >= shown.rows;
}

export const percentOf = (job: ImportJob) =>
  isImportFinished(job.state)
    ? 100
    : job.size > 0
      ? Math.min(99, Math.floor((job.bytesRead / job.size) * 100))
      : 0;

/** What is wrong with a source name as typed (null: fine, and empty means the default source). */
export function sourceProblem(source: string): string | null {
  if (source.trim() === '') return null;
  const parsed = ImportSource.safeParse(source);
  return parsed.success ? null : (parsed.error.issues[0]?.message ?? 'not a source name');
}

/**
 * The imports screen's state: the file in hand (its preview and chosen options), the job followed
 * (progress as `import:progress`, read again after a reconnect) and the history.
 */
export class ImportScreen {
  entity = $state<ImportEntity>('customers');
  preview = $state<ImportPreview | null>(null);
  options = $state<ImportOptions | null>(null);
  uploading = $state(false);
  previewing = $state(false);
  starting = $state(false);
  error = $state<string | null>(null);
  jobs = $state<ImportJob[]>([]);
  /** The job shown in the result panel. */
  currentId = $state<number | null>(null);
  rejects = $state<ImportReject[]>([]);
  rejectsTotal = $state(0);
  readonly current = $derived(this.jobs.find((j) => j.id === this.currentId) ?? null);
  /** Where the file's external ids come from (`options.source`); empty: the default source. */
  source = $state('');
  /** Why `source` cannot be used, checked as it is typed (the server checks it again). */
  readonly sourceError = $derived(sourceProblem(this.source));

  attach(): () => void {
    const off = liveClient.on('import:progress', (job) => this.apply(job));
    const root = $effect.root(() => {
      $effect(() => {
        if (live.state === 'live') void this.load().catch(() => undefined);
      });
    });
    return () => {
      off();
      root();
    };
  }

  async load() {
    const { jobs } = await unwrap(api.api.imports.$get({ query: { limit: '20' } }));
    for (const job of [...(jobs as ImportJob[])].reverse()) this.apply(job);
  }

  apply(job: ImportJob) {
    const index = this.jobs.findIndex((j) => j.id === job.id);
    const shown = index >= 0 ? this.jobs[index] : undefined;
    if (!isFurther(job, shown)) return;
    if (index >= 0) this.jobs[index] = job;
    else this.jobs = [job, ...this.jobs].sort((a, b) => b.id - a.id).slice(0, 50);
    if (
      job.id === this.currentId &&
      isImportFinished(job.state) &&
      (!shown || !isImportFinished(shown.state))
    )
      void this.loadRejects(job.id);
  }

  async upload(file: File) {
    this.error = null;
    this.uploading = true;
    this.preview = null;
    try {
      // The file goes as the request body: the browser streams it from disk, the server into parts.
      const res = await fetch(
        `/api/imports/uploads?entity=${this.entity}&name=${encodeURIComponent(file.name.slice(0, 200))}`,
        { method: 'POST', body: file, headers: { 'content-type': 'application/octet-stream' } }
      );
      const body = await res.json().catch(() => null);
      if (!res.ok) throw new Error(body?.error?.message ?? `The upload failed (${res.status})`);
      this.setPreview(body.preview as ImportPreview);
    } catch (err) {
      this.error = (err as Error).message;
    } finally {
      this.uploading = false;
    }
  }

  private setPreview(preview: ImportPreview) {
    this.preview = preview;
    this.options = structuredClone(preview.options);
  }

  /** Reads the file again with the options as they are now chosen. */
  async refresh(changed: Partial<ImportOptions>) {
    if (!this.preview || !this.options) return;
    this.previewing = true;
    this.error = null;
    try {
      const { preview } = await unwrap(
        api.api.imports.uploads[':id'].preview.$post({
          param: { id: String(this.preview.uploadId) },
          json: { ...this.options, ...changed }
        })
      );
      this.setPreview(preview as ImportPreview);
    } catch (err) {
      this.error = err instanceof ApiError ? err.message : 'Could not read the file again';
    } finally {
      this.previewing = false;
    }
  }

  async start(dryRun: boolean) {
    if (!this.preview || !this.options) return;
    if (this.sourceError) {
      this.error = `The source of external ids is not valid: ${this.sourceError}`;
      return;
    }
    this.starting = true;
    this.error = null;
    const source = this.source.trim();
    try {
      const { job } = await unwrap(
        api.api.imports.$post({
          json: {
            uploadId: this.preview.uploadId,
            dryRun,
            options: { ...$state.snapshot(this.options), ...(source ? { source } : {}) }
          }
        })
      );
      this.currentId = job.id;
      this.rejects = [];
      this.rejectsTotal = 0;
      this.apply(job as ImportJob);
    } catch (err) {
      this.error = err instanceof ApiError ? err.message : 'Could not start the import';
    } finally {
      this.starting = false;
    }
  }

  async show(id: number) {
    this.currentId = id;
    this.rejects = [];
    this.rejectsTotal = 0;
    const job = this.jobs.find((j) => j.id === id);
    if (job && isImportFinished(job.state)) await this.loadRejects(id);
  }

  async loadRejects(id: number) {
    const res = await unwrap(
      api.api.imports[':id'].rejects.$get({ param: { id: String(id) }, query: { limit: '100' } })
    );
    if (this.currentId !== id) return;
    this.rejects = res.rejects;
    this.rejectsTotal = res.total;
  }
}
