import type { Transaction } from 'sequelize';
import { AuditEntry } from '../models/index.js';

export interface AuditEvent {
  action: string;
  actorUserId?: number | null;
  targetType?: string;
  targetId?: string | number;
  ip?: string | null;
  details?: Record<string, unknown>;
}

/** Appends to audit_log (the database refuses updates and deletes of it), in `transaction` when given. */
export async function audit(event: AuditEvent, transaction?: Transaction): Promise<AuditEntry> {
  return AuditEntry.create(
    {
      action: event.action,
      actorUserId: event.actorUserId ?? null,
      targetType: event.targetType ?? null,
      targetId: event.targetId === undefined ? null : String(event.targetId),
      ip: event.ip ?? null,
      details: event.details ?? {}
    },
    { transaction }
  );
}
