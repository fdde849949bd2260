import {
  checkAttributeValue,
  type AttributeDefinition,
  type AttributeType
} from '#shared/schemas/customer360.js';
import type { z } from 'zod';
import type { AttributeDefinitionBody, AttributeDefinitionPatch } from '#shared/schemas/customer360.js';
import type { Db } from '../../data/db.js';
import { AppError, notFound } from '../../errors.js';
import type { Actor } from '../../http/env.js';
import { auditIn } from './audit.js';

type Entity = AttributeDefinition['entity'];

interface Row {
  id: number;
  entity: Entity;
  key: string;
  label: string;
  type: AttributeType;
  options: string[];
  created_at: Date;
}

const present = (r: Row): AttributeDefinition => ({
  id: r.id,
  entity: r.entity,
  key: r.key,
  label: r.label,
  type: r.type,
  options: r.options,
  createdAt: new Date(r.created_at).toISOString()
});

export async function listDefinitions(db: Db, entity: Entity): Promise<AttributeDefinition[]> {
  const rows = await db.query<Row>(
    `SELECT * FROM custom_attribute_definitions WHERE entity = $1 ORDER BY label, id`,
    [entity]
  );
  return rows.map(present);
}

export async function createDefinition(
  db: Db,
  actor: Actor,
  input: z.infer<typeof AttributeDefinitionBody>
): Promise<AttributeDefinition> {
  return db.transaction(async (t) => {
    const [row] = await t.query<Row>(
      `INSERT INTO custom_attribute_definitions (entity, key, label, type, options, created_by)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT ON CONSTRAINT custom_attribute_key_unique DO NOTHING RETURNING *`,
      [input.entity, input.key, input.label, input.type, input.options, actor.user.id]
    );
    if (!row)
      throw new AppError('conflict', `A ${input.entity} attribute with the key ${input.key} already exists`);
    await auditIn(
      t,
      actor,
      'custom_attribute.created',
      { type: 'custom_attribute', id: row.id },
      {
        new: present(row)
      }
    );
    return present(row);
  });
}

export async function updateDefinition(
  db: Db,
  actor: Actor,
  id: number,
  input: z.infer<typeof AttributeDefinitionPatch>
): Promise<AttributeDefinition> {
  return db.transaction(async (t) => {
    const [before] = await t.query<Row>(
      `SELECT * FROM custom_attribute_definitions WHERE id = $1 FOR UPDATE`,
      [id]
    );
    if (!before) throw notFound('Attribute');
    if (input.options !== undefined && (before.type === 'choice') !== input.options.length > 0)
      throw new AppError(
        'validation_failed',
        'Only a one-of-list attribute has options, and it needs at least one',
        [{ path: 'options', message: 'only a one-of-list attribute has options, and it needs at least one' }]
      );
    const [row] = await t.query<Row>(
      `UPDATE custom_attribute_definitions SET label = coalesce($2, label), options = coalesce($3, options)
        WHERE id = $1 RETURNING *`,
      [id, input.label ?? null, input.options ?? null]
    );
    await auditIn(
      t,
      actor,
      'custom_attribute.updated',
      { type: 'custom_attribute', id },
      {
        old: present(before),
        new: present(row)
      }
    );
    return present(row);
  });
}

/**
 * Removes a definition. Values customers hold under its key stay in their records (nothing is
 * lost; defining the key again shows them) but are no longer shown or accepted.
 */
export async function deleteDefinition(db: Db, actor: Actor, id: number): Promise<void> {
  await db.transaction(async (t) => {
    const [row] = await t.query<Row>(`DELETE FROM custom_attribute_definitions WHERE id = $1 RETURNING *`, [
      id
    ]);
    if (!row) throw notFound('Attribute');
    await auditIn(
      t,
      actor,
      'custom_attribute.deleted',
      { type: 'custom_attribute', id },
      { old: present(row) }
    );
  });
}

/**
 * The attribute values of a write checked against the definitions: each key must be defined for
 * `entity`, each value fit its type (null removes the value). Returns the values as stored.
 */
export async function checkAttributes(
  db: Db,
  entity: Entity,
  values: Record<string, unknown>
): Promise<Record<string, string | number | boolean | null>> {
  const keys = Object.keys(values);
  if (keys.length === 0) return {};
  const defs = await db.query<Row>(
    `SELECT * FROM custom_attribute_definitions WHERE entity = $1 AND key = ANY($2::text[])`,
    [entity, keys]
  );
  const byKey = new Map(defs.map((d) => [d.key, d]));
  const issues: { path: string; message: string }[] = [];
  const out: Record<string, string | number | boolean | null> = {};
  for (const key of keys) {
    const def = byKey.get(key);
    const value = values[key];
    if (!def) {
      issues.push({ path: `attributes.${key}`, message: 'is not a defined attribute' });
      continue;
    }
    if (value === null) {
      out[key] = null;
      continue;
    }
    const checked = checkAttributeValue(def, value);
    if (checked.ok) out[key] = checked.value;
    else issues.push({ path: `attributes.${key}`, message: checked.message });
  }
  if (issues.length)
    throw new AppError(
      'validation_failed',
      `Invalid attributes: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`,
      issues
    );
  return out;
}
