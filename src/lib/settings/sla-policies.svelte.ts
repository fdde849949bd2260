import { ApiError, messageOf } from '$lib/api.js';
import type { TicketPriority } from '$shared/enums.js';
import type { SlaPolicy } from '$shared/schemas/tickets.js';
import { constraintOf, settingsApi } from './api.js';
import { describeMinutes, toDraft, toMinutes, type DurationDraft } from './duration.js';

/** Most urgent first, as the console sorts. */
export const PRIORITY_ORDER: readonly TicketPriority[] = ['urgent', 'high', 'normal', 'low'];

/** The database's limits (sla_policies CHECKs): 30 days to answer, 90 to resolve. */
export const TARGET_LIMITS = { firstResponse: 43_200, resolution: 129_600 } as const;

export type Target = keyof typeof TARGET_LIMITS;

export interface SlaRow {
  priority: TicketPriority;
  firstResponse: DurationDraft;
  resolution: DurationDraft;
}

export type RowProblems = Partial<Record<Target, string>>;

const rowOf = (p: SlaPolicy): SlaRow => ({
  priority: p.priority,
  firstResponse: toDraft(p.firstResponseMinutes),
  resolution: toDraft(p.resolutionMinutes)
});

const byUrgency = (a: { priority: TicketPriority }, b: { priority: TicketPriority }) =>
  PRIORITY_ORDER.indexOf(a.priority) - PRIORITY_ORDER.indexOf(b.priority);

function problemsOf(row: SlaRow): RowProblems {
  const out: RowProblems = {};
  const first = toMinutes(row.firstResponse);
  const resolution = toMinutes(row.resolution);
  if (first === null) out.firstResponse = 'Enter a number above zero';
  else if (first > TARGET_LIMITS.firstResponse) out.firstResponse = 'At most 30 days';
  if (resolution === null) out.resolution = 'Enter a number above zero';
  else if (resolution > TARGET_LIMITS.resolution) out.resolution = 'At most 90 days';
  else if (first !== null && resolution < first)
    out.resolution = `At least the first-response target (${describeMinutes(first)})`;
  return out;
}

/** The SLA targets table: drafts per priority, validation, and saving the rows that changed. */
export class SlaPoliciesEditor {
  /** What the server last said. */
  saved = $state.raw<SlaPolicy[]>([]);
  rows = $state<SlaRow[]>([]);
  loading = $state(true);
  loadError = $state<string | null>(null);
  saving = $state(false);
  /** The outcome of the last save, until the next edit. */
  outcome = $state<{ tone: 'success' | 'danger'; message: string } | null>(null);
  /** Messages the server attached to fields, keyed `priority.target`. */
  serverProblems = $state<Record<string, string>>({});

  readonly problems = $derived(
    Object.fromEntries(this.rows.map((r) => [r.priority, problemsOf(r)])) as Record<
      TicketPriority,
      RowProblems
    >
  );
  readonly valid = $derived(Object.values(this.problems).every((p) => Object.keys(p).length === 0));
  readonly changed = $derived(this.rows.flatMap((row) => this.#changedPolicy(row) ?? []));
  readonly dirty = $derived(this.changed.length > 0);

  async load() {
    this.loading = true;
    this.loadError = null;
    try {
      const { policies } = await settingsApi.slaPolicies();
      this.#apply(policies);
    } catch (err) {
      this.loadError = messageOf(err, 'The SLA targets did not load.');
    } finally {
      this.loading = false;
    }
  }

  isRowChanged(priority: TicketPriority): boolean {
    return this.changed.some((p) => p.priority === priority);
  }

  savedOf(priority: TicketPriority): SlaPolicy | undefined {
    return this.saved.find((p) => p.priority === priority);
  }

  /** Call when a field is edited: old outcomes and server messages no longer apply. */
  touched(priority: TicketPriority, target: Target) {
    this.outcome = null;
    const key = `${priority}.${target}`;
    if (key in this.serverProblems) {
      const rest = { ...this.serverProblems };
      delete rest[key];
      this.serverProblems = rest;
    }
  }

  discard() {
    this.#apply(this.saved);
    this.outcome = null;
  }

  async save(): Promise<boolean> {
    if (this.saving || !this.dirty || !this.valid) return false;
    const policies = this.changed;
    this.saving = true;
    this.outcome = null;
    this.serverProblems = {};
    try {
      const answer = await settingsApi.saveSlaPolicies(policies);
      this.#apply(answer.policies, { keepDrafts: true });
      const which = policies
        .map((p) => p.priority)
        .sort((a, b) => byUrgency({ priority: a }, { priority: b }));
      this.outcome = { tone: 'success', message: `Saved targets for ${which.join(', ')} priority.` };
      return true;
    } catch (err) {
      this.serverProblems = this.#fieldProblems(err, policies);
      this.outcome = { tone: 'danger', message: this.#explain(err) };
      return false;
    } finally {
      this.saving = false;
    }
  }

  /** Shows what the server holds; `keepDrafts` leaves "1.5 hours" as typed when it is what was saved. */
  #apply(policies: SlaPolicy[], { keepDrafts = false } = {}) {
    const drafts = new Map(this.rows.map((r) => [r.priority, r]));
    this.saved = [...policies].sort(byUrgency);
    this.rows = this.saved.map((p) => {
      const draft = keepDrafts ? drafts.get(p.priority) : undefined;
      const fresh = rowOf(p);
      return {
        priority: p.priority,
        firstResponse:
          draft && toMinutes(draft.firstResponse) === p.firstResponseMinutes
            ? { ...draft.firstResponse }
            : fresh.firstResponse,
        resolution:
          draft && toMinutes(draft.resolution) === p.resolutionMinutes
            ? { ...draft.resolution }
            : fresh.resolution
      };
    });
    this.serverProblems = {};
  }

  #changedPolicy(row: SlaRow): SlaPolicy | null {
    const before = this.savedOf(row.priority);
    const firstResponseMinutes = toMinutes(row.firstResponse);
    const resolutionMinutes = toMinutes(row.resolution);
    if (!before || firstResponseMinutes === null || resolutionMinutes === null) return null;
    if (
      before.firstResponseMinutes === firstResponseMinutes &&
      before.resolutionMinutes === resolutionMinutes
    )
      return null;
    return { priority: row.priority, firstResponseMinutes, resolutionMinutes };
  }

  #explain(err: unknown): string {
    if (constraintOf(err) === 'sla_policies_resolution_after_response') {
      return 'Not saved: a resolution target is shorter than its first-response target.';
    }
    if (err instanceof ApiError && err.status === 403)
      return 'Not saved: only managers and admins can change SLA targets.';
    return `Not saved: ${messageOf(err, 'something went wrong.')}`;
  }

  /** `policies.1.resolutionMinutes` → `high.resolution`. */
  #fieldProblems(err: unknown, sent: SlaPolicy[]): Record<string, string> {
    if (!(err instanceof ApiError)) return {};
    const out: Record<string, string> = {};
    for (const [path, message] of Object.entries(err.fieldErrors)) {
      const match = /^policies\.(\d+)\.(firstResponseMinutes|resolutionMinutes)$/.exec(path);
      const policy = match && sent[Number(match[1])];
      if (policy)
        out[`${policy.priority}.${match[2] === 'firstResponseMinutes' ? 'firstResponse' : 'resolution'}`] =
          message;
    }
    return out;
  }
}
