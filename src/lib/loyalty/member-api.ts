import { api, unwrap } from '$lib/api.js';
import { authed as call } from '$lib/session.svelte.js';
import type { AdjustBody, GoodwillBody, LoyaltyAccountDetail } from '$shared/schemas/loyalty.js';

// One member's points (server/routes/loyalty.ts): the account, the rewards catalogue and the three
// changes. Each change carries the Idempotency-Key its dialog drew when it opened, so a double
// click or a retry of the same submission applies once.

const member = api.api.loyalty.customers[':id'];
const param = (customerId: number) => ({ id: String(customerId) });
const header = (key: string) => ({ 'idempotency-key': key });

/** A fresh Idempotency-Key: one per dialog submission. */
export const newIdempotencyKey = () => crypto.randomUUID();

export const memberApi = {
  account: (customerId: number, signal?: AbortSignal): Promise<{ account: LoyaltyAccountDetail }> =>
    call(unwrap(member.$get({ param: param(customerId) }, { init: { signal } }))),
  rewards: () => call(unwrap(api.api.loyalty.rewards.$get())),
  redeem: (customerId: number, rewardId: string, key: string) =>
    call(unwrap(member.redeem.$post({ param: param(customerId), json: { rewardId }, header: header(key) }))),
  adjust: (customerId: number, body: AdjustBody, key: string) =>
    call(unwrap(member.adjust.$post({ param: param(customerId), json: body, header: header(key) }))),
  goodwill: (customerId: number, body: GoodwillBody, key: string) =>
    call(unwrap(member.goodwill.$post({ param: param(customerId), json: body, header: header(key) })))
};
