import { api, unwrap } from '$lib/api.js';
import type { CreateCampaignBody } from '$shared/schemas/campaigns.js';

// The campaigns API, as the screens call it.

const param = (id: number) => ({ param: { id: String(id) } });

export const listCampaigns = () => unwrap(api.api.campaigns.$get());
export const campaignSegments = () => unwrap(api.api.campaigns.segments.$get());
export const campaignRewards = () => unwrap(api.api.campaigns.rewards.$get());
export const createCampaign = (body: CreateCampaignBody) => unwrap(api.api.campaigns.$post({ json: body }));
export const launchCampaign = (id: number) => unwrap(api.api.campaigns[':id'].launch.$post(param(id)));
export const campaignReport = (id: number) => unwrap(api.api.campaigns[':id'].report.$get(param(id)));
