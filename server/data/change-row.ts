/**
 * One change_log row as the change reader hands it on: the live path's unit. Declared here, with
 * the data layer, because both sides read it: the transport (realtime/) delivers it, and domain
 * services (the wallboard's metrics) apply it.
 */
export interface ChangeRow {
  id: number;
  topic: string;
  op: 'insert' | 'update' | 'delete';
  entityId: number | null;
  customerId: number | null;
  teamId: number | null;
  data: Record<string, unknown>;
  old: Record<string, unknown> | null;
  createdAt: string;
}
