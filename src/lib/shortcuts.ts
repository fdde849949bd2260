/** True when the key press belongs to something the user is typing into. */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag !== 'INPUT') return false;
  const type = (target as HTMLInputElement).type;
  return !['button', 'checkbox', 'radio', 'range', 'reset', 'submit', 'color', 'file'].includes(type);
}

/** How long after `g` the second key of a go-to sequence may come. */
export const GO_TO_TIMEOUT_MS = 1200;

/**
 * Two-key "go to" sequences (`g` then `d`), as in Linear and GitHub. Feed it keydown events;
 * it calls `go` with the second key when a sequence completes within `timeoutMs`.
 */
export class GoToSequence {
  #armedAt = 0;

  constructor(
    private readonly keys: Set<string>,
    private readonly go: (key: string) => void,
    private readonly timeoutMs = GO_TO_TIMEOUT_MS
  ) {}

  handle(event: KeyboardEvent): boolean {
    if (
      event.defaultPrevented ||
      event.metaKey ||
      event.ctrlKey ||
      event.altKey ||
      isTypingTarget(event.target)
    )
      return false;
    const key = event.key.toLowerCase();
    const armed = this.#armedAt > 0 && event.timeStamp - this.#armedAt <= this.timeoutMs;
    if (armed && this.keys.has(key)) {
      this.#armedAt = 0;
      event.preventDefault();
      this.go(key);
      return true;
    }
    this.#armedAt = key === 'g' && !event.shiftKey ? event.timeStamp : 0;
    return false;
  }
}

/**
 * Screen keys: plain letters pressed outside text fields and dialogs, not the second key of a
 * `g` go-to sequence (the app shell owns those).
 */
export class ScreenKeys {
  #lastKey = '';
  #lastAt = 0;

  accepts(event: KeyboardEvent): boolean {
    const afterG = this.#lastKey === 'g' && event.timeStamp - this.#lastAt < GO_TO_TIMEOUT_MS;
    this.#lastKey = event.key.toLowerCase();
    this.#lastAt = event.timeStamp;
    if (event.defaultPrevented || event.metaKey || event.ctrlKey || event.altKey || afterG) return false;
    if (isTypingTarget(event.target)) return false;
    if (document.querySelector('dialog[open], [popover]:popover-open')) return false;
    return true;
  }
}
