const WIDTH = 24;
const REDRAW_EVERY_MS = 100;

export interface ProgressBar {
  update(customersDone: number, rowsDone: number): void;
  /** Ends the bar's line so that later output starts on a fresh one. */
  finish(): void;
}

/**
 * One line on stderr, redrawn in place with `\r` on a terminal:
 *   [#########---------------]  38%  38,000/100,000 customers  1,020,311 rows  96,400 rows/s  ETA 0:41
 * When stderr is not a terminal (CI, a log file) it prints a line at every 10% instead.
 */
export function createProgressBar(
  totalCustomers: number,
  stream: NodeJS.WriteStream = process.stderr
): ProgressBar {
  const startedAt = performance.now();
  let lastDraw = 0;
  let lastDecile = -1;
  let drawn = false;

  const line = (customers: number, rows: number) => {
    const fraction = totalCustomers === 0 ? 1 : customers / totalCustomers;
    const seconds = (performance.now() - startedAt) / 1000;
    const started = seconds >= 0.5 && customers > 0;
    const rate = started ? count(Math.round(rows / seconds)) : '-';
    const eta = started ? clock((seconds / fraction) * (1 - fraction)) : '-:--';
    const filled = Math.round(fraction * WIDTH);
    return (
      `[${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}%  ` +
      `${count(customers)}/${count(totalCustomers)} customers  ${count(rows)} rows  ${rate} rows/s  ETA ${eta}`
    );
  };

  return {
    update(customers, rows) {
      if (stream.isTTY) {
        const now = performance.now();
        if (now - lastDraw < REDRAW_EVERY_MS && customers < totalCustomers) return;
        lastDraw = now;
        stream.write(`\r${line(customers, rows)}\x1b[K`);
        drawn = true;
      } else {
        const decile = Math.floor((customers / Math.max(totalCustomers, 1)) * 10);
        if (decile === lastDecile) return;
        lastDecile = decile;
        stream.write(`${line(customers, rows)}\n`);
      }
    },
    finish() {
      if (drawn) stream.write('\n');
      drawn = false;
    }
  };
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}

function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}
