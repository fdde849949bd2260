import type { User } from 'lucia';
import type { Sequelize } from 'sequelize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sequelizeDb, type Db } from '../../server/data/db.js';
import { acquireSequelize } from '../../server/db.js';
import { discardDraft, getDraft, saveDraft } from '../../server/services/loyalty-program/versions.js';
import { createTeam } from '../../server/services/teams.js';
import { saveThresholds } from '../../server/services/wallboard/thresholds.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createWorld } from '../support/fixtures.js';

// The data layer: services write through the caller's `Db`, so a change and the audit row that
// records it commit together or not at all; and the few Sequelize models left (lucia's sessions)
// say exactly what the database's columns are.

let db: TestDatabase;
let sequelize: Sequelize;
let release: () => Promise<void>;
let app: Db;
let manager: { user: User; ip: string | null };

beforeAll(async () => {
  db = await createTestDatabase();
  const world = await createWorld(db.sql);
  ({ sequelize, release } = acquireSequelize(db.url));
  app = sequelizeDb(sequelize);
  manager = {
    user: {
      id: world.manager.id,
      role: 'manager',
      teamId: null,
      name: 'Manager M',
      email: 'manager@test.dev'
    },
    ip: '192.0.2.7'
  };
});

afterAll(async () => {
  await release?.();
  await db?.drop();
});

const auditRows = async (action: string, targetId?: number) =>
  (
    await db.sql.query(
      `SELECT actor_user_id, target_id, ip::text AS ip, details FROM audit_log
        WHERE action = $1 AND ($2::text IS NULL OR target_id = $2::text)`,
      [action, targetId === undefined ? null : String(targetId)]
    )
  ).rows;

const teamsNamed = async (name: string) =>
  (await db.sql.query(`SELECT id FROM teams WHERE name = $1`, [name])).rows.map((r) => r.id as number);

describe('audit rows commit with the change they record', () => {
  it('a change that commits leaves exactly one audit row, written by the actor from their address', async () => {
    const team = await createTeam(app, manager, { name: 'Returns desk' });
    expect(await teamsNamed('Returns desk')).toEqual([team.id]);
    expect(await auditRows('team.created', team.id)).toEqual([
      {
        actor_user_id: manager.user.id,
        target_id: String(team.id),
        ip: '192.0.2.7/32',
        details: { name: 'Returns desk' }
      }
    ]);
  });

  it('a change whose transaction fails leaves no audit row (and no change)', async () => {
    const before = (await auditRows('team.created')).length;
    await expect(
      app.transaction(async (t) => {
        await createTeam(t, manager, { name: 'Never saved' });
        throw new Error('the caller fails after the service wrote');
      })
    ).rejects.toThrow('the caller fails');
    expect(await teamsNamed('Never saved')).toEqual([]);
    expect(await auditRows('team.created')).toHaveLength(before);
  });

  it('a change the database refuses inside the service leaves no audit row either', async () => {
    await saveThresholds(app, manager, [{ metric: 'unassigned', comparison: 'above', value: '20' }]);
    expect(await auditRows('wallboard.thresholds_updated')).toHaveLength(1);
    // The first rule is written, then the database refuses the second (a negative value).
    await expect(
      saveThresholds(app, manager, [
        { metric: 'unassigned', comparison: 'above', value: '25' },
        { metric: 'open_tickets', comparison: 'above', value: '-1' }
      ])
    ).rejects.toThrow();
    expect(await auditRows('wallboard.thresholds_updated')).toHaveLength(1);
    const { rows } = await db.sql.query(`SELECT metric, value::text AS value FROM wallboard_thresholds`);
    expect(rows).toEqual([{ metric: 'unassigned', value: '20.00' }]);
  });

  it('a draft whose discard cannot be recorded is not discarded', async () => {
    const { current } = await getDraft(app);
    await saveDraft(app, manager, { config: current.config });
    // The audit row is refused (an address Postgres cannot read): the delete goes back with it.
    await expect(discardDraft(app, { ...manager, ip: 'not an address' })).rejects.toThrow();
    expect((await getDraft(app)).draft).not.toBeNull();
    expect(await auditRows('loyalty_program.draft_discarded')).toHaveLength(0);

    await discardDraft(app, manager);
    expect((await getDraft(app)).draft).toBeNull();
    expect(await auditRows('loyalty_program.draft_discarded')).toHaveLength(1);
  });
});

describe('the Sequelize models', () => {
  it('name only columns that exist, with the nullability the database gives them', async () => {
    const models = Object.values(sequelize.models);
    expect(models.map((m) => m.getTableName()).sort()).toEqual(['sessions', 'users']);
    for (const model of models) {
      const table = String(model.getTableName());
      const { rows } = await db.sql.query<{
        column_name: string;
        is_nullable: 'YES' | 'NO';
        column_default: string | null;
      }>(
        `SELECT column_name, is_nullable, column_default FROM information_schema.columns
          WHERE table_schema = 'public' AND table_name = $1`,
        [table]
      );
      const columns = new Map(rows.map((r) => [r.column_name, r]));
      // A primary key is NOT NULL in Sequelize's reading too.
      for (const [name, attribute] of Object.entries(model.getAttributes())) {
        const column = columns.get(attribute.field ?? name);
        expect(column, `${table}.${attribute.field ?? name} (${model.name}.${name})`).toBeDefined();
        expect(
          { column: column!.column_name, nullable: attribute.allowNull !== false && !attribute.primaryKey },
          `${model.name}.${name}`
        ).toEqual({ column: column!.column_name, nullable: column!.is_nullable === 'YES' });
      }
      // A column the model leaves out must fill itself in, or the model could not insert a row.
      const mapped = new Set(Object.values(model.getAttributes()).map((a) => a.field));
      const unfillable = rows.filter(
        (r) => !mapped.has(r.column_name) && r.is_nullable === 'NO' && r.column_default === null
      );
      if (table === 'sessions') expect(unfillable.map((r) => r.column_name)).toEqual([]);
    }
  });
});
