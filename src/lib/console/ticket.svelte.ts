import { isOpenWork } from '$shared/rules/tickets.js';
import { ApiError, horizonOf } from '$lib/api.js';
import { isNewer, liveClient } from '$lib/live/live-client.js';
import type { TicketStatus } from '$shared/enums.js';
import type { CurrentUser } from '$shared/schemas/auth.js';
import type { OrderSummary, TicketMessage, TicketSummary } from '$shared/schemas/live.js';
import {
  TICKET_TRANSITIONS,
  type MessageWithAuthor,
  type QueueTicket,
  type TicketDetail,
  type TicketPatch
} from '$shared/schemas/tickets.js';
import { SvelteMap } from 'svelte/reactivity';
import { consoleApi, staleTicketOf, winnerOf } from './api.js';
import { notices } from './notices.svelte.js';
import { personFor } from './people.js';
import { presence } from './presence.svelte.js';
import type { Queue } from './queue.svelte.js';
import { watchCustomer } from './watch.js';
import { orderNumber } from './format.js';

export type TicketAction = 'claim' | 'assign' | 'status' | 'priority' | 'tags' | 'order' | 'reply';
type PatchFields = Omit<TicketPatch, 'version'>;

export interface Draft {
  body: string;
  internal: boolean;
}

/** Unsent replies, per ticket, for as long as the tab lives (leaving a ticket does not lose a draft). */
const drafts = new Map<number, Draft>();

const TYPING_IDLE_MS = 2000;
/** The server forgets a typist after 6 s without news; repeat "typing" well before that. */
const TYPING_REPEAT_MS = 3000;

/**
 * One open ticket: conversation, properties, customer panel, who else is here. Live from the
 * ticket's and the customer's rooms; every change names the version it was made against, and a
 * change that lost a race is explained, with the winner's state on screen.
 */
export class TicketView {
  readonly id: number;
  readonly user: CurrentUser;
  detail = $state<TicketDetail | null>(null);
  phase = $state<'loading' | 'ready' | 'error'>('loading');
  loadError = $state<{ status: number; message: string } | null>(null);
  /** Why the last change was not saved (a race lost), shown above the conversation. */
  conflict = $state<string | null>(null);
  pending = $state<Partial<Record<TicketAction, boolean>>>({});
  /** The order a refund or cancel is running for. */
  orderBusy = $state<number | null>(null);
  draft = $state<Draft>({ body: '', internal: false });
  /** Bumped when a live change touches a part of the screen ('ticket', 'loyalty', 'order:<id>'). */
  flashes = new SvelteMap<string, number>();

  readonly ticket = $derived(this.detail?.ticket ?? null);
  readonly messages = $derived(this.detail?.messages ?? []);
  readonly panel = $derived(this.detail?.panel ?? null);
  /** Who is here (this user too): the presence the console keeps for every watched ticket. */
  readonly viewers = $derived.by(() => presence.viewersOf(this.id));
  readonly others = $derived(this.viewers.filter((v) => v.userId !== this.user.id));
  readonly typists = $derived(this.others.filter((v) => v.typing));
  readonly transitions = $derived<readonly TicketStatus[]>(
    this.ticket ? TICKET_TRANSITIONS[this.ticket.status] : []
  );
  readonly isMine = $derived.by(() => this.ticket?.assigneeId === this.user.id);
  readonly linkedOrder = $derived.by(() => {
    const t = this.ticket;
    if (!t?.orderId) return null;
    return this.panel?.recentOrders.find((o) => o.id === t.orderId) ?? null;
  });
  /** For canned responses: the linked order, else the customer's last one. */
  readonly orderNumberForReplies = $derived.by(() => {
    const t = this.ticket;
    if (this.linkedOrder) return orderNumber(this.linkedOrder);
    if (t?.orderId) return `#${t.orderId}`;
    const last = this.panel?.recentOrders[0];
    return last ? orderNumber(last) : null;
  });

  #queue: Queue | null;
  #refreshTimer: ReturnType<typeof setTimeout> | undefined;
  #typingSentAt = 0;
  #typingIdle: ReturnType<typeof setTimeout> | undefined;
  #releaseCustomer: (() => void) | null = null;
  #closed = false;

  constructor(id: number, user: CurrentUser, queue: Queue | null) {
    this.id = id;
    this.user = user;
    this.#queue = queue;
    this.draft = drafts.get(id) ?? { body: '', internal: false };
  }

