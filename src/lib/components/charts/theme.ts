import type { Tone } from '../status.js';

// Chart.js draws on a canvas, which cannot read CSS variables: the chart reads the design tokens
// from its canvas once, so a chart inside `data-theme="dark"` (the wallboard) is drawn dark.

/** A chart colour is one of the app's tones. */
export type ChartTone = Tone;

export interface ChartTheme {
  fg: string;
  muted: string;
  subtle: string;
  grid: string;
  surface: string;
  border: string;
  font: string;
  solid(tone: ChartTone): string;
}

export function themeOf(element: Element): ChartTheme {
  const style = getComputedStyle(element);
  const read = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  return {
    fg: read('--fg', '#18181f'),
    muted: read('--fg-muted', '#5b5c6b'),
    subtle: read('--fg-subtle', '#6c6e7d'),
    grid: read('--border-subtle', '#efeff3'),
    border: read('--border', '#e6e6eb'),
    surface: read('--surface-raised', '#ffffff'),
    font: read('--font-sans', 'system-ui, sans-serif'),
    solid: (tone) => read(`--tone-${tone}-solid`, '#5b5bd6')
  };
}

/** `#rrggbb` (or `#rgb`) with an alpha, as `rgb(r g b / a)`; other colour syntaxes pass through. */
export function alpha(color: string, a: number): string {
  const hex = color.trim().replace(/^#/, '');
  if (!/^([0-9a-f]{3}|[0-9a-f]{6})$/i.test(hex)) return color;
  const full = hex.length === 3 ? [...hex].map((c) => c + c).join('') : hex;
  const n = Number.parseInt(full, 16);
  return `rgb(${(n >> 16) & 255} ${(n >> 8) & 255} ${n & 255} / ${a})`;
}
