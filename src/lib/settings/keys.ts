import type { ShortcutSection } from '$lib/components/screen-shortcuts.svelte.js';

// The settings screens' keys, listed in the shortcuts dialog while the screen is open.

const isMac = () => typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);

/** Ctrl+S, or ⌘S on a Mac. */
export const isSaveChord = (event: KeyboardEvent) =>
  event.key.toLowerCase() === 's' &&
  (isMac() ? event.metaKey : event.ctrlKey) &&
  !event.altKey &&
  !event.shiftKey;

export const saveKeys = () => [isMac() ? '⌘' : 'Ctrl', 'S'];

export const SETTINGS_SHORTCUTS = (): ShortcutSection[] => [
  {
    title: 'Support settings',
    shortcuts: [
      { label: 'Save SLA targets', keys: saveKeys() },
      { label: 'New team', keys: ['n'] }
    ]
  }
];

export const ADMIN_SHORTCUTS: ShortcutSection[] = [
  {
    title: 'Admin',
    shortcuts: [
      { label: 'New user', keys: ['n'] },
      { label: 'Search users', keys: ['/'] },
      { label: 'Save / cancel a row being edited', keys: ['Enter', 'Esc'] }
    ]
  }
];
