import { ApiError, messageOf } from '$lib/api.js';
import { liveClient, type Answer } from '$lib/live/live-client.js';
import { untrack } from 'svelte';
import { wallboardApi } from './api.js';
import { WallboardFeed } from './feed.svelte.js';

/**
 * A signed-in manager's wallboard numbers: optionally the GET snapshot first, then the `wallboard`
 * room over the app's one socket (the live client joins it again after every reconnect). Call
 * during a component's initialisation; it stops with the component.
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
        else feed.fail('error', messageOf(err, 'The wallboard could not be loaded'));
      });
    }
    let retry: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const onAnswer = (answer: Answer<'wallboard:watch'>) => {
      clearTimeout(retry);
      if (stopped) return;
      if ('data' in answer) return feed.accept(answer.data);
      if (answer.error.code === 'forbidden') return feed.fail('forbidden', answer.error.message);
      // Offline: the watch is sent again once live.
      if (answer.error.code === 'offline') return;
      // `unavailable`: the server is still computing its first numbers.
      retry = setTimeout(() => void liveClient.ask('wallboard:watch').then(onAnswer), 2000);
    };
    const offs = [
      liveClient.on('wallboard:updated', feed.accept),
      liveClient.watch('wallboard:watch', [], onAnswer)
    ];
    return () => {
      stopped = true;
      clearTimeout(retry);
      controller.abort();
      for (const off of offs) off();
    };
  }

  return feed;
}
