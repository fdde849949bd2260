import { api, unwrap } from '$lib/api.js';
import { authed as call } from '$lib/session.svelte.js';
import type {
  ApiScope,
  ApiToken,
  CreatedApiToken,
  CreatedWebhook,
  WebhookDelivery,
  WebhookEvent,
  WebhookSubscription
} from '$shared/schemas/integrations.js';

// The integrations screen's calls (API tokens, outbound webhooks), through the typed client.

const id = (n: number) => ({ id: String(n) });

export const integrationsApi = {
  tokens: (): Promise<{ tokens: ApiToken[] }> => call(unwrap(api.api['api-tokens'].$get())),
  createToken: (input: { name: string; scopes: ApiScope[]; expiresAt?: string }): Promise<CreatedApiToken> =>
    call(unwrap(api.api['api-tokens'].$post({ json: input }))),
  revokeToken: (tokenId: number): Promise<{ token: ApiToken }> =>
    call(unwrap(api.api['api-tokens'][':id'].$delete({ param: id(tokenId) }))),
  subscriptions: (): Promise<{ subscriptions: WebhookSubscription[] }> =>
    call(unwrap(api.api['webhook-subscriptions'].$get())),
  createSubscription: (input: {
    name: string;
    url: string;
    events: WebhookEvent[];
  }): Promise<CreatedWebhook> => call(unwrap(api.api['webhook-subscriptions'].$post({ json: input }))),
  updateSubscription: (
    subscriptionId: number,
    changes: { enabled?: boolean; events?: WebhookEvent[] }
  ): Promise<{ subscription: WebhookSubscription }> =>
    call(
      unwrap(api.api['webhook-subscriptions'][':id'].$patch({ param: id(subscriptionId), json: changes }))
    ),
  deleteSubscription: (subscriptionId: number): Promise<{ ok: true }> =>
    call(unwrap(api.api['webhook-subscriptions'][':id'].$delete({ param: id(subscriptionId) }))),
  deliveries: (subscriptionId: number): Promise<{ deliveries: WebhookDelivery[] }> =>
    call(
      unwrap(
        api.api['webhook-subscriptions'][':id'].deliveries.$get({ param: id(subscriptionId), query: {} })
      )
    ),
  redeliver: (subscriptionId: number, deliveryId: number): Promise<{ delivery: WebhookDelivery }> =>
    call(
      unwrap(
        api.api['webhook-subscriptions'][':id'].deliveries[':deliveryId'].redeliver.$post({
          param: { id: String(subscriptionId), deliveryId: String(deliveryId) }
        })
      )
    )
};
