import { horizonOf, messageOf } from '$lib/api.js';
import { isNewer, liveClient } from '$lib/live/live-client.js';
import { VersionLedger } from '$lib/live/versions.js';
import type { ServerToClientEvents } from '$shared/events.js';
import type { FieldDef } from '$shared/lists/fields.js';
import {
  DEFAULT_SORT,
  LIST_FIELDS,
  MAX_IDS,
  MAX_SORT_KEYS,
  visibleColumns,
  type ListEntity,
  type ListRowOf,
  type ListState,
  type ListSummary,
  type SortKey
} from '$shared/lists/query.js';
import { SvelteMap, SvelteSet } from 'svelte/reactivity';
import { listApi } from './list-api.js';
import { compareRows } from './sort.js';

const PAGE_SIZE = 50;
/** Live changes are checked against the filter in one request per this window. */
const CHECK_BATCH_MS = 60;
/** The summary (count, sums) is asked again this long after live changes settle. */
const SUMMARY_REFRESH_MS = 800;
/** How long a row that stopped matching stays on screen, fading, before it goes. */
export const FADE_OUT_MS = 700;

type EventName = keyof ServerToClientEvents;

/** A live event that may touch rows of a list, and which row it concerns. */
export interface LiveSource {
  event: EventName;
  /** The row (of this list) the event is about; null when it concerns none. */
  rowId: (payload: never) => number | null | undefined;
  /** The payload is the row's own entity: its version orders the changes (else the check's answer does). */
  versioned?: boolean;
  /** A new entity (or, as a function, whether this payload is one): when it matches, it goes to the top. */
  created?: boolean | ((payload: never) => boolean);
}

export interface ListConfig<E extends ListEntity> {
  entity: E;
  /** Live events to follow (the server sends them to `list:<entity>`). */
  sources: LiveSource[];
  /** change_log topics whose `live:resync` reloads the list. */
  topics: string[];
}

/** What bulk actions act on: these rows, or every row the filter matches. */
export type Selection =
  { kind: 'ids'; ids: number[]; count: number } | { kind: 'filter'; state: ListState; count: number };

type Row = { id: number; version?: number };

/**
 * One list screen's state: the list state (search, filter, sort, columns) that the URL holds,
 * the rows loaded page by page, the summary of the whole filtered set, the selection, and the
 * live stream applied to the rows. The server decides what matches: a live change is checked
 * with `GET /api/<entity>?ids=…` under the same filter, so one rule decides for pages and events.
 */
export class ListTable<E extends ListEntity> {
  readonly entity: E;
  readonly fields: readonly FieldDef[];
  state = $state<ListState>({ sort: [] });
  rows = $state<ListRowOf[E][]>([]);
  nextCursor = $state<string | null>(null);
  summary = $state<ListSummary | null>(null);
  loading = $state(true);
  refreshing = $state(false);
  loadingMore = $state(false);
  error = $state<string | null>(null);
  loadMoreError = $state<string | null>(null);
  /** The row the keyboard is on. */
  activeId = $state<number | null>(null);
  /** Checked rows; `allMatching` widens the selection to every row the filter matches. */
  selected = new SvelteSet<number>();
  allMatching = $state(false);
  /** Row id -> a counter bumped on each live change (drives the flash). */
  flashes = new SvelteMap<number, number>();
  /** Rows that stopped matching, fading out before they go. */
  leaving = new SvelteSet<number>();
  /** New rows held while the user is scrolled down (the "3 new" pill). */
  pending = $state<ListRowOf[E][]>([]);
  /** Whether the list is scrolled to (near) its top: new rows go straight in. */
  atTop = $state(true);

  readonly columns = $derived.by(() => visibleColumns(this.entity, this.state));
  readonly visibleFields = $derived(
    this.columns.map((key) => this.fields.find((f) => f.key === key)).filter((f) => f !== undefined)
  );
  readonly pageAllSelected = $derived(
    this.rows.length > 0 && this.rows.every((r) => this.selected.has(r.id))
  );
  readonly selectionCount = $derived(
    this.allMatching ? (this.summary?.count ?? this.selected.size) : this.selected.size
  );
  readonly activeIndex = $derived(this.rows.findIndex((r) => r.id === this.activeId));

