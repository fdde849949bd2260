/**
 * Whether `next` may replace `current`. Every live entity carries a version that grows with each
 * change in commit order, so an event replayed after a newer live one, or a REST answer read
 * before an event already applied, never takes the screen back. Equal versions are the same state.
 */
export function isNewer(
  current: { version?: number } | undefined | null,
  next: { version?: number }
): boolean {
  if (!current || current.version === undefined || next.version === undefined) return true;
  return next.version >= current.version;
}

/**
 * The newest version seen of each entity of one kind, removals included: a REST answer taken
 * before a change the screen already applied (a row that then left the view) cannot bring the
 * old row back.
 */
export class VersionLedger {
  #seen = new Map<number, number>();

  /** Records `entity` as applied; false (and nothing recorded) when an equal or newer one was. */
  note(entity: { id: number; version?: number }): boolean {
    if (entity.version === undefined) return true;
    const seen = this.#seen.get(entity.id);
    if (seen !== undefined && seen > entity.version) return false;
    this.#seen.set(entity.id, entity.version);
    return true;
  }

  /** Whether a REST row is at least as new as every change applied to its entity. */
  current(entity: { id: number; version?: number }): boolean {
    const seen = this.#seen.get(entity.id);
    return seen === undefined || entity.version === undefined || entity.version >= seen;
  }

  clear() {
    this.#seen.clear();
  }
}