  /** Loads the ticket, or reloads it over what is on screen; false when it could not. */
  async load(): Promise<boolean> {
    try {
      const fresh = await consoleApi.ticket(this.id);
      if (this.#closed) return true;
      this.#merge(fresh);
      this.phase = 'ready';
      this.loadError = null;
      this.#followCustomer(fresh.ticket.customerId, horizonOf(fresh));
      return true;
    } catch (err) {
      if (this.#closed) return true;
      if (this.detail) return false; // a background refresh failed: keep what is on screen
      this.phase = 'error';
      this.loadError =
        err instanceof ApiError
          ? { status: err.status, message: err.message }
          : { status: 0, message: 'The ticket could not be loaded.' };
      return false;
    }
  }

  /**
   * Takes a REST answer over what is on screen without going back in time: a live change applied
   * after the answer was read keeps its newer state (versions decide), messages are the union.
   */
  #merge(fresh: TicketDetail) {
    const detail = this.detail;
    if (!detail) {
      this.detail = fresh;
      return;
    }
    if (isNewer(detail.ticket, fresh.ticket)) detail.ticket = fresh.ticket;
    const known = new Set(fresh.messages.map((m) => m.id));
    detail.messages = [...fresh.messages, ...detail.messages.filter((m) => !known.has(m.id))].sort(
      (a, b) => a.createdAt.localeCompare(b.createdAt) || a.id - b.id
    );
    const before = detail.panel;
    const panel = fresh.panel;
    if (before && panel && before.customer.id === panel.customer.id) {
      if (before.customer.version > panel.customer.version) panel.customer = before.customer;
      if (before.loyalty && panel.loyalty && before.loyalty.version > panel.loyalty.version)
        panel.loyalty = before.loyalty;
      panel.recentOrders = panel.recentOrders.map((o) => {
        const shown = before.recentOrders.find((b) => b.id === o.id);
        return shown && shown.version > o.version ? shown : o;
      });
    }
    detail.panel = panel;
  }

  /** Subscribes to everything this screen shows; returns the teardown. */
  connect(): () => void {
    const offs = [
      liveClient.on('ticket:updated', (e) => {
        if (e.data.id === this.id) this.applyTicket(e.data, true);
        else this.#applyOtherTicket(e.data);
      }),
      liveClient.on('ticket:created', (e) => this.#applyOtherTicket(e.data)),
      liveClient.on('ticket:message_added', (e) => {
        if (e.data.ticketId === this.id) this.#addMessage(e.data);
      }),
      liveClient.on('order:created', (e) => this.#applyOrder(e.data)),
      liveClient.on('order:updated', (e) => this.#applyOrder(e.data)),
      liveClient.on('loyalty:changed', (e) => {
        const panel = this.panel;
        // Goodwill granted from this ticket (by anyone, rarely): the panel's total comes from a reload,
        // so a replayed event never counts twice.
        if (panel?.loyalty && e.entry?.ticketId === this.id) void this.load();
        if (!panel || e.customerId !== panel.customer.id || !e.account || !isNewer(panel.loyalty, e.account))
          return;
        panel.loyalty = {
          ...panel.loyalty!,
          balance: e.account.balance,
          pending: e.account.pending,
          available: e.account.available,
          lifetimePoints: e.account.lifetimePoints,
          tier: e.account.tier,
          version: e.account.version
        };
        this.#flash('loyalty');
      }),
      liveClient.on('customer:updated', (e) => {
        const panel = this.panel;
        if (panel && e.data.id === panel.customer.id && isNewer(panel.customer, e.data))
          panel.customer = e.data;
      }),
      liveClient.onResync(async () => {
        if (!(await this.load())) throw new Error('ticket reload failed');
      }),
      // The ticket's room, now and after every reconnect; the answer says who is here.
      liveClient.watch('ticket:watch', [this.id], (answer) => {
        if (!this.#closed && 'data' in answer) presence.set(this.id, answer.data.viewers);
      })
    ];
    return () => {
      this.#closed = true;
      for (const off of offs) off();
      clearTimeout(this.#refreshTimer);
      this.stopTyping();
      presence.forget(this.id);
      this.#releaseCustomer?.();
    };
  }

  saveDraft() {
    if (this.draft.body.trim()) drafts.set(this.id, { ...this.draft });
    else drafts.delete(this.id);
  }

  // --- Actions -------------------------------------------------------------------------------

  async claim(): Promise<boolean> {
    return this.#act('claim', async () => {
      const { ticket } = await consoleApi.claim(this.id);
      this.applyTicket(ticket);
    });
  }

  assign(assigneeId: number | null, name: string | null) {
    return this.#patch({ assigneeId }, 'assign', (t) => {
      t.assigneeId = assigneeId;
      t.assignee = assigneeId === null ? null : { id: assigneeId, name: name ?? 'Someone' };
    });
  }

  setStatus(status: TicketStatus) {
    return this.#patch({ status }, 'status', (t) => (t.status = status));
  }

  setPriority(priority: QueueTicket['priority']) {
    return this.#patch({ priority }, 'priority', (t) => (t.priority = priority));
  }

  setTags(tags: string[]) {
    return this.#patch({ tags }, 'tags', (t) => (t.tags = tags));
  }

  linkOrder(orderId: number | null) {
    return this.#patch({ orderId }, 'order', (t) => (t.orderId = orderId));
  }

  /** Sends a reply or an internal note, optionally moving the ticket in the same step. */
  async send(status?: TicketStatus): Promise<boolean> {
    const body = this.draft.body.trim();
    if (!body || this.pending.reply) return false;
    const internal = this.draft.internal;
    this.stopTyping();
    const ok = await this.#act('reply', async () => {
      const { message, ticket } = await consoleApi.reply(this.id, { body, internal, status });
      this.#addMessage(message);
      this.applyTicket(ticket);
    });
    if (ok) {
      this.draft = { body: '', internal };
      drafts.delete(this.id);
      if (status)
        notices.push({
          tone: 'success',
          title: `${internal ? 'Note added' : 'Reply sent'}, ticket ${status === 'resolved' ? 'resolved' : `set to ${status}`}`
        });
    }
    return ok;
  }

