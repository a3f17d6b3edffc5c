#!/usr/bin/env node
// First paint of the leaders' dashboard (/dashboard) in Debian's Chromium, against the catalogue page
// (/) of the same server measured the same way as the baseline.
//
//   node bench/dashboard_paint.mjs http://127.0.0.1:PORT      (a server with `kho init --demo` data)
//
// For each page, 8 loads in one tab (the first one cold): first-contentful-paint from the browser's
// paint timing, and the time until the page's content is drawn (dashboard: KPI cards and every chart
// canvas; catalogue: the dataset list), from navigation start. Prints medians and the ratio.
import { chromium } from "playwright-core";

const base = process.argv[2];
if (!base) {
  console.error("usage: node bench/dashboard_paint.mjs http://127.0.0.1:PORT");
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

async function measure(path, ready) {
  const page = await browser.newPage();
  const fcp = [], drawn = [];
  for (let i = 0; i < 8; i++) {
    const t0 = Date.now();
    await page.goto(base + path, { waitUntil: "commit" });
    await page.waitForFunction(ready, null, { timeout: 10000 });
    drawn.push(Date.now() - t0);
    fcp.push(await page.evaluate(() => (performance.getEntriesByName("first-contentful-paint")[0] || {}).startTime || NaN));
  }
  await page.close();
  return { fcp: median(fcp), drawn: median(drawn), first_drawn: drawn[0] };
}

const dash = await measure("/dashboard", () => document.querySelectorAll(".kpi").length > 0 &&
  document.querySelectorAll("canvas").length > 3);
const cat = await measure("/", () => document.querySelectorAll("main a[href^='/datasets/']").length > 0);
await browser.close();
const r = (x) => Math.round(x);
console.log(`dashboard: first contentful paint ${r(dash.fcp)} ms, drawn ${r(dash.drawn)} ms (cold ${r(dash.first_drawn)} ms)`);
console.log(`catalogue: first contentful paint ${r(cat.fcp)} ms, drawn ${r(cat.drawn)} ms (cold ${r(cat.first_drawn)} ms)`);
console.log(`ratio dashboard/catalogue: paint ${(dash.fcp / cat.fcp).toFixed(2)}, drawn ${(dash.drawn / cat.drawn).toFixed(2)}`);
