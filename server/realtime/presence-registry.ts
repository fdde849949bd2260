import type { Viewer } from '#shared/events.js';

/** One ticket a socket is viewing: the ticket's team (for who may see it) and whether the user is typing. */
export interface TicketView {
  ticketId: number;
  teamId: number;
  typing: boolean;
}

/** What one socket shows the others: who it is and which tickets it views. */
export interface SocketPresence {
  userId: number;
  name: string;
  tickets: TicketView[];
}

/** Tickets whose viewers changed -> the ticket's team. */
export type Changed = Map<number, number>;

/** Adds `more` to `into`. */
export function mergeInto(into: Changed, more: Changed): Changed {
  for (const [ticketId, teamId] of more) into.set(ticketId, teamId);
  return into;
}

interface Watcher {
  userId: number;
  name: string;
  teamId: number;
  typing: boolean;
}

const sameView = (a: TicketView | undefined, b: TicketView | undefined) =>
  a === b || (!!a && !!b && a.teamId === b.teamId && a.typing === b.typing);

/**
 * Who views which ticket, across the cluster: the sockets of every server process, filed under
 * the process that holds them. A process writes its own sockets here and a replica of the others'
 * (see presence.ts); reading it never asks another process anything.
 */
export class PresenceRegistry {
  /** Process id -> socket id -> what the socket shows. */
  private readonly nodes = new Map<string, Map<string, SocketPresence>>();
  /** Ticket id -> `process/socket` -> the socket's view of it. */
  private readonly byTicket = new Map<number, Map<string, Watcher>>();

  /** What `socketId` of `node` shows now, if anything. */
  get(node: string, socketId: string): SocketPresence | undefined {
    return this.nodes.get(node)?.get(socketId);
  }

  /** Every socket of `node` with what it shows. */
  socketsOf(node: string): [string, SocketPresence][] {
    return [...(this.nodes.get(node) ?? [])];
  }

  /**
   * Sets what one socket shows (`null`: it is gone). Returns the tickets whose viewers changed,
   * each with its team (also for a ticket whose last viewer just left: its team's queues are told).
   */
  set(node: string, socketId: string, presence: SocketPresence | null): Changed {
    const sockets = this.nodes.get(node) ?? new Map<string, SocketPresence>();
    const before = sockets.get(socketId);
    const visible = presence && presence.tickets.length > 0 ? presence : null;
    if (visible) sockets.set(socketId, visible);
    else sockets.delete(socketId);
    if (sockets.size > 0) this.nodes.set(node, sockets);
    else this.nodes.delete(node);

    const key = `${node}/${socketId}`;
    const was = new Map((before?.tickets ?? []).map((t) => [t.ticketId, t]));
    const now = new Map((visible?.tickets ?? []).map((t) => [t.ticketId, t]));
    const changed: Changed = new Map();
    for (const [ticketId, view] of was) {
      if (sameView(view, now.get(ticketId)) && before!.name === visible!.name) continue;
      changed.set(ticketId, view.teamId);
      const watchers = this.byTicket.get(ticketId);
      watchers?.delete(key);
      if (watchers?.size === 0) this.byTicket.delete(ticketId);
    }
    for (const [ticketId, view] of now) {
      if (sameView(was.get(ticketId), view) && before!.name === visible!.name) continue;
      changed.set(ticketId, view.teamId);
      const watchers = this.byTicket.get(ticketId) ?? new Map<string, Watcher>();
      watchers.set(key, {
        userId: visible!.userId,
        name: visible!.name,
        teamId: view.teamId,
        typing: view.typing
      });
      this.byTicket.set(ticketId, watchers);
    }
    return changed;
  }

  /** Replaces everything `node` shows with `sockets` (a full state). Returns the tickets whose viewers changed. */
  replaceNode(node: string, sockets: Iterable<[string, SocketPresence]>): Changed {
    const changed: Changed = new Map();
    const next = new Map(sockets);
    for (const [socketId] of this.socketsOf(node)) {
      if (!next.has(socketId)) mergeInto(changed, this.set(node, socketId, null));
    }
    for (const [socketId, presence] of next) mergeInto(changed, this.set(node, socketId, presence));
    return changed;
  }

  /** Forgets every socket of `node` (it left, or stopped renewing its lease). */
  dropNode(node: string): Changed {
    return this.replaceNode(node, []);
  }

  /** A ticket's viewers: one per user, typing if any of their sockets is, by name. */
  viewers(ticketId: number): Viewer[] {
    const byUser = new Map<number, Viewer>();
    for (const w of this.byTicket.get(ticketId)?.values() ?? []) {
      const seen = byUser.get(w.userId);
      byUser.set(w.userId, { userId: w.userId, name: w.name, typing: w.typing || !!seen?.typing });
    }
    return [...byUser.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The team a viewed ticket belongs to, as its viewers last reported it. */
  teamOf(ticketId: number): number | undefined {
    for (const w of this.byTicket.get(ticketId)?.values() ?? []) return w.teamId;
    return undefined;
  }

  /** Every viewed ticket of a team `visible` accepts, with its viewers. */
  list(visible: (teamId: number) => boolean): { ticketId: number; viewers: Viewer[] }[] {
    const tickets: { ticketId: number; viewers: Viewer[] }[] = [];
    for (const ticketId of this.byTicket.keys()) {
      if (visible(this.teamOf(ticketId)!)) tickets.push({ ticketId, viewers: this.viewers(ticketId) });
    }
    return tickets;
  }
}
