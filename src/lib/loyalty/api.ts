import { api, queryOf, unwrap } from '$lib/api.js';
import type { PublishBody, SaveDraftBody } from '$shared/schemas/loyalty-editor.js';

const program = api.api['loyalty-program'];
const init = (signal?: AbortSignal) => (signal ? { init: { signal } } : undefined);

/** The loyalty screen's calls (server/routes/loyalty-program.ts). */
export const loyaltyApi = {
  tiers: (signal?: AbortSignal) => unwrap(program.report.tiers.$get(undefined, init(signal))),
  top: (limit: number, signal?: AbortSignal) =>
    unwrap(program.report.top.$get({ query: queryOf({ limit }) }, init(signal))),
  activity: (days: '30' | '90' | '365', signal?: AbortSignal) =>
    unwrap(program.report.activity.$get({ query: { days } }, init(signal))),
  liability: (signal?: AbortSignal) => unwrap(program.report.liability.$get(undefined, init(signal))),
  recent: (limit: number, signal?: AbortSignal) =>
    unwrap(program.report.recent.$get({ query: queryOf({ limit }) }, init(signal))),
  versions: () => unwrap(program.versions.$get()),
  draft: () => unwrap(program.draft.$get()),
  saveDraft: (body: SaveDraftBody) => unwrap(program.draft.$put({ json: body })),
  discardDraft: () => unwrap(program.draft.$delete()),
  startPreview: () => unwrap(program.previews.$post()),
  preview: (id: number) => unwrap(program.previews[':id'].$get({ param: { id: String(id) } })),
  publish: (body: PublishBody) => unwrap(program.publish.$post({ json: body }))
};
