// Copies uPlot's minified build, stylesheet and licence into the console's assets, with the version it came from.
// The console must work on an air-gapped network, so the files are committed and served by the API itself.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, "node_modules", "uplot");
const target = join(here, "..", "..", "src", "IntelSharing.Api", "wwwroot", "console", "assets", "vendor", "uplot");
const { version, license } = JSON.parse(readFileSync(join(source, "package.json"), "utf8"));
mkdirSync(target, { recursive: true });
for (const file of ["dist/uPlot.iife.min.js", "dist/uPlot.min.css", "LICENSE"]) {
  copyFileSync(join(source, file), join(target, file.replace("dist/", "")));
}
writeFileSync(join(target, "VERSION"), `uplot ${version} (${license}), from the npm registry; refresh with tools/console-assets: npm ci && npm run vendor\n`);
console.log(`uplot ${version} copied to ${target}`);
