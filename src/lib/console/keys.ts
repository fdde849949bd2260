import type { ShortcutSection } from '$lib/components/screen-shortcuts.svelte.js';

export const QUEUE_SHORTCUTS: ShortcutSection[] = [
  {
    title: 'Queue',
    shortcuts: [
      { label: 'Next / previous ticket', keys: ['j', 'k'] },
      { label: 'Open ticket', keys: ['Enter'] },
      { label: 'Assign to me', keys: ['a'] },
      { label: 'Reply', keys: ['r'] },
      { label: 'Internal note', keys: ['n'] },
      { label: 'Resolve', keys: ['e'] },
      { label: 'Search', keys: ['/'] },
      { label: 'Mine · Unassigned · Team · All', keys: ['1', '2', '3', '4'] }
    ]
  }
];

export const TICKET_SHORTCUTS: ShortcutSection[] = [
  {
    title: 'Ticket',
    shortcuts: [
      { label: 'Reply', keys: ['r'] },
      { label: 'Internal note', keys: ['n'] },
      { label: 'Send', keys: ['Ctrl', 'Enter'] },
      { label: 'Canned response (in an empty reply)', keys: ['/'] },
      { label: 'Assign to me', keys: ['a'] },
      { label: 'Resolve', keys: ['e'] },
      { label: 'Next / previous ticket in queue', keys: ['j', 'k'] },
      { label: 'Back to the queue', keys: ['Esc'] }
    ]
  }
];
