/** One group of keys a screen adds to the shortcuts dialog ("Queue", "Ticket"). */
export interface ShortcutSection {
  title: string;
  shortcuts: {
    label: string;
    keys: string[];
    /** Keys pressed one after the other, not together. */ then?: boolean;
  }[];
}

/**
 * The keys of the screen on show. A screen registers its sections while mounted; the shortcuts
 * dialog lists them above the global ones.
 */
class ScreenShortcuts {
  sections = $state.raw<ShortcutSection[]>([]);

  /** Returns the unregister function (use it as an effect's teardown). */
  register(sections: ShortcutSection[]): () => void {
    this.sections = sections;
    return () => {
      if (this.sections === sections) this.sections = [];
    };
  }
}

export const screenShortcuts = new ScreenShortcuts();
