import { untrack } from 'svelte';
import type { Attachment } from 'svelte/attachments';
import type { Chart } from './setup.js';

/**
 * One Chart.js instance per canvas: `create` runs once when the canvas is mounted, `sync` runs in
 * a child effect whenever the reactive values it reads change (it updates the chart in place),
 * and the chart is destroyed with the canvas.
 *
 *   <canvas {@attach chartAttachment(create, sync)}></canvas>
 */
export function chartAttachment(
  create: (canvas: HTMLCanvasElement) => Chart,
  sync: (chart: Chart) => void
): Attachment<HTMLCanvasElement> {
  return (canvas) => {
    const chart = untrack(() => create(canvas));
    $effect(() => sync(chart));
    return () => chart.destroy();
  };
}
