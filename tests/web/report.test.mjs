// report.test.mjs — the annual report's numbers as a reader sees them: the page opened
// in Debian's headless Chromium (puppeteer-core), its text read from the rendered page,
// and every number of page 1 and of the tables checked against what the run itself
// wrote (summary.json, areas.csv) and what `careshed site --reach-share` chooses, each
// to the precision it is shown at.
//
//   node report.test.mjs CARESHED SAMPLE_STUDY
// Exits 77 (skipped) without chromium or without puppeteer-core (npm ci in tests/web).
import {execFileSync} from "node:child_process";
import {mkdtempSync, readFileSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import assert from "node:assert/strict";
import {launchOrSkip} from "./browser.mjs";

const [cli, study] = process.argv.slice(2);

// A CSV file as objects (RFC 4180 quoting; the UTF-8 BOM dropped).
function readCsv(path) {
  const text = readFileSync(path, "utf8").replace(/^\uFEFF/, "");
  const rows = [];
  let row = [], field = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') field += '"', i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") row.push(field), field = "";
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field), rows.push(row), row = [], field = "";
    } else field += c;
  }
  if (field || row.length) row.push(field), rows.push(row);
  const [head, ...body] = rows;
  return body.map((r) => Object.fromEntries(head.map((h, j) => [h, r[j]])));
}

// A number as the page shows it: "15,650", "49.8%" (a share), "—" (none).
function shown(text) {
  const t = text.trim();
  if (t === "—") return {value: NaN, step: 0};
  const m = t.match(/^[≥≤]?\s*(-?[\d,]+(?:\.(\d+))?)(%?)/);
  assert.ok(m, `not a number: '${text}'`);
  const decimals = m[2] ? m[2].length : 0;
  const scale = m[3] ? 100 : 1;
  return {value: Number(m[1].replaceAll(",", "")) / scale, step: 10 ** -decimals / scale};
}
// Whether text shows v, rounded to the digits it shows.
function showsValue(text, v, what) {
  const s = shown(text);
  if (Number.isNaN(s.value)) {
    assert.ok(v === null || Number.isNaN(v), `${what}: shows '—' for ${v}`);
    return;
  }
  assert.ok(Math.abs(s.value - v) <= s.step / 2 + 1e-9 * Math.abs(v),
            `${what}: shows '${text}', the run says ${v}`);
}
// The numbers inside a sentence, in order.
const numbersIn = (text) => [...text.matchAll(/\d[\d,]*(?:\.\d+)?%?/g)].map((m) => m[0]);

