import { ApiError } from '$lib/api.js';
import type { QueueTicket } from '$shared/schemas/tickets.js';
import { TICKET_TRANSITIONS } from '$shared/schemas/tickets.js';
import { consoleApi, staleTicketOf, winnerOf } from './api.js';
import { notices } from './notices.svelte.js';
import type { Queue } from './queue.svelte.js';

// Actions the queue runs on the selected row without opening it (keys `a` and `e`).

export async function claimFromQueue(queue: Queue, row: QueueTicket) {
  if (row.assigneeId === queue.user.id) {
    notices.push({ tone: 'info', title: `#${row.id} is already yours` });
    return;
  }
  try {
    const { ticket } = await consoleApi.claim(row.id);
    queue.applyFromApi(ticket);
    notices.push({ tone: 'success', title: `#${row.id} assigned to you` });
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    notices.push({
      tone: err.code === 'conflict' ? 'warning' : 'danger',
      title: err.code === 'conflict' ? err.message : 'Could not assign',
      detail: err.code === 'conflict' ? undefined : err.message
    });
    if (err.code === 'conflict') void queue.load();
  }
}

export async function resolveFromQueue(queue: Queue, row: QueueTicket) {
  if (!TICKET_TRANSITIONS[row.status].includes('resolved')) {
    notices.push({ tone: 'info', title: `#${row.id} is ${row.status}: it cannot be resolved from here` });
    return;
  }
  try {
    const { ticket } = await consoleApi.patch(row.id, { version: row.version, status: 'resolved' });
    queue.applyFromApi(ticket);
    notices.push({ tone: 'success', title: `#${row.id} resolved` });
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    const fresh = staleTicketOf(err);
    if (fresh) {
      queue.applyFromApi(fresh);
      notices.push({
        tone: 'warning',
        title: `${winnerOf(err) ?? 'Someone else'} changed #${row.id} a moment ago`,
        detail: 'It was not resolved. Check the new state and try again.'
      });
    } else {
      notices.push({ tone: 'danger', title: `Could not resolve #${row.id}`, detail: err.message });
    }
  }
}
