import { api, queryOf, unwrap } from '$lib/api.js';
import { authed as call } from '$lib/session.svelte.js';
import type {
  AttributeDefinition,
  AttributeType,
  ConsentChannel,
  ConsentEntry,
  Customer360,
  CustomerContact,
  CustomerLoyaltyRow,
  CustomerNote,
  CustomerOrderRow,
  CustomerPatch,
  CustomerProfile,
  CustomerTicketRow,
  TimelineKind,
  TimelinePage
} from '$shared/schemas/customer360.js';

// The customer 360's calls, through the typed client; answers are the contract's shapes.

const id = (n: number) => ({ id: String(n) });

export interface Page<T> {
  rows: T[];
  next: number | null;
}

export const customerApi = {
  get: (customerId: number, signal?: AbortSignal): Promise<Customer360> =>
    call(unwrap(api.api.customers[':id'].$get({ param: id(customerId) }, { init: { signal } }))),
  patch: (customerId: number, patch: CustomerPatch): Promise<{ customer: CustomerProfile }> =>
    call(unwrap(api.api.customers[':id'].$patch({ param: id(customerId), json: patch }))),
  timeline: (
    customerId: number,
    q: { kinds?: readonly TimelineKind[]; before?: string | null; limit?: number },
    signal?: AbortSignal
  ): Promise<TimelinePage> =>
    call(
      unwrap(
        api.api.customers[':id'].timeline.$get(
          {
            param: id(customerId),
            query: queryOf({ kinds: q.kinds?.join(','), before: q.before, limit: q.limit })
          },
          { init: { signal } }
        )
      )
    ),
  orders: (customerId: number, before?: number | null): Promise<Page<CustomerOrderRow>> =>
    call(unwrap(api.api.customers[':id'].orders.$get({ param: id(customerId), query: queryOf({ before }) }))),
  tickets: (customerId: number, before?: number | null): Promise<Page<CustomerTicketRow>> =>
    call(
      unwrap(api.api.customers[':id'].tickets.$get({ param: id(customerId), query: queryOf({ before }) }))
    ),
  loyalty: (customerId: number, before?: number | null): Promise<Page<CustomerLoyaltyRow>> =>
    call(
      unwrap(api.api.customers[':id'].loyalty.$get({ param: id(customerId), query: queryOf({ before }) }))
    ),
  notes: (customerId: number, q?: string): Promise<{ notes: CustomerNote[] }> =>
    call(unwrap(api.api.customers[':id'].notes.$get({ param: id(customerId), query: queryOf({ q }) }))),
  addNote: (customerId: number, body: string): Promise<{ note: CustomerNote }> =>
    call(unwrap(api.api.customers[':id'].notes.$post({ param: id(customerId), json: { body } }))),
  deleteNote: (noteId: number): Promise<{ ok: true }> =>
    call(unwrap(api.api['customer-notes'][':id'].$delete({ param: id(noteId) }))),
  consents: (customerId: number): Promise<{ consents: ConsentEntry[] }> =>
    call(unwrap(api.api.customers[':id'].consents.$get({ param: id(customerId) }))),
  recordConsent: (
    customerId: number,
    body: { channel: ConsentChannel; granted: boolean; note?: string }
  ): Promise<{ consent: ConsentEntry }> =>
    call(unwrap(api.api.customers[':id'].consents.$post({ param: id(customerId), json: body }))),
  addContact: (
    customerId: number,
    body: { kind: 'email' | 'phone'; value: string; label?: string }
  ): Promise<{ contact: CustomerContact }> =>
    call(unwrap(api.api.customers[':id'].contacts.$post({ param: id(customerId), json: body }))),
  patchContact: (
    contactId: number,
    body: { version: number; value?: string; label?: string; primary?: true }
  ): Promise<{ contact: CustomerContact | null; customer: CustomerProfile }> =>
    call(unwrap(api.api['customer-contacts'][':id'].$patch({ param: id(contactId), json: body }))),
  deleteContact: (contactId: number): Promise<{ ok: true }> =>
    call(unwrap(api.api['customer-contacts'][':id'].$delete({ param: id(contactId) })))
};

export const attributesApi = {
  list: (): Promise<{ attributes: AttributeDefinition[] }> =>
    call(unwrap(api.api['custom-attributes'].$get({ query: { entity: 'customer' } }))),
  create: (body: {
    key: string;
    label: string;
    type: AttributeType;
    options: string[];
  }): Promise<{ attribute: AttributeDefinition }> =>
    call(unwrap(api.api['custom-attributes'].$post({ json: { entity: 'customer', ...body } }))),
  update: (
    attributeId: number,
    body: { label?: string; options?: string[] }
  ): Promise<{ attribute: AttributeDefinition }> =>
    call(unwrap(api.api['custom-attributes'][':id'].$patch({ param: id(attributeId), json: body }))),
  remove: (attributeId: number): Promise<{ ok: true }> =>
    call(unwrap(api.api['custom-attributes'][':id'].$delete({ param: id(attributeId) })))
};
