import { TICKET_PRIORITIES, type TicketPriority } from '#shared/enums.js';
import type { MetricKey, Tile, WallboardAgent, WallboardSnapshot } from '#shared/schemas/metrics.js';
import { slaState } from '#shared/rules/tickets.js';
import { formatHundredths, toHundredths } from '#shared/rules/money.js';
import { isOpenWork } from '#shared/rules/tickets.js';
import { statusAt, type StatusChangeFact, type TicketFact, type WallboardState } from './facts.js';

const MINUTE = 60_000;
const BACKLOG_STEP = 15 * MINUTE;
const iso = (at: number) => new Date(at).toISOString();

/** Half-open windows [start, end) of epoch milliseconds. */
interface Window {
  start: number;
  end: number;
}
const within = (at: number | null, w: Window) => at !== null && at >= w.start && at < w.end;

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
const medianSeconds = (durations: number[]) => {
  const m = median(durations);
  return m === null ? null : Math.round(m / 1000);
};

/** The SLA due time a ticket is measured against, as `ticket_sla_due` in SQL: none once resolved. */
function dueAt(t: TicketFact): number | null {
  if (t.status === 'resolved' || t.status === 'closed') return null;
  return t.firstRespondedAt === null ? t.firstResponseDueAt : t.resolutionDueAt;
}

// What a ticket looked like at an earlier instant, from its timestamps (the history the trends use).
const openAt = (t: TicketFact, at: number) =>
  t.createdAt <= at && (t.resolvedAt === null || t.resolvedAt > at);
const dueAtInstant = (t: TicketFact, at: number) =>
  t.firstRespondedAt === null || t.firstRespondedAt > at ? t.firstResponseDueAt : t.resolutionDueAt;
const unassignedAt = (t: TicketFact, at: number) =>
  t.assigneeId === null || (t.assignedAt !== null && t.assignedAt > at);

/** Status changes by ticket or agent id. */
function bySubject<S extends string>(changes: Iterable<StatusChangeFact<S>>) {
  const out = new Map<number, StatusChangeFact<S>[]>();
  for (const c of changes) {
    const list = out.get(c.subjectId);
    if (list) list.push(c);
    else out.set(c.subjectId, [c]);
  }
  return out;
}

function slaCounts(tickets: Iterable<TicketFact>, at: number, historical: boolean) {
  let atRisk = 0;
  let breached = 0;
  for (const t of tickets) {
    if (historical ? !openAt(t, at) : !isOpenWork(t.status)) continue;
    const due = historical ? dueAtInstant(t, at) : dueAt(t);
    if (due === null) continue;
    const state = slaState(iso(due), iso(t.createdAt), at);
    if (state === 'breached') breached++;
    else if (state === 'at_risk') atRisk++;
  }
  return { atRisk, breached };
}

/**
 * Every wallboard number at `now`, from the facts. Sums over "today" cover the store day so far;
 * their trend is the same sum over yesterday up to the same point of the day. States (open,
 * unassigned, SLA) compare with the tickets' state at that point yesterday, rebuilt from their
 * timestamps; "waiting on agent" and availability from the status history as well.
 */
