// workbench.test.mjs — careshed serve's page end to end in Debian's headless Chromium,
// driven by puppeteer-core: the page comes up with every street and target; a click
// proposes a centre whose card shows what `careshed site --at` says for the same point;
// a drag moves it and the figures change; a click removes it; "suggest" adds three
// sites with their cards, saying which method chose them, and by p-median and by
// capacity what they do to walks and demand served; the scenario saved and loaded
// back gives the same cards, one with an unknown kind is refused and changes nothing;
// "save memo" writes the memo; a click outside the district says why and keeps nothing; the
// streets a proposal adds to are shaded with it. Over GCJ-02 tiles (a tile server of
// its own) every layer is shifted as the GCJ-02 formula says and a click is shifted
// back before it is sent; along the network the network's service areas are drawn.
// Saves a screenshot with a proposal.
//
//   node workbench.test.mjs CARESHED SAMPLE_STUDY SCREENSHOT
// Exits 77 (skipped) without chromium or without puppeteer-core (npm ci in tests/web).
import {spawn, execFileSync} from "node:child_process";
import {createServer} from "node:http";
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import assert from "node:assert/strict";
import {launchOrSkip} from "./browser.mjs";

const [cli, study, screenshot] = process.argv.slice(2);
const browser = await launchOrSkip();

function startServer(...extra) {
  const server = spawn(cli, ["serve", study, "--port", "0", "-q", ...extra],
                       {stdio: ["ignore", "pipe", "inherit"]});
  return new Promise((resolve, reject) => {
    let out = "";
    server.stdout.on("data", (d) => {
      out += d;
      const line = out.split("\n")[0];
      if (out.includes("\n")) resolve({server, url: line.trim()});
    });
    server.on("exit", (code) => reject(new Error(`careshed serve exited with ${code}`)));
  });
}

