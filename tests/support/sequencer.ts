import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Seconds each test file took in a full run (tests/support/durations.json, written by
 * `npx tsx tests/support/record-durations.ts <vitest json report>`). A fresh clone has no Vitest
 * cache, so without this table the order would be by file size, which says little about time.
 */
const RECORDED: Record<string, number> = JSON.parse(
  readFileSync(path.join(import.meta.dirname, 'durations.json'), 'utf8')
);

/**
 * Longest files first over all projects, so the two workers finish together instead of one
 * running the last long file alone: the table above, else the last run's time from Vitest's cache,
 * else unknown (a new file), which runs first as Vitest would. Browser files start after the
 * first long files of the others: the frontend build runs in the background meanwhile
 * (global-setup-e2e.ts), and a browser file waits for it.
 */
export default class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const expected = (spec: TestSpecification) => {
      const file = path.relative(root, spec.moduleId).split(path.sep).join('/');
      return (
        RECORDED[file] ??
        (this.ctx.cache.getFileTestResults(`${spec.project.name}:${file}`)?.duration ?? Infinity) / 1000
      );
    };
    const sorted = [...files].sort((a, b) => expected(b) - expected(a));
    const workers = this.ctx.config.maxWorkers ?? 1;
    const first = sorted.filter((spec) => spec.project.name !== 'e2e').slice(0, workers);
    return [...first, ...sorted.filter((spec) => !first.includes(spec))];
  }
}
