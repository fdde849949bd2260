import { ApiError } from '$lib/api.js';
import { live } from '$lib/live/connection.svelte.js';
import { liveClient } from '$lib/live/live-client.js';
import { untrack } from 'svelte';
import { wallboardApi } from './api.js';
import { WallboardFeed } from './feed.svelte.js';

let watchers = 0;

/**
 * A signed-in manager's wallboard numbers: optionally the GET snapshot first, then the `wallboard`
 * room over the app's one socket (joined again after every reconnect, since rooms do not survive
 * one). Call during a component's initialisation; it stops with the component.
 */
export function followWallboard({ fetchFirst = true } = {}): WallboardFeed {
  const feed = new WallboardFeed();

  $effect(() => untrack(() => start()));

  function start() {
    const controller = new AbortController();
    if (fetchFirst) {
      wallboardApi.snapshot(undefined, controller.signal).then(feed.accept, (err: unknown) => {
        if (controller.signal.aborted) return;
        if (err instanceof ApiError && err.code === 'forbidden') feed.fail('forbidden', err.message);
        else feed.fail('error', err instanceof ApiError ? err.message : 'The wallboard could not be loaded');
      });
    }
    watchers++;
    const off = liveClient.on('wallboard:updated', feed.accept);
    return () => {
      controller.abort();
      off();
      if (--watchers === 0) liveClient.emit('wallboard:unwatch');
    };
  }

  $effect(() => {
    if (live.state !== 'live') return;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const watch = () =>
      liveClient.watchWallboard().then((answer) => {
        if (stopped) return;
        if ('data' in answer) return feed.accept(answer.data);
        if (answer.error.code === 'forbidden') return feed.fail('forbidden', answer.error.message);
        // `unavailable`: the server is still computing its first numbers.
        retry = setTimeout(watch, 2000);
      });
    untrack(watch);
    return () => {
      stopped = true;
      clearTimeout(retry);
    };
  });

  return feed;
}
