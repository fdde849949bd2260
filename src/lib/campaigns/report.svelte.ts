import { messageOf } from '$lib/api.js';
import { liveClient } from '$lib/live/live-client.js';
import type { CampaignReport } from '$shared/schemas/campaigns.js';
import { campaignReport, launchCampaign } from './campaigns-api.js';

/**
 * Activity arrives in bursts (a launch assigns thousands, an import writes many orders): the report
 * is asked for again at most this often, the last cue always answered.
 */
const REFRESH_DEBOUNCE_MS = 400;

/**
 * A campaign's report, live: loaded over REST, and loaded again (debounced) whenever the
 * `campaign:<id>` room hears of activity, after each (re)join of the room (what happened while
 * away), and on a resync. The numbers are always the server's SQL, never a local increment.
 */
export class CampaignReportState {
  report = $state<CampaignReport | null>(null);
  loading = $state(false);
  error = $state<string | null>(null);
  launching = $state(false);
  launchMessage = $state<string | null>(null);
  /** How many times live activity refreshed the report (tests and the "updated" hint read it). */
  refreshes = $state(0);

  #timer: ReturnType<typeof setTimeout> | null = null;
  #inFlight: AbortController | null = null;

  constructor(readonly id: number) {}

  async load() {
    this.#inFlight?.abort();
    const controller = new AbortController();
    this.#inFlight = controller;
    this.loading = true;
    try {
      const { report } = await campaignReport(this.id);
      if (controller.signal.aborted) return;
      this.report = report;
      this.error = null;
    } catch (err) {
      if (!controller.signal.aborted) this.error = messageOf(err, 'Could not load the report.');
    } finally {
      if (this.#inFlight === controller) {
        this.loading = false;
        this.#inFlight = null;
      }
    }
  }

  async launch() {
    if (this.launching) return;
    this.launching = true;
    this.launchMessage = null;
    try {
      const { assigned } = await launchCampaign(this.id);
      this.launchMessage =
        assigned > 0
          ? `Launched: ${assigned.toLocaleString()} members assigned.`
          : 'Already launched: nobody new to assign, nothing given twice.';
      await this.load();
    } catch (err) {
      this.error = messageOf(err, 'Could not launch the campaign.');
    } finally {
      this.launching = false;
    }
  }

  #refreshSoon() {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.refreshes += 1;
      void this.load();
    }, REFRESH_DEBOUNCE_MS);
  }

  /** Watches the campaign's room; returns the stop function. */
  listen(): () => void {
    const stops = [
      liveClient.on('campaign:activity', (e) => {
        if (e.campaignId === this.id) this.#refreshSoon();
      }),
      liveClient.watch('campaign:watch', [this.id], (answer) => {
        if ('data' in answer) this.#refreshSoon();
      }),
      liveClient.onResync(() => this.load())
    ];
    return () => {
      for (const stop of stops) stop();
      if (this.#timer) clearTimeout(this.#timer);
      this.#inFlight?.abort();
    };
  }
}
