/*
 * app.js — the planner's workbench of careshed serve: the streets shaded by coverage,
 * the facilities, and proposed sites that a click adds, a drag moves and a button
 * removes, each change evaluated by the server (POST /api/evaluate) as careshed site
 * would. Everything comes from this server, apart from the basemap's tiles when
 * careshed serve was given --tiles. The API speaks WGS84; over tiles drawn in GCJ-02
 * (AMap, Tencent) the page shows every position shifted to that encoding (gcoord) and
 * shifts clicks and drags back before it sends them.
 */
"use strict";

const TEXT = {
  zh: {
    kind: "设施类型", measure: "测度", threshold: "时间", band: "人群", proposals: "拟建设施",
    click_hint: "在地图上点击添加拟建设施；拖动可移动，点击设施可删除。", save: "保存方案",
    load: "载入方案", clear: "清空", targets: "规划指标", target: "指标", now: "现状",
    with_proposals: "加上拟建", goal: "目标", together: "合计", remove: "删除",
    newly: "新增覆盖", within: "服务范围内", overlap: "已被覆盖", min: "分钟",
    straight: "直线", network: "步行路网", matrix: "成本矩阵", loading: "加载中…",
    covered: "覆盖率", suggest_k: "建议处数", suggest: "建议选址", suggesting: "正在选址…",
    name: "名称", capacity: "容量", print: "打印纪要", gap: "差距", streets: "各街镇",
    save_memo: "保存纪要", suggested: "建议 {n} 处：{m}，新增覆盖 {c} 人", exact: "精确最优解", greedy: "贪心算法（不低于最优的 63%）", memo: "选址方案纪要", made: "生成于", position: "位置", changed_streets: "覆盖变化的街镇",
    memo_note: "拟建设施按各类型的主测度评估（同 careshed site）；“加上拟建”为全部拟建设施合计的效果。",
    street: "街镇", residents: "人数", load_taken: "分流服务量", neighbours: "家设施",
    access_gain: "可达性提高", own_load: "负荷", by_street: "分街镇",
    overlay_hint: "蓝色：所选测度和时间的服务范围；红线：最大的 20 个服务不足片区；紫色边框：拟建设施新增覆盖的街镇。", no_token: "地址缺少访问令牌：请打开 careshed serve 打印的地址。",
    other_measure: "拟建设施按该类型的主测度（{m}）评估：请选该测度查看其效果。", tiles: "底图",
    model: "目标", model_cover: "新增覆盖最多", "model_p-median": "总步行最短", "model_p-center": "最远步行最短",
    model_backup: "双重覆盖最多", capacitated: "按容量（用上方容量作每处新址的容量）", heuristic: "启发式算法",
    suggested_walk: "建议 {n} 处：{m}，平均步行 {b} 米 → {a} 米", suggested_longest: "建议 {n} 处：{m}，最远步行 {b} → {a}",
    suggested_backup: "建议 {n} 处：{m}，新增双重覆盖 {c} 人", suggested_served: "建议 {n} 处：{m}，服务量 {b} → {a} {u}（需求 {d}）",
    beyond: "超出时间范围", none_suggested: "{k} 处无法让所有人都在时间范围内：请改用“新增覆盖最多”",
  },
  en: {
    kind: "Kind", measure: "Measure", threshold: "Time", band: "Residents", proposals: "Proposed sites",
    click_hint: "Click the map to propose a site; drag it to move it, click it to remove it.",
    save: "Save scenario", load: "Load scenario", clear: "Clear", targets: "Plan targets",
    target: "Target", now: "Now", with_proposals: "With proposals", goal: "Goal",
    together: "All together", remove: "Remove", newly: "Newly covered", within: "Within reach",
    overlap: "Already covered", min: "min", straight: "straight line", network: "walking network",
    matrix: "cost matrix", loading: "Loading…", covered: "covered", suggest_k: "Sites",
    suggest: "Suggest sites", suggesting: "Choosing sites…", name: "Name", capacity: "Capacity",
    gap: "Gap", streets: "Streets", street: "Street", residents: "Residents",
    print: "Print memo", load_taken: "Load taken", neighbours: "facilities",
    save_memo: "Save memo", suggested: "{n} sites suggested: {m}, newly covering {c} residents", exact: "the exact optimum", greedy: "greedy (at least 63% of the optimum)", memo: "Siting memo", made: "Made", position: "Position", changed_streets: "Streets whose coverage changes",
    memo_note: "Proposals are evaluated by their kind's main measure (as careshed site); “with proposals” is all of them together.",
    access_gain: "Accessibility added", own_load: "Load", by_street: "By street",
    overlay_hint: "Blue: the service area by the chosen measure and time; red: the 20 largest under-served patches; purple outline: streets the proposals newly cover.",
    other_measure: "Proposals are evaluated by the kind's main measure ({m}): choose it to see their effect.", tiles: "Tiles",
    no_token: "The address lacks its access token: open the address careshed serve printed.",
    model: "Aim", model_cover: "newly cover the most", "model_p-median": "shortest total walk",
    "model_p-center": "shortest longest walk", model_backup: "most covered twice",
    capacitated: "by capacity (the capacity above is each new site's)", heuristic: "the heuristic",
    suggested_walk: "{n} sites suggested: {m}, mean walk {b} m → {a} m", suggested_longest: "{n} sites suggested: {m}, longest walk {b} → {a}",
    suggested_backup: "{n} sites suggested: {m}, newly covering {c} residents twice", suggested_served: "{n} sites suggested: {m}, served {b} → {a} {u} (demand {d})",
    beyond: "beyond the time", none_suggested: "{k} sites cannot bring everyone within the time: choose “newly cover the most”",
  },
};
const COLOURS = ["#f7fcf5", "#c7e9c0", "#74c476", "#31a354", "#006d2c"];
const token = new URLSearchParams(location.search).get("token");
let lang = "zh";
let study = null, areas = null, areaLayer = null, lastResult = null;
let circles = null, patches = null, circleLayer = null, patchLayer = null, changedLayer = null;
/* positions as the map shows them: WGS84, or GCJ-02 over tiles drawn in it */
let shifted = false;
const toShown = (lon, lat) => {
  const [x, y] = shifted ? gcoord.transform([lon, lat], gcoord.WGS84, gcoord.GCJ02) : [lon, lat];
  return L.latLng(y, x);
};
const fromShown = (latlng) => {
  const [lon, lat] = shifted ? gcoord.transform([latlng.lng, latlng.lat], gcoord.GCJ02, gcoord.WGS84)
                             : [latlng.lng, latlng.lat];
  return {lon, lat};
};
/* GeoJSON layers drawn where the map shows them */
const geoJSON = (data, options) => L.geoJSON(data, Object.assign({coordsToLatLng: (c) => toShown(c[0], c[1])}, options));
const proposals = [];
let nextId = 1;

