import { ApiError, messageOf } from '$lib/api.js';
import { liveClient } from '$lib/live/live-client.js';
import { untrack } from 'svelte';
import { wallboardApi } from './api.js';
import { WallboardFeed } from './feed.svelte.js';

const REVOKED = 'This wallboard link was revoked or is not valid. Ask a manager for a new one.';

/**
 * A TV's wallboard: nobody signs in, the link's token opens the snapshot and the live client's
 * socket (`auth: { wallboardToken }`), which the server puts in the `wallboard` room and nothing else.
 * Call during a component's initialisation; it disconnects with the component.
 */
export function followTvWallboard(token: string): WallboardFeed {
  const feed = new WallboardFeed();

  // untrack: connecting writes the connection state, which must not re-run this effect.
  $effect(() => untrack(() => connect()));

  function connect() {
    const controller = new AbortController();
    const checkToken = () =>
      wallboardApi.snapshot(token, controller.signal).then(feed.accept, (err: unknown) => {
        if (controller.signal.aborted) return;
        if (err instanceof ApiError && err.status === 401) {
          feed.fail('revoked', REVOKED);
          liveClient.stop();
        } else feed.fail('error', messageOf(err, 'The wallboard could not be loaded'));
      });

    // On connecting, the server sends `live:ready` and the current numbers.
    const off = liveClient.on('wallboard:updated', feed.accept);
    liveClient.start({
      auth: { wallboardToken: token },
      reconnectionDelay: 1000,
      reconnectionDelayMax: 10_000,
      onUnauthenticated: () => feed.fail('revoked', REVOKED),
      // The server closed it: the link was revoked, or the server restarts. The GET tells which.
      onServerDisconnect: () =>
        void checkToken().then(() => {
          if (feed.status !== 'revoked') liveClient.reconnect();
        })
    });
    void checkToken();

    return () => {
      controller.abort();
      off();
      liveClient.stop();
    };
  }

  return feed;
}
