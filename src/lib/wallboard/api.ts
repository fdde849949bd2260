import { api, unwrap } from '$lib/api.js';
import { authed as call } from '$lib/session.svelte.js';
import type {
  CreatedWallboardToken,
  Threshold,
  ThresholdInput,
  WallboardSnapshot,
  WallboardToken
} from '$shared/schemas/metrics.js';

// The wallboard's HTTP calls, through the typed client. Live numbers come over the socket.
// A TV has no session to expire: its snapshot call is not `authed`.

export const wallboardApi = {
  /** The numbers now, recomputed from SQL; a TV passes its link's token. */
  snapshot: (token?: string, signal?: AbortSignal): Promise<WallboardSnapshot> =>
    token
      ? unwrap(api.api.wallboard.$get({ query: { token } }, { init: { signal } }))
      : call(unwrap(api.api.wallboard.$get({ query: {} }, { init: { signal } }))),
  thresholds: (): Promise<{ thresholds: Threshold[] }> => call(unwrap(api.api.wallboard.thresholds.$get())),
  saveThresholds: (thresholds: ThresholdInput[]): Promise<{ thresholds: Threshold[] }> =>
    call(unwrap(api.api.wallboard.thresholds.$put({ json: { thresholds } }))),
  tokens: (): Promise<{ tokens: WallboardToken[] }> => call(unwrap(api.api.wallboard.tokens.$get())),
  createToken: (name: string): Promise<CreatedWallboardToken> =>
    call(unwrap(api.api.wallboard.tokens.$post({ json: { name } }))),
  revokeToken: (id: number): Promise<{ token: WallboardToken }> =>
    call(unwrap(api.api.wallboard.tokens[':id'].$delete({ param: { id: String(id) } })))
};

/** The link a TV opens: the public /tv screen, outside the signed-in app. */
export function tvLinkFor(secret: string, origin = location.origin): string {
  return `${origin}/tv?token=${encodeURIComponent(secret)}`;
}