  #config: ListConfig<E>;
  #request = 0;
  #abort: AbortController | null = null;
  #summaryAbort: AbortController | null = null;
  #summaryTimer: ReturnType<typeof setTimeout> | undefined;
  #checkTimer: ReturnType<typeof setTimeout> | undefined;
  #toCheck = new Map<number, { created: boolean }>();
  #versions = new VersionLedger();
  #anchor: number | null = null;
  /** Where the live stream continues the first page from (its Pulse-Horizon). */
  #loadedAt: string | undefined;

  constructor(config: ListConfig<E>, state?: ListState) {
    this.#config = config;
    this.entity = config.entity;
    this.fields = LIST_FIELDS[config.entity];
    this.state = state ?? { sort: DEFAULT_SORT[config.entity] };
  }

  /** The selection as bulk actions take it. */
  get selection(): Selection {
    if (this.allMatching)
      return { kind: 'filter', state: $state.snapshot(this.state), count: this.selectionCount };
    return { kind: 'ids', ids: [...this.selected], count: this.selected.size };
  }

  /** Replaces the list state (from the URL, a view, the filter builder) and loads the first page. */
  setState(next: ListState) {
    const changedRows =
      JSON.stringify([next.q ?? '', next.filter ?? null, next.sort]) !==
      JSON.stringify([this.state.q ?? '', this.state.filter ?? null, this.state.sort]);
    this.state = next;
    if (changedRows) {
      this.clearSelection();
      void this.load();
    }
  }

  /**
   * The state after a header click: sorted by `field` (a second click flips the direction), or
   * with `add` (shift-click) that field added as the next sort key.
   */
  sortedBy(field: string, add: boolean): ListState {
    const sort = this.state.sort;
    const at = sort.findIndex((k) => k.field === field);
    const flip = (k: SortKey): SortKey => ({ field: k.field, dir: k.dir === 'asc' ? 'desc' : 'asc' });
    let next: SortKey[];
    if (add) {
      if (at >= 0) next = sort.map((k, i) => (i === at ? flip(k) : k));
      else next = [...sort, { field, dir: 'asc' as const }].slice(0, MAX_SORT_KEYS);
    } else if (at === 0 && sort.length === 1) {
      next = [flip(sort[0])];
    } else {
      const def = this.fields.find((f) => f.key === field);
      // Numbers, money and dates read best largest / newest first.
      const dir = def && ['number', 'money', 'date'].includes(def.type) ? 'desc' : 'asc';
      next = [{ field, dir }];
    }
    return { ...this.state, sort: next };
  }