const browser = await launchOrSkip();
const dir = mkdtempSync(join(tmpdir(), "careshed-report-"));
try {
  execFileSync(cli, ["run", study, "--out", join(dir, "run"), "-q"]);
  execFileSync(cli, ["site", study, "--reach-share", "1", "--kind", "centre", "--out",
                     join(dir, "site"), "-q"]);
  execFileSync(cli, ["report", study, "--out", join(dir, "report.html"), "-q"]);
  const summary = JSON.parse(readFileSync(join(dir, "run", "summary.json"), "utf8"));
  const areas = readCsv(join(dir, "run", "areas.csv")); // the streets, then the district
  // the sites in the order chosen; the feature "all" evaluates them together
  const chosen = JSON.parse(readFileSync(join(dir, "site", "suggestions.geojson"), "utf8"));
  const suggested = {features: chosen.features.filter((f) => f.properties.rank)};
  const together = chosen.features.find((f) => f.properties.id === "all").properties;
  const exact = summary.exact.targets;
  const targetById = Object.fromEntries(summary.targets.map((t) => [t.id, t]));
  const areaByName = Object.fromEntries(areas.map((a) => [a.name, a]));
  const areaById = Object.fromEntries(areas.map((a) => [a.id, a]));

  const page = await browser.newPage();
  await page.goto("file://" + join(dir, "report.html"), {waitUntil: "load"});
  // what a reader sees: the rendered text of each part
  const seen = await page.evaluate(() => {
    const text = (e) => e.innerText.trim();
    const cells = (tr) => [...tr.querySelectorAll("th, td")].map(text);
    const rows = (sel) => [...document.querySelectorAll(sel)].map((tr) => ({
      data: {...tr.dataset}, cells: cells(tr)}));
    const q = (sel) => document.querySelector(sel);
    return {
      met: text(q("#summary p[data-met]")),
      gaps: [...document.querySelectorAll("#summary .gaps span")].map((s) => ({
        id: s.dataset.target, text: text(s)})),
      behind: [...document.querySelectorAll("#summary .behind span")].map((s) => ({
        id: s.dataset.area, text: text(s)})),
      coverage: text(q("#summary .coverage")),
      sitesSentence: text(q("#summary p.sites")),
      headline: rows("table.headline tbody tr"),
      streets: rows("table.streets tbody tr"),
      misses: [...document.querySelectorAll("table.misses tbody tr")].map((tr) => ({
        id: tr.dataset.area, cells: cells(tr),
        gaps: tr.querySelector("td:last-child").innerText.split("\n").filter(Boolean)})),
      patches: rows("table.patches tbody tr"),
      sites: rows("table.sites tbody tr"),
      sitesHead: text(q("table.sites thead")),
    };
  });

  // page 1: targets met and missed
  const evaluated = summary.targets.filter((t) => t.district && t.district.pass !== null);
  const met = evaluated.filter((t) => t.district.pass).length;
  assert.deepEqual(numbersIn(seen.met).map(Number), [evaluated.length, met, evaluated.length - met],
                   `page 1 says '${seen.met}'`);

  // page 1: the three largest gaps, by how far each falls short of its target
  const shortfall = (t) => t.district.pass ? 0 : t.at_most !== undefined
    ? exact[t.id] / t.at_most - 1 : 1 - exact[t.id] / t.at_least;
  const largest = evaluated.filter((t) => shortfall(t) > 0)
    .sort((a, b) => shortfall(b) - shortfall(a)).slice(0, 3).map((t) => t.id);
  assert.deepEqual(seen.gaps.map((g) => g.id), largest);
  for (const g of seen.gaps)
    assert.ok(g.text.endsWith(targetById[g.id].district.gap_text),
              `page 1 gap '${g.text}' is not summary.json's '${targetById[g.id].district.gap_text}'`);

  // page 1: the streets furthest behind (most targets missed, then the lowest headline
  // coverage), with their counts
  const head = summary.targets.find((t) => t.type === "coverage");
  const measured = {straight: "", network: "_walk"}[head.measure];
  const headColumn = `${head.kind}${measured}_${head.within_min}min_a60p_share`;
  const missed = {};
  for (const t of summary.targets)
    for (const a of t.areas_short || []) missed[a.id] = (missed[a.id] || 0) + 1;
  const share = (id) => summary.exact.areas[id][headColumn];
  const behind = Object.keys(missed)
    .sort((a, b) => missed[b] - missed[a] || share(a) - share(b)).slice(0, 3);
  assert.deepEqual(seen.behind.map((s) => s.id), behind);
  for (const s of seen.behind) {
    assert.ok(s.text.startsWith(areaById[s.id].name), s.text);
    assert.equal(Number(numbersIn(s.text).at(-1)), missed[s.id], s.text);
  }

  // page 1: the headline coverage
  showsValue(numbersIn(seen.coverage).at(-1), exact[head.id], "page 1's coverage");

  // page 1: what the suggested sites would close — the sites `careshed site
  // --reach-share` chooses, their residents newly covered added to those covered now
  const newly = suggested.features.reduce((s, f) => s + f.properties.marginal_gain, 0);
  const after = exact[head.id] + newly / summary.district.pop_a60p;
  const evaluated_after = together.targets.find((t) => t.id === head.id).value_after;
  assert.ok(Math.abs(after - evaluated_after) < 1e-6, `${after} vs ${evaluated_after}`);
  const [count] = numbersIn(seen.sitesSentence), [before, lifted] = numbersIn(seen.sitesSentence).slice(-2);
  assert.equal(Number(count), suggested.features.length, seen.sitesSentence);
  showsValue(before, exact[head.id], "page 1's coverage before the sites");
  showsValue(lifted, after, "page 1's coverage with the sites");

  // the headline table: value, target, status and gap of every target
  assert.equal(seen.headline.length, summary.targets.length);
  for (const row of seen.headline) {
    const t = targetById[row.data.target];
    showsValue(row.cells[1], exact[t.id], `${t.id}'s value`);
    showsValue(row.cells[2], t.at_least ?? t.at_most, `${t.id}'s target`);
    assert.equal(row.cells[3], t.district.pass ? "达标" : "未达标", `${t.id}'s status`);
    assert.equal(row.cells[4], t.district.pass ? "" : t.district.gap_text, `${t.id}'s gap`);
  }

  // the street table: residents, and each kind's facilities and coverage
  const kinds = ["centre", "meal", "daycare", "care_home"];
  // (areas.csv's last row is the district's, the table's is named 全区)
  assert.equal(seen.streets.length, areas.length);
  for (const [i, row] of seen.streets.entries()) {
    const a = i < areas.length - 1 ? areaByName[row.cells[0]] : areaById.district;
    assert.ok(a, `street '${row.cells[0]}' is not in areas.csv`);
    showsValue(row.cells[1], Number(a.pop_total), `${a.name}'s residents`);
    showsValue(row.cells[2], Number(a.pop_a60p), `${a.name}'s 60+`);
    kinds.forEach((k, i) => {
      const [n, cover] = row.cells[3 + i].split(" / ");
      assert.equal(Number(n), Number(a[`${k}_count`]), `${a.name}'s ${k} count`);
      showsValue(cover, summary.exact.areas[a.id][`${k}_walk_15min_a60p_share`],
                 `${a.name}'s ${k} coverage`);
    });
  }

  // the misses table: each street's missed targets and their gap texts, as areas.csv has
  // them, worst first
  const missing = (a) => summary.targets.filter((t) => a[`t_${t.id}_pass`] === "false");
  assert.equal(seen.misses.length,
               areas.filter((a) => a.id !== "district" && missing(a).length).length);
  seen.misses.forEach((row, i) => {
    const a = areaById[row.id], m = missing(a);
    assert.equal(Number(row.cells[1]), m.length, `${a.name}'s targets missed`);
    assert.deepEqual(row.gaps, m.map((t) => `${t.name}：${a[`t_${t.id}_gap_text`]}`));
    if (i > 0) {
      const prev = areaById[seen.misses[i - 1].id];
      assert.ok(missing(prev).length > m.length ||
                (missing(prev).length === m.length && share(prev.id) <= share(a.id)),
                `${prev.name} is listed before ${a.name}`);
    }
  });

  // the largest patches, as summary.json lists them
  const patches = summary.underserved.kinds[head.kind].largest;
  assert.equal(seen.patches.length, patches.length);
  seen.patches.forEach((row, i) => {
    const p = patches[i];
    showsValue(row.cells[1], p.uncovered, `patch ${i + 1}'s residents`);
    showsValue(row.cells[2], p.area_km2, `patch ${i + 1}'s area`);
    assert.deepEqual(row.cells[3].split("、"), p.area_ids.map((id) => areaById[id].name));
    showsValue(row.cells[4], p.nearest_facility_m, `patch ${i + 1}'s nearest facility`);
  });

  // the suggested sites, as `careshed site --reach-share 1` chooses them, with the
  // coverage growing site by site; the rest summed in the last row
  assert.ok(seen.sitesHead.includes("60+"), seen.sitesHead);
  let covered = exact[head.id] * summary.district.pop_a60p;
  const listed = seen.sites.filter((r) => r.data.site);
  assert.equal(listed.length, Math.min(15, suggested.features.length));
  listed.forEach((row, i) => {
    const f = suggested.features[i], [lon, lat] = f.geometry.coordinates;
    covered += f.properties.marginal_gain;
    assert.equal(row.cells[1], areaById[f.properties.area_id].name, `site ${i + 1}'s street`);
    const [x, y] = row.cells[2].split(", ");
    showsValue(x, lon, `site ${i + 1}'s longitude`);
    showsValue(y, lat, `site ${i + 1}'s latitude`);
    showsValue(row.cells[3], f.properties.marginal_gain, `site ${i + 1}'s residents`);
    showsValue(row.cells[4], covered / summary.district.pop_a60p, `coverage with site ${i + 1}`);
  });
  if (suggested.features.length > 15) {
    const rest = seen.sites.at(-1);
    const restGain = suggested.features.slice(15).reduce((s, f) => s + f.properties.marginal_gain, 0);
    assert.equal(Number(numbersIn(rest.cells[1])[0]), suggested.features.length - 15);
    showsValue(rest.cells[2], restGain, "the other sites' residents");
    showsValue(rest.cells[3], after, "coverage with every site");
  }
  console.log(`report: page 1, ${seen.headline.length} targets, ${seen.streets.length} streets, ` +
              `${seen.misses.length} streets missing targets, ${seen.patches.length} patches and ` +
              `${suggested.features.length} suggested sites match the run`);
} finally {
  await browser.close();
  rmSync(dir, {recursive: true, force: true});
}
