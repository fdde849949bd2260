import { z } from 'zod';
import { LIST_ENTITIES, listStateSchema, type ListEntity, type ListState } from './query.js';

// Saved views: a named list state. Personal views are their owner's only; a shared view is seen
// by the owner's team; managers and admins may share with everyone.

export const VIEW_VISIBILITIES = ['personal', 'team', 'everyone'] as const;
export type ViewVisibility = (typeof VIEW_VISIBILITIES)[number];

export interface SavedView {
  id: number;
  name: string;
  entity: ListEntity;
  state: ListState;
  visibility: ViewVisibility;
  /** visibility !== 'personal'. */
  shared: boolean;
  ownerId: number;
  ownerName: string;
  teamId: number | null;
  /** The caller may edit or delete it (its owner, or a manager/admin for a shared view). */
  editable: boolean;
  createdAt: string;
  updatedAt: string;
}

const name = z.string().trim().min(1).max(80);

export const ViewListQuery = z.object({ entity: z.enum(LIST_ENTITIES) });

/**
 * Creating a view. `shared: true` means the owner's team (`visibility: 'team'`); `visibility`
 * wins when both are given; 'everyone' is for managers and admins.
 */
export const CreateViewBody = z
  .object({
    name,
    entity: z.enum(LIST_ENTITIES),
    state: z.unknown(),
    shared: z.boolean().optional(),
    visibility: z.enum(VIEW_VISIBILITIES).optional()
  })
  .transform((body, ctx) => {
    const state = listStateSchema(body.entity).safeParse(body.state ?? {});
    if (!state.success) {
      for (const issue of state.error.issues)
        ctx.addIssue({ code: 'custom', path: ['state', ...issue.path.map(String)], message: issue.message });
      return z.NEVER;
    }
    return {
      name: body.name,
      entity: body.entity,
      state: state.data as ListState,
      visibility: body.visibility ?? (body.shared ? 'team' : 'personal')
    };
  });
export type CreateViewBody = z.input<typeof CreateViewBody>;

/** Editing a view: any of name, state (validated against the view's entity by the server), sharing. */
export const UpdateViewBody = z
  .object({
    name: name.optional(),
    state: z.unknown().optional(),
    shared: z.boolean().optional(),
    visibility: z.enum(VIEW_VISIBILITIES).optional()
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'nothing to change');
export type UpdateViewBody = z.input<typeof UpdateViewBody>;

export const ViewIdParam = z.object({ id: z.coerce.number().int().min(1).max(2147483647) });