// What `careshed site --at` says of a centre at (lon, lat).
function siteFigures(lon, lat) {
  const dir = mkdtempSync(join(tmpdir(), "careshed-site-"));
  try {
    execFileSync(cli, ["site", study, "--measure", "straight", "-q", "--out", dir,
                       "--at", `${lon.toFixed(10)},${lat.toFixed(10)},centre`]);
    return JSON.parse(readFileSync(join(dir, "proposals.geojson"), "utf8")).features[0].properties;
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
}
// Its newly covered 60+ by threshold.
function siteSays(lon, lat) {
  const p = siteFigures(lon, lat);
  return [5, 10, 15].map((m) => p[`centre_new_${m}min_a60p`]);
}

// WGS84 -> GCJ-02, the published formula (Krasovsky ellipsoid), written out here to
// check the page's shift (gcoord) against.
function gcj02(lon, lat) {
  const a = 6378245.0, ee = 0.00669342162296594323, x = lon - 105, y = lat - 35;
  let dLat = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  dLat += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
  dLat += (20 * Math.sin(y * Math.PI) + 40 * Math.sin(y / 3 * Math.PI)) * 2 / 3;
  dLat += (160 * Math.sin(y / 12 * Math.PI) + 320 * Math.sin(y * Math.PI / 30)) * 2 / 3;
  let dLon = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  dLon += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
  dLon += (20 * Math.sin(x * Math.PI) + 40 * Math.sin(x / 3 * Math.PI)) * 2 / 3;
  dLon += (150 * Math.sin(x / 12 * Math.PI) + 300 * Math.sin(x / 30 * Math.PI)) * 2 / 3;
  const rad = lat / 180 * Math.PI, magic = 1 - ee * Math.sin(rad) ** 2, sq = Math.sqrt(magic);
  dLat = dLat * 180 / ((a * (1 - ee)) / (magic * sq) * Math.PI);
  dLon = dLon * 180 / (a / sq * Math.cos(rad) * Math.PI);
  return [lon + dLon, lat + dLat];
}

// A tile server of the test's own: one grey PNG for every tile, counted.
const tilePng = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4//8/AAX+Av4N70a4AAAAAElFTkSuQmCC", "base64");
function startTiles() {
  const tiles = createServer((req, res) => { tiles.count++; res.writeHead(200, {"Content-Type": "image/png"}); res.end(tilePng); });
  tiles.count = 0;
  return new Promise((resolve) => tiles.listen(0, "127.0.0.1", () => resolve(tiles)));
}

// The card's "5 分钟: +1,934 · 10 分钟: ..." as numbers.
// A file the browser downloads, once it is whole: Chromium makes the file before it
// has written it (a memo read at once was once empty), so the text is read until
// `whole` says it is complete, for up to 10 s.
async function downloaded(path, whole) {
  let text = "";
  for (let i = 0; i < 200; i++) {
    text = existsSync(path) ? readFileSync(path, "utf8") : "";
    if (whole(text)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return text;
}

function cardNumbers(text) {
  return [...text.matchAll(/\+([\d,]+)/g)].map((m) => Number(m[1].replace(/,/g, "")));
}

const {server, url} = await startServer("--measure", "straight");
const downloads = mkdtempSync(join(tmpdir(), "careshed-downloads-")); /* what the page saves */
try {
  const page = await browser.newPage();
  await page.setViewport({width: 1400, height: 900});
  const problems = [];
  page.on("pageerror", (e) => problems.push(e.message));
  page.on("requestfailed", (r) => problems.push("failed " + r.url()));
  const t0 = Date.now();
  await page.goto(url);
  await page.waitForSelector("body[data-ready=true]", {timeout: 15000});
  const readyMs = Date.now() - t0;

  // every street drawn, every target listed
  const study = await (await fetch(new URL("api/study", url), {headers: {"X-Careshed-Token": new URL(url).searchParams.get("token")}})).json();
  assert.equal(await page.$$eval("path.leaflet-interactive", (p) => p.length) >= study.areas, true);
  assert.equal(await page.$$eval("#targets tbody tr", (r) => r.length), study.targets.length);

  // a click proposes a centre (the headline kind) at a street's middle
  const at = await page.evaluate(() => {
    const c = areaLayer.getLayers()[3].getBounds().getCenter();
    const p = map.latLngToContainerPoint(c);
    return {x: p.x, y: p.y};
  });
  const mapBox = await (await page.$("#map")).boundingBox();
  const t1 = Date.now();
  await page.mouse.click(mapBox.x + at.x, mapBox.y + at.y);
  await page.waitForSelector("#cards .card", {timeout: 10000});
  const clickMs = Date.now() - t1;
  const first = await page.evaluate(() => ({lon: proposals[0].at.lon, lat: proposals[0].at.lat}));
  const shown = cardNumbers(await page.$eval("#cards .card .newly", (c) => c.textContent));
  assert.deepEqual(shown, siteSays(first.lon, first.lat).map(Math.round));
  assert.equal(await page.$eval("#message", (m) => m.hidden), true);
  // every street listed; the streets it adds to (15 minutes, 60+, as careshed site
  // says) gain their share with it, in the table and in the shading
  assert.equal(await page.$$eval("#streets tbody tr", (r) => r.length), study.areas);
  const areasNow = await page.evaluate(() => areas.features.map((f) => f.properties));
  const byStreet = siteFigures(first.lon, first.lat).centre_new_by_street;
  const share15 = study.kinds.find((k) => k.id === "centre").share_columns.straight[2][1];
  assert.equal(Object.keys(byStreet).length >= 1, true);
  const rows = new Map(await page.$$eval("#streets tbody tr", (r) => r.map((x) => [x.cells[0].textContent, x.cells[3].textContent])));
  for (const a of areasNow) {
    const want = byStreet[a.id] ? 100 * (a[share15] + byStreet[a.id] / a.pop_a60p) : null;
    const got = rows.get(a.name);
    if (want === null) assert.equal(got, "–", a.name);
    else assert.ok(Math.abs(Number(got.replace("%", "")) - want) <= 0.05, `${a.name}: ${got} vs ${want}`);
  }
  assert.equal(await page.evaluate(() => changedLayer.getLayers().length), Object.keys(byStreet).length);
  // the walking network under the layers, as no tiles were given
  assert.equal(study.network, true);
  assert.equal(await page.$$eval(".leaflet-network-pane canvas", (c) => c.length), 1);
  // the targets gain their "with proposals" column, and the centres' count its gap
  // narrowed by the one centre proposed
  const after = await page.$$eval("#targets tbody tr td:nth-child(3)", (c) => c.map((x) => x.textContent));
  assert.equal(after.some((x) => x !== "–"), true);
  const gaps = await page.$$eval("#targets tbody tr td:nth-child(5)", (c) => c.map((x) => x.textContent));
  assert.ok(gaps.some((x) => /\(−1\)$/.test(x)), gaps.join(" | "));
  if (screenshot) await page.screenshot({path: screenshot});

  // "save memo" downloads the one-page memo: the map as SVG with the proposal, its
  // figures, every target now and with it, the streets it adds to with their shares
  const cdp = await page.createCDPSession();
  await cdp.send("Browser.setDownloadBehavior", {behavior: "allow", downloadPath: downloads});
  await page.click("#memo");
  const memo = await downloaded(join(downloads, "memo.html"), (t) => t.trimEnd().endsWith("</html>"));
  assert.match(memo, /<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.ok(memo.includes(">P1<"), "the proposal's name on the memo's map");
  assert.doesNotMatch(memo, /<script/);
  for (const tg of study.targets) assert.ok(memo.includes(tg.name.replace(/&/g, "&amp;")), tg.name);
  for (const a of areasNow.filter((x) => byStreet[x.id])) {
    const want = (100 * (a[share15] + byStreet[a.id] / a.pop_a60p)).toFixed(1);
    assert.ok(memo.includes(a.name) && memo.includes(want + "%"), `${a.name} at ${want}% on the memo`);
  }
  if (screenshot) {
    const memoPage = await browser.newPage();
    await memoPage.setViewport({width: 800, height: 1130});
    await memoPage.setContent(memo);
    await memoPage.screenshot({path: screenshot.replace(/\.png$/, "-memo.png"), fullPage: true});
    await memoPage.close();
  }

  // a drag moves it: the card follows the new point
  const marker = await page.$(".proposal-icon");
  const box = await marker.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 + 60, box.y + box.height / 2 + 40, {steps: 8});
  await page.mouse.up();
  await page.waitForFunction((lon) => proposals[0].at.lon !== lon, {}, first.lon);
  const moved = await page.evaluate(() => ({lon: proposals[0].at.lon, lat: proposals[0].at.lat}));
  await page.waitForFunction((want) => {
    const c = document.querySelector("#cards .card .newly");
    return c && [...c.textContent.matchAll(/\+([\d,]+)/g)].map((m) => m[1].replace(/,/g, "")).join() === want;
  }, {timeout: 10000}, siteSays(moved.lon, moved.lat).map(Math.round).join());

  // a click on it removes it
  const again = await (await page.$(".proposal-icon")).boundingBox();
  await page.mouse.click(again.x + again.width / 2, again.y + again.height / 2);
  await page.waitForFunction(() => proposals.length === 0 && !document.querySelector("#cards .card"));

  // three suggested centres join the proposals, each with its card, and all together
  await page.click("#suggest");
  await page.waitForFunction(() => document.querySelectorAll(".proposal-icon.suggested").length === 3 &&
                             document.querySelectorAll("#cards .card").length === 4, {timeout: 20000});
  // which method chose them, as the API says
  const said = await page.$eval("#suggested", (d) => d.textContent);
  assert.match(said, /^建议 3 处：(精确最优解|贪心算法)/);

  // the scenario saved, the proposals cleared, the file loaded back: the same cards
  const cardsBefore = await page.$$eval("#cards .card", (c) => c.map((x) => x.textContent));
  await page.click("#save");
  const scenarioFile = join(downloads, "scenario.geojson");
  const scenario = JSON.parse(await downloaded(scenarioFile, (t) => {
    try { return JSON.parse(t) !== null; } catch { return false; }
  }));
  assert.equal(scenario.features.length, 3);
  assert.ok(scenario.features.every((f) => f.properties.figures && f.properties.figures.newly.length > 0));
  await page.click("#clear");
  await page.waitForFunction(() => proposals.length === 0 && !document.querySelector("#cards .card"));
  await (await page.$("#load")).uploadFile(scenarioFile);
  await page.waitForFunction(() => document.querySelectorAll("#cards .card").length === 4, {timeout: 10000});
  assert.deepEqual(await page.$$eval("#cards .card", (c) => c.map((x) => x.textContent)), cardsBefore);
  // one of an unknown kind: said, nothing loaded
  scenario.features[1].properties.kind = "hospital";
  const badFile = join(downloads, "bad-scenario.geojson");
  writeFileSync(badFile, JSON.stringify(scenario));
  await (await page.$("#load")).uploadFile(badFile);
  await page.waitForFunction(() => !document.getElementById("message").hidden, {timeout: 10000});
  assert.match(await page.$eval("#message", (m) => m.textContent), /unknown kind 'hospital' in bad-scenario.geojson/);
  assert.equal(await page.evaluate(() => proposals.length), 3); /* the loaded ones stay */
  // one that is not a point: said, nothing loaded
  scenario.features[1].properties.kind = "centre";
  scenario.features[1].geometry = {type: "LineString", coordinates: [[121.4, 31.1], [121.5, 31.2]]};
  const lineFile = join(downloads, "line-scenario.geojson");
  writeFileSync(lineFile, JSON.stringify(scenario));
  await page.evaluate(() => say(""));
  await (await page.$("#load")).uploadFile(lineFile);
  await page.waitForFunction(() => !document.getElementById("message").hidden, {timeout: 10000});
  assert.match(await page.$eval("#message", (m) => m.textContent),
               /feature 2 of line-scenario.geojson is not a point with a longitude and latitude/);
  assert.equal(await page.evaluate(() => proposals.length), 3);
  await page.click("#clear");
  await page.waitForFunction(() => proposals.length === 0 && !document.querySelector("#cards .card"));

  // the other models: p-median says the mean walk before and after; the choice by
  // capacity is offered only for a kind with a capacity, and says the demand served
  assert.equal(await page.$eval("#capacitated", (b) => b.disabled), true); /* centres: none */
  await page.select("#model", "p-median");
  await page.click("#suggest");
  await page.waitForFunction(() => document.querySelectorAll(".proposal-icon.suggested").length === 3,
                             {timeout: 120000});
  assert.match(await page.$eval("#suggested", (d) => d.textContent),
               /^建议 3 处：(精确最优解|启发式算法)，平均步行 [\d,.]+ 米 → [\d,.]+ 米$/);
  await page.click("#clear");
  await page.waitForFunction(() => proposals.length === 0 && !document.querySelector("#cards .card"));
  const daycare = await page.evaluate(() => study.kinds.findIndex((k) => k.id === "daycare"));
  await page.select("#kind", String(daycare));
  await page.select("#model", "cover");
  assert.equal(await page.$eval("#capacitated", (b) => b.disabled), false);
  await page.click("#capacitated");
  await page.type("#capacity", "100");
  await page.click("#suggest");
  await page.waitForFunction(() => document.querySelectorAll(".proposal-icon.suggested").length === 3,
                             {timeout: 120000});
  assert.match(await page.$eval("#suggested", (d) => d.textContent),
               /^建议 3 处：(精确最优解|启发式算法)，服务量 [\d,.]+ → [\d,.]+ places（需求 [\d,.]+）$/);
  await page.click("#clear");
  await page.waitForFunction(() => proposals.length === 0 && !document.querySelector("#cards .card"));
  await page.click("#capacitated");
  await page.$eval("#capacity", (c) => { c.value = ""; });
  await page.select("#kind", "0");

  // outside the district: said, nothing kept
  await page.mouse.click(mapBox.x + 15, mapBox.y + mapBox.height - 15);
  await page.waitForFunction(() => !document.getElementById("message").hidden, {timeout: 10000});
  const message = await page.$eval("#message", (m) => m.textContent);
  assert.match(message, /outside the study area/);
  assert.equal(await page.evaluate(() => proposals.length), 0);
  assert.deepEqual(problems, []);
  console.log("workbench: page, click, drag, remove, suggest and refusal as careshed site says");

  // over tiles drawn in GCJ-02, measured along the network
  const tiles = await startTiles();
  const gcj = await startServer("--tiles", `http://127.0.0.1:${tiles.address().port}/{z}/{x}/{y}.png`,
                                "--tiles-crs", "GCJ-02");
  try {
    const page2 = await browser.newPage();
    await page2.setViewport({width: 1400, height: 900});
    const csp = [];
    page2.on("console", (m) => /Content.Security.Policy/i.test(m.text()) && csp.push(m.text()));
    page2.on("pageerror", (e) => problems.push(e.message));
    await page2.goto(gcj.url);
    await page2.waitForSelector("body[data-ready=true]", {timeout: 15000});
    assert.ok(tiles.count > 0, "no tile was asked for");
    assert.deepEqual(csp, []);
    // the facilities drawn where the GCJ-02 formula puts them
    const token = new URL(gcj.url).searchParams.get("token");
    const fac = await (await fetch(new URL("api/facilities", gcj.url), {headers: {"X-Careshed-Token": token}})).json();
    const drawn = await page2.evaluate(() => {
      const out = [];
      map.eachLayer((l) => l instanceof L.CircleMarker && l.feature && out.push([l.feature.properties.id, l.getLatLng().lng, l.getLatLng().lat]));
      return out;
    });
    assert.equal(drawn.length, fac.features.length);
    const where = new Map(fac.features.map((f) => [f.properties.id, f.geometry.coordinates]));
    for (const [id, lng, lat] of drawn) {
      const [x, y] = gcj02(...where.get(id));
      assert.ok(Math.abs(x - lng) < 1e-9 && Math.abs(y - lat) < 1e-9, `facility ${id} drawn at ${lng},${lat}, not ${x},${y}`);
    }
    // a click is sent in WGS84: shifted again, it is where the click was
    const sent = new Promise((resolve) => page2.on("request", (r) => r.url().includes("api/evaluate") && resolve(JSON.parse(r.postData()))));
    const box2 = await (await page2.$("#map")).boundingBox();
    const clicked = await page2.evaluate(() => {
      const c = areaLayer.getLayers()[3].getBounds().getCenter();
      const p = map.latLngToContainerPoint(c);
      return {x: p.x, y: p.y, ll: map.containerPointToLatLng(p)};
    });
    await page2.mouse.click(box2.x + clicked.x, box2.y + clicked.y);
    const body = await sent;
    const [x, y] = gcj02(body.proposals[0].lon, body.proposals[0].lat);
    assert.ok(Math.abs(x - clicked.ll.lng) < 2e-6 && Math.abs(y - clicked.ll.lat) < 2e-6, `sent ${JSON.stringify(body)}`);
    assert.ok(Math.abs(body.proposals[0].lon - clicked.ll.lng) > 1e-3, "the click was not shifted back");
    await page2.waitForSelector("#cards .card", {timeout: 10000});
    // the network's service areas at the chosen time
    assert.equal(await page2.$eval("#measure", (m) => m.value), "network");
    assert.ok(await page2.evaluate(() => circleLayer.getLayers().length) >= 1);
    assert.ok(await page2.evaluate(() => changedLayer.getLayers().length) >= 1);
    if (screenshot) await page2.screenshot({path: screenshot.replace(/\.png$/, "-tiles.png")});
    assert.deepEqual(problems, []);
    console.log("workbench: GCJ-02 tiles: layers shifted as the formula says, clicks shifted back; network service areas drawn");
    await page2.close();
  } finally {
    gcj.server.kill("SIGINT");
    tiles.close();
  }
  // measured, not asserted (the machine is shared): see the README
  console.log(`workbench: page ready in ${readyMs} ms, click to card in ${clickMs} ms`);
} finally {
  await browser.close();
  server.kill("SIGINT");
  rmSync(downloads, {recursive: true, force: true});
}
