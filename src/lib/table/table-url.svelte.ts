import { goto } from '$app/navigation';
import { page } from '$app/state';
import {
  decodeListState,
  DEFAULT_SORT,
  encodeListState,
  type FilterGroup,
  type ListEntity,
  type ListState
} from '$shared/lists/query.js';
import type { SavedView } from '$shared/lists/views.js';
import type { ListTable } from './list-table.svelte.js';

/** How long the search box waits after the last key before the search goes to the URL. */
const SEARCH_DEBOUNCE_MS = 250;

/**
 * A table screen's URL state: the address bar holds the whole list state (search, filter, sort,
 * columns, the saved view), every change goes through it and the table follows it, so back,
 * forward and a pasted link behave alike. Holds what the search box shows while it is typed in.
 */
export class TableUrl<E extends ListEntity> {
  readonly table: ListTable<E>;
  /** What the search box shows (ahead of the URL while the user types). */
  searchText = $state('');
  /** Why the URL's state was not used, when it was not. */
  error = $state<string | null>(null);
  /** The saved view the URL names, if any. */
  readonly viewId = $derived(Number(page.url.searchParams.get('view')) || null);

  #searchTimer: ReturnType<typeof setTimeout> | undefined;
  #typing: () => boolean;

  get ruleCount(): number {
    return this.table.state.filter?.rules.length ?? 0;
  }

  /** Whether a search or a filter narrows the list. */
  get filtered(): boolean {
    return this.ruleCount > 0 || !!this.table.state.q;
  }

  /** `typing` says whether the search box has the focus (a URL change then leaves its text alone). */
  constructor(table: ListTable<E>, typing: () => boolean) {
    this.table = table;
    this.#typing = typing;
  }

  stateFromUrl(url: URL): ListState {
    const decoded = decodeListState(this.table.entity, url.searchParams);
    if (!decoded.success) {
      this.error = 'This link holds a filter this list does not understand; showing everything instead.';
      return { sort: DEFAULT_SORT[this.table.entity] };
    }
    this.error = null;
    const { q, filter, sort, columns } = decoded.data;
    return { ...(q ? { q } : {}), ...(filter ? { filter } : {}), sort, ...(columns ? { columns } : {}) };
  }

  urlFor(state: ListState, view: number | null = this.viewId): string {
    const params = encodeListState(state);
    const isDefaultSort = JSON.stringify(state.sort) === JSON.stringify(DEFAULT_SORT[this.table.entity]);
    if (isDefaultSort) params.delete('sort');
    if (view) params.set('view', String(view));
    const text = params.toString();
    return `${page.url.pathname}${text ? `?${text}` : ''}`;
  }

  /** Every change goes through the address bar; the table follows it (back and paste work alike). */
  commit(state: ListState, { view = this.viewId, replace = false } = {}) {
    void goto(this.urlFor(state, view), { replaceState: replace, keepFocus: true, noScroll: true });
  }

  /** The table's first state, from the page's URL. */
  start() {
    const initial = this.stateFromUrl(page.url);
    this.searchText = initial.q ?? '';
    this.table.state = initial;
  }

  /** The URL changed (a commit, back, a pasted link): the table follows. */
  apply(url: URL) {
    const next = this.stateFromUrl(url);
    if (!this.#typing()) this.searchText = next.q ?? '';
    this.table.setState(next);
  }

  /** The search box changed: the search goes to the URL once typing pauses. */
  searchSoon() {
    clearTimeout(this.#searchTimer);
    this.#searchTimer = setTimeout(() => {
      const q = this.searchText.trim();
      if (q !== (this.table.state.q ?? ''))
        this.commit({ ...this.table.state, q: q || undefined }, { replace: true });
    }, SEARCH_DEBOUNCE_MS);
  }

  /** Enter in the search box: the search goes to the URL now. */
  searchNow() {
    clearTimeout(this.#searchTimer);
    const q = this.searchText.trim();
    this.commit({ ...this.table.state, q: q || undefined }, { replace: true });
  }

  setFilter(filter: FilterGroup | undefined) {
    this.commit({ ...this.table.state, filter });
  }

  setColumns(columns: string[] | undefined) {
    this.commit({ ...this.table.state, columns }, { replace: true });
  }

  /** Opens a saved view (its own state), or the plain list for null. */
  openView(view: SavedView | null) {
    if (!view) return this.commit({ sort: DEFAULT_SORT[this.table.entity] }, { view: null });
    this.searchText = view.state.q ?? '';
    this.commit(
      { ...view.state, sort: view.state.sort ?? DEFAULT_SORT[this.table.entity] },
      { view: view.id }
    );
  }

  /** Drops the search and the filters, keeping the sort and the columns. */
  clear() {
    this.commit({ sort: this.table.state.sort, columns: this.table.state.columns });
  }
}
