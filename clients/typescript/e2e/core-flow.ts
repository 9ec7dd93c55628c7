// The core flow, end to end, through the generated typed client against a running server:
//   the operator registers two agencies and issues their keys; the Hungarian police subscribe a local
//   endpoint; the Serbian Border Police publish a migrant-smuggling alert, read it and list it; the
//   endpoint receives the signed alert.published webhook (verified with the official standardwebhooks
//   library); the Hungarian police answer with feedback.
//
// Usage: INTELSHARING_BASE_URL=http://127.0.0.1:5080 INTELSHARING_OPERATOR_KEY=isk_… npx tsx e2e/core-flow.ts
// Exits 0 when every step passed, 1 with the failing step's message otherwise.
import { randomUUID } from "node:crypto";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { createIntelSharingClient, type IntelSharingClient, type Schemas } from "../src/index.js";

const baseUrl = requireEnv("INTELSHARING_BASE_URL");
const operatorKey = requireEnv("INTELSHARING_OPERATOR_KEY");
const webhookTimeoutMs = Number(process.env.INTELSHARING_WEBHOOK_TIMEOUT_MS ?? 30_000);
const run = randomUUID().slice(0, 8); // agency names are unique; a second run against the same database needs new ones

class StepFailed extends Error {}

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) {
    console.error(`core-flow: ${name} is not set.`);
    process.exit(2);
  }
  return value;
}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) {
    throw new StepFailed(message);
  }
}

/** openapi-fetch answers { data } or { error }; a step fails with the status and the problem document. */
function ok<T>(step: string, result: { data?: T; error?: unknown; response: Response }, status: number): T {
  if (result.response.status !== status || result.data === undefined) {
    throw new StepFailed(
      `${step}: expected HTTP ${status}, got ${result.response.status} ${JSON.stringify(result.error ?? result.data ?? null)}`,
    );
  }
  return result.data;
}

async function step<T>(name: string, action: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    const value = await action();
    console.log(`  ok  ${name} (${Date.now() - started} ms)`);
    return value;
  } catch (error) {
    console.error(`  FAIL ${name}`);
    throw error;
  }
}

/** The message and, for network errors such as "fetch failed", the cause (ECONNREFUSED …). */
function describe(error: unknown): string {
  if (!(error instanceof Error)) {
    return String(error);
  }
  return error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message;
}

// ---- A tiny webhook receiver on loopback -------------------------------------------------------------------

interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
}

function startReceiver() {
  const received: ReceivedWebhook[] = [];
  const waiters: Array<() => void> = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString("utf8") });
      response.writeHead(204).end(); // acknowledge first, work afterwards
      waiters.splice(0).forEach((wake) => wake());
    });
  });

  async function waitFor(match: (webhook: ReceivedWebhook) => boolean, timeoutMs: number): Promise<ReceivedWebhook> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = received.find(match);
      if (found) {
        return found;
      }
      const left = deadline - Date.now();
      check(left > 0, `no matching webhook within ${timeoutMs} ms (received ${received.length}: ${received.map((w) => w.body.slice(0, 80)).join(" | ")})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  return new Promise<{ url: string; waitFor: typeof waitFor; close: () => void }>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}/intelsharing`, waitFor, close: () => server.close() });
    });
  });
}

function header(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  check(typeof value === "string", `webhook without a ${name} header`);
  return value;
}

// ---- The flow --------------------------------------------------------------------------------------------------

async function registerAgency(operator: IntelSharingClient, input: Schemas["AgencyInput"], scopes: Schemas["ApiKeyInput"]["scopes"]) {
  const agency = ok(`register ${input.name}`, await operator.POST("/api/v1/agencies", { body: input }), 201);
  check(agency.isActive, `${agency.name} is not active after registration`);
  const key = ok(
    `issue a key to ${agency.name}`,
    await operator.POST("/api/v1/agencies/{agencyId}/keys", {
      params: { path: { agencyId: agency.id } },
      body: { name: `${input.name} — case system (contract checks)`, scopes },
    }),
    201,
  );
  check(key.key.startsWith("isk_"), `the issued key does not look like an API key: ${key.prefix}`);
  return { agency, client: createIntelSharingClient(baseUrl, key.key) };
}

function smugglingAlert(): Schemas["AlertInput"] {
  return {
    category: "migrant_smuggling",
    title: "Van with about 15 people heading from Preševo to Subotica for the Horgoš–Röszke crossing",
    summary:
      "Border Police at Preševo observed a white Mercedes Sprinter with Serbian plates collecting about 15 people " +
      "at the Miratovac reception centre. The driver works for a network that moves groups along the E-75 to " +
      "Subotica and hands them to a second crew who attempt the Horgoš–Röszke crossing into Hungary at night.",
    severity: "high",
    tlp: "amber",
    handling: { code: "H2" },
    evaluation: { source: "B", information: "2" },
    basis: "fact",
    countries: ["RS", "HU", "MK"],
    smuggling: {
      route: [
        { place: "Preševo", country: "RS" },
        { place: "Niš", country: "RS" },
        { place: "Belgrade", country: "RS" },
        { place: "Subotica", country: "RS" },
      ],
      crossingPoints: [{ name: "Horgoš–Röszke", countries: ["RS", "HU"] }],
      modusOperandi: "People concealed behind a false wall in a delivery van; a scout car drives ahead on the E-75.",
      estimatedPeople: 15,
      networkNames: ["Sprinter crew"],
    },
    indicators: [
      { type: "vehicle_plate", value: "VR 456-KL", description: "White Mercedes Sprinter" },
      { type: "phone", value: "+381 63 765 4321", description: "Driver's phone" },
    ],
    observedAt: new Date(Date.now() - 2 * 3600_000).toISOString(),
  };
}