  async refund(order: OrderSummary) {
    await this.#orderAction(order, 'refund');
  }

  async cancel(order: OrderSummary) {
    await this.#orderAction(order, 'cancel');
  }

  // --- Typing --------------------------------------------------------------------------------

  /** Call on every keystroke in the composer. */
  noteTyping() {
    const now = Date.now();
    if (now - this.#typingSentAt > TYPING_REPEAT_MS) {
      liveClient.emit('ticket:typing', { ticketId: this.id, typing: true });
      this.#typingSentAt = now;
    }
    clearTimeout(this.#typingIdle);
    this.#typingIdle = setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  stopTyping() {
    clearTimeout(this.#typingIdle);
    if (!this.#typingSentAt) return;
    this.#typingSentAt = 0;
    liveClient.emit('ticket:typing', { ticketId: this.id, typing: false });
  }

  // --- Applying changes ----------------------------------------------------------------------

  /** Merges a newer state of this ticket (from the API or the live stream). */
  applyTicket(next: TicketSummary | QueueTicket, live = false, force = false) {
    const detail = this.detail;
    if (!detail || next.id !== this.id) return;
    const current = detail.ticket;
    if (!force && !isNewer(current, next)) return;
    const full = 'customer' in next ? next : null;
    let assignee = full
      ? full.assignee
      : next.assigneeId === current.assigneeId
        ? current.assignee
        : personFor(next.assigneeId, this.user);
    if (assignee === undefined) {
      assignee =
        current.assignee?.id === next.assigneeId
          ? current.assignee
          : { id: next.assigneeId!, name: 'a teammate' };
      this.#refreshSoon();
    }
    const teamChanged = next.teamId !== current.teamId;
    detail.ticket = { ...current, ...next, assignee, team: current.team };
    if (teamChanged) this.#refreshSoon();
    if (live && next.version !== current.version && !Object.values(this.pending).some(Boolean))
      this.#flash('ticket');
    if (full) this.#queue?.applyFromApi(full);
  }

  #addMessage(message: TicketMessage | MessageWithAuthor) {
    const detail = this.detail;
    if (!detail || detail.messages.some((m) => m.id === message.id)) return;
    let author =
      'author' in message
        ? message.author
        : message.authorType === 'agent'
          ? personFor(message.authorUserId, this.user)
          : null;
    if (author === undefined) {
      author = null;
      this.#refreshSoon();
    }
    const withAuthor: MessageWithAuthor = { ...message, author };
    const list = detail.messages;
    let index = list.length;
    while (
      index > 0 &&
      (list[index - 1].createdAt > message.createdAt ||
        (list[index - 1].createdAt === message.createdAt && list[index - 1].id > message.id))
    )
      index--;
    list.splice(index, 0, withAuthor);
  }

  #applyOtherTicket(t: TicketSummary) {
    const panel = this.panel;
    if (!panel || t.customerId !== panel.customer.id || t.id === this.id) return;
    const index = panel.openTickets.findIndex((o) => o.id === t.id);
    const open = isOpenWork(t.status);
    const entry = {
      id: t.id,
      subject: t.subject,
      status: t.status,
      priority: t.priority,
      updatedAt: t.updatedAt
    };
    if (index >= 0) {
      if (open) panel.openTickets[index] = entry;
      else panel.openTickets.splice(index, 1);
    } else if (open) panel.openTickets.unshift(entry);
  }

  #applyOrder(order: OrderSummary) {
    const panel = this.panel;
    if (!panel || order.customerId !== panel.customer.id) return;
    const index = panel.recentOrders.findIndex((o) => o.id === order.id);
    if (index >= 0 && !isNewer(panel.recentOrders[index], order)) return;
    if (index >= 0) panel.recentOrders[index] = order;
    else {
      panel.recentOrders.unshift(order);
      panel.recentOrders.sort((a, b) => b.orderDate.localeCompare(a.orderDate));
    }
    this.#flash(`order:${order.id}`);
    // Lifetime value and order count are the server's to compute.
    this.#refreshSoon();
  }

