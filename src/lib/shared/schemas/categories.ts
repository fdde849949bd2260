import { z } from 'zod';

// Product categories: the list the bulk "set category" picker and the category filter offer, and a
// new category made from that picker. Names are unique without regard to case or outer spaces
// (categories_name_key, migration 0001).

export interface Category {
  id: number;
  name: string;
  parentId: number | null;
  /** Products in the category now. */
  products: number;
}

export const CategoryBody = z
  .object({
    name: z
      .string()
      .trim()
      .min(1, 'is required')
      .max(80)
      .refine((s) => ![...s].some((ch) => ch < ' ' || ch === '\u007f'), 'cannot contain control characters')
  })
  .strict();
export type CategoryBody = z.infer<typeof CategoryBody>;