async function main(): Promise<void> {
  const receiver = await startReceiver();
  try {
    const operator = createIntelSharingClient(baseUrl, operatorKey);

    const hungary = await step("operator registers the Hungarian police and issues a key", () =>
      registerAgency(
        operator,
        { name: `Hungarian National Police — ORFK Operations Centre (${run})`, country: "HU", kind: "police" },
        ["alerts:read", "alerts:write", "subscriptions:manage"],
      ),
    );
    const serbia = await step("operator registers the Serbian Border Police and issues a key", () =>
      registerAgency(
        operator,
        { name: `Ministry of Interior of the Republic of Serbia — Border Police Directorate (${run})`, country: "RS", kind: "border_guard" },
        ["alerts:write", "alerts:read"],
      ),
    );

    const subscription = await step("the Hungarian police subscribe their endpoint", async () => {
      const created = ok(
        "subscribe",
        await hungary.client.POST("/api/v1/subscriptions", {
          body: {
            url: receiver.url,
            description: "ORFK operations centre (contract checks)",
            categories: ["migrant_smuggling"],
            minSeverity: "medium",
            countries: ["RS", "HU"],
          },
        }),
        201,
      );
      check(created.secret.startsWith("whsec_"), "the subscription secret does not start with whsec_");
      return created;
    });

    const alert = await step("the Serbian Border Police publish a migrant-smuggling alert", async () => {
      const published = ok(
        "submit alert",
        await serbia.client.POST("/api/v1/alerts", {
          params: { header: { "Idempotency-Key": randomUUID() } },
          body: smugglingAlert(),
        }),
        201,
      );
      check(published.category === "migrant_smuggling", `category is ${published.category}`);
      check(published.originator.id === serbia.agency.id, "the originator is not the submitting agency");
      check(published.status === "active" && published.version === 1, `status ${published.status}, version ${published.version}`);
      return published;
    });

    await step("the Serbian Border Police read the alert", async () => {
      const read = ok(
        "get alert",
        await serbia.client.GET("/api/v1/alerts/{id}", { params: { path: { id: alert.id } } }),
        200,
      );
      check(read.id === alert.id && read.title === alert.title, "the alert read back differs from the one published");
      check(read.smuggling?.estimatedPeople === 15, "the smuggling details did not survive the round trip");
    });

    await step("the Serbian Border Police find it in the list", async () => {
      let cursor: string | undefined;
      for (let page = 0; page < 20; page++) {
        const list = ok(
          "list alerts",
          await serbia.client.GET("/api/v1/alerts", {
            params: { query: { category: "migrant_smuggling", country: "RS", limit: 100, ...(cursor ? { cursor } : {}) } },
          }),
          200,
        );
        if (list.items.some((item) => item.id === alert.id)) {
          return;
        }
        if (!list.nextCursor) {
          break;
        }
        cursor = list.nextCursor;
      }
      throw new StepFailed(`alert ${alert.id} is not in GET /api/v1/alerts`);
    });

    await step("the endpoint receives the signed alert.published webhook", async () => {
      const webhook = await receiver.waitFor((w) => w.body.includes(alert.id), webhookTimeoutMs);
      const signed = {
        "webhook-id": header(webhook.headers, "webhook-id"),
        "webhook-timestamp": header(webhook.headers, "webhook-timestamp"),
        "webhook-signature": header(webhook.headers, "webhook-signature"),
      };
      let event: unknown;
      try {
        event = new Webhook(subscription.secret).verify(webhook.body, signed);
      } catch (error) {
        throw new StepFailed(`the webhook signature does not verify: ${String(error)}`);
      }
      const { type, data } = event as { type?: string; data?: Schemas["AlertView"] };
      check(type === "alert.published", `event type is ${type}`);
      check(data?.id === alert.id && data.version === alert.version, "the webhook carries a different alert");
      check(data.handling.code === "H2", "the handling code did not travel with the alert");
    });

    await step("the Hungarian police give feedback: a hit", async () => {
      const feedback = ok(
        "submit feedback",
        await hungary.client.POST("/api/v1/alerts/{id}/feedback", {
          params: { path: { id: alert.id } },
          body: { kind: "hit", note: "Van stopped at Horgoš by the joint patrol; 14 people and the driver." },
        }),
        201,
      );
      check(feedback.alertId === alert.id && feedback.agency.id === hungary.agency.id, "the feedback is not tied to the alert and agency");
    });
  } finally {
    receiver.close();
  }
}

main().then(
  () => console.log("core-flow: passed"),
  (error: unknown) => {
    console.error(`core-flow: FAILED — ${describe(error)} (server ${baseUrl})`);
    process.exit(1);
  },
);
