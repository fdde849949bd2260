// The loyalty programme's rules, shared by the seed (which writes the history) and the simulator
// (which writes live activity), so that both follow the same ones.

/** Vouchers a member can redeem points for, in points (100 points a dollar), largest first. */
export const VOUCHERS = [5000, 2500, 1000, 500] as const;

/** The largest voucher `points` pay for; undefined when they pay for none. */
export function voucherFor(points: number): number | undefined {
  return VOUCHERS.find((voucher) => voucher <= points);
}

export function voucherReason(voucher: number): string {
  return `Redeemed for a $${voucher / 100} voucher`;
}

/** One point per whole dollar, earned when an order ships. */
export function pointsEarned(totalCents: number): number {
  return Math.floor(totalCents / 100);
}

/** Each order earns once. */
export function earnKey(orderId: number): string {
  return `order:${orderId}:earn`;
}
