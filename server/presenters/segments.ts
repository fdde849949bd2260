import type { Segment, SegmentGroup, SegmentMembershipChange } from '#shared/schemas/segments.js';

// Change-log rows of segments (camelCased) in the contract's shapes: what sockets and webhooks carry.

type Json = Record<string, unknown>;
const iso = (v: unknown) => (v === null || v === undefined ? null : new Date(String(v)).toISOString());

export const presentMembershipChange = (d: Json): SegmentMembershipChange => ({
  id: Number(d.id),
  segmentId: Number(d.segmentId),
  segmentName: String(d.segmentName),
  customerId: Number(d.customerId),
  change: d.change === 'left' ? 'left' : 'entered',
  at: iso(d.at)!
});

/** A segment row without its compiled SQL (the server's business only). */
export const presentSegmentChange = (d: Json): Segment => ({
  id: Number(d.id),
  name: String(d.name),
  description: String(d.description ?? ''),
  rule: d.rule as SegmentGroup,
  builtIn: (d.builtIn as Segment['builtIn']) ?? null,
  createdBy: (d.createdBy as number | null) ?? null,
  createdAt: iso(d.createdAt)!,
  updatedAt: iso(d.updatedAt)!,
  version: Number(d.version),
  memberCount: d.memberCount === null || d.memberCount === undefined ? null : Number(d.memberCount),
  countedAt: iso(d.countedAt)
});
