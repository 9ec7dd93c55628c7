// Opens Swagger UI on a running server in headless Debian Chromium (playwright-core; no browser download),
// waits until the operation list renders, checks that the core operations are listed, and saves a screenshot.
//
// Usage: INTELSHARING_BASE_URL=http://127.0.0.1:5080 npx tsx e2e/swagger-ui.ts [screenshot.png]
// CHROMIUM_PATH overrides /usr/bin/chromium. Exits 0 when the checks pass, 1 otherwise.
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { chromium } from "playwright-core";

const baseUrl = process.env.INTELSHARING_BASE_URL ?? "http://127.0.0.1:5080";
const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const screenshot = resolve(process.argv[2] ?? "../../TestResults/swagger-ui.png");
const expected = [
  "Publish an alert",
  "Subscribe an endpoint to alerts",
  "Register a partner agency",
  "Answer an alert you received",
];

async function main(): Promise<void> {
  const profile = mkdtempSync(join(tmpdir(), "intelsharing-chromium-"));
  // launchPersistentContext takes the fresh profile folder; Chromium flags keep it off the network.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    viewport: { width: 1400, height: 1000 },
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    timeout: 60_000,
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const response = await page.goto(`${baseUrl}/swagger`, { waitUntil: "domcontentloaded", timeout: 30_000 });
    if (!response || !response.ok()) {
      throw new Error(`GET /swagger answered ${response?.status() ?? "nothing"}`);
    }
    await page.locator(".opblock-summary").first().waitFor({ state: "visible", timeout: 30_000 });
    const summaries = (await page.locator(".opblock-summary-description").allInnerTexts()).map((s) => s.trim());
    const missing = expected.filter((summary) => !summaries.includes(summary));
    mkdirSync(dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: false });
    console.log(`  ok  Swagger UI lists ${summaries.length} operations; screenshot ${screenshot}`);
    if (missing.length > 0) {
      throw new Error(`Swagger UI does not list: ${missing.join(", ")} (found: ${summaries.join(" | ")})`);
    }
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

main().then(
  () => console.log("swagger-ui: passed"),
  (error: unknown) => {
    console.error(`swagger-ui: FAILED — ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