  // --- Plumbing ------------------------------------------------------------------------------

  /** The customer's room from the moment the panel's REST state was read (`since`). */
  #followCustomer(customerId: number, since: string | undefined) {
    if (this.#releaseCustomer) return;
    this.#releaseCustomer = watchCustomer(customerId, since);
  }

  #flash(key: string) {
    this.flashes.set(key, (this.flashes.get(key) ?? 0) + 1);
  }

  /** Re-reads the whole ticket shortly (names we lack, lifetime value); merges without losing newer state. */
  #refreshSoon() {
    clearTimeout(this.#refreshTimer);
    this.#refreshTimer = setTimeout(async () => {
      try {
        const fresh = await consoleApi.ticket(this.id);
        if (this.#closed || !this.detail) return;
        this.#merge(fresh);
      } catch {
        // Keep what is on screen; the next change tries again.
      }
    }, 600);
  }

  async #patch(
    change: PatchFields,
    action: TicketAction,
    optimistic: (t: QueueTicket) => void
  ): Promise<boolean> {
    const detail = this.detail;
    if (!detail) return false;
    const before = $state.snapshot(detail.ticket);
    optimistic(detail.ticket);
    const ok = await this.#act(action, async () => {
      const { ticket } = await consoleApi.patch(this.id, {
        version: before.version,
        ...change
      } as TicketPatch);
      this.applyTicket(ticket);
    });
    // Not saved and nothing newer arrived meanwhile: put back what the server has.
    if (!ok && this.detail && this.detail.ticket.version === before.version) this.detail.ticket = before;
    return ok;
  }

  async #act(action: TicketAction, run: () => Promise<void>): Promise<boolean> {
    this.pending[action] = true;
    this.conflict = null;
    try {
      await run();
      return true;
    } catch (err) {
      this.#explain(err);
      return false;
    } finally {
      this.pending[action] = false;
    }
  }

  #explain(err: unknown) {
    if (!(err instanceof ApiError)) throw err;
    if (err.code === 'stale_version') {
      const fresh = staleTicketOf(err);
      const who = winnerOf(err) ?? 'Someone else';
      this.conflict = `${who} changed this ticket a moment ago — your change was not saved.`;
      if (fresh) this.applyTicket(fresh, false, true);
      else this.#refreshSoon();
      return;
    }
    if (err.code === 'conflict') {
      this.conflict = err.message;
      this.#refreshSoon();
      return;
    }
    notices.push({
      tone: 'danger',
      title: err.status === 422 ? 'That change is not allowed' : 'Not saved',
      detail: err.message
    });
  }

  async #orderAction(order: OrderSummary, kind: 'refund' | 'cancel') {
    this.orderBusy = order.id;
    try {
      const answer =
        kind === 'refund'
          ? await consoleApi.refundOrder(order.id, this.id)
          : await consoleApi.cancelOrder(order.id, this.id);
      this.#applyOrder(answer.order);
      notices.push({
        tone: 'success',
        title: `Order ${orderNumber(order)} ${kind === 'refund' ? 'refunded' : 'cancelled'}`
      });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      notices.push({
        tone: 'danger',
        title: `Could not ${kind} order ${orderNumber(order)}`,
        detail: err.message
      });
    } finally {
      this.orderBusy = null;
    }
  }
}
