import { z } from 'zod';

// The demo's simulated shop activity: whether this server runs it, and pausing or resuming it.

/** `GET /api/demo-activity` and the answer to `PUT`. */
export const DemoActivityStatus = z.object({
  /** False unless this server runs the embedded demo (then the other fields are zero and false). */
  available: z.boolean(),
  running: z.boolean(),
  /** The average pace while running. */
  eventsPerMinute: z.number().nonnegative(),
  /** Simulated events written since the server started. */
  events: z.number().int().nonnegative()
});
export type DemoActivityStatus = z.infer<typeof DemoActivityStatus>;

/** `PUT /api/demo-activity`: managers and admins pause (`false`) or resume (`true`) it. */
export const DemoActivityBody = z.object({ running: z.boolean() });
export type DemoActivityBody = z.infer<typeof DemoActivityBody>;
