// A partner endpoint built on the official Standard Webhooks library. It keeps every request's raw bytes and,
// when asked (GET /verify with the subscription's whsec_ secret in X-Webhook-Secret), verifies each one with
// Webhook.verify — exactly what a partner integrating with IntelSharing would run.
import http from "node:http";
import { Webhook } from "standardwebhooks";

const received = [];

const server = http.createServer((req, res) => {
  if (req.method === "POST") {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      received.push({
        headers: {
          "webhook-id": req.headers["webhook-id"],
          "webhook-timestamp": req.headers["webhook-timestamp"],
          "webhook-signature": req.headers["webhook-signature"],
        },
        body: Buffer.concat(chunks).toString("utf8"),
      });
      res.writeHead(204).end();
    });
    return;
  }

  if (req.method === "GET" && req.url === "/verify") {
    const wh = new Webhook(req.headers["x-webhook-secret"]);
    const results = received.map((r) => {
      try {
        const payload = wh.verify(r.body, r.headers);
        return { id: r.headers["webhook-id"], verified: true, type: payload.type };
      } catch (e) {
        return { id: r.headers["webhook-id"], verified: false, error: String(e) };
      }
    });
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(results));
    return;
  }

  res.writeHead(404).end();
});

server.listen(0, "127.0.0.1", () => {
  // The test reads the port from this line.
  console.log(`listening ${server.address().port}`);
});
