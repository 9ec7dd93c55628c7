// A partner agency's webhook endpoint, for trying IntelSharing end to end (deploy/compose.yaml).
// It verifies each request exactly as the Standard Webhooks spec says, with the official library and the
// subscription's signing secret, logs the verified event's id and type, and answers 204; a request whose
// signature does not verify gets 401 and is logged as rejected.
"use strict";

const http = require("node:http");
const { Webhook, WebhookVerificationError } = require("standardwebhooks");

const MAX_BODY_BYTES = 2 * 1024 * 1024;

function log(entry) {
  console.log(JSON.stringify({ at: new Date().toISOString(), ...entry }));
}

/** Creates the HTTP server. `secret` is the subscription's signing secret, whsec_… */
function createReceiver(secret, { write = log } = {}) {
  const webhook = new Webhook(secret);

  return http.createServer((request, response) => {
    if (request.method === "GET" && request.url === "/health") {
      response.writeHead(200, { "content-type": "text/plain" }).end("ok");
      return;
    }

    if (request.method !== "POST") {
      response.writeHead(405, { allow: "POST" }).end();
      return;
    }

    const chunks = [];
    let size = 0;
    request.on("data", (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        response.writeHead(413).end();
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });

    request.on("end", () => {
      if (response.writableEnded) {
        return;
      }

      // The signature covers the exact bytes sent: verify the raw body, never a re-serialised one.
      const body = Buffer.concat(chunks);
      const id = request.headers["webhook-id"];
      try {
        webhook.verify(body, request.headers, { jsonParse: false });
      } catch (error) {
        if (!(error instanceof WebhookVerificationError)) {
          throw error;
        }
        write({ event: "rejected", id, path: request.url, reason: error.message });
        response.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ error: "invalid signature" }));
        return;
      }

      let type;
      try {
        type = JSON.parse(body.toString("utf8")).type;
      } catch {
        write({ event: "rejected", id, path: request.url, reason: "body is not JSON" });
        response.writeHead(400).end();
        return;
      }

      write({ event: "verified", id, type, path: request.url });
      response.writeHead(204).end();
    });
  });
}

module.exports = { createReceiver };

if (require.main === module) {
  const secret = process.env.WEBHOOK_SECRET;
  if (!secret || !secret.startsWith("whsec_")) {
    console.error("WEBHOOK_SECRET must be set to the subscription's signing secret (whsec_…).");
    process.exit(78);
  }

  const port = Number.parseInt(process.env.PORT ?? "8080", 10);
  const server = createReceiver(secret);
  server.listen(port, () => log({ event: "listening", port }));

  // As PID 1 in a container, Node ignores SIGTERM unless told otherwise.
  for (const signal of ["SIGTERM", "SIGINT"]) {
    process.on(signal, () => server.close(() => process.exit(0)));
  }
}
