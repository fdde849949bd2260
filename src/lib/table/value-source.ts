// What a values combobox lists when its values are not a table field's own (products or
// categories by id, fixed lists in words): the value that is stored, the name that is shown.

export interface ValueOption {
  value: string;
  label?: string;
  /** Rows holding the value, when that means something (products in a category). */
  count?: number;
}

export type ValueSource = (
  q: string,
  signal: AbortSignal
) => Promise<{ values: ValueOption[]; truncated: boolean; approximate?: boolean }>;
