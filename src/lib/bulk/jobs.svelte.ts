import { api, unwrap } from '$lib/api.js';
import { notices } from '$lib/console/notices.svelte.js';
import { live } from '$lib/live/connection.svelte.js';
import { liveClient } from '$lib/live/live-client.js';
import { SvelteSet } from 'svelte/reactivity';
import { isFinished, isFurther, type BulkJob, type BulkRequest } from '$shared/schemas/bulk.js';
import { finishedNotice } from './describe.js';

/**
 * The signed-in user's bulk jobs, for the whole app: the tray shows the ones running, a toast says
 * when one ends wherever the user is. Progress arrives as `bulk:progress`; after a reload or a
 * reconnect the jobs are read again (`GET /api/bulk`), since those events are not replayed.
 */
class BulkJobs {
  /** Newest first. */
  jobs = $state<BulkJob[]>([]);
  /** Jobs whose result the user closed in the tray. */
  #dismissed = new Set<number>();
  dismissedVersion = $state(0);
  readonly visible = $derived.by(() => {
    void this.dismissedVersion;
    return this.jobs.filter((j) => !this.#dismissed.has(j.id)).slice(0, 5);
  });
  readonly running = $derived(this.jobs.filter((j) => !isFinished(j.state)));
  /** Jobs this tab saw end (the tray shows their result until dismissed). */
  readonly finishedHere = new SvelteSet<number>();
  #stop: (() => void) | null = null;

  /** Follows the user's jobs until the returned function is called (the app shell owns it). */
  attach(): () => void {
    this.#stop?.();
    const off = liveClient.on('bulk:progress', (job) => this.apply(job));
    const root = $effect.root(() => {
      // Every time the link comes (back) up: what happened while it was down is read again.
      $effect(() => {
        if (live.state === 'live') void this.load().catch(() => undefined);
      });
    });
    this.#stop = () => {
      off();
      root();
      this.#stop = null;
    };
    return this.#stop;
  }

  async load() {
    const { jobs } = await unwrap(api.api.bulk.$get({ query: { mine: 'true', limit: '10' } }));
    // The newest ten, applied oldest first so the list keeps its order.
    for (const job of [...jobs].reverse()) this.apply(job);
  }

  /** Takes a newer state of a job; toasts the end of a job this tab saw running. */
  apply(job: BulkJob) {
    const index = this.jobs.findIndex((j) => j.id === job.id);
    const shown = index >= 0 ? this.jobs[index] : undefined;
    if (!isFurther(job, shown)) return;
    if (index >= 0) this.jobs[index] = job;
    else this.jobs = [job, ...this.jobs].sort((a, b) => b.id - a.id).slice(0, 20);
    if (shown && !isFinished(shown.state) && isFinished(job.state)) {
      this.finishedHere.add(job.id);
      notices.push(finishedNotice(job));
    }
  }

  async start(request: BulkRequest): Promise<BulkJob> {
    const { job } = await unwrap(api.api.bulk.$post({ json: request }));
    this.apply(job as BulkJob);
    return job as BulkJob;
  }

  async cancel(id: number): Promise<void> {
    const { job } = await unwrap(api.api.bulk[':id'].cancel.$post({ param: { id: String(id) } }));
    this.apply(job as BulkJob);
  }

  dismiss(id: number) {
    this.#dismissed.add(id);
    this.dismissedVersion += 1;
  }
}

export const bulkJobs = new BulkJobs();
