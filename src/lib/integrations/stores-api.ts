import { api, unwrap } from '$lib/api.js';
import { authed as call } from '$lib/session.svelte.js';
import type { CreateStoreBody, CreatedStore, Store, StoreDelivery } from '$shared/schemas/storefront.js';

// The stores screen's calls (storefront webhooks), through the typed client.

export const storesApi = {
  list: (): Promise<{ stores: Store[] }> => call(unwrap(api.api.stores.$get())),
  create: (input: CreateStoreBody): Promise<CreatedStore> =>
    call(unwrap(api.api.stores.$post({ json: input }))),
  update: (storeId: number, changes: { name?: string; enabled?: boolean }): Promise<{ store: Store }> =>
    call(unwrap(api.api.stores[':id'].$patch({ param: { id: String(storeId) }, json: changes }))),
  deliveries: (storeId: number): Promise<{ deliveries: StoreDelivery[] }> =>
    call(unwrap(api.api.stores[':id'].deliveries.$get({ param: { id: String(storeId) }, query: {} }))),
  retry: (storeId: number, deliveryId: number): Promise<{ delivery: StoreDelivery }> =>
    call(
      unwrap(
        api.api.stores[':id'].deliveries[':deliveryId'].retry.$post({
          param: { id: String(storeId), deliveryId: String(deliveryId) }
        })
      )
    )
};
