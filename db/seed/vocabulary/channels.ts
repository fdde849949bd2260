import type { SalesChannel, TicketChannel } from '#shared/enums.js';
import { Weighted } from '../random.js';

// The channels orders and tickets come in through, as often as each is used: the seed's and the
// simulator's.

/** The channels orders come in through (the simulator's too). */
export const ORDER_CHANNELS = new Weighted<SalesChannel>([
  ['web', 50],
  ['mobile', 30],
  ['marketplace', 10],
  ['pos', 6],
  ['phone', 4]
]);

/** The channels customers write in on (the simulator's too). */
export const TICKET_CHANNELS = new Weighted<TicketChannel>([
  ['email', 40],
  ['chat', 28],
  ['web', 16],
  ['phone', 10],
  ['social', 6]
]);