export function computeSnapshot(state: WallboardState, now: number): WallboardSnapshot {
  const { bounds } = state;
  const elapsed = Math.max(0, now - bounds.todayStart);
  const today: Window = { start: bounds.todayStart, end: now + 1 };
  const yesterday: Window = {
    start: bounds.yesterdayStart,
    end: Math.min(bounds.yesterdayStart + elapsed + 1, bounds.todayStart)
  };
  const sameTimeYesterday = yesterday.end - 1;

  // The tiles in alert, in the order the snapshot lists them (tiles are made in that order).
  const alerts: MetricKey[] = [];
  const tile = <V>(
    key: MetricKey,
    value: V,
    previous: V | null,
    hundredths: (v: V) => number | null
  ): Tile<V> => {
    const rule = state.thresholds.get(key);
    const h = hundredths(value);
    const alert =
      !!rule && h !== null && (rule.comparison === 'above' ? h > rule.hundredths : h < rule.hundredths);
    if (alert) alerts.push(key);
    return {
      key,
      value,
      sameTimeYesterday: previous,
      threshold: rule ? { comparison: rule.comparison, value: rule.value } : null,
      alert
    };
  };
  const count = (v: number) => v * 100;
  const seconds = (v: number | null) => (v === null ? null : v * 100);

  // Commerce -----------------------------------------------------------------------------------
  const sales = { today: { orders: 0, cents: 0 }, yesterday: { orders: 0, cents: 0 } };
  const refunds = { today: { orders: 0, cents: 0 }, yesterday: { orders: 0, cents: 0 } };
  const minuteNow = Math.floor(now / MINUTE) * MINUTE;
  const perMinuteFrom = minuteNow - 59 * MINUTE;
  const perMinuteOrders = new Array<number>(60).fill(0);
  const perMinuteCents = new Array<number>(60).fill(0);
  for (const o of state.orders.values()) {
    if (o.counted) {
      const bucket = within(o.at, today) ? sales.today : within(o.at, yesterday) ? sales.yesterday : null;
      if (bucket) {
        bucket.orders++;
        bucket.cents += o.cents;
      }
      if (o.at >= perMinuteFrom && o.at < minuteNow + MINUTE) {
        const i = Math.floor((o.at - perMinuteFrom) / MINUTE);
        perMinuteOrders[i]++;
        perMinuteCents[i] += o.cents;
      }
    }
    const refund = within(o.refundedAt, today)
      ? refunds.today
      : within(o.refundedAt, yesterday)
        ? refunds.yesterday
        : null;
    if (refund) {
      refund.orders++;
      refund.cents += o.cents;
    }
  }
  const aov = (s: { orders: number; cents: number }) =>
    s.orders === 0 ? null : Math.round(s.cents / s.orders);
  const money = (cents: number | null) => (cents === null ? null : formatHundredths(cents));
  const moneyHundredths = (v: string | null) => (v === null ? null : toHundredths(v));

  // Support ------------------------------------------------------------------------------------
  const tickets = [...state.tickets.values()];
  const byPriority = Object.fromEntries(TICKET_PRIORITIES.map((p) => [p, 0])) as Record<
    TicketPriority,
    number
  >;
  let open = 0;
  let unassigned = 0;
  let waiting = 0;
  let openYesterday = 0;
  let unassignedYesterday = 0;
  let waitingYesterday = 0;
  const ticketChanges = bySubject(state.ticketStatusChanges.values());
  const firstResponses = { today: [] as number[], yesterday: [] as number[] };
  const resolutions = { today: [] as number[], yesterday: [] as number[] };
  const csat = { today: { sum: 0, n: 0 }, yesterday: { sum: 0, n: 0 } };
  const perAgent = new Map<number, { open: number; resolved: number; firstResponses: number[] }>();
  const agentEntry = (id: number) => {
    let entry = perAgent.get(id);
    if (!entry) perAgent.set(id, (entry = { open: 0, resolved: 0, firstResponses: [] }));
    return entry;
  };
  for (const t of tickets) {
    if (isOpenWork(t.status)) {
      open++;
      byPriority[t.priority]++;
      if (t.assigneeId === null) unassigned++;
      else agentEntry(t.assigneeId).open++;
      if (t.status !== 'pending') waiting++;
    }
    if (openAt(t, sameTimeYesterday)) {
      openYesterday++;
      if (unassignedAt(t, sameTimeYesterday)) unassignedYesterday++;
      const then = statusAt(t.status, ticketChanges.get(t.id) ?? [], sameTimeYesterday);
      if (then === 'new' || then === 'open') waitingYesterday++;
    }
    if (t.firstRespondedAt !== null) {
      const took = t.firstRespondedAt - t.createdAt;
      if (within(t.firstRespondedAt, today)) {
        firstResponses.today.push(took);
        if (t.assigneeId !== null) agentEntry(t.assigneeId).firstResponses.push(took);
      } else if (within(t.firstRespondedAt, yesterday)) firstResponses.yesterday.push(took);
    }
    if (t.resolvedAt !== null) {
      if (within(t.resolvedAt, today)) {
        resolutions.today.push(t.resolvedAt - t.createdAt);
        if (t.assigneeId !== null) agentEntry(t.assigneeId).resolved++;
      } else if (within(t.resolvedAt, yesterday)) resolutions.yesterday.push(t.resolvedAt - t.createdAt);
    }
    if (t.csatAt !== null && t.csatScore !== null) {
      const bucket = within(t.csatAt, today)
        ? csat.today
        : within(t.csatAt, yesterday)
          ? csat.yesterday
          : null;
      if (bucket) {
        bucket.sum += t.csatScore;
        bucket.n++;
      }
    }
  }
  const slaNow = slaCounts(tickets, now, false);
  const slaYesterday = slaCounts(tickets, sameTimeYesterday, true);
  const csatHundredths = (c: { sum: number; n: number }) =>
    c.n === 0 ? null : Math.round((c.sum * 100) / c.n);
  const csatAverage = (c: { sum: number; n: number }) => {
    const h = csatHundredths(c);
    return h === null ? null : h / 100;
  };

  const backlog: { at: string; open: number }[] = [];
  for (let at = bounds.todayStart; at < now; at += BACKLOG_STEP) {
    backlog.push({ at: iso(at), open: tickets.reduce((n, t) => n + (openAt(t, at) ? 1 : 0), 0) });
  }
  backlog.push({ at: iso(now), open });

  // Agents ----------------------------------------------------------------------------------------
  const agents: WallboardAgent[] = [...state.agents.values()]
    .sort((a, b) => a.name.localeCompare(b.name) || a.id - b.id)
    .map((a) => {
      const work = perAgent.get(a.id);
      return {
        id: a.id,
        name: a.name,
        teamId: a.teamId,
        status: a.status,
        capacity: a.capacity,
        openTickets: work?.open ?? 0,
        resolvedToday: work?.resolved ?? 0,
        firstResponseMedianSeconds: medianSeconds(work?.firstResponses ?? [])
      };
    });
  const online = agents.filter((a) => a.status === 'online').length;
  const busy = agents.filter((a) => a.status === 'busy').length;
  const agentChanges = bySubject(state.agentStatusChanges.values());
  const agentsThen = agents.map((a) => statusAt(a.status, agentChanges.get(a.id) ?? [], sameTimeYesterday));
  const onlineYesterday = agentsThen.filter((s) => s === 'online').length;
  const busyYesterday = agentsThen.filter((s) => s === 'busy').length;

  // Loyalty ---------------------------------------------------------------------------------------
  const points = { issued: { today: 0, yesterday: 0 }, redeemed: { today: 0, yesterday: 0 } };
  for (const e of state.ledger.values()) {
    const which = e.kind === 'earn' ? points.issued : points.redeemed;
    const value = e.kind === 'earn' ? e.points : -e.points;
    if (within(e.at, today)) which.today += value;
    else if (within(e.at, yesterday)) which.yesterday += value;
  }
  const members = { today: 0, yesterday: 0 };
  for (const m of state.members.values()) {
    if (within(m.joinedAt, today)) members.today++;
    else if (within(m.joinedAt, yesterday)) members.yesterday++;
  }
  const upgrades = { today: 0, yesterday: 0 };
  for (const c of state.tierChanges.values()) {
    if (!c.up) continue;
    if (within(c.at, today)) upgrades.today++;
    else if (within(c.at, yesterday)) upgrades.yesterday++;
  }

  return {
    generatedAt: iso(now),
    timezone: state.timezone,
    day: bounds.day,
    dayStartedAt: iso(bounds.todayStart),
    commerce: {
      ordersToday: tile('orders_today', sales.today.orders, sales.yesterday.orders, count),
      revenueToday: tile(
        'revenue_today',
        money(sales.today.cents)!,
        money(sales.yesterday.cents),
        moneyHundredths
      ),
      averageOrderValue: tile(
        'average_order_value',
        money(aov(sales.today)),
        money(aov(sales.yesterday)),
        moneyHundredths
      ),
      refundsToday: tile('refunds_today', refunds.today.orders, refunds.yesterday.orders, count),
      refundAmountToday: tile(
        'refund_amount_today',
        money(refunds.today.cents)!,
        money(refunds.yesterday.cents),
        moneyHundredths
      ),
      perMinute: {
        from: iso(perMinuteFrom),
        orders: perMinuteOrders,
        revenue: perMinuteCents.map((c) => formatHundredths(c))
      }
    },
    support: {
      openTickets: tile('open_tickets', open, openYesterday, count),
      unassigned: tile('unassigned', unassigned, unassignedYesterday, count),
      waitingOnAgent: tile('waiting_on_agent', waiting, waitingYesterday, count),
      slaAtRisk: tile('sla_at_risk', slaNow.atRisk, slaYesterday.atRisk, count),
      slaBreached: tile('sla_breached', slaNow.breached, slaYesterday.breached, count),
      firstResponseMedianSeconds: tile(
        'first_response_median',
        medianSeconds(firstResponses.today),
        medianSeconds(firstResponses.yesterday),
        seconds
      ),
      resolutionMedianSeconds: tile(
        'resolution_median',
        medianSeconds(resolutions.today),
        medianSeconds(resolutions.yesterday),
        seconds
      ),
      csatAverage: tile('csat_average', csatAverage(csat.today), csatAverage(csat.yesterday), () =>
        csatHundredths(csat.today)
      ),
      csatResponses: tile('csat_responses', csat.today.n, csat.yesterday.n, count),
      agentsOnline: tile('agents_online', online, onlineYesterday, count),
      agentsBusy: tile('agents_busy', busy, busyYesterday, count),
      byPriority,
      backlog
    },
    loyalty: {
      pointsIssued: tile('points_issued', points.issued.today, points.issued.yesterday, count),
      pointsRedeemed: tile('points_redeemed', points.redeemed.today, points.redeemed.yesterday, count),
      newMembers: tile('new_members', members.today, members.yesterday, count),
      tierUpgrades: tile('tier_upgrades', upgrades.today, upgrades.yesterday, count)
    },
    agents,
    alerts
  };
}
