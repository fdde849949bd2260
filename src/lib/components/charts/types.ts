import type { ChartTone } from './theme.js';

export type { ChartTone };

/** One line or set of bars. */
export interface Series {
  label: string;
  data: (number | null)[];
  tone: ChartTone;
  /** Bars: one tone per bar (categories with their own colours, e.g. priorities). */
  tones?: ChartTone[];
  /** Overrides the chart's kind for this series (bars with a line on top). */
  kind?: 'line' | 'bar';
  /** Which value axis: the left (`y`, default) or the right (`y1`). */
  axis?: 'y' | 'y1';
  /** Lines: shade the area under the line. */
  fill?: boolean;
  dashed?: boolean;
  /** Bars: series with the same stack name are stacked. */
  stack?: string;
}

export type ValueFormat = (value: number) => string;
