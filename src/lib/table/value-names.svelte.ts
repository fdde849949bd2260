import { segmentsApi } from '$lib/segments/segments-api.js';
import type { ListEntity } from '$shared/lists/query.js';
import { SvelteMap } from 'svelte/reactivity';
import type { ValueSource } from './value-source.js';

// Filter values that are ids of something with a name: the customers table's `segment` filter
// holds segment ids (what "open in the customers table" puts in the URL). Chips and the filter's
// picker show the names; the URL and the query keep the ids.

const segmentNames = new SvelteMap<string, string>();
let segmentsRead: Promise<void> | null = null;
/** Ids looked up that the last read did not know: each asks for one more read, not one per render. */
const missed = new Set<string>();

function readSegments(): Promise<void> {
  segmentsRead ??= segmentsApi.list().then(
    ({ segments }) => {
      for (const s of segments) segmentNames.set(String(s.id), s.name);
    },
    () => {
      segmentsRead = null; // the next look tries again; ids show meanwhile
    }
  );
  return segmentsRead;
}

const isSegment = (entity: ListEntity | undefined, field: string) =>
  entity === 'customers' && field === 'segment';

/** The name of an id-valued filter value, or undefined (not such a field, or not known yet). */
export function nameOfValue(
  entity: ListEntity | undefined,
  field: string,
  value: string
): string | undefined {
  if (!isSegment(entity, field)) return undefined;
  const name = segmentNames.get(value);
  if (name === undefined && !missed.has(value)) {
    // Not read yet, or a segment made since: read the names again (once for this id).
    missed.add(value);
    segmentsRead = null;
    void readSegments();
  }
  return name;
}

/** Where the filter's picker finds the values of an id-valued field (segments by name). */
export function valueSourceOf(entity: ListEntity | undefined, field: string): ValueSource | undefined {
  if (!isSegment(entity, field)) return undefined;
  return async (q) => {
    await readSegments();
    const needle = q.toLowerCase();
    return {
      values: [...segmentNames]
        .filter(([, name]) => !needle || name.toLowerCase().includes(needle))
        .map(([value, label]) => ({ value, label })),
      truncated: false
    };
  };
}
