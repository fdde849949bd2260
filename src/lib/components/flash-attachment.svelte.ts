import { untrack } from 'svelte';
import type { Attachment } from 'svelte/attachments';

/**
 * A brief animation each time a live change touches what the element shows: `count` is bumped per
 * change, and the element plays `keyframes` whenever it differs from the last one seen (`since`:
 * by default the count when the element appears, so mounting alone does not flash).
 *
 *   <li {@attach flashOnChange(() => flash, [...], { duration: 1800 })}>
 */
export function flashOnChange(
  count: () => number,
  keyframes: Keyframe[] | ((element: HTMLElement) => Keyframe[]),
  options: KeyframeAnimationOptions,
  since = untrack(count)
): Attachment<HTMLElement> {
  return (element) => {
    let seen = since;
    $effect(() => {
      const next = count();
      if (next === seen) return;
      seen = next;
      element.animate(typeof keyframes === 'function' ? keyframes(element) : keyframes, options);
    });
  };
}
