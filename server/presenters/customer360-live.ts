import type {
  ConsentRecord,
  CustomerContact,
  NoteRecord,
  OrderStatusChange,
  ProfileChange,
  TierChange
} from '#shared/schemas/customer360.js';

// The customer 360's live shapes, from a change_log row (keys camel-cased).

type Json = Record<string, unknown>;
const iso = (v: unknown) => new Date(String(v)).toISOString();
const intOrNull = (v: unknown) => (v == null ? null : Number(v));

export const presentOrderStatusChange = (d: Json): OrderStatusChange => ({
  id: Number(d.id),
  orderId: Number(d.orderId),
  customerId: Number(d.customerId),
  from: d.fromStatus as OrderStatusChange['from'],
  to: d.toStatus as OrderStatusChange['to'],
  actorUserId: intOrNull(d.actorUserId),
  changedAt: iso(d.changedAt)
});

export const presentTierChange = (d: Json): TierChange => ({
  id: Number(d.id),
  customerId: Number(d.customerId),
  entryId: d.entryId == null ? null : Number(d.entryId),
  from: d.fromTier as TierChange['from'],
  to: d.toTier as TierChange['to'],
  changedAt: iso(d.changedAt)
});

export const presentProfileChange = (d: Json): ProfileChange => ({
  id: Number(d.id),
  customerId: Number(d.customerId),
  field: String(d.field),
  old: d.old ?? null,
  new: d.new ?? null,
  actorUserId: intOrNull(d.actorUserId),
  at: iso(d.at)
});

export const presentConsentRecord = (d: Json): ConsentRecord => ({
  id: Number(d.id),
  customerId: Number(d.customerId),
  channel: d.channel as ConsentRecord['channel'],
  granted: Boolean(d.granted),
  at: iso(d.at),
  source: d.source as ConsentRecord['source'],
  actorUserId: intOrNull(d.actorUserId),
  note: String(d.note ?? '')
});

export const presentNoteRecord = (d: Json): NoteRecord => ({
  id: Number(d.id),
  customerId: Number(d.customerId),
  authorId: intOrNull(d.authorId),
  body: String(d.body),
  createdAt: iso(d.createdAt)
});

export const presentContactRecord = (d: Json): CustomerContact => ({
  id: Number(d.id),
  customerId: Number(d.customerId),
  kind: d.kind as CustomerContact['kind'],
  value: String(d.value),
  normalized: String(d.normalized ?? ''),
  label: String(d.label ?? ''),
  version: Number(d.version ?? 1),
  createdAt: iso(d.createdAt)
});
