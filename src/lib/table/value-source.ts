// What a values combobox lists when its values are not a table field's own (products or
// categories by id, fixed lists in words): the value that is stored, the name that is shown.

export interface ValueOption {
  value: string;
  label?: string;
  /** Rows holding the value, when that means something (products in a category). */
  count?: number;
}

export type ValueSource = ((
  q: string,
  signal: AbortSignal
) => Promise<{ values: ValueOption[]; truncated: boolean; approximate?: boolean }>) & {
  /**
   * The names of chosen values, by value, for those the first page does not list (a saved rule's
   * product past the first 100 by name): so a chip shows the name, not the id, before any search.
   */
  named?: (values: string[], signal: AbortSignal) => Promise<ValueOption[]>;
};