  /**
   * Loads the first page (old rows stay until it answers) and the summary. False when it failed
   * (a newer load superseding it counts as done).
   */
  async load(): Promise<boolean> {
    const request = ++this.#request;
    this.#abort?.abort();
    const abort = (this.#abort = new AbortController());
    this.refreshing = !this.loading;
    this.#toCheck.clear();
    void this.#loadSummary();
    try {
      const page = await listApi.page(this.entity, { ...this.state, limit: PAGE_SIZE }, abort.signal);
      if (request !== this.#request) return true;
      this.#loadedAt = horizonOf(page);
      // A row the stream changed after the page was read keeps the stream's state.
      const shown = new Map(this.rows.map((r) => [r.id, r]));
      this.rows = page.rows.flatMap((row) => {
        if (this.#versions.current(row)) return [row];
        const mine = shown.get(row.id);
        return mine ? [mine] : [];
      });
      this.nextCursor = page.nextCursor;
      this.pending = [];
      this.leaving.clear();
      this.error = null;
      if (this.activeId !== null && !this.rows.some((r) => r.id === this.activeId)) this.activeId = null;
      return true;
    } catch (err) {
      if (request !== this.#request || (err instanceof DOMException && err.name === 'AbortError'))
        return true;
      this.error = messageOf(err, 'The list could not be loaded.');
      return false;
    } finally {
      if (request === this.#request) {
        this.loading = false;
        this.refreshing = false;
      }
    }
  }

  async loadMore() {
    if (!this.nextCursor || this.loadingMore || this.loading) return;
    const request = this.#request;
    this.loadingMore = true;
    this.loadMoreError = null;
    try {
      const page = await listApi.page(this.entity, {
        ...this.state,
        limit: PAGE_SIZE,
        cursor: this.nextCursor
      });
      if (request !== this.#request) return;
      const known = new Set(this.rows.map((r) => r.id));
      this.rows.push(...page.rows.filter((r) => !known.has(r.id)));
      this.nextCursor = page.nextCursor;
      if (this.allMatching) for (const r of page.rows) this.selected.add(r.id);
    } catch (err) {
      if (request === this.#request) this.loadMoreError = messageOf(err, 'More rows could not be loaded.');
    } finally {
      this.loadingMore = false;
    }
  }

  async #loadSummary() {
    this.#summaryAbort?.abort();
    const abort = (this.#summaryAbort = new AbortController());
    const request = this.#request;
    try {
      const summary = await listApi.summary(this.entity, this.state, abort.signal);
      if (request === this.#request) this.summary = summary;
    } catch {
      // The footer keeps its last numbers; the rows matter more.
    }
  }

  #refreshSummarySoon() {
    clearTimeout(this.#summaryTimer);
    this.#summaryTimer = setTimeout(() => void this.#loadSummary(), SUMMARY_REFRESH_MS);
  }

  // --- Selection ------------------------------------------------------------------------------

  /** Checkbox on a row; with `range` (shift-click) every row from the last one clicked. */
  toggle(id: number, range = false) {
    const on = !this.selected.has(id);
    if (range && this.#anchor !== null) {
      const a = this.rows.findIndex((r) => r.id === this.#anchor);
      const b = this.rows.findIndex((r) => r.id === id);
      if (a >= 0 && b >= 0) {
        const anchorOn = this.selected.has(this.#anchor);
        for (const row of this.rows.slice(Math.min(a, b), Math.max(a, b) + 1)) {
          if (anchorOn) this.selected.add(row.id);
          else this.selected.delete(row.id);
        }
        this.#anchor = id;
        if (!anchorOn) this.allMatching = false;
        return;
      }
    }
    if (on) this.selected.add(id);
    else {
      this.selected.delete(id);
      this.allMatching = false;
    }
    this.#anchor = id;
  }

  togglePage() {
    if (this.pageAllSelected) this.clearSelection();
    else for (const row of this.rows) this.selected.add(row.id);
  }

  selectAllMatching() {
    for (const row of this.rows) this.selected.add(row.id);
    this.allMatching = true;
  }

  clearSelection() {
    this.selected.clear();
    this.allMatching = false;
    this.#anchor = null;
  }

  // --- Keyboard -------------------------------------------------------------------------------

  /** Moves the keyboard's row by `delta`; loads more near the end. */
  move(delta: number): ListRowOf[E] | null {
    if (this.rows.length === 0) return null;
    const from = this.activeIndex < 0 ? (delta > 0 ? -1 : this.rows.length) : this.activeIndex;
    const index = Math.min(this.rows.length - 1, Math.max(0, from + delta));
    this.activeId = this.rows[index].id;
    if (index >= this.rows.length - 5) void this.loadMore();
    return this.rows[index];
  }

  // --- Live -----------------------------------------------------------------------------------

  /** Follows `list:<entity>` and the events that touch its rows; returns the release. */
  connect(): () => void {
    const offs = this.#config.sources.map((source) =>
      liveClient.on(source.event, (payload) => this.#onEvent(source, payload as never))
    );
    offs.push(
      liveClient.onResync(async (topics) => {
        if (topics.length > 0 && !topics.some((t) => this.#config.topics.includes(t))) return;
        if (!(await this.load())) throw new Error('list reload failed');
      })
    );
    // Joined once the first page is in, from that page's position: nothing between is lost.
    let release: (() => void) | null = null;
    let stopped = false;
    const join = () => {
      if (stopped) return;
      if (this.loading) return void setTimeout(join, 50);
      release = liveClient.watch('list:watch', [this.entity], undefined, this.#loadedAt);
    };
    join();
    return () => {
      stopped = true;
      release?.();
      for (const off of offs) off();
      clearTimeout(this.#checkTimer);
      clearTimeout(this.#summaryTimer);
    };
  }

  #onEvent(source: LiveSource, payload: never) {
    const data = (payload as { data?: Row }).data;
    const id = source.rowId(payload);
    if (typeof id !== 'number') return;
    if (source.versioned && data) {
      const current = this.rows.find((r) => r.id === id);
      if (current && !isNewer(current, data)) return;
      if (!this.#versions.note(data)) return;
    }
    const known = this.rows.some((r) => r.id === id) || this.pending.some((r) => r.id === id);
    const previous = this.#toCheck.get(id);
    const created = typeof source.created === 'function' ? source.created(payload) : !!source.created;
    this.#toCheck.set(id, { created: (previous?.created ?? false) || (created && !known) });
    this.#refreshSummarySoon();
    if (this.#toCheck.size >= MAX_IDS) void this.#check();
    else if (this.#checkTimer === undefined)
      this.#checkTimer = setTimeout(() => void this.#check(), CHECK_BATCH_MS);
  }

  /** Asks the server which of the changed rows match the filter, and applies the answer. */
  async #check() {
    clearTimeout(this.#checkTimer);
    this.#checkTimer = undefined;
    const batch = new Map(this.#toCheck);
    this.#toCheck.clear();
    if (batch.size === 0) return;
    const request = this.#request;
    let rows: ListRowOf[E][];
    try {
      const page = await listApi.page(this.entity, {
        q: this.state.q,
        filter: this.state.filter,
        sort: this.state.sort,
        limit: Math.min(batch.size, MAX_IDS),
        ids: [...batch.keys()]
      });
      rows = page.rows;
    } catch {
      // The next change or a resync brings the row; nothing on screen is wrong that was right.
      return;
    }
    if (request !== this.#request) return;
    const matching = new Map(rows.map((r) => [r.id, r]));
    for (const [id, { created }] of batch) {
      const row = matching.get(id);
      if (row && !this.#versions.current(row)) continue; // an older read than an event applied
      if (row) this.#versions.note(row);
      const index = this.rows.findIndex((r) => r.id === id);
      if (index >= 0) {
        if (!row) this.#fadeOut(id);
        else if (isNewer(this.rows[index], row)) {
          this.rows[index] = row;
          this.leaving.delete(id);
          this.#flash(id);
        }
      } else if (row) {
        const held = this.pending.findIndex((r) => r.id === id);
        if (held >= 0) this.pending[held] = row;
        else if (created) this.#arrive(row);
        else this.#slotIn(row);
      } else {
        this.pending = this.pending.filter((r) => r.id !== id);
      }
    }
  }

  /** A new row: at the top when the user is there, else held for the "N new" pill. */
  #arrive(row: ListRowOf[E]) {
    if (!this.atTop) {
      this.pending = [row, ...this.pending];
      return;
    }
    this.rows.unshift(row);
    this.#flash(row.id);
  }

  /** A row that starts matching after a change: where it sorts, if that is among the rows loaded. */
  #slotIn(row: ListRowOf[E]) {
    const at = this.rows.findIndex((r) => compareRows(row, r, this.state.sort, this.fields) < 0);
    if (at < 0 && this.nextCursor) return; // it belongs to a page not loaded yet
    this.rows.splice(at < 0 ? this.rows.length : at, 0, row);
    this.#flash(row.id);
  }

  /** Shows the rows held while scrolled down, at the top. */
  showPending() {
    const fresh = this.pending.filter((p) => !this.rows.some((r) => r.id === p.id));
    this.pending = [];
    this.rows.unshift(...fresh);
    for (const row of fresh) this.#flash(row.id);
  }

  #fadeOut(id: number) {
    if (this.leaving.has(id)) return;
    this.leaving.add(id);
    setTimeout(() => {
      if (!this.leaving.has(id)) return;
      this.leaving.delete(id);
      const index = this.rows.findIndex((r) => r.id === id);
      if (index < 0) return;
      if (this.activeId === id) this.activeId = (this.rows[index + 1] ?? this.rows[index - 1])?.id ?? null;
      this.rows.splice(index, 1);
      this.selected.delete(id);
      this.flashes.delete(id);
    }, FADE_OUT_MS);
  }

  #flash(id: number) {
    this.flashes.set(id, (this.flashes.get(id) ?? 0) + 1);
  }
}
