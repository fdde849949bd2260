// Socket.IO room names, `scope:id`. Rooms from auth are joined at connect; topic rooms only
// after a policy check.

export const rooms = {
  user: (id: number) => `user:${id}`,
  team: (id: number) => `team:${id}`,
  managers: 'role:manager',
  ticket: (id: number) => `ticket:${id}`,
  customer: (id: number) => `customer:${id}`,
  /** A list screen's table: `list:customers`, `list:orders`, `list:products`. */
  list: (entity: 'customers' | 'orders' | 'products') => `list:${entity}` as const,
  /** A product page: everyone may see products, so joining needs only that the product exists. */
  product: (id: number) => `product:${id}`,
  wallboard: 'wallboard',
  /** A campaign's report (managers and admins): its members' activity inside the window. */
  campaign: (id: number) => `campaign:${id}`
} as const;
