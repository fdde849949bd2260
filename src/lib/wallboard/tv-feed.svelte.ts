import { ApiError } from '$lib/api.js';
import { live } from '$lib/live/connection.svelte.js';
import type { ClientToServerEvents, HandshakeAuth, ServerToClientEvents } from '$shared/events.js';
import { io, type Socket } from 'socket.io-client';
import { untrack } from 'svelte';
import { wallboardApi } from './api.js';
import { WallboardFeed } from './feed.svelte.js';

const REVOKED = 'This wallboard link was revoked or is not valid. Ask a manager for a new one.';

/**
 * A TV's wallboard: nobody signs in, the link's token opens the snapshot and a socket of its own
 * (`auth: { wallboardToken }`) that the server puts in the `wallboard` room and nothing else.
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
          socket.disconnect();
        } else feed.fail('error', err instanceof ApiError ? err.message : 'The wallboard could not be loaded');
      });

    live.set('connecting');
    const auth: HandshakeAuth = { wallboardToken: token };
    const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io({
      path: '/socket.io',
      transports: ['websocket'],
      auth,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 10_000
    });
    // On connecting, the server sends `live:ready` and the current numbers.
    socket.on('live:ready', () => live.set('live'));
    socket.on('wallboard:updated', feed.accept);
    socket.on('disconnect', (reason) => {
      live.set(reason === 'io client disconnect' ? 'offline' : 'reconnecting');
      // The server closed it: the link was revoked, or the server restarts. The GET tells which.
      if (reason === 'io server disconnect') {
        void checkToken().then(() => {
          if (feed.status !== 'revoked') socket.connect();
        });
      }
    });
    socket.on('connect_error', (err) => {
      if (err.message === 'unauthenticated') {
        feed.fail('revoked', REVOKED);
        socket.disconnect();
        live.set('offline');
        return;
      }
      live.set(navigator.onLine ? 'reconnecting' : 'offline');
    });
    socket.io.on('reconnect_attempt', () => live.set(navigator.onLine ? 'reconnecting' : 'offline'));
    void checkToken();

    return () => {
      controller.abort();
      socket.disconnect();
      live.set('offline');
    };
  }

  return feed;
}
