import { ApiError } from '$lib/api.js';
import type { Segment, SegmentCount, SegmentGroup, SegmentMember } from '$shared/schemas/segments.js';

// The segments API for the screens (JSON over fetch; errors in the one shape as ApiError).

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`/api/segments${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body)
  });
  const json = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) {
    const error = (json as { error?: { code?: string; message?: string; details?: unknown } } | null)?.error;
    throw new ApiError(
      (error?.code ?? 'bad_response') as never,
      error?.message ?? `HTTP ${res.status}`,
      res.status,
      error?.details
    );
  }
  return json as T;
}

export const segmentsApi = {
  list: () => call<{ segments: Segment[] }>('GET', ''),
  get: (id: number) => call<{ segment: Segment }>('GET', `/${id}`),
  create: (input: { name: string; description: string; rule: SegmentGroup }) =>
    call<{ segment: Segment }>('POST', '', input),
  update: (
    id: number,
    patch: { name?: string; description?: string; rule?: SegmentGroup; version: number }
  ) => call<{ segment: Segment }>('PATCH', `/${id}`, patch),
  remove: (id: number) => call<null>('DELETE', `/${id}`),
  countDraft: (rule: SegmentGroup) => call<SegmentCount>('POST', '/count', { rule }),
  previewDraft: (rule: SegmentGroup) => call<{ members: SegmentMember[] }>('POST', '/preview', { rule }),
  count: (id: number) => call<SegmentCount>('GET', `/${id}/count`)
};
