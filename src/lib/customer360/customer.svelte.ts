import { ApiError, horizonOf } from '$lib/api.js';
import { watchCustomer } from '$lib/console/watch.js';
import { isNewer, liveClient } from '$lib/live/live-client.js';
import type { CurrentUser } from '$shared/schemas/auth.js';
import type {
  ConsentChannel,
  Customer360,
  CustomerContact,
  CustomerLoyaltyRow,
  CustomerNote,
  CustomerOrderRow,
  CustomerPatch,
  CustomerProfile,
  CustomerTicketRow,
  Person,
  TimelineItem
} from '$shared/schemas/customer360.js';
import type { LoyaltyAccountDetail } from '$shared/schemas/loyalty.js';
import { memberApi } from '$lib/loyalty/member-api.js';
import { SvelteMap, SvelteSet } from 'svelte/reactivity';
import { customerApi } from './api.js';
import {
  fromConsent,
  fromCsat,
  fromLoyalty,
  fromMessage,
  fromNote,
  fromOrderCreated,
  fromOrderStatus,
  fromProfileChange,
  fromTicketCreated,
  fromTier,
  fromSegment,
  kindsOf,
  mergeItems,
  type TimelineGroup
} from './timeline.js';

const PAGE = 30;
/** Numbers (lifetime value, RFM, CSAT...) are the server's sums: re-read a moment after changes settle. */
const NUMBERS_SETTLE_MS = 400;
/** How long a new timeline item or a changed number is highlighted. */
const FRESH_MS = 2500;

export type EditResult = { ok: true } | { ok: false; message: string };

/** An error as one line next to the control that failed, with the field's own message when there is one. */
function messageFor(err: unknown, field?: string): string {
  if (err instanceof ApiError) {
    const fields = err.fieldErrors;
    const own =
      field && Object.entries(fields).find(([path]) => path === field || path.startsWith(`${field}.`));
    if (own) return own[1];
    const first = Object.values(fields)[0];
    if (first) return first;
    return err.message;
  }
  return 'That did not save. Try again.';
}

/**
 * One customer's 360: the profile, its numbers, other contacts, consent, notes, the lists and one
 * timeline, live from the customer's room (and the viewer's team rooms, for ticket messages they
 * may see). REST answers and events meet by version (profile, loyalty, contacts) and by item key
 * (timeline), so whichever arrives first, the screen never goes back.
 */
export class CustomerView {
  readonly id: number;
  readonly user: CurrentUser;
  data = $state<Customer360 | null>(null);
  phase = $state<'loading' | 'ready' | 'error'>('loading');
  loadError = $state<{ status: number; message: string } | null>(null);
  /** Why the last edit was not saved (someone else's edit won), shown above the profile. */
  conflict = $state<string | null>(null);

  items = $state<TimelineItem[]>([]);
  next = $state<string | null>(null);
  group = $state<TimelineGroup | null>(null);
  timelineState = $state<'loading' | 'ready' | 'error'>('loading');
  loadingMore = $state(false);
  /** Keys of items that arrived live a moment ago. */
  fresh = new SvelteSet<string>();

  notes = $state<CustomerNote[]>([]);
  orders = $state<CustomerOrderRow[]>([]);
  tickets = $state<CustomerTicketRow[]>([]);
  loyalty = $state<CustomerLoyaltyRow[]>([]);
  more = $state<{ orders: number | null; tickets: number | null; loyalty: number | null }>({
    orders: null,
    tickets: null,
    loyalty: null
  });
  /**
   * The member's account as the loyalty API reads it: what the live summary lacks (points expiring
   * in 30 days). null when the customer is no member. Balance, pending and tier come live from
   * `data.numbers.loyalty`; this is re-read when a ledger entry arrives.
   */
  points = $state<LoyaltyAccountDetail | null>(null);
  /** Bumped when a live change touches a number ('numbers', 'loyalty'). */
  flashes = new SvelteMap<string, number>();

  readonly customer = $derived(this.data?.customer ?? null);
  readonly name = $derived(
    this.customer ? `${this.customer.firstName} ${this.customer.lastName}`.trim() : ''
  );

  #names = new Map<number, string>();
  #ticketSubjects = new Map<number, string>();
  #numbersTimer: ReturnType<typeof setTimeout> | undefined;
  #pointsTimer: ReturnType<typeof setTimeout> | undefined;
  #timelineAbort: AbortController | null = null;
  #releaseRoom: (() => void) | null = null;
  #closed = false;

