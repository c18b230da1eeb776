"use strict";
// The sqlstream dashboard page: draws the snapshots the server pushes once a second
// (server-sent events on api/events) and the history it keeps (api/history). Every
// figure is a row of a sys table; see docs/dashboard.md for the API.
(function () {
  const RGB = { idle: [91, 155, 213], busy: [217, 83, 79], bp: [60, 60, 60] };
  const EDGE = { ok: "#5cb85c", low: "#f0ad4e", high: "#d9534f" };
  const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2",
    "#17becf", "#bcbd22", "#7f7f7f", "#d62728"];
  const MAX_SAMPLES = 600;
  const MAX_BARRIERS = 300;
  const state = {
    snapshot: null, selected: decodeURIComponent(location.hash.slice(1)) || null,
    structure: "", samples: [], barriers: new Map(), charts: {}, detailAt: 0, cy: null,
  };
  const $ = (id) => document.getElementById(id);

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text != null) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  function fmt(n, digits) {
    return n == null ? "–" : Number(n).toLocaleString("en-US", { maximumFractionDigits: digits || 0 });
  }
  function pct(r) { return r == null ? "–" : Math.round(r * 100) + "%"; }

  // An actor's mode is the one it spent most of the window in (Flink's idle, busy
  // and backpressured); its colour mixes the three colours by their shares.
  function mode(a) {
    if (a.busy_ratio == null) return "unknown";
    const shares = [["busy", a.busy_ratio], ["idle", a.idle_ratio], ["backpressured", a.backpressure_ratio]];
    shares.sort((x, y) => y[1] - x[1]);
    return shares[0][0];
  }
  function share(a, m) {
    return { busy: a.busy_ratio, idle: a.idle_ratio, backpressured: a.backpressure_ratio }[m];
  }
  function colour(a) {
    if (a.busy_ratio == null) return "#999999";
    const w = [a.busy_ratio, a.idle_ratio, a.backpressure_ratio];
    const c = [0, 1, 2].map((i) => Math.round(w[0] * RGB.busy[i] + w[1] * RGB.idle[i] + w[2] * RGB.bp[i]));
    return "rgb(" + c.join(",") + ")";
  }
  // Flink's thresholds for an edge: OK below 10% backpressured, LOW below 50%, HIGH above.
  function level(ratio) { return ratio >= 0.5 ? "high" : ratio >= 0.1 ? "low" : "ok"; }

  // ------------------------------------------------------------ fragment graph
  function graphElements(snap, rel) {
    const ids = new Set(snap.graphs[rel] || []);
    const roots = new Map(snap.bottlenecks.filter((b) => ids.has(b.fragment_id)).map((b) => [b.fragment_id, b]));
    const nodes = [];
    for (const f of snap.fragments.filter((f) => ids.has(f.fragment_id))) {
      const root = roots.get(f.fragment_id);
      let label = "fragment " + f.fragment_id + " · " + f.relation;
      if (root) label = "⚠ bottleneck: " + root.cause + "\n" + label;
      nodes.push({ group: "nodes", classes: root ? "fragment root" : "fragment", data: {
        id: "f" + f.fragment_id, kind: "fragment", fragment_id: f.fragment_id, relation: f.relation,
        operators: f.operators, bottleneck: !!root, cause: root ? root.cause : null, label } });
    }
    const byFragment = new Map();
    for (const a of snap.actors.filter((a) => ids.has(a.fragment_id))) {
      if (!byFragment.has(a.fragment_id)) byFragment.set(a.fragment_id, []);
      byFragment.get(a.fragment_id).push(a);
      const m = mode(a);
      nodes.push({ group: "nodes", classes: "actor " + m, data: {
        id: "a" + a.actor_id, parent: "f" + a.fragment_id, kind: "actor", actor_id: a.actor_id,
        fragment_id: a.fragment_id, operator: a.operator, state: m, color: colour(a),
        busy_ratio: a.busy_ratio, idle_ratio: a.idle_ratio, backpressure_ratio: a.backpressure_ratio,
        label: "actor " + a.actor_id + ": " + (a.operator || "(forwards rows)") + "\n" + m + " " + pct(share(a, m)) +
          " · " + fmt(a.rows_per_second) + " rows/s" } });
    }
    const edges = [];
    for (const b of snap.backpressure) {
      if (!ids.has(b.fragment_id) || b.downstream_fragment_id == null) continue;
      const downs = byFragment.get(b.downstream_fragment_id) || [];
      const lv = level(b.backpressure_ratio || 0);
      for (const d of downs) {
        edges.push({ group: "edges", classes: lv, data: {
          id: "e" + b.actor_id + "-" + d.actor_id, source: "a" + b.actor_id, target: "a" + d.actor_id,
          level: lv, color: EDGE[lv], backpressure_ratio: b.backpressure_ratio,
          label: downs.length === 1 ? "bp " + pct(b.backpressure_ratio) + "\nqueue " +
            fmt(b.queue_rows) + "/" + fmt(b.queue_capacity) : "" } });
      }
    }
    return nodes.concat(edges);
  }

  const STYLE = [
    { selector: "node.fragment", style: {
      "background-color": "#f6f8fa", "border-width": 1, "border-color": "#afb8c1", "shape": "round-rectangle",
      "label": "data(label)", "text-valign": "top", "text-halign": "center", "text-wrap": "wrap",
      "font-size": 13, "color": "#1f2328", "padding": "8px" } },
    { selector: "node.fragment.root", style: {
      "border-width": 4, "border-color": "#ff8c00", "background-color": "#fff4e5",
      "color": "#b35c00", "font-weight": "bold" } },
    { selector: "node.actor", style: {
      "shape": "round-rectangle", "width": 196, "height": 62, "background-color": "data(color)",
      "label": "data(label)", "text-wrap": "wrap", "text-max-width": 190, "text-valign": "center",
      "text-halign": "center", "color": "#ffffff", "font-size": 13, "border-width": 0 } },
    { selector: "edge", style: {
      "width": 3, "line-color": "data(color)", "target-arrow-color": "data(color)",
      "target-arrow-shape": "triangle", "curve-style": "bezier", "label": "data(label)",
      "font-size": 12, "text-wrap": "wrap", "text-background-color": "#ffffff",
      "text-background-opacity": 0.9, "text-background-padding": "2px" } },
    { selector: "edge.high", style: { "width": 6 } },
  ];

  function drawGraph(snap) {
    const rel = state.selected;
    const els = graphElements(snap, rel);
    const structure = rel + "|" + els.map((e) => e.data.id).join(",");
    if (!state.cy) {
      cytoscape.use(cytoscapeDagre);
      state.cy = cytoscape({ container: $("graph"), style: STYLE, maxZoom: 1.5,
        autoungrabify: true, boxSelectionEnabled: false });
    }
    const cy = state.cy;
    if (structure !== state.structure) {
      cy.elements().remove();
      cy.add(els);
      cy.layout({ name: "dagre", rankDir: "LR", nodeSep: 30, rankSep: 80, padding: 12 }).run();
      fitGraph(cy);
      state.structure = structure;
    } else {
      for (const e of els) {
        const ele = cy.getElementById(e.data.id);
        ele.data(e.data);
        ele.classes(e.classes);
      }
    }
    $("graph").dataset.relation = rel || "";
    $("graph").dataset.ready = els.length ? "true" : "false";
  }

  // Size the box to the drawing: as wide as the panel, as tall as the graph needs.
  function fitGraph(cy) {
    const box = $("graph");
    const bb = cy.elements().boundingBox();
    if (!bb.w) return;
    const zoom = Math.min(1.2, (box.clientWidth - 32) / bb.w);
    box.style.height = Math.round(Math.min(520, Math.max(150, bb.h * zoom + 36))) + "px";
    cy.resize();
    cy.fit(undefined, 16);
    if (cy.zoom() > 1.2) { cy.zoom(1.2); cy.center(); }
  }

  function drawActors(snap) {
    const ids = new Set(snap.graphs[state.selected] || []);
    const roots = new Set(snap.bottlenecks.map((b) => b.fragment_id));
    const queues = new Map();
    for (const b of snap.backpressure) {
      if (b.queue_capacity != null) queues.set(b.actor_id, [(queues.get(b.actor_id) || [0, 0])[0] + b.queue_rows,
        (queues.get(b.actor_id) || [0, 0])[1] + b.queue_capacity]);
    }
    const body = $("actors").tBodies[0];
    body.replaceChildren();
    for (const a of snap.actors.filter((a) => ids.has(a.fragment_id))) {
      const tr = el("tr");
      tr.dataset.actor = a.actor_id;
      if (roots.has(a.fragment_id)) tr.className = "root";
      const m = mode(a);
      tr.append(el("td", a.fragment_id), el("td", a.actor_id), el("td", a.relation),
        el("td", a.operator || "(forwards rows)"));
      const st = el("td", m, "state");
      st.dataset.state = m;
      const bar = el("div", null, "bar");
      for (const [r, c, t] of [[a.busy_ratio, "var(--busy)", "busy"], [a.idle_ratio, "var(--idle)", "idle"],
        [a.backpressure_ratio, "var(--bp)", "backpressured"]]) {
        const s = el("span");
        s.style.width = ((r || 0) * 100).toFixed(1) + "%";
        s.style.background = c;
        s.title = t + " " + pct(r);
        bar.append(s);
      }
      const ratios = el("td");
      ratios.append(bar, el("span", pct(a.busy_ratio) + " / " + pct(a.idle_ratio) + " / " + pct(a.backpressure_ratio), "muted"));
      ratios.style.display = "flex";
      ratios.style.gap = "8px";
      const q = queues.get(a.actor_id);
      tr.append(st, ratios, el("td", fmt(a.rows_per_second), "num"), el("td", q ? fmt(q[0]) + "/" + fmt(q[1]) : "–", "num"));
      body.append(tr);
    }
  }

  // ------------------------------------------------------------ relations, bottlenecks
  function drawRelations(snap) {
    const flagged = new Set(snap.bottlenecks.map((b) => b.relation));
    const body = $("relations").tBodies[0];
    body.replaceChildren();
    for (const r of snap.relations) {
      const tr = el("tr");
      tr.dataset.name = r.name;
      tr.className = (r.name === state.selected ? "selected " : "") + (flagged.has(r.name) ? "has-bottleneck" : "");
      tr.append(el("td", r.name), el("td", r.kind === "materialized view" ? "view" : r.kind),
        el("td", fmt(r.rows), "num"), el("td", fmt(r.rows_per_second, 1), "num"));
      tr.addEventListener("click", () => select(r.name));
      body.append(tr);
    }
    const list = $("all-bottlenecks");
    list.replaceChildren();
    for (const b of snap.bottlenecks) {
      const li = el("li");
      const a = el("a", b.relation + " / fragment " + b.fragment_id + ": " + b.cause);
      a.href = "#" + encodeURIComponent(b.relation);
      a.addEventListener("click", (ev) => { ev.preventDefault(); select(b.relation); });
      li.append(a);
      list.append(li);
    }
    if (!snap.bottlenecks.length) list.append(el("li", "none", "muted"));
  }

  function drawBottleneck(snap) {
    const ids = new Set(snap.graphs[state.selected] || []);
    const b = snap.bottlenecks.find((x) => ids.has(x.fragment_id));
    $("bottleneck").hidden = !b;
    if (!b) return;
    $("bn-where").textContent = b.relation + ", fragment " + b.fragment_id + " (" + b.operator + ")";
    $("bn-cause").textContent = b.cause;
    $("bn-evidence").textContent = b.evidence;
    $("bn-suggestion").textContent = b.suggestion;
  }

  // ------------------------------------------------------------ plots
  function seriesKey(s) { return s.reader === "table" ? s.source : s.source + " → " + s.relation + " " + s.reader; }

  function plot(name, title, xs, series) {
    const box = $(name);
    const width = Math.max(240, box.clientWidth - 4);
    const key = series.map((s) => s.label).join("|");
    let chart = state.charts[name];
    if (chart && (chart.key !== key || Math.abs(chart.width - width) > 20)) {
      chart.plot.destroy();
      chart = null;
    }
    const data = [xs].concat(series.map((s) => s.values));
    if (!chart) {
      const opts = { width, height: 170, legend: { show: true }, cursor: { drag: { x: false } },
        scales: { x: { time: true } }, axes: [{ space: 70, values: clock }, { size: 56 }],
        series: [{}].concat(series.map((s, i) => ({ label: s.label, stroke: PALETTE[i % PALETTE.length],
          width: 1.5, points: { show: s.points || false }, spanGaps: false }))) };
      chart = state.charts[name] = { key, width, plot: new uPlot(opts, data, box) };
    } else {
      chart.plot.setData(data);
    }
  }

  function clock(u, values) {
    return values.map((v) => new Date(v * 1000).toLocaleTimeString("en-GB"));
  }

  function drawCharts() {
    // Committed barriers by their latency; those still in flight by their age so far.
    const now = state.snapshot ? Date.parse(state.snapshot.time) : Date.now();
    const shown = [...state.barriers.values()].sort((a, b) => a.epoch - b.epoch).slice(-MAX_BARRIERS);
    plot("chart-barriers", "barrier latency", shown.map((b) => Date.parse(b.injected_at) / 1000), [
      { label: "committed", values: shown.map((b) => b.latency_ms), points: true },
      { label: "in flight (age)", values: shown.map((b) => b.committed_at == null ?
        Math.max(0, now - Date.parse(b.injected_at)) : null), points: true }]);
    const keys = [];
    for (const s of state.samples) for (const r of s.sources) if (!keys.includes(seriesKey(r))) keys.push(seriesKey(r));
    const xs = state.samples.map((s) => Date.parse(s.time) / 1000);
    const column = (k, field) => state.samples.map((s) => {
      const r = s.sources.find((x) => seriesKey(x) === k);
      return r ? r[field] : null;
    });
    plot("chart-rates", "rows/s", xs, keys.map((k) => ({ label: k, values: column(k, "rows_per_second") })));
    plot("chart-lag", "lag", xs, keys.map((k) => ({ label: k, values: column(k, "lag") })));
  }

  // ------------------------------------------------------------ view detail
  async function loadDetail() {
    const name = state.selected;
    if (!name) return;
    state.detailAt = Date.now();
    const r = await fetch("api/views/" + encodeURIComponent(name));
    if (!r.ok || name !== state.selected) return;
    const d = await r.json();
    $("sql").textContent = d.definition || "(" + d.kind + ": no query)";
    $("explain").textContent = d.explain.length ? d.explain.join("\n") : "(no stream plan)";
    $("explain-analyze").textContent = d.explain_analyze.join("\n");
  }

  function select(name) {
    state.selected = name;
    history.replaceState(null, "", "#" + encodeURIComponent(name));
    $("title").textContent = name;
    if (state.snapshot) render(state.snapshot);
    loadDetail();
  }

  function defaultSelection(snap) {
    const views = snap.relations.filter((r) => r.kind === "materialized view");
    const flagged = snap.bottlenecks.length ? snap.bottlenecks[0].relation : null;
    return flagged || (views[0] || snap.relations[0] || {}).name || null;
  }

  function render(snap) {
    drawRelations(snap);
    if (state.selected) {
      drawBottleneck(snap);
      drawGraph(snap);
      drawActors(snap);
    }
    drawCharts();
  }

  function onSnapshot(snap) {
    state.snapshot = snap;
    if (snap.sample && (!state.samples.length || state.samples[state.samples.length - 1].time !== snap.sample.time)) {
      state.samples.push(snap.sample);
      if (state.samples.length > MAX_SAMPLES) state.samples.shift();
    }
    for (const b of snap.barrier_latency) state.barriers.set(b.epoch, b);
    if (state.barriers.size > 2 * MAX_BARRIERS) {
      for (const k of [...state.barriers.keys()].sort((a, b) => a - b).slice(0, state.barriers.size - MAX_BARRIERS)) state.barriers.delete(k);
    }
    if (!state.selected || !snap.relations.some((r) => r.name === state.selected)) {
      const name = defaultSelection(snap);
      if (name) { select(name); return; }
    }
    $("updated").textContent = "updated " + new Date(snap.time).toLocaleTimeString();
    $("cpu").textContent = snap.process_cpu == null ? "" : "process CPU " + pct(snap.process_cpu);
    render(snap);
    if (Date.now() - state.detailAt > 5000) loadDetail();
  }

  async function start() {
    $("title").textContent = state.selected || "—";
    try {
      const h = await (await fetch("api/history")).json();
      state.samples = h.samples.slice(-MAX_SAMPLES);
      for (const b of h.barrier_latency) state.barriers.set(b.epoch, b);
      onSnapshot(await (await fetch("api/snapshot")).json());
    } catch (e) {
      $("status").textContent = "cannot reach the server";
    }
    const events = new EventSource("api/events");
    events.addEventListener("snapshot", (e) => onSnapshot(JSON.parse(e.data)));
    events.onopen = () => { $("status").dataset.state = "live"; $("status").textContent = "live"; };
    events.onerror = () => { $("status").dataset.state = "offline"; $("status").textContent = "reconnecting…"; };
    window.addEventListener("resize", () => drawCharts());
    window.addEventListener("hashchange", () => {
      const name = decodeURIComponent(location.hash.slice(1));
      if (name && name !== state.selected) select(name);
    });
  }

  window.sqlstreamDashboard = { state, graphElements, mode, level };
  start();
})();