const t = (key) => TEXT[lang][key] || key;
const $ = (id) => document.getElementById(id);
const fmt = (v, digits = 0) => v === null || v === undefined || Number.isNaN(v) ? "–"
  : Number(v).toLocaleString(lang === "zh" ? "zh-CN" : "en", {maximumFractionDigits: digits});

function say(text) {
  const box = $("message");
  box.textContent = text || "";
  box.hidden = !text;
}

async function api(path, body) {
  const res = await fetch(path, {
    method: body ? "POST" : "GET",
    headers: Object.assign({"X-Careshed-Token": token}, body ? {"Content-Type": "application/json"} : {}),
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await res.json();
  if (!res.ok) {
    const err = new Error(data.error + (data.hint ? " (" + data.hint + ")" : ""));
    err.status = res.status;
    throw err;
  }
  return data;
}

/* ------------------------------------------------------------ the view */

function option(select, value, label) {
  const o = document.createElement("option");
  o.value = value;
  o.textContent = label;
  select.appendChild(o);
}

function fillSelectors() {
  const kind = $("kind"), measure = $("measure"), threshold = $("threshold"), band = $("band");
  study.kinds.forEach((k, i) => option(kind, i, k.name));
  study.bands.forEach((b, i) => option(band, i, b === "total" ? (lang === "zh" ? "全部" : "all") : b));
  kind.value = study.headline.kind;
  band.value = study.headline.band;
  const refill = () => {
    const k = study.kinds[kind.value];
    const keepM = measure.value || study.headline.measure, keepT = threshold.value;
    measure.innerHTML = "";
    Object.keys(k.share_columns).forEach((m) => option(measure, m, t(m)));
    measure.value = k.share_columns[keepM] ? keepM : measure.options[0].value;
    threshold.innerHTML = "";
    k.thresholds_min.forEach((m, i) => option(threshold, i, m + " " + t("min")));
    threshold.value = keepT && keepT < k.thresholds_min.length ? keepT : Math.min(study.headline.threshold, k.thresholds_min.length - 1);
  };
  refill();
  kind.addEventListener("change", () => { refill(); overlays(); shade(); renderCards(); renderStreets(); });
  [measure, threshold, band].forEach((s) => s.addEventListener("change", () => { overlays(); shade(); renderCards(); renderStreets(); }));
}

function column() {
  const k = study.kinds[$("kind").value];
  return k.share_columns[$("measure").value][$("threshold").value][$("band").value];
}

function colour(share) {
  if (share === null || share === undefined) return "#dddddd";
  return COLOURS[Math.min(COLOURS.length - 1, Math.floor(share * COLOURS.length))];
}

/* The chosen kind's service area by the chosen measure and threshold (a cost matrix
 * has none), and its under-served patches, outlined over the shading. */
function overlays() {
  const k = study.kinds[$("kind").value], minutes = k.thresholds_min[$("threshold").value];
  const measure = $("measure").value;
  if (circleLayer) map.removeLayer(circleLayer);
  if (patchLayer) map.removeLayer(patchLayer);
  circleLayer = geoJSON(circles, {
    filter: (f) => f.geometry && f.properties.kind === k.id && f.properties.measure === measure &&
                   f.properties.threshold_min === minutes,
    /* a network's service area is a web of thin streets: filled, not outlined */
    style: measure === "network" ? {stroke: false, fillColor: "#2b5c8a", fillOpacity: 0.35}
                                 : {color: "#2b5c8a", weight: 1.5, dashArray: "4 3", fill: false},
    interactive: false}).addTo(map);
  patchLayer = geoJSON(patches, {
    filter: (f) => f.properties.kind === k.id && f.properties.rank <= 20, /* the largest */
    style: {color: "#d7301f", weight: 1.5, fill: false}, interactive: false}).addTo(map);
}

/* The area's residents of the chosen band, and its covered share now and with the
 * proposals (null where they change nothing, or are measured otherwise). */
function areaShares(props) {
  const col = column(), bandCol = col.replace(/^.*_(\w+)_share$/, "$1");
  const k = study.kinds[$("kind").value], pop = props["pop_" + bandCol], now = props[col];
  let after = null;
  if (lastResult && $("measure").value === k.main_measure && pop > 0 && now !== null) {
    const newly = lastResult.areas[k.id][$("threshold").value][props.id];
    if (newly) after = Math.min(1, now + newly[$("band").value] / pop);
  }
  return {pop, now, after};
}

/* a target's figures: ratios with four digits, so that a small step shows */
const targetDigits = (v) => Math.abs(v) < 10 ? 4 : 2;
const percent = (v) => v === null || v === undefined ? "–" : fmt(100 * v, 1) + "%";

/* The streets shaded by the chosen coverage, with the proposals where they add to it
 * (after each evaluation: the overlays stay as they are). */
function shade() {
  const k = study.kinds[$("kind").value];
  areaLayer.setStyle((f) => {
    const {now, after} = areaShares(f.properties);
    return {color: "#555", weight: 1, fillOpacity: fill, fillColor: colour(after ?? now)};
  });
  /* the streets the proposals add to, outlined over everything */
  if (changedLayer) map.removeLayer(changedLayer);
  changedLayer = L.layerGroup(areaLayer.getLayers().filter((l) => areaShares(l.feature.properties).after !== null)
    .map((l) => L.polygon(l.getLatLngs(), {color: "#6a3d9a", weight: 3, fill: false, interactive: false}))).addTo(map);
  areaLayer.eachLayer((l) => {
    const {now, after} = areaShares(l.feature.properties);
    l.setTooltipContent(l.feature.properties.name + "<br>" + t("covered") + " " + percent(now) +
                        (after === null ? "" : " → <b>" + percent(after) + "</b>"));
  });
  const notice = $("notice");
  notice.hidden = !(lastResult && proposals.some((p) => p.kind === k.id) && $("measure").value !== k.main_measure);
  notice.textContent = t("other_measure").replace("{m}", t(k.main_measure));
  $("legend").innerHTML = COLOURS.map((c, i) => `<span><i style="background:${c}"></i>${i * 20}–${(i + 1) * 20}%</span>`).join("");
}

/* ------------------------------------------------------------ proposals */

function proposalIcon(suggested) {
  return L.divIcon({className: "proposal-icon" + (suggested ? " suggested" : ""), iconSize: [18, 18]});
}

/* A proposal at `at` (WGS84 {lon, lat}). */
function addProposal(at, id, kindIndex, capacity, suggested) {
  const given = $("capacity").value === "" ? null : Number($("capacity").value);
  const p = {id: id || $("name").value.trim() || "P" + nextId++,
             kind: study.kinds[kindIndex ?? $("kind").value].id,
             capacity: capacity !== undefined ? capacity : given, at};
  if (!id) $("name").value = "";
  p.marker = L.marker(toShown(at.lon, at.lat), {icon: proposalIcon(suggested), draggable: true, title: p.id}).addTo(map);
  p.marker.on("dragend", () => { p.at = fromShown(p.marker.getLatLng()); evaluate(); });
  p.marker.on("click", () => removeProposal(p));
  proposals.push(p);
  return p;
}

function removeProposal(p) {
  map.removeLayer(p.marker);
  proposals.splice(proposals.indexOf(p), 1);
  evaluate();
}

async function evaluate(added) {
  if (!proposals.length) {
    lastResult = null;
    shade();
    renderCards();
    renderTargets();
    return;
  }
  const body = {proposals: proposals.map((p) => ({id: p.id, kind: p.kind, lon: p.at.lon,
                                                  lat: p.at.lat, capacity: p.capacity}))};
  try {
    lastResult = await api("api/evaluate", body);
    say("");
    shade();
  } catch (err) {
    say(err.message);
    if (added) { /* the site just added cannot be evaluated: it does not stay */
      map.removeLayer(added.marker);
      proposals.splice(proposals.indexOf(added), 1);
      return evaluate();
    }
  }
  renderCards();
  renderTargets();
}

/* The residents of the chosen band newly within each threshold of the card's kind. */
function newlyLines(figures, kindId) {
  const band = study.bands[$("band").value];
  return figures.newly.filter((n) => n.kind === kindId)
    .map((n) => `${n.threshold_min} ${t("min")}: +${fmt(n.residents[band])}`).join(" · ");
}

/* The streets it newly covers most (its kind's largest threshold, the chosen band). */
function streetLine(f) {
  const band = study.bands[$("band").value];
  const top = f.streets.filter((x) => x.residents[band] > 0)
    .sort((a, b) => b.residents[band] - a.residents[band]).slice(0, 4);
  return top.length ? `<div class="streets">${t("by_street")}: ${top.map((x) => `${x.name} +${fmt(x.residents[band])}`).join(" · ")}</div>` : "";
}

function renderCards() {
  const box = $("cards");
  box.innerHTML = "";
  if (!lastResult) return;
  lastResult.proposals.forEach((f, i) => {
    const kind = study.kinds.find((k) => k.id === f.kind);
    const div = document.createElement("div");
    div.className = "card";
    div.innerHTML = `<h3><span>${f.id} · ${kind.name}</span><button type="button">${t("remove")}</button></h3>
      <div class="newly">${t("newly")} (${$("band").selectedOptions[0].textContent}): ${newlyLines(f, f.kind)}</div>
      <div>${t("within")}: ${fmt(f.within)} · ${t("overlap")}: ${fmt(100 * f.overlap, 1)}%</div>
      ${f.own_load === null ? "" : `<div>${t("own_load")}: ${fmt(f.own_load, 2)} · ${t("load_taken")}: ${fmt(f.load_taken, 1)} (${f.neighbours} ${t("neighbours")}) · ${t("access_gain")}: ${fmt(f.access_gain, 6)}</div>`}
      ${streetLine(f)}`;
    div.querySelector("button").addEventListener("click", () => removeProposal(proposals[i]));
    box.appendChild(div);
  });
  if (lastResult.proposals.length > 1) {
    const div = document.createElement("div");
    div.className = "card together";
    const kindId = study.kinds[$("kind").value].id;
    div.innerHTML = `<h3>${t("together")}</h3><div>${t("newly")}: ${newlyLines(lastResult.together, kindId)}</div>`;
    box.appendChild(div);
  }
}

/* A target's gap with the proposals (a tick when none is left) and, where they narrow
 * it, by how much: "30 (−1)". */
function gapText(tg, after) {
  const gap = after ? after.gap : tg.gap;
  const closed = after && tg.gap > 0 ? tg.gap - Math.max(gap, 0) : 0;
  return (gap > 0 ? fmt(gap, targetDigits(gap)) : "✓") + (closed > 0 ? ` <span class="closed">(−${fmt(closed, targetDigits(closed))})</span>` : "");
}

function renderTargets() {
  const body = $("targets").querySelector("tbody");
  body.innerHTML = "";
  const after = lastResult ? new Map(lastResult.together.targets.map((x) => [x.id, x])) : new Map();
  study.targets.forEach((tg) => {
    const a = after.get(tg.id);
    const tr = document.createElement("tr");
    const cell = (v, pass, changed) => `<td class="${pass === null || pass === undefined ? "" : pass ? "pass" : "fail"}${changed ? " changed" : ""}">${fmt(v, targetDigits(v))}</td>`;
    tr.innerHTML = `<td>${tg.name}</td>${cell(tg.value, tg.pass)}${a ? cell(a.value, a.pass, a.value !== tg.value) : "<td>–</td>"}<td>${fmt(tg.target, targetDigits(tg.target))}</td><td>${gapText(tg, a)}</td>`;
    body.appendChild(tr);
  });
  renderStreets();
}

/* Each street: its residents of the band and the share the chosen coverage reaches,
 * least covered first, and the share with all the proposals where they add to it. */
function renderStreets() {
  const body = $("streets").querySelector("tbody");
  const col = column();
  body.innerHTML = "";
  areas.features.slice().sort((a, b) => (a.properties[col] ?? 2) - (b.properties[col] ?? 2)).forEach((f) => {
    const {pop, now, after} = areaShares(f.properties);
    const tr = document.createElement("tr");
    tr.innerHTML = `<td>${f.properties.name}</td><td>${fmt(pop)}</td><td>${percent(now)}</td>` +
                   `<td>${after === null ? "–" : `<b>${percent(after)}</b>`}</td>`;
    body.appendChild(tr);
  });
}

/* The capacitated choice applies to covering and p-median of a kind with a capacity. */
function capacityChoice() {
  const kind = study.kinds[$("kind").value], model = $("model").value;
  const box = $("capacitated");
  box.disabled = !kind.capacity_unit || (model !== "cover" && model !== "p-median");
  if (box.disabled) box.checked = false;
}

/* What the suggested sites do, in the words of their model. */
function suggestedText(answer, kind, k) {
  const walk = (m) => m === null ? t("beyond") : fmt(m) + (lang === "zh" ? " 米" : " m");
  const fill = (key, values) => Object.entries(values).reduce(
    (text, [name, value]) => text.replace("{" + name + "}", value), t(key));
  const n = answer.suggestions.length, m = t(answer.method);
  if (answer.model === "p-center" && n === 0) return fill("none_suggested", {k});
  if (answer.demand !== undefined)
    return fill("suggested_served", {n, m, b: fmt(answer.served_before), a: fmt(answer.served_after),
                                      u: kind.capacity_unit, d: fmt(answer.demand)});
  if (answer.model === "p-median")
    return fill("suggested_walk", {n, m, b: fmt(answer.walk_before_m), a: fmt(answer.walk_after_m)});
  if (answer.model === "p-center")
    return fill("suggested_longest", {n, m, b: walk(answer.walk_before_m), a: walk(answer.walk_after_m)});
  return fill(answer.model === "backup" ? "suggested_backup" : "suggested", {n, m, c: fmt(answer.covered)});
}

/* Where the next sites of the chosen kind should go, by the chosen model (as careshed
 * site --suggest --model): they join the proposals, to keep, move or remove. */
async function suggest() {
  const kind = study.kinds[$("kind").value];
  const k = Number($("k").value);
  const request = {kind: kind.id, k, model: $("model").value};
  if ($("capacitated").checked) {
    request.capacitated = true;
    if ($("capacity").value !== "") request.site_capacity = Number($("capacity").value);
  }
  say(t("suggesting"));
  try {
    const answer = await api("api/suggest", request);
    say("");
    $("suggested").textContent = suggestedText(answer, kind, k);
    for (const s of answer.suggestions)
      addProposal({lon: s.lon, lat: s.lat}, "S" + nextId++, $("kind").value, null, true);
    await evaluate();
  } catch (err) {
    say(err.message);
  }
}

/* ------------------------------------------------------------ scenarios */

function saveScenario() {
  const features = proposals.map((p, i) => ({
    type: "Feature",
    geometry: {type: "Point", coordinates: [p.at.lon, p.at.lat]},
    properties: Object.assign({id: p.id, kind: p.kind, capacity: p.capacity},
                              lastResult ? {figures: lastResult.proposals[i]} : {}),
  }));
  const doc = {type: "FeatureCollection", name: "scenario", features,
               together: lastResult ? lastResult.together : null};
  download("scenario.geojson", JSON.stringify(doc, null, 1), "application/geo+json");
}

/* A saved scenario's proposals in place of the current ones; a file with a proposal
 * the page cannot place is said and changes nothing. */
async function loadScenario(file) {
  try {
    const doc = JSON.parse(await file.text());
    const loaded = (doc.features || []).map((f, i) => {
      const [lon, lat] = f.geometry && f.geometry.type === "Point" ? f.geometry.coordinates : [];
      if (!Number.isFinite(lon) || !Number.isFinite(lat))
        throw new Error(`feature ${i + 1} of ${file.name} is not a point with a longitude and latitude`);
      const k = study.kinds.findIndex((x) => x.id === f.properties.kind);
      if (k < 0) throw new Error(`unknown kind '${f.properties.kind}' in ${file.name}`);
      return {at: {lon, lat}, id: f.properties.id, k, capacity: f.properties.capacity ?? null};
    });
    clearProposals();
    loaded.forEach((p) => addProposal(p.at, p.id, p.k, p.capacity));
    await evaluate();
  } catch (err) {
    say(err.message);
  }
}

function clearProposals() {
  proposals.slice().forEach((p) => map.removeLayer(p.marker));
  proposals.length = 0;
  say("");
}

/* ------------------------------------------------------------ the memo */

const escapeHtml = (v) => String(v ?? "").replace(/[&<>"]/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})[c]);

/* The map as the page shows it, as SVG: the drawn layers, with the proposals and the
 * streets' names added (Leaflet draws those as HTML, not SVG). */
function memoMap() {
  const svg = document.querySelector("#map .leaflet-overlay-pane svg");
  if (!svg) return "";
  const copy = svg.cloneNode(true);
  copy.removeAttribute("style");
  copy.removeAttribute("class");
  copy.setAttribute("xmlns", "http://www.w3.org/2000/svg");
  copy.setAttribute("width", "100%");
  copy.removeAttribute("height");
  /* the district, not the margin Leaflet draws around the view */
  const b = areaLayer.getBounds(), nw = map.latLngToLayerPoint(b.getNorthWest()), se = map.latLngToLayerPoint(b.getSouthEast());
  const pad = 0.03 * Math.max(se.x - nw.x, se.y - nw.y);
  copy.setAttribute("viewBox", [nw.x - pad, nw.y - pad, se.x - nw.x + 2 * pad, se.y - nw.y + 2 * pad].join(" "));
  const ns = "http://www.w3.org/2000/svg";
  areaLayer.eachLayer((l) => {
    const p = map.latLngToLayerPoint(l.getBounds().getCenter()), text = document.createElementNS(ns, "text");
    Object.entries({x: p.x, y: p.y, "text-anchor": "middle", "font-size": 11, fill: "#333", stroke: "#fff",
                    "stroke-width": 3, "paint-order": "stroke"}).forEach(([k, v]) => text.setAttribute(k, v));
    text.textContent = l.feature.properties.name;
    copy.appendChild(text);
  });
  proposals.forEach((pr) => {
    const p = map.latLngToLayerPoint(pr.marker.getLatLng()), g = document.createElementNS(ns, "g");
    g.innerHTML = `<circle cx="${p.x}" cy="${p.y}" r="7" fill="#d7301f" stroke="#fff" stroke-width="2.5"/>` +
      `<text x="${p.x + 10}" y="${p.y + 4}" font-size="12" font-weight="600" fill="#d7301f" stroke="#fff" stroke-width="3" paint-order="stroke">${escapeHtml(pr.id)}</text>`;
    copy.appendChild(g);
  });
  return copy.outerHTML;
}

/* The scenario as a one-page HTML document for the meeting's minutes: the map, each
 * proposal's figures, the targets now and with the proposals, and the streets whose
 * coverage changes; self-contained (no script, nothing fetched). */
function memoHtml() {
  const band = study.bands[$("band").value], bandLabel = $("band").selectedOptions[0].textContent;
  const k = study.kinds[$("kind").value], minutes = k.thresholds_min[$("threshold").value];
  const rows = (list) => list.map((cells) => `<tr>${cells.map((c) => `<td>${c}</td>`).join("")}</tr>`).join("");
  const head = (list) => `<tr>${list.map((c) => `<th>${escapeHtml(c)}</th>`).join("")}</tr>`;
  const figures = lastResult ? lastResult.proposals : [];
  const proposalRows = proposals.map((p, i) => {
    const f = figures[i], kind = study.kinds.find((x) => x.id === p.kind);
    return [escapeHtml(p.id), escapeHtml(kind.name), `${p.at.lon.toFixed(6)}, ${p.at.lat.toFixed(6)}`,
            p.capacity === null ? "–" : fmt(p.capacity),
            f ? escapeHtml(newlyLines(f, f.kind)) : "–", f ? fmt(f.within) : "–",
            f ? percent(f.overlap) : "–"];
  });
  const after = lastResult ? new Map(lastResult.together.targets.map((x) => [x.id, x])) : new Map();
  const targetRows = study.targets.map((tg) => {
    const a = after.get(tg.id);
    return [escapeHtml(tg.name), fmt(tg.value, targetDigits(tg.value)), a ? fmt(a.value, targetDigits(a.value)) : "–",
            fmt(tg.target, targetDigits(tg.target)), gapText(tg, a)];
  });
  const streetRows = areas.features.map((f) => [f.properties.name, areaShares(f.properties)])
    .filter(([, s]) => s.after !== null).sort((a, b) => b[1].after - b[1].now - (a[1].after - a[1].now))
    .map(([name, s]) => [escapeHtml(name), fmt(s.pop), percent(s.now), `<b>${percent(s.after)}</b>`]);
  const title = `${study.name || "careshed"} · ${t("memo")}`;
  return `<!DOCTYPE html>
<html lang="${lang === "zh" ? "zh-CN" : "en"}"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
@page { size: A4; margin: 12mm; }
body { font: 11px/1.4 "Noto Sans CJK SC", "Noto Sans", sans-serif; color: #222; max-width: 186mm; margin: 0 auto; }
h1 { font-size: 16px; margin: 0 0 2px; } h2 { font-size: 12px; margin: 10px 0 3px; }
.meta, .note { color: #555; } svg { display: block; max-height: 105mm; border: 1px solid #ccc; }
table { border-collapse: collapse; width: 100%; } th, td { border-bottom: 1px solid #ddd; padding: 2px 4px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.legend { display: flex; flex-wrap: wrap; gap: 2px 10px; margin-top: 4px; }
.legend span { display: inline-flex; align-items: center; gap: 3px; }
.legend i { display: inline-block; width: 18px; height: 10px; border: 1px solid #bbb; }
</style></head><body>
<h1>${escapeHtml(title)}</h1>
<div class="meta">${t("made")} ${escapeHtml(new Date().toLocaleString(lang === "zh" ? "zh-CN" : "en"))} · ${escapeHtml(k.name)} · ${escapeHtml(t($("measure").value))} · ${minutes} ${t("min")} · ${escapeHtml(bandLabel)}</div>
${memoMap()}
<div class="legend">${$("legend").innerHTML}</div>
<div class="note">${escapeHtml(t("overlay_hint"))}</div>
<h2>${t("proposals")}</h2>
<table>${head([t("name"), t("kind"), t("position"), t("capacity"), `${t("newly")} (${bandLabel})`, t("within"), t("overlap")])}${rows(proposalRows)}</table>
<h2>${t("targets")}</h2>
<table>${head([t("target"), t("now"), t("with_proposals"), t("goal"), t("gap")])}${rows(targetRows)}</table>
<h2>${t("changed_streets")} (${escapeHtml(k.name)}, ${minutes} ${t("min")}, ${escapeHtml(band === "total" ? bandLabel : band)})</h2>
<table>${head([t("street"), t("residents"), t("now"), t("with_proposals")])}${rows(streetRows)}</table>
<p class="note">${t("memo_note")} careshed</p>
</body></html>
`;
}

function download(name, text, type) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([text], {type}));
  a.download = name;
  a.click();
}

/* ------------------------------------------------------------ start */

const map = L.map("map", {zoomSnap: 0.25, preferCanvas: false});
let fill = 0.75; /* the shading's opacity: lighter over a basemap */

/* Under the layers: the basemap's tiles (serve --tiles), else the walking network. */
function background(network) {
  if (study.tiles) {
    shifted = study.tiles.shift === "gcj02";
    fill = 0.5;
    L.tileLayer(study.tiles.url, {maxZoom: 19, attribution: t("tiles") + ": " + study.tiles.attribution}).addTo(map);
  } else if (study.network) {
    map.createPane("network").style.zIndex = 450; /* over the shading, under the rest */
    map.getPane("network").style.pointerEvents = "none";
    L.geoJSON(network, {pane: "network", interactive: false, renderer: L.canvas({pane: "network"}),
                                          style: {color: "#444", weight: 0.6, opacity: 0.45}}).addTo(map);
  }
}

async function start() {
  if (!token) { say(TEXT.zh.no_token + " / " + TEXT.en.no_token); return; }
  /* all at once (the network is an empty collection without one) */
  const [s, a, f, c, u, n] = await Promise.all([api("api/study"), api("api/areas"), api("api/facilities"),
                                                api("api/circles"), api("api/underserved"), api("api/network")]);
  circles = c;
  patches = u;
  study = s;
  lang = s.language === "en" ? "en" : "zh";
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.querySelectorAll("[data-t]").forEach((e) => { e.textContent = t(e.dataset.t); });
  $("title").textContent = s.name || "careshed";
  document.title = (s.name || "careshed") + " · careshed";
  areas = a;
  background(n);
  areaLayer = geoJSON(areas, {onEachFeature: (feat, layer) => layer.bindTooltip(feat.properties.name, {sticky: true})}).addTo(map);
  map.fitBounds(areaLayer.getBounds());
  const kindColours = ["#1f78b4", "#e66101", "#6a3d9a", "#b15928", "#33a02c", "#e31a1c"];
  $("kinds").innerHTML = study.kinds.map((k, i) => `<span><i style="background:${kindColours[i % kindColours.length]}"></i>${k.name}</span>`).join("");
  /* the streets' names where the map has room for them */
  areaLayer.eachLayer((l) => L.tooltip({permanent: true, direction: "center", className: "street-name", interactive: false})
    .setLatLng(l.getBounds().getCenter()).setContent(l.feature.properties.name).addTo(map));
  geoJSON(f, {pointToLayer: (feat, ll) => L.circleMarker(ll, {
    radius: 4, weight: 1, color: "#fff", fillOpacity: 0.9,
    fillColor: kindColours[study.kinds.findIndex((k) => k.id === feat.properties.kind) % kindColours.length]})
    .bindTooltip(feat.properties.name || feat.properties.id)}).addTo(map);
  fillSelectors();
  overlays();
  shade();
  renderTargets();
  map.on("click", (e) => evaluate(addProposal(fromShown(e.latlng))));
  $("save").addEventListener("click", saveScenario);
  $("suggest").addEventListener("click", suggest);
  ["cover", "p-median", "p-center", "backup"].forEach((m) => option($("model"), m, t("model_" + m)));
  capacityChoice();
  $("model").addEventListener("change", capacityChoice);
  $("kind").addEventListener("change", capacityChoice);
  $("print").addEventListener("click", () => window.print());
  $("memo").addEventListener("click", () => download("memo.html", memoHtml(), "text/html"));
  $("load").addEventListener("change", (e) => e.target.files[0] && loadScenario(e.target.files[0]));
  $("clear").addEventListener("click", () => { clearProposals(); evaluate(); });
  document.body.dataset.ready = "true"; /* for the browser tests */
}

start().catch((err) => say(err.message));