  constructor(id: number, user: CurrentUser) {
    this.id = id;
    this.user = user;
    this.#names.set(user.id, user.name);
  }

  /** Loads everything the screen shows, or reloads it over what is on screen. */
  async load(): Promise<boolean> {
    try {
      const [fresh, notes, orders, tickets, loyalty, points] = await Promise.all([
        customerApi.get(this.id),
        customerApi.notes(this.id),
        customerApi.orders(this.id),
        customerApi.tickets(this.id),
        customerApi.loyalty(this.id),
        this.#readPoints()
      ]);
      if (this.#closed) return true;
      this.#takeProfile(fresh);
      this.#takePoints(points);
      this.notes = notes.notes;
      for (const n of notes.notes) if (n.author) this.#names.set(n.author.id, n.author.name);
      this.orders = this.#keepNewer(this.orders, orders.rows);
      this.tickets = this.#keepNewer(this.tickets, tickets.rows);
      for (const t of tickets.rows) if (t.href) this.#ticketSubjects.set(t.id, t.subject);
      this.loyalty = loyalty.rows;
      this.more = { orders: orders.next, tickets: tickets.next, loyalty: loyalty.next };
      this.phase = 'ready';
      this.loadError = null;
      // The room from the moment this state was read: what it received since is sent too.
      if (!this.#releaseRoom) this.#releaseRoom = watchCustomer(this.id, horizonOf(fresh));
      await this.loadTimeline();
      return true;
    } catch (err) {
      if (this.#closed) return true;
      if (this.data) return false;
      this.phase = 'error';
      this.loadError =
        err instanceof ApiError
          ? { status: err.status, message: err.message }
          : { status: 0, message: 'This customer could not be loaded.' };
      return false;
    }
  }

  #takeProfile(fresh: Customer360) {
    const shown = this.data;
    if (shown) {
      if (!isNewer(shown.customer, fresh.customer)) fresh.customer = shown.customer;
      const a = shown.numbers.loyalty;
      const b = fresh.numbers.loyalty;
      if (a && b && a.version > b.version) fresh.numbers.loyalty = a;
    }
    this.data = fresh;
  }

  /** The member's account, or null when the customer is no member (404). */
  async #readPoints(): Promise<LoyaltyAccountDetail | null> {
    try {
      return (await memberApi.account(this.id)).account;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return null;
      throw err;
    }
  }

  #takePoints(points: LoyaltyAccountDetail | null) {
    if (!points || !this.points || points.version >= this.points.version) this.points = points;
  }

