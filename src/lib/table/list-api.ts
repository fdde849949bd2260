import { unwrap } from '$lib/api.js';
import {
  encodeListState,
  type ListEntity,
  type ListPage,
  type ListQuery,
  type ListRowOf,
  type ListState,
  type ListSummary
} from '$shared/lists/query.js';
import type { SavedView, UpdateViewBody, ViewVisibility } from '$shared/lists/views.js';
import type { FieldValues } from '$shared/lists/values.js';
import type { ClientResponse } from 'hono/client';

// The list endpoints take their whole query as a query string (encodeListState), which the
// server decodes with the same schema; plain fetch builds it, `unwrap` reads the answer (one error
// shape, and the Pulse-Horizon the live stream continues from).

type Json<T> = ClientResponse<T, 200, 'json'>;

function get<T>(url: string, signal?: AbortSignal): Promise<T> {
  return unwrap(fetch(url, { signal }) as unknown as Promise<Json<T>>) as Promise<T>;
}

function send<T>(method: string, url: string, body?: unknown): Promise<T> {
  return unwrap(
    fetch(url, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body)
    }) as unknown as Promise<Json<T>>
  ) as Promise<T>;
}

const qs = (query: Partial<ListQuery>) => {
  const text = encodeListState(query).toString();
  return text ? `?${text}` : '';
};

export const listApi = {
  page<E extends ListEntity>(entity: E, query: Partial<ListQuery>, signal?: AbortSignal) {
    return get<ListPage<ListRowOf[E]>>(`/api/${entity}${qs(query)}`, signal);
  },
  summary(entity: ListEntity, state: ListState, signal?: AbortSignal) {
    return get<ListSummary>(`/api/${entity}/summary${qs({ q: state.q, filter: state.filter })}`, signal);
  },
  /** The distinct values of a data-driven enum field, most used first. */
  values(entity: ListEntity, field: string, q: string, signal?: AbortSignal) {
    const params = new URLSearchParams({ field, ...(q ? { q } : {}) });
    return get<FieldValues>(`/api/${entity}/values?${params}`, signal);
  },
  exportUrl(entity: ListEntity, state: ListState) {
    return `/api/${entity}/export.csv${qs(state)}`;
  },
  views(entity: ListEntity) {
    return get<{ views: SavedView[] }>(`/api/views?entity=${entity}`);
  },
  createView(body: { name: string; entity: ListEntity; state: ListState; visibility: ViewVisibility }) {
    return send<{ view: SavedView }>('POST', '/api/views', body);
  },
  updateView(id: number, body: UpdateViewBody) {
    return send<{ view: SavedView }>('PATCH', `/api/views/${id}`, body);
  },
  deleteView(id: number) {
    return send<null>('DELETE', `/api/views/${id}`);
  }
};
