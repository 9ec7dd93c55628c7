"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const { randomBytes } = require("node:crypto");
const { Webhook } = require("standardwebhooks");
const { createReceiver } = require("./server");

const secret = `whsec_${randomBytes(32).toString("base64")}`;
const logged = [];
let server;
let url;

before(async () => {
  server = createReceiver(secret, { write: (entry) => logged.push(entry) });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${server.address().port}/webhooks/intelsharing`;
});

after(() => new Promise((resolve) => server.close(resolve)));

function signed(body, { id = "msg_2kDQ6tTzYRb7gE3MS1wDFjzaJqT", signWith = secret, at = new Date() } = {}) {
  return {
    "content-type": "application/json",
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": new Webhook(signWith).sign(id, at, body),
  };
}

const event = JSON.stringify({
  type: "alert.published",
  timestamp: "2026-11-20T19:04:12.318204Z",
  data: { id: "01a1fa58-491e-7ca1-9f35-744d4250ed11", title: "About 40 people to be moved from Preševo to the Horgoš–Röszke crossing tonight" },
});

test("a correctly signed event is answered 204 and logged with its id and type", async () => {
  const response = await fetch(url, { method: "POST", headers: signed(event), body: event });

  assert.equal(response.status, 204);
  assert.deepEqual(logged.at(-1), { event: "verified", id: "msg_2kDQ6tTzYRb7gE3MS1wDFjzaJqT", type: "alert.published", path: "/webhooks/intelsharing" });
});

test("a signature made with another secret is answered 401", async () => {
  const other = `whsec_${randomBytes(32).toString("base64")}`;

  const response = await fetch(url, { method: "POST", headers: signed(event, { signWith: other }), body: event });

  assert.equal(response.status, 401);
  assert.equal(logged.at(-1).event, "rejected");
});

test("a body changed after signing is answered 401", async () => {
  const response = await fetch(url, { method: "POST", headers: signed(event), body: event.replace("Preševo", "Presevo") });

  assert.equal(response.status, 401);
});

test("a request signed long ago is answered 401 (replay protection)", async () => {
  const response = await fetch(url, { method: "POST", headers: signed(event, { at: new Date(Date.now() - 60 * 60 * 1000) }), body: event });

  assert.equal(response.status, 401);
  assert.equal(logged.at(-1).reason, "Message timestamp too old");
});

test("during secret rotation a header with an old and a new signature verifies", async () => {
  const headers = signed(event);
  const old = new Webhook(`whsec_${randomBytes(32).toString("base64")}`).sign(headers["webhook-id"], new Date(Number(headers["webhook-timestamp"]) * 1000), event);
  headers["webhook-signature"] = `${old} ${headers["webhook-signature"]}`;

  const response = await fetch(url, { method: "POST", headers, body: event });

  assert.equal(response.status, 204);
});

test("a request without the webhook headers is answered 401", async () => {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: event });

  assert.equal(response.status, 401);
});