  /** Expiring points are a sum over lots the server keeps: re-read once a burst of entries settles. */
  #refreshPoints() {
    clearTimeout(this.#pointsTimer);
    this.#pointsTimer = setTimeout(async () => {
      try {
        const points = await this.#readPoints();
        if (!this.#closed) this.#takePoints(points);
      } catch {
        // The next entry tries again; what is on screen stays.
      }
    }, NUMBERS_SETTLE_MS);
  }

  /** Rows of a list by id, a newer version on screen kept. */
  #keepNewer<T extends { id: number; version: number }>(shown: T[], fresh: T[]): T[] {
    const byId = new Map(shown.map((r) => [r.id, r]));
    return fresh.map((r) => {
      const old = byId.get(r.id);
      return old && old.version > r.version ? old : r;
    });
  }

  /** The first page of the timeline for the chosen filter (items that arrived live are kept). */
  async loadTimeline() {
    this.#timelineAbort?.abort();
    const abort = new AbortController();
    this.#timelineAbort = abort;
    if (this.items.length === 0) this.timelineState = 'loading';
    try {
      const page = await customerApi.timeline(
        this.id,
        { kinds: kindsOf(this.group), limit: PAGE },
        abort.signal
      );
      if (abort.signal.aborted || this.#closed) return;
      const wanted = new Set(kindsOf(this.group) ?? []);
      const kept = this.items.filter((i) => wanted.size === 0 || wanted.has(i.kind));
      // Live items newer than the page's oldest stay; older ones the next pages bring back.
      const oldest = page.items.at(-1);
      const recent =
        oldest && page.next ? kept.filter((i) => Date.parse(i.at) >= Date.parse(oldest.at)) : kept;
      this.items = mergeItems(recent, page.items);
      this.next = page.next;
      this.#learnNames(page.items);
      this.timelineState = 'ready';
    } catch (err) {
      if (abort.signal.aborted || (err instanceof DOMException && err.name === 'AbortError')) return;
      this.timelineState = 'error';
    }
  }

  async loadMore() {
    if (!this.next || this.loadingMore) return;
    this.loadingMore = true;
    try {
      const page = await customerApi.timeline(this.id, {
        kinds: kindsOf(this.group),
        before: this.next,
        limit: PAGE
      });
      this.items = mergeItems(this.items, page.items);
      this.next = page.next;
      this.#learnNames(page.items);
    } finally {
      this.loadingMore = false;
    }
  }

  setGroup(group: TimelineGroup | null) {
    if (this.group === group) return;
    this.group = group;
    this.items = this.items.filter((i) => !group || (kindsOf(group) ?? []).includes(i.kind));
    void this.loadTimeline();
  }

  async loadMoreRows(list: 'orders' | 'tickets' | 'loyalty') {
    const before = this.more[list];
    if (!before) return;
    if (list === 'orders') {
      const page = await customerApi.orders(this.id, before);
      this.orders = [...this.orders, ...page.rows];
      this.more.orders = page.next;
    } else if (list === 'tickets') {
      const page = await customerApi.tickets(this.id, before);
      this.tickets = [...this.tickets, ...page.rows];
      this.more.tickets = page.next;
    } else {
      const page = await customerApi.loyalty(this.id, before);
      this.loyalty = [...this.loyalty, ...page.rows];
      this.more.loyalty = page.next;
    }
  }

  #learnNames(items: TimelineItem[]) {
    for (const i of items) {
      if (i.actor) this.#names.set(i.actor.id, i.actor.name);
      if ('ticketId' in i && 'subject' in i) this.#ticketSubjects.set(i.ticketId, i.subject);
    }
  }

  readonly #nameOf = (id: number | null): Person | null =>
    id === null ? null : { id, name: this.#names.get(id) ?? 'A teammate' };

  /** Adds live items the filter shows, highlighted for a moment. */
  #addItems(...items: (TimelineItem | null)[]) {
    const wanted = kindsOf(this.group);
    const shown = items.filter((i): i is TimelineItem => !!i && (!wanted || wanted.includes(i.kind)));
    if (shown.length === 0) return;
    this.items = mergeItems(this.items, shown);
    for (const item of shown) {
      this.fresh.add(item.key);
      setTimeout(() => this.fresh.delete(item.key), FRESH_MS);
    }
  }

  #flash(part: string) {
    this.flashes.set(part, (this.flashes.get(part) ?? 0) + 1);
  }

  /** The numbers are sums the server keeps: read them again once a burst of changes settles. */
  #refreshNumbers() {
    clearTimeout(this.#numbersTimer);
    this.#numbersTimer = setTimeout(async () => {
      try {
        const fresh = await customerApi.get(this.id);
        if (this.#closed || !this.data) return;
        const before = JSON.stringify(this.data.numbers);
        this.#takeProfile({ ...fresh, customer: fresh.customer });
        if (JSON.stringify(this.data.numbers) !== before) this.#flash('numbers');
      } catch {
        // The next change tries again; what is on screen stays.
      }
    }, NUMBERS_SETTLE_MS);
  }

  #ordersChanged(order: CustomerOrderRow | null, summary: { id: number; version: number }) {
    const at = this.orders.findIndex((o) => o.id === summary.id);
    if (at >= 0 && order && isNewer(this.orders[at], order)) this.orders[at] = order;
    else if (at < 0 && order) this.orders = [order, ...this.orders];
  }

  /** Subscribes to everything this screen shows; returns the teardown. */
  connect(): () => void {
    const mine = (customerId: number) => customerId === this.id;
    const offs = [
      liveClient.on('order:created', (e) => {
        if (!mine(e.data.customerId)) return;
        this.#ordersChanged({ ...e.data, items: 0, href: `/orders/${e.data.id}` }, e.data);
        this.#addItems(fromOrderCreated(e.data));
        this.#refreshNumbers();
      }),
      liveClient.on('order:updated', (e) => {
        if (!mine(e.data.customerId)) return;
        const shown = this.orders.find((o) => o.id === e.data.id);
        this.#ordersChanged({ ...e.data, items: shown?.items ?? 0, href: `/orders/${e.data.id}` }, e.data);
        this.#refreshNumbers();
      }),
      liveClient.on('order:status_changed', (e) => {
        if (!mine(e.data.customerId)) return;
        const order = this.orders.find((o) => o.id === e.data.orderId);
        this.#addItems(fromOrderStatus(e, order, this.#nameOf));
      }),
      liveClient.on('ticket:created', (e) => {
        if (!mine(e.data.customerId)) return;
        this.#ticketSubjects.set(e.data.id, e.data.subject);
        this.#applyTicket(e.data);
        this.#addItems(fromTicketCreated(e.data));
        this.#refreshNumbers();
      }),
      liveClient.on('ticket:updated', (e) => {
        if (!mine(e.data.customerId)) return;
        this.#ticketSubjects.set(e.data.id, e.data.subject);
        this.#applyTicket(e.data);
        this.#addItems(fromCsat(e));
        this.#refreshNumbers();
      }),
      liveClient.on('ticket:message_added', (e) => {
        const subject = this.#ticketSubjects.get(e.data.ticketId);
        if (subject === undefined) return; // not this customer's, or not a ticket this user may open
        this.#addItems(fromMessage(e.data, subject, this.#nameOf));
      }),
      liveClient.on('loyalty:changed', (e) => {
        if (!mine(e.customerId)) return;
        const numbers = this.data?.numbers;
        if (e.account && numbers && isNewer(numbers.loyalty, e.account)) {
          numbers.loyalty = {
            tier: e.account.tier,
            balance: e.account.balance,
            pending: e.account.pending,
            available: e.account.available,
            lifetimePoints: e.account.lifetimePoints,
            version: e.account.version
          };
          this.#flash('loyalty');
        }
        if (e.entry) {
          const row: CustomerLoyaltyRow = {
            id: e.entry.id,
            kind: e.entry.kind,
            points: e.entry.points,
            reason: e.entry.reason,
            orderId: e.entry.orderId,
            createdAt: e.entry.createdAt,
            orderHref: e.entry.orderId === null ? null : `/orders/${e.entry.orderId}`,
            bonus: e.entry.bonus ?? null
          };
          if (!this.loyalty.some((l) => l.id === row.id)) this.loyalty = [row, ...this.loyalty];
          this.#addItems(fromLoyalty(e));
          this.#refreshPoints();
        }
      }),
      liveClient.on('segment:entered', (e) => {
        if (mine(e.data.customerId)) this.#addItems(fromSegment(e));
      }),
      liveClient.on('segment:left', (e) => {
        if (mine(e.data.customerId)) this.#addItems(fromSegment(e));
      }),
      liveClient.on('loyalty:tier_changed', (e) => {
        if (mine(e.data.customerId)) this.#addItems(fromTier(e));
      }),
      liveClient.on('customer:updated', (e) => {
        if (!mine(e.data.id) || !this.data || !isNewer(this.data.customer, e.data)) return;
        // The event carries the summary; the whole profile (addresses, attributes) is read again.
        this.#refreshNumbers();
      }),
      liveClient.on('customer:profile_changed', (e) => {
        if (mine(e.data.customerId)) this.#addItems(fromProfileChange(e, this.#nameOf));
      }),
      liveClient.on('customer:consent_recorded', (e) => {
        if (!mine(e.data.customerId) || !this.data) return;
        const current = this.data.consent[e.data.channel];
        if (!current || Date.parse(e.data.at) >= Date.parse(current.at))
          this.data.consent[e.data.channel] = {
            ...e.data,
            actor: this.#nameOf(e.data.actorUserId)
          };
        this.#addItems(fromConsent(e, this.#nameOf));
      }),
      liveClient.on('customer:note_added', (e) => {
        if (!mine(e.data.customerId)) return;
        if (!this.notes.some((n) => n.id === e.data.id))
          this.notes = [
            {
              id: e.data.id,
              customerId: e.data.customerId,
              author: this.#nameOf(e.data.authorId),
              body: e.data.body,
              createdAt: e.data.createdAt
            },
            ...this.notes
          ];
        this.#addItems(fromNote(e, this.#nameOf));
      }),
      liveClient.on('customer:note_removed', (e) => {
        if (!mine(e.data.customerId)) return;
        this.notes = this.notes.filter((n) => n.id !== e.data.id);
        this.items = this.items.filter((i) => i.key !== `note:${e.data.id}`);
      }),
      liveClient.on('customer:contact_changed', (e) => {
        if (!mine(e.data.customerId) || !this.data) return;
        this.#applyContact(e.data, e.op === 'delete');
      }),
      liveClient.onResync(async () => {
        if (!(await this.load())) throw new Error('customer reload failed');
      })
    ];
    return () => {
      this.#closed = true;
      for (const off of offs) off();
      clearTimeout(this.#numbersTimer);
      clearTimeout(this.#pointsTimer);
      this.#timelineAbort?.abort();
      this.#releaseRoom?.();
    };
  }

  #applyTicket(t: {
    id: number;
    subject: string;
    status: CustomerTicketRow['status'];
    priority: string;
    csatScore: number | null;
    createdAt: string;
    updatedAt: string;
    version: number;
  }) {
    const at = this.tickets.findIndex((r) => r.id === t.id);
    const row: CustomerTicketRow = { ...t, href: `/console/tickets/${t.id}` };
    if (at >= 0) {
      if (isNewer(this.tickets[at], row)) this.tickets[at] = row;
    } else {
      this.tickets = [row, ...this.tickets];
    }
  }

  #applyContact(contact: CustomerContact, removed: boolean) {
    if (!this.data) return;
    const list = this.data.contacts;
    const at = list.findIndex((c) => c.id === contact.id);
    if (removed) {
      if (at >= 0) list.splice(at, 1);
    } else if (at < 0) {
      list.push(contact);
    } else if (isNewer(list[at], contact)) {
      list[at] = contact;
    }
  }

  // Edits -------------------------------------------------------------------------------------

  /** Saves one inline edit against the version on screen; a lost race shows the winner's values. */
  async save(patch: Omit<CustomerPatch, 'version'>, field?: string): Promise<EditResult> {
    const shown = this.customer;
    if (!shown) return { ok: false, message: 'Not loaded yet' };
    try {
      const { customer } = await customerApi.patch(this.id, { ...patch, version: shown.version });
      this.#takeCustomer(customer);
      this.conflict = null;
      return { ok: true };
    } catch (err) {
      if (err instanceof ApiError && err.code === 'stale_version') {
        const current = (err.details as { customer?: CustomerProfile } | undefined)?.customer;
        if (current) this.#takeCustomer(current);
        this.conflict =
          'Someone else changed this customer a moment ago. Their changes are shown; yours was not saved.';
        return { ok: false, message: 'Not saved: someone else changed this customer first.' };
      }
      return { ok: false, message: messageFor(err, field) };
    }
  }

  #takeCustomer(customer: CustomerProfile) {
    if (this.data && isNewer(this.data.customer, customer)) this.data.customer = customer;
  }

  async addNote(body: string): Promise<EditResult> {
    try {
      const { note } = await customerApi.addNote(this.id, body);
      if (!this.notes.some((n) => n.id === note.id)) this.notes = [note, ...this.notes];
      return { ok: true };
    } catch (err) {
      return { ok: false, message: messageFor(err, 'body') };
    }
  }

  async deleteNote(noteId: number): Promise<EditResult> {
    try {
      await customerApi.deleteNote(noteId);
      this.notes = this.notes.filter((n) => n.id !== noteId);
      this.items = this.items.filter((i) => i.key !== `note:${noteId}`);
      return { ok: true };
    } catch (err) {
      return { ok: false, message: messageFor(err) };
    }
  }

  async searchNotes(q: string) {
    const { notes } = await customerApi.notes(this.id, q);
    this.notes = notes;
  }

  async setConsent(channel: ConsentChannel, granted: boolean): Promise<EditResult> {
    try {
      const { consent } = await customerApi.recordConsent(this.id, { channel, granted });
      const current = this.data?.consent[channel];
      if (this.data && (!current || Date.parse(consent.at) >= Date.parse(current.at)))
        this.data.consent[channel] = consent;
      return { ok: true };
    } catch (err) {
      return { ok: false, message: messageFor(err) };
    }
  }

  async addContact(kind: 'email' | 'phone', value: string, label: string): Promise<EditResult> {
    try {
      const { contact } = await customerApi.addContact(this.id, { kind, value, label });
      this.#applyContact(contact, false);
      return { ok: true };
    } catch (err) {
      return { ok: false, message: messageFor(err, 'value') };
    }
  }

  async makePrimary(contact: CustomerContact): Promise<EditResult> {
    try {
      const result = await customerApi.patchContact(contact.id, { version: contact.version, primary: true });
      this.#takeCustomer(result.customer);
      if (result.contact) this.#applyContact(result.contact, false);
      else this.#applyContact(contact, true);
      return { ok: true };
    } catch (err) {
      return { ok: false, message: messageFor(err) };
    }
  }

  async removeContact(contact: CustomerContact): Promise<EditResult> {
    try {
      await customerApi.deleteContact(contact.id);
      this.#applyContact(contact, true);
      return { ok: true };
    } catch (err) {
      return { ok: false, message: messageFor(err) };
    }
  }
}
