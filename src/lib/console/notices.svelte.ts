export type NoticeTone = 'info' | 'success' | 'warning' | 'danger';

export interface Notice {
  id: number;
  tone: NoticeTone;
  title: string;
  detail?: string;
}

/** Short-lived messages in the corner ("Ticket resolved", "Already assigned to Bea"). */
class Notices {
  items = $state<Notice[]>([]);
  #next = 1;
  #timers = new Map<number, ReturnType<typeof setTimeout>>();

  push(
    notice: Omit<Notice, 'id'>,
    ms = notice.tone === 'danger' || notice.tone === 'warning' ? 7000 : 3500
  ): number {
    const id = this.#next++;
    this.items = [...this.items.slice(-3), { ...notice, id }];
    this.#timers.set(
      id,
      setTimeout(() => this.dismiss(id), ms)
    );
    return id;
  }

  dismiss(id: number) {
    clearTimeout(this.#timers.get(id));
    this.#timers.delete(id);
    this.items = this.items.filter((n) => n.id !== id);
  }
}

export const notices = new Notices();
