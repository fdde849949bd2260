import { Hono } from 'hono';
import { IdParam } from '#shared/schemas/people.js';
import {
  AttributeDefinitionBody,
  AttributeDefinitionPatch,
  AttributeDefinitionsQuery,
  ConsentBody,
  ContactBody,
  ContactPatch,
  CustomerPatch,
  ListQuery,
  NoteBody,
  NotesQuery,
  TimelineQuery
} from '#shared/schemas/customer360.js';
import { requireRole, requireUser } from '../auth/middleware.js';
import type { AppDeps } from '../deps.js';
import { actorOf, type AppEnv } from '../http/env.js';
import { validate } from '../http/validate.js';
import {
  createDefinition,
  deleteDefinition,
  listDefinitions,
  updateDefinition
} from '../services/customers/custom-attributes.js';
import { customerLoyalty, customerOrders, customerTickets } from '../services/customers/lists.js';
import {
  addContact,
  addNote,
  consentHistory,
  deleteContact,
  deleteNote,
  getCustomer360,
  listNotes,
  recordConsent,
  updateContact,
  updateCustomer
} from '../services/customers/profile.js';
import { aliasRedirect } from './merge.js';
import { customerTimeline } from '../services/customers/timeline.js';

/** The customer 360: profile, numbers, contacts, consent, notes, timeline and lists. */
export const customerRoutes = ({ db, config }: AppDeps) =>
  new Hono<AppEnv>()
    .get('/:id', requireUser, validate('param', IdParam), aliasRedirect(db), async (c) =>
      c.json(await getCustomer360(db, actorOf(c), c.req.valid('param').id, config.STORE_TIMEZONE))
    )
    .patch('/:id', requireUser, validate('param', IdParam), validate('json', CustomerPatch), async (c) =>
      c.json({ customer: await updateCustomer(db, actorOf(c), c.req.valid('param').id, c.req.valid('json')) })
    )
    .get(
      '/:id/timeline',
      requireUser,
      validate('param', IdParam),
      validate('query', TimelineQuery),
      async (c) =>
        c.json(await customerTimeline(db, actorOf(c), c.req.valid('param').id, c.req.valid('query')))
    )
    .get('/:id/orders', requireUser, validate('param', IdParam), validate('query', ListQuery), async (c) =>
      c.json(await customerOrders(db, actorOf(c), c.req.valid('param').id, c.req.valid('query')))
    )
    .get('/:id/tickets', requireUser, validate('param', IdParam), validate('query', ListQuery), async (c) =>
      c.json(await customerTickets(db, actorOf(c), c.req.valid('param').id, c.req.valid('query')))
    )
    .get('/:id/loyalty', requireUser, validate('param', IdParam), validate('query', ListQuery), async (c) =>
      c.json(await customerLoyalty(db, actorOf(c), c.req.valid('param').id, c.req.valid('query')))
    )
    .post(
      '/:id/contacts',
      requireUser,
      validate('param', IdParam),
      validate('json', ContactBody),
      async (c) =>
        c.json(
          { contact: await addContact(db, actorOf(c), c.req.valid('param').id, c.req.valid('json')) },
          201
        )
    )
    .get('/:id/consents', requireUser, validate('param', IdParam), async (c) =>
      c.json({ consents: await consentHistory(db, actorOf(c), c.req.valid('param').id) })
    )
    .post(
      '/:id/consents',
      requireUser,
      validate('param', IdParam),
      validate('json', ConsentBody),
      async (c) =>
        c.json(
          { consent: await recordConsent(db, actorOf(c), c.req.valid('param').id, c.req.valid('json')) },
          201
        )
    )
    .get('/:id/notes', requireUser, validate('param', IdParam), validate('query', NotesQuery), async (c) =>
      c.json({ notes: await listNotes(db, actorOf(c), c.req.valid('param').id, c.req.valid('query').q) })
    )
    .post('/:id/notes', requireUser, validate('param', IdParam), validate('json', NoteBody), async (c) =>
      c.json({ note: await addNote(db, actorOf(c), c.req.valid('param').id, c.req.valid('json').body) }, 201)
    );

/** A customer's other emails and phones, by their own id. */
export const customerContactRoutes = ({ db }: AppDeps) =>
  new Hono<AppEnv>()
    .patch('/:id', requireUser, validate('param', IdParam), validate('json', ContactPatch), async (c) =>
      c.json(await updateContact(db, actorOf(c), c.req.valid('param').id, c.req.valid('json')))
    )
    .delete('/:id', requireUser, validate('param', IdParam), async (c) => {
      await deleteContact(db, actorOf(c), c.req.valid('param').id);
      return c.json({ ok: true as const });
    });

export const customerNoteRoutes = ({ db }: AppDeps) =>
  new Hono<AppEnv>().delete('/:id', requireUser, validate('param', IdParam), async (c) => {
    await deleteNote(db, actorOf(c), c.req.valid('param').id);
    return c.json({ ok: true as const });
  });

/** Everyone reads the definitions (the profile shows them); managers and admins manage them. */
export const customAttributeRoutes = ({ db }: AppDeps) =>
  new Hono<AppEnv>()
    .get('/', requireUser, validate('query', AttributeDefinitionsQuery), async (c) =>
      c.json({ attributes: await listDefinitions(db, c.req.valid('query').entity) })
    )
    .post('/', requireRole('manager', 'admin'), validate('json', AttributeDefinitionBody), async (c) =>
      c.json({ attribute: await createDefinition(db, actorOf(c), c.req.valid('json')) }, 201)
    )
    .patch(
      '/:id',
      requireRole('manager', 'admin'),
      validate('param', IdParam),
      validate('json', AttributeDefinitionPatch),
      async (c) =>
        c.json({
          attribute: await updateDefinition(db, actorOf(c), c.req.valid('param').id, c.req.valid('json'))
        })
    )
    .delete('/:id', requireRole('manager', 'admin'), validate('param', IdParam), async (c) => {
      await deleteDefinition(db, actorOf(c), c.req.valid('param').id);
      return c.json({ ok: true as const });
    });
