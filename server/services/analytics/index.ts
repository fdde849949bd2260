export { cohortReport } from './cohorts.js';
export { customersDrill, ordersDrill, ticketsDrill, EXPORT_LIMIT } from './drilldown.js';
export { resolveRange, resolveSeries } from './range.js';
export { buildRfmBoundaries, rfmProfileRange, rfmReport, rfmSegmentOf } from './rfm.js';
export { ensureFresh, refreshRollups } from './rollups.js';
export { salesReport, topCategories, topProducts } from './sales.js';
export { supportReport } from './support.js';
