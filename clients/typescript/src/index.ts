// The typed IntelSharing client: openapi-fetch over the types openapi-typescript generates from
// openapi/intelsharing.v1.json (npm run generate). Every path, parameter, body and response is checked by tsc.
import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./schema.js";

export type { components, paths };
export type Schemas = components["schemas"];
export type IntelSharingClient = Client<paths>;

/** A client that sends `Authorization: Bearer <apiKey>` on every request. */
export function createIntelSharingClient(baseUrl: string, apiKey: string): IntelSharingClient {
  return createClient<paths>({
    baseUrl,
    headers: { Authorization: `Bearer ${apiKey}` },
  });
}
