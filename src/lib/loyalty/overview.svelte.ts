import { Resource } from '$lib/analytics/resource.svelte.js';
import { liveClient } from '$lib/live/live-client.js';
import type { LoyaltyEntry } from '$shared/schemas/live.js';
import type {
  ActivityReport,
  LiabilityReport,
  RecentEntry,
  TierReport,
  TopMember
} from '$shared/schemas/loyalty-report.js';
import { SvelteSet } from 'svelte/reactivity';
import { loyaltyApi } from './api.js';

/** Ledger entries the activity list keeps. */
const RECENT = 25;
const TOP = 10;
/** The sums (tiers, liability, top members, the chart) are re-read this long after changes settle. */
const SETTLE_MS = 1500;
/** How long an entry that arrived live is highlighted. */
const FRESH_MS = 4000;

/**
 * The loyalty screen's state: the reports (REST), and the ledger as it moves (`loyalty:changed`
 * events, which every manager's socket receives through `role:manager`). A new entry goes on top
 * of the recent activity at once; the sums are read again once the burst has settled, so a
 * thousand entries a second cost a few queries, not a thousand.
 */
export class LoyaltyOverview {
  tiers = new Resource<TierReport>();
  top = new Resource<{ members: TopMember[] }>();
  activity = new Resource<ActivityReport>();
  liability = new Resource<LiabilityReport>();
  recent = $state<RecentEntry[]>([]);
  recentState = $state<'loading' | 'ready' | 'error'>('loading');
  days = $state<'30' | '90' | '365'>('30');
  /** Ids of entries that arrived live a moment ago. */
  fresh = new SvelteSet<number>();

  #settle: ReturnType<typeof setTimeout> | undefined;
  #names = new Map<number, string>();
  #release: (() => void)[] = [];

  start() {
    this.#release.push(
      liveClient.on('loyalty:changed', (e) => {
        if (e.entry) this.#arrived(e.entry);
        this.#later();
      }),
      liveClient.onResync(() => this.load())
    );
    void this.load();
  }

  stop() {
    for (const release of this.#release) release();
    this.#release = [];
    clearTimeout(this.#settle);
  }

  async load() {
    await Promise.all([
      this.tiers.load((s) => loyaltyApi.tiers(s)),
      this.top.load((s) => loyaltyApi.top(TOP, s)),
      this.activity.load((s) => loyaltyApi.activity(this.days, s)),
      this.liability.load((s) => loyaltyApi.liability(s)),
      this.loadRecent()
    ]);
  }

  setDays(days: '30' | '90' | '365') {
    this.days = days;
    void this.activity.load((s) => loyaltyApi.activity(days, s));
  }

  async loadRecent() {
    try {
      const { entries } = await loyaltyApi.recent(RECENT);
      for (const e of entries) this.#names.set(e.customerId, e.customerName);
      // Entries that arrived live while the list loaded stay.
      const known = new Set(entries.map((e) => e.id));
      this.recent = [...this.recent.filter((e) => !known.has(e.id)), ...entries]
        .sort((a, b) => b.id - a.id)
        .slice(0, RECENT);
      this.recentState = 'ready';
    } catch {
      if (this.recentState === 'loading') this.recentState = 'error';
    }
  }

  #arrived(entry: LoyaltyEntry) {
    if (this.recent.some((e) => e.id === entry.id)) return;
    const name = this.#names.get(entry.customerId) ?? `Customer #${entry.customerId}`;
    this.recent = [{ ...entry, customerName: name }, ...this.recent].slice(0, RECENT);
    this.fresh.add(entry.id);
    setTimeout(() => this.fresh.delete(entry.id), FRESH_MS);
  }

  #later() {
    clearTimeout(this.#settle);
    this.#settle = setTimeout(() => {
      void this.tiers.load((s) => loyaltyApi.tiers(s));
      void this.top.load((s) => loyaltyApi.top(TOP, s));
      void this.liability.load((s) => loyaltyApi.liability(s));
      void this.activity.load((s) => loyaltyApi.activity(this.days, s));
      // Names of members new to the list.
      if (this.recent.some((e) => !this.#names.has(e.customerId))) void this.loadRecent();
    }, SETTLE_MS);
  }
}
