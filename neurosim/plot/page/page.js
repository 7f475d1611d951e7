// neurosim's trace page: the message timeline, live. Plain JavaScript on SVG,
// no library; everything it needs is in the page (the data in the
// <script id="neurosim-trace"> element, written by neurosim/_viewer.py).
"use strict";
(function () {
  const SVGNS = "http://www.w3.org/2000/svg";
  const data = JSON.parse(document.getElementById("neurosim-trace").textContent);
  const model = data.model;

  // Float columns come as float64 bytes in base64 (see _viewer._numbers):
  // exact, NaN included, and half the size of decimal text.
  function float64s(b64) {
    const text = atob(b64);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return Array.from(new Float64Array(bytes.buffer));
  }
  // Integer columns: a list, or runs of steps (see _viewer._integers).
  function ints(column) {
    if (Array.isArray(column)) return column;
    const out = [];
    const runs = column.runs;
    let value = 0;
    for (let r = 0; r < runs.length; r += 2) {
      for (let c = 0; c < runs[r + 1]; c++) { value += runs[r]; out.push(value); }
    }
    return out;
  }
  function numbers(column) {
    let values = float64s(column.f8);
    if (column.codes) values = ints(column.codes).map((c) => values[c]);
    if (column.lengths) {
      const rows = [];
      let at = 0;
      for (const n of column.lengths) { rows.push(values.slice(at, at + n)); at += n; }
      values = rows;
    }
    return values;
  }
  function decode(table, floats, integers) {
    for (const name of floats) if (table[name]) table[name] = numbers(table[name]);
    for (const name of integers) if (table[name]) table[name] = ints(table[name]);
  }
  const M = data.messages;
  decode(M, ["sent_at", "received_at", "value"], ["epoch", "sample", "kind", "source", "destination", "fate"]);
  const U = data.updates;
  decode(U, ["old", "new", "time", "gradient"], ["epoch", "sample", "neuron", "source"]);
  const I = data.internals;
  if (I) decode(I, ["e", "y", "fprime", "delta", "g", "forward_at", "backward_at"], ["epoch", "sample", "neuron", "version"]);
  if (model.order) model.order = ints(model.order);
  const KINDS = data.kinds;
  const FATES = data.fates;
  const DELIVERED = FATES.indexOf("delivered");
  const DROPPED = FATES.indexOf("dropped");
  const DUPLICATE = FATES.indexOf("duplicate");
  const LATE = FATES.indexOf("late");
  const nodes = data.nodes;
  const nodeName = (i) => (i < 0 ? "bias" : String(nodes[i]));
  const lanes = model.lanes;
  const laneOf = model.lane_of;
  const layerOfNode = new Array(nodes.length).fill(-1);
  model.layers.forEach((layer, k) => layer.nodes.forEach((i) => (layerOfNode[i] = k)));

  // Iterations: [epoch, sample] pairs, sorted; rows point at them by index.
  const iterations = model.iterations;
  const iterIndex = new Map(iterations.map(([e, s], k) => [e + ":" + s, k]));
  const msgIter = M.epoch.map((e, k) => iterIndex.get(e + ":" + M.sample[k]));
  const updIter = U.epoch.map((e, k) => iterIndex.get(e + ":" + U.sample[k]));
  const iterName = (k) =>
    k === undefined ? "" : `epoch ${iterations[k][0]}, sample ${iterations[k][1]}`;

  // Arrows: one per message, or one per bundle of alike messages.
  const order = model.order;
  const arrows = model.arrows.from.map((from, k) => {
    const first = model.arrows.first[k];
    const m = order ? order[first] : first;
    return {
      k, m, first, from, to: model.arrows.to[k], count: model.arrows.count[k],
      kind: M.kind[m], fate: M.fate[m], iter: msgIter[m],
      sent: M.sent_at[m], received: M.received_at[m],
    };
  });
  const members = (a) => {
    if (!order) return [a.m];
    return order.slice(a.first, a.first + a.count);
  };
  const marks = model.marks.time.map((time, k) => ({
    k, time, lane: model.marks.lane[k], iter: model.marks.iteration[k],
  }));

  // ------------------------------------------------------------------
  // formatting

  const MINUS = "\u2212";
  function fmt(x, digits = 4) {
    if (Array.isArray(x)) {
      const shown = x.slice(0, 2).map((v) => fmt(v, 3));
      return "[" + shown.join(", ") + (x.length > 2 ? ", …]" : "]");
    }
    if (Number.isNaN(x)) return "NaN";
    if (!Number.isFinite(x)) return (x < 0 ? MINUS : "") + "∞";
    if (x === 0) return "0";
    const a = Math.abs(x);
    let text;
    if (a >= 1e6 || a < 1e-4) {
      text = x.toExponential(digits - 1).replace(/\.?0+e/, "e").replace("e+", "e");
    } else {
      text = String(Number(x.toPrecision(digits)));
    }
    return text.replace("-", MINUS);
  }
  const exact = (x) => (Array.isArray(x) ? JSON.stringify(x) : String(x));
  const esc = (text) =>
    String(text).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  const timeText = (t) => (Number.isNaN(t) ? "never" : fmt(t, 6));
  function valueCell(x, cls = "") {
    if (Array.isArray(x)) {
      const parts = x.slice(0, 8).map((v) => fmt(v));
      const more = x.length > 8 ? `, … (${x.length})` : "";
      return `<span class="${cls}" data-exact="${esc(exact(x))}">[${parts.join(", ")}${more}]</span>`;
    }
    return `<span class="${cls}" data-exact="${esc(exact(x))}" title="${esc(exact(x))}">${fmt(x, 6)}</span>`;
  }

  // ------------------------------------------------------------------
  // state

  const presentKinds = KINDS.map((_, c) => arrows.some((a) => a.kind === c));
  const state = {
    t: 0,
    playing: false,
    speed: 1,
    showKind: KINDS.map(() => true),
    showUpdates: true,
    epoch: model.first.epoch,
    samples: model.first.samples ? new Set(model.first.samples) : null,
    colourBy: model.overlap ? "sample" : "kind",
    values: null, // null: values on the arrows when at most AUTO_VALUES are shown
    chosenArrow: null,
    chosenNeuron: null,
  };
  let view = null; // the current layout, from render()

  const epochs = [...new Set(iterations.map(([e]) => e))];
  const samples = [...new Set(iterations.map(([, s]) => s))].sort((a, b) => a - b);

  function visibleIterations() {
    return iterations.map(([e, s]) =>
      (state.epoch === null || e === state.epoch) && (state.samples === null || state.samples.has(s)));
  }

  // ------------------------------------------------------------------
  // the controls

  const $ = (id) => document.getElementById(id);
  $("summary").textContent = data.summary;

  function buildFilters() {
    const box = $("kinds");
    KINDS.forEach((kind, c) => {
      if (!presentKinds[c]) return;
      box.insertAdjacentHTML("beforeend",
        `<label><input type="checkbox" data-kind="${c}" checked> ${kind}</label>`);
    });
    if (U.time.length) {
      box.insertAdjacentHTML("beforeend",
        `<label><input type="checkbox" data-kind="update" checked> updates</label>`);
    }
    box.insertAdjacentHTML("beforeend",
      `<label title="the value on each arrow (on by itself when few are shown)"><input type="checkbox" data-kind="values"> values</label>`);
    box.addEventListener("change", (event) => {
      const kind = event.target.dataset.kind;
      if (kind === "values") state.values = event.target.checked;
      else if (kind === "update") state.showUpdates = event.target.checked;
      else state.showKind[Number(kind)] = event.target.checked;
      render();
    });

    const epochSelect = $("epoch");
    epochSelect.insertAdjacentHTML("beforeend", `<option value="">all</option>`);
    for (const e of epochs) epochSelect.insertAdjacentHTML("beforeend", `<option value="${e}">${e}</option>`);
    epochSelect.value = state.epoch === null ? "" : String(state.epoch);
    if (epochs.length <= 1) epochSelect.parentElement.hidden = true;
    epochSelect.addEventListener("change", () => {
      state.epoch = epochSelect.value === "" ? null : Number(epochSelect.value);
      render();
    });

    const chips = $("samples");
    if (samples.length > MAX_CHIPS) {
      // Too many samples for a button each: a list of numbers and ranges.
      chips.insertAdjacentHTML("beforeend",
        `<label>samples <input id="sample-list" type="text" size="14" placeholder="all, or 0-3, 7"></label>`);
      const input = $("sample-list");
      if (state.samples !== null) input.value = [...state.samples].join(", ");
      input.addEventListener("change", () => {
        const chosen = new Set();
        for (const part of input.value.split(",")) {
          const range = part.trim().match(/^(\d+)(?:\s*-\s*(\d+))?$/);
          if (!range) continue;
          const low = Number(range[1]), high = Number(range[2] ?? range[1]);
          for (const s of samples) if (s >= low && s <= high) chosen.add(s);
        }
        state.samples = chosen.size ? chosen : null;
        render();
      });
    }
    if (samples.length > 1 && samples.length <= MAX_CHIPS) {
      chips.insertAdjacentHTML("beforeend", `<button type="button" data-sample="all">all</button>`);
    }
    for (const s of samples.length <= MAX_CHIPS ? samples : []) {
      chips.insertAdjacentHTML("beforeend", `<button type="button" data-sample="${s}">sample ${s}</button>`);
    }
    chips.addEventListener("click", (event) => {
      const which = event.target.dataset.sample;
      if (which === undefined) return;
      if (which === "all") {
        state.samples = null;
      } else {
        const s = Number(which);
        const chosen = state.samples === null ? new Set(samples) : new Set(state.samples);
        if (chosen.has(s)) chosen.delete(s);
        else chosen.add(s);
        state.samples = chosen.size === samples.length ? null : chosen;
      }
      render();
    });
    if (iterations.length === 0) $("iterations").hidden = true;

    for (const input of document.querySelectorAll('input[name="colour"]')) {
      input.checked = input.value === state.colourBy;
      input.addEventListener("change", () => {
        state.colourBy = input.value;
        render();
      });
    }
    const finder = $("neuron");
    nodes.forEach((node, i) => {
      if (laneOf[i] >= 0) finder.insertAdjacentHTML("beforeend", `<option value="${i}">${esc(node)}</option>`);
    });
    finder.addEventListener("change", () => {
      if (finder.value !== "") chooseNeuron(Number(finder.value));
    });
  }

  function syncChips() {
    for (const chip of $("samples").querySelectorAll("button")) {
      const which = chip.dataset.sample;
      const pressed = which === "all" ? state.samples === null
        : state.samples === null || state.samples.has(Number(which));
      chip.setAttribute("aria-pressed", String(pressed));
    }
  }

  // ------------------------------------------------------------------
  // drawing

  const el = (name, attrs = {}, parent = null) => {
    const node = document.createElementNS(SVGNS, name);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
    if (parent) parent.appendChild(node);
    return node;
  };

  function niceTicks(start, stop, wanted) {
    const span = stop - start;
    if (!(span > 0)) return [start];
    const raw = span / wanted;
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map((f) => f * power).find((s) => span / s <= wanted) || 10 * power;
    const ticks = [];
    for (let t = Math.ceil(start / step) * step; t <= stop + 1e-9 * span; t += step) {
      ticks.push(Math.abs(t) < 1e-12 * span ? 0 : t);
    }
    return ticks;
  }

  const isError = (code) => KINDS[code] === "backward" || KINDS[code] === "feedback";
  const DASH = { forward: "", backward: "6 3", feedback: "1.5 2.5", softmax: "6 2 1.5 2" };
  const AUTO_VALUES = 24;
  const MAX_CHIPS = 40;

  function colourOf(a, rank) {
    if (state.colourBy === "kind") return data.colors[KINDS[a.kind]];
    return data.sample_colors[rank[a.iter] % data.sample_colors.length];
  }

  function render() {
    syncChips();
    const shownIter = visibleIterations();
    const rank = [];
    let r = 0;
    shownIter.forEach((shown, k) => { rank[k] = shown ? r++ : -1; });
    const shownArrows = arrows.filter((a) => state.showKind[a.kind] && shownIter[a.iter]);
    const shownMarks = state.showUpdates ? marks.filter((m) => shownIter[m.iter]) : [];

    // The time axis spans what is shown.
    let t0 = Infinity, t1 = -Infinity;
    for (const a of shownArrows) { t0 = Math.min(t0, a.sent); t1 = Math.max(t1, a.received); }
    for (const m of shownMarks) { t0 = Math.min(t0, m.time); t1 = Math.max(t1, m.time); }
    if (!(t0 <= t1)) { t0 = 0; t1 = 1; }
    const pad = 0.04 * Math.max(t1 - t0, 1);

    const svg = $("timeline");
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    const width = Math.max(420, $("chart").clientWidth);
    const longest = Math.max(3, ...lanes.map((lane) => lane.label.length));
    const left = Math.min(200, 24 + 8 * longest);
    const right = 18, top = 10, bottom = 44;
    // The lanes' positions come with the model, in units of a neuron's lane.
    const totalUnits = lanes.length ? lanes[lanes.length - 1].top + lanes[lanes.length - 1].height : 1;
    const laneH = totalUnits <= 8 ? 54 : Math.max(13, Math.min(54, 560 / totalUnits));
    const laneTop = lanes.map((lane) => top + lane.top * laneH);
    laneTop.push(top + totalUnits * laneH);
    const height = laneTop[lanes.length] + bottom;
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    svg.setAttribute("height", height);
    // The window of time drawn: all of it, or what the wheel zoomed into.
    let w0 = t0 - pad, w1 = t1 + pad;
    if (state.window) {
      w0 = Math.max(w0, state.window[0]);
      w1 = Math.min(w1, state.window[1]);
      if (!(w1 > w0)) { w0 = t0 - pad; w1 = t1 + pad; state.window = null; }
    }
    const plotW = width - left - right;
    const x = (t) => left + ((t - w0) / (w1 - w0)) * plotW;
    const y = (lane) => (laneTop[lane] + laneTop[lane + 1]) / 2;

    const back = el("g", {}, svg);
    model.layers.forEach((layer, k) => {
      if (k % 2 === 1 && layer.lanes) {
        el("rect", {
          x: left - 6, y: laneTop[layer.first_lane], width: width - left - right + 6,
          height: laneTop[layer.first_lane + layer.lanes] - laneTop[layer.first_lane], fill: "#f4f4f4",
        }, back);
      }
    });
    el("clipPath", { id: "plot-area" }, el("defs", {}, svg)).appendChild(
      el("rect", { x: left - 6, y: 0, width: plotW + 6, height: height - bottom + 1 }));
    for (const t of niceTicks(w0, w1, Math.max(3, Math.floor((width - left) / 90)))) {
      el("line", { x1: x(t), x2: x(t), y1: top, y2: height - bottom, stroke: "#e4e4e4" }, back);
      el("text", { x: x(t), y: height - bottom + 16, "text-anchor": "middle", class: "tick" }, back).textContent = fmt(t, 6);
    }
    el("line", { x1: left - 6, x2: width - right, y1: height - bottom, y2: height - bottom, stroke: "#222222" }, back);
    el("text", { x: (left + width - right) / 2, y: height - 8, "text-anchor": "middle", class: "axis-title" }, back).textContent = "virtual time";
    const labelSize = lanes.length > 30 ? 10 : 13;
    lanes.forEach((lane, k) => {
      el("line", { x1: left - 6, x2: width - right, y1: y(k), y2: y(k), stroke: "#e4e4e4" }, back);
      const label = el("text", {
        x: left - 12, y: y(k), "text-anchor": "end", "dominant-baseline": "central",
        class: "lane-label", "data-lane": k, "font-size": labelSize,
      }, back);
      label.textContent = lane.label;
      if (lane.nodes.length === 1) label.dataset.node = lane.nodes[0];
    });

    // Many arrows: thinner and lighter, so that bundles read as bundles.
    const inWindow = shownArrows.filter((a) => a.received >= w0 && a.sent <= w1).length;
    const density = Math.min(1, Math.sqrt(60 / Math.max(inWindow, 1)));
    const baseWidth = 0.6 + 1.4 * density;
    const baseAlpha = 0.4 + 0.6 * density;
    const headLength = 6 + 5 * density;
    const clip = { "clip-path": "url(#plot-area)" };
    const arrowLayer = el("g", clip, svg);
    const markLayer = el("g", clip, svg);
    const labelLayer = el("g", clip, svg);
    const drawn = [];
    for (const a of shownArrows) {
      const colour = colourOf(a, rank);
      const g = el("g", { class: "msg", "data-arrow": a.k }, arrowLayer);
      const x0 = x(a.sent), y0 = y(a.from), x1 = x(a.received), y1 = y(a.to);
      let lineWidth = a.fate === DUPLICATE ? 0.6 * baseWidth : baseWidth;
      if (a.count > 1) lineWidth += 0.45 * Math.log2(a.count);
      const faded = a.fate === DROPPED || a.fate === LATE;
      const dash = a.fate === DUPLICATE ? "1.5 2.5" : state.colourBy === "sample" ? DASH[KINDS[a.kind]] : "";
      el("line", {
        x1: x0, y1: y0, x2: x1, y2: y1, stroke: colour, "stroke-width": lineWidth,
        "stroke-dasharray": dash, "stroke-opacity": 0.13, class: "track",
      }, g);
      const shaft = el("line", {
        class: "shaft", x1: x0, y1: y0, x2: x0, y2: y0, stroke: colour,
        "stroke-width": lineWidth, "stroke-dasharray": dash,
        "stroke-opacity": faded ? 0.35 * baseAlpha : baseAlpha, "stroke-linecap": "round",
      }, g);
      const length = Math.hypot(x1 - x0, y1 - y0) || 1;
      const ux = (x1 - x0) / length, uy = (y1 - y0) / length;
      const hl = Math.min(headLength + lineWidth, 0.45 * length), hw = 0.45 * hl;
      const onMark = shownMarks.some((m) => m.lane === a.to && Math.abs(x(m.time) - x1) < 0.5);
      const back2 = onMark ? 5 : 0; // stop at the edge of an update diamond
      const tipX = x1 - ux * back2, tipY = y1 - uy * back2;
      let head = null, fateMark = null;
      if (faded) {
        fateMark = a.fate === DROPPED
          ? el("path", {
            d: `M${x1 - 5},${y1 - 5}L${x1 + 5},${y1 + 5}M${x1 - 5},${y1 + 5}L${x1 + 5},${y1 - 5}`,
            stroke: "#222222", "stroke-width": 2.4, class: "lost",
          }, g)
          : el("circle", { cx: x1, cy: y1, r: 4, fill: "#ffffff", stroke: colour, "stroke-width": 1.4, class: "late" }, g);
      } else {
        head = el("path", {
          d: `M${tipX},${tipY}L${tipX - ux * hl - uy * hw},${tipY - uy * hl + ux * hw}` +
            `L${tipX - ux * hl + uy * hw},${tipY - uy * hl - ux * hw}Z`,
          fill: colour, "fill-opacity": Math.min(1, baseAlpha + 0.15),
        }, g);
      }
      const dot = el("circle", { r: 4.2 + (a.count > 1 ? 1.5 : 0), fill: colour, stroke: "#ffffff", "stroke-width": 1.2, class: "dot" }, g);
      el("line", { class: "hit", x1: x0, y1: y0, x2: x1, y2: y1 }, g);
      if (state.chosenArrow === a.k) g.classList.add("chosen");
      drawn.push({
        a, g, shaft, head, dot, fateMark, x0, y0, x1, y1,
        end: faded ? [x1, y1] : [tipX - ux * hl * 0.6, tipY - uy * hl * 0.6], label: null,
      });
    }
    for (const m of shownMarks) {
      const cx = x(m.time), cy = y(m.lane), s = lanes.length > 30 ? 3.5 : 6;
      const mark = el("path", {
        d: `M${cx},${cy - s}L${cx + s},${cy}L${cx},${cy + s}L${cx - s},${cy}Z`,
        fill: data.colors.update, stroke: "#ffffff", "stroke-width": 1, class: "mark", "data-mark": m.k,
      }, markLayer);
      m.node = mark;
    }
    // Values on the arrows, as in the figure when few messages are shown.
    const single = shownArrows.every((a) => a.count === 1);
    const values = state.values === null ? shownArrows.length <= AUTO_VALUES : state.values;
    document.querySelector('input[data-kind="values"]').checked = values && single;
    if (single && values) placeLabels(drawn, shownMarks.map((m) => [x(m.time), y(m.lane)]), labelLayer, rank);
    if (!single && drawn.length <= 24) {
      for (const d of drawn) {
        if (d.a.count < 2) continue;
        const label = el("text", { class: "count", "text-anchor": "middle" }, labelLayer);
        label.textContent = "×" + d.a.count;
        const f = 0.5;
        label.setAttribute("x", d.x0 + f * (d.x1 - d.x0));
        label.setAttribute("y", d.y0 + f * (d.y1 - d.y0) - 3);
        d.label = { node: label, x: d.x0 + f * (d.x1 - d.x0) };
      }
    }
    const playhead = el("line", { class: "playhead", y1: top, y2: height - bottom }, svg);
    view = { t0, t1, w0, w1, full: [t0 - pad, t1 + pad], left, plotW, width, x, y, drawn, shownArrows, shownMarks, playhead, rank, shownIter };
    $("zoom-note").hidden = !state.window;
    svg.dataset.window = `${w0} ${w1}`;

    const slider = $("time");
    slider.min = t0;
    slider.max = t1;
    state.t = Math.min(Math.max(state.t, t0), t1);
    drawLegend(shownArrows, shownMarks, rank);
    if (state.chosenNeuron !== null) highlightLane();
    setTime(state.t, true);
  }

  // Greedy placement: each label at the first clear place along its arrow,
  // nearest a third of the way, off the other labels, the arrowheads, the
  // update marks and (where possible) the other arrows. A value sent to
  // several receivers at once (a fan of arrows from one sender, one time) is
  // written once, on the arrow of the fan where it fits best, as the figures
  // (plot.timeline) write it.
  function placeLabels(drawn, markPoints, layer, rank) {
    const placed = [];
    const points = [];
    for (const d of drawn) points.push([d.x0, d.y0, 6], [d.x1, d.y1, 11]);
    for (const [px, py] of markPoints) points.push([px, py, 9]);
    const fractions = [];
    for (let f = 0.1; f <= 0.9001; f += 0.04) fractions.push(f);
    const sorted = [...drawn].sort((p, q) => p.a.sent - q.a.sent || p.y0 - q.y0 || p.y1 - q.y1);
    const fans = new Map();
    for (const d of sorted) {
      const text = fmt(M.value[d.a.m]);
      const key = `${d.a.kind} ${d.a.iter} ${d.a.sent} ${d.y0} ${text}`;
      if (!fans.has(key)) fans.set(key, { text, members: [] });
      fans.get(key).members.push(d);
    }
    for (const { text, members } of fans.values()) {
      const w = 7 * text.length + 8, h = 15;
      let best = null, bestCost = Infinity, owner = null;
      for (const d of members) for (const f of fractions) {
        const cx = d.x0 + f * (d.x1 - d.x0), cy = d.y0 + f * (d.y1 - d.y0);
        const box = [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
        let cost = Math.abs(f - 1 / 3);
        for (const b of placed) if (overlaps(box, b)) cost += 1000;
        for (const [px, py, pr] of points) {
          if (px > box[0] - pr && px < box[2] + pr && py > box[1] - pr && py < box[3] + pr) cost += 100;
        }
        const near = [box[0] - 4, box[1] - 4, box[2] + 4, box[3] + 4];
        for (const other of drawn) {
          if (!members.includes(other) && segmentHitsBox(other.x0, other.y0, other.x1, other.y1, near)) cost += 10;
        }
        if (cost < bestCost) { bestCost = cost; best = [cx, cy, box]; owner = d; }
      }
      const d = owner;
      placed.push(best[2]);
      const group = el("g", { class: "value" }, layer);
      el("rect", {
        x: best[2][0], y: best[2][1], width: w, height: h, rx: 3, fill: "#ffffff", "fill-opacity": 0.92,
      }, group);
      const label = el("text", {
        x: best[0], y: best[1] + 0.5, "text-anchor": "middle", "dominant-baseline": "central",
        fill: colourOf(d.a, rank),
      }, group);
      label.textContent = text;
      d.label = { node: group, x: best[0] };
    }
  }
  const overlaps = (a, b) => a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
  function segmentHitsBox(x0, y0, x1, y1, box) {
    // Liang–Barsky clipping of the segment against the box.
    let lo = 0, hi = 1;
    const dx = x1 - x0, dy = y1 - y0;
    const tests = [[-dx, x0 - box[0]], [dx, box[2] - x0], [-dy, y0 - box[1]], [dy, box[3] - y0]];
    for (const [p, q] of tests) {
      if (p === 0) { if (q < 0) return false; continue; }
      const r = q / p;
      if (p < 0) { if (r > hi) return false; if (r > lo) lo = r; }
      else { if (r < lo) return false; if (r < hi) hi = r; }
    }
    return true;
  }

  function legendLine(colour, dash, opacity = 1, mark = "") {
    let extra = "";
    if (mark === "x") extra = `<path d="M19,3L27,11M19,11L27,3" stroke="#222222" stroke-width="2"/>`;
    if (mark === "o") extra = `<circle cx="23" cy="7" r="3.5" fill="#fff" stroke="${colour}" stroke-width="1.3"/>`;
    if (mark === ">") extra = `<path d="M28,7L20,3L20,11Z" fill="${colour}"/>`;
    return `<svg width="30" height="14"><line x1="1" y1="7" x2="${mark ? 21 : 29}" y2="7" stroke="${colour}"` +
      ` stroke-width="2" stroke-dasharray="${dash}" stroke-opacity="${opacity}"/>${extra}</svg>`;
  }
  function drawLegend(shownArrows, shownMarks, rank) {
    const entries = [];
    const kindsShown = KINDS.map((_, c) => shownArrows.some((a) => a.kind === c));
    if (state.colourBy === "sample") {
      const ks = rank.map((r, k) => [r, k]).filter(([r]) => r >= 0).map(([, k]) => k);
      const oneEpoch = new Set(ks.map((k) => iterations[k][0])).size <= 1;
      const limit = ks.length <= 10 ? ks.length : 9;
      for (const k of ks.slice(0, limit)) {
        const name = oneEpoch ? `sample ${iterations[k][1]}` : iterName(k);
        entries.push(`<span>${legendLine(data.sample_colors[rank[k] % data.sample_colors.length], "")}${name}</span>`);
      }
      if (ks.length > limit) entries.push(`<span>… ${ks.length - limit} more (colours repeat)</span>`);
      const words = { forward: "solid", backward: "dashed", feedback: "dotted", softmax: "dash-dotted" };
      KINDS.forEach((kind, c) => {
        if (kindsShown[c]) entries.push(`<span>${legendLine("#6b6b6b", DASH[kind])}${kind} (${words[kind]})</span>`);
      });
    } else {
      KINDS.forEach((kind, c) => {
        if (kindsShown[c]) entries.push(`<span>${legendLine(data.colors[kind], "", 1, ">")}${kind}</span>`);
      });
    }
    if (shownMarks.length) {
      entries.push(`<span><svg width="16" height="14"><path d="M8,1L14,7L8,13L2,7Z" fill="${data.colors.update}"/></svg>update</span>`);
    }
    if (shownArrows.some((a) => a.fate === DROPPED)) entries.push(`<span>${legendLine("#222222", "", 0.35, "x")}lost (× where it would arrive)</span>`);
    if (shownArrows.some((a) => a.fate === DUPLICATE)) entries.push(`<span>${legendLine("#6b6b6b", "1.5 2.5")}duplicate copy (ignored)</span>`);
    if (shownArrows.some((a) => a.fate === LATE)) entries.push(`<span>${legendLine("#6b6b6b", "", 0.35, "o")}late (○ arrival, ignored)</span>`);
    if (model.aggregated) entries.push(`<span class="note">layers with many neurons are one lane; ×N: N messages alike</span>`);
    $("legend").innerHTML = entries.join("");
  }

  // ------------------------------------------------------------------
  // time

  function setTime(t, force = false) {
    if (!view) return;
    t = Math.min(Math.max(t, view.t0), view.t1);
    if (t === state.t && !force) return;
    state.t = t;
    if (state.window && !force && (t < view.w0 || t > view.w1)) {
      // Zoomed in: the window follows the clock, a window's width at a time.
      const span = view.w1 - view.w0;
      const start = t > view.w1 ? t - 0.1 * span : t - 0.9 * span;
      state.window = [start, start + span];
      render();
      return;
    }
    $("time").value = t;
    let delivered = 0, total = 0, flying = 0, lost = 0, late = 0, duplicates = 0;
    for (const d of view.drawn) {
      const a = d.a;
      total += a.count;
      if (t < a.sent) {
        d.shaft.setAttribute("display", "none");
        d.dot.setAttribute("display", "none");
        if (d.head) d.head.setAttribute("display", "none");
        if (d.fateMark) d.fateMark.setAttribute("display", "none");
        if (d.label) d.label.node.setAttribute("display", "none");
        continue;
      }
      d.shaft.removeAttribute("display");
      const span = a.received - a.sent;
      const f = span > 0 ? Math.min(1, (t - a.sent) / span) : 1;
      const arrived = t >= a.received;
      const [ex, ey] = arrived ? d.end : [d.x0 + f * (d.x1 - d.x0), d.y0 + f * (d.y1 - d.y0)];
      d.shaft.setAttribute("x2", ex);
      d.shaft.setAttribute("y2", ey);
      if (d.head) d.head.setAttribute("display", arrived ? "inline" : "none");
      if (d.fateMark) d.fateMark.setAttribute("display", arrived ? "inline" : "none");
      if (arrived) {
        d.dot.setAttribute("display", "none");
        if (a.fate === DROPPED) lost += a.count;
        else {
          delivered += a.count;
          if (a.fate === LATE) late += a.count;
          if (a.fate === DUPLICATE) duplicates += a.count;
        }
      } else {
        d.dot.removeAttribute("display");
        d.dot.setAttribute("cx", ex);
        d.dot.setAttribute("cy", ey);
        flying += a.count;
      }
      if (d.label) d.label.node.setAttribute("display", view.x(t) >= d.label.x - 0.5 || arrived ? "inline" : "none");
    }
    for (const m of view.shownMarks) m.node.setAttribute("display", t >= m.time ? "inline" : "none");
    const px = view.x(t);
    view.playhead.setAttribute("x1", px);
    view.playhead.setAttribute("x2", px);

    const clock = $("clock");
    clock.dataset.time = String(t);
    clock.dataset.delivered = String(delivered);
    clock.dataset.total = String(total);
    const extras = [];
    if (flying) extras.push(`${flying} in flight`);
    if (lost) extras.push(`${lost} lost`);
    if (late) extras.push(`${late} late`);
    if (duplicates) extras.push(`${duplicates} duplicate`);
    clock.innerHTML = `t = <b>${esc(fmt(t, 6))}</b> · <b id="delivered">${delivered}</b> of ${total} delivered` +
      (extras.length ? ` (${extras.join(", ")})` : "");
    if (state.chosenNeuron !== null && !state.pinnedIteration) showNeuron(state.chosenNeuron, null, true);
  }

  function eventTimes() {
    const times = [];
    for (const d of view.drawn) times.push(d.a.sent, d.a.received);
    for (const m of view.shownMarks) times.push(m.time);
    times.push(view.t0, view.t1);
    return [...new Set(times)].sort((a, b) => a - b);
  }
  function step(direction) {
    stop();
    const times = eventTimes();
    const eps = 1e-9 * Math.max(1, Math.abs(view.t1 - view.t0));
    let target = state.t;
    if (direction > 0) target = times.find((t) => t > state.t + eps) ?? view.t1;
    else target = [...times].reverse().find((t) => t < state.t - eps) ?? view.t0;
    setTime(target);
  }

  let lastFrame = null;
  function frame(now) {
    if (!state.playing) return;
    if (lastFrame !== null) {
      const span = Math.max(view.t1 - view.t0, 1e-9);
      const rate = Math.max(span / 12, 0.4) * state.speed; // time units per second
      const t = state.t + ((now - lastFrame) / 1000) * rate;
      setTime(t);
      if (t >= view.t1) { stop(); return; }
    }
    lastFrame = now;
    requestAnimationFrame(frame);
  }
  function play() {
    if (state.t >= view.t1) setTime(view.t0);
    state.playing = true;
    lastFrame = null;
    $("play").textContent = "❚❚ Pause";
    requestAnimationFrame(frame);
  }
  function stop() {
    state.playing = false;
    $("play").textContent = "▶ Play";
  }

  // ------------------------------------------------------------------
  // details: a message, a neuron

  const panel = $("panel");
  const tooltip = $("tooltip");
  const FATE_WORDS = {
    dropped: "lost on the way: it never arrived",
    duplicate: "the extra copy of a duplicated message (ignored)",
    late: "arrived after its iteration's deadline (ignored)",
  };

  function arrowHtml(a, long) {
    const kind = KINDS[a.kind];
    const laneName = (lane) => lanes[lane].label;
    const rows = [];
    if (a.count === 1) {
      const m = a.m;
      rows.push(`<h2>${kind} message</h2>`);
      rows.push(`<table>`);
      rows.push(`<tr><td>from</td><td>${esc(nodeName(M.source[m]))}</td></tr>`);
      rows.push(`<tr><td>to</td><td>${esc(nodeName(M.destination[m]))}</td></tr>`);
      rows.push(`<tr><td>value</td><td class="message-value">${valueCell(M.value[m])}</td></tr>`);
      rows.push(`<tr><td>sent at</td><td>${timeText(M.sent_at[m])}</td></tr>`);
      rows.push(`<tr><td>received at</td><td>${timeText(M.received_at[m])}</td></tr>`);
      rows.push(`<tr><td>iteration</td><td>${swatch(a.iter)}${iterName(a.iter)}</td></tr>`);
      rows.push(`</table>`);
      if (a.fate !== DELIVERED) rows.push(`<p><b>${esc(FATES[a.fate])}</b>: ${FATE_WORDS[FATES[a.fate]]}</p>`);
      if (long && Array.isArray(M.value[m])) rows.push(`<p class="note">one value per sample of the mini-batch</p>`);
      return rows.join("");
    }
    const values = members(a).map((m) => M.value[m]).flat();
    const low = Math.min(...values), high = Math.max(...values);
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    rows.push(`<h2>${a.count} ${kind} messages</h2>`);
    rows.push(`<table><tr><td>from</td><td>${esc(laneName(a.from))}</td></tr>`);
    rows.push(`<tr><td>to</td><td>${esc(laneName(a.to))}</td></tr>`);
    rows.push(`<tr><td>values</td><td>${fmt(low)} to ${fmt(high)}</td></tr>`);
    rows.push(`<tr><td>mean</td><td>${fmt(mean)}</td></tr>`);
    rows.push(`<tr><td>sent at</td><td>${timeText(a.sent)}</td></tr>`);
    rows.push(`<tr><td>received at</td><td>${timeText(a.received)}</td></tr>`);
    rows.push(`<tr><td>iteration</td><td>${iterName(a.iter)}</td></tr></table>`);
    if (a.fate !== DELIVERED) rows.push(`<p><b>${esc(FATES[a.fate])}</b>: ${FATE_WORDS[FATES[a.fate]]}</p>`);
    if (long) {
      const some = members(a).slice(0, 12);
      rows.push(`<h3>the first ${some.length}</h3><table>`);
      for (const m of some) {
        rows.push(`<tr><td>${esc(nodeName(M.source[m]))} → ${esc(nodeName(M.destination[m]))}</td><td>${valueCell(M.value[m])}</td></tr>`);
      }
      rows.push(`</table>`);
    }
    return rows.join("");
  }

  // The colour of an iteration, when the colour shows the iteration.
  function swatch(iter) {
    if (state.colourBy !== "sample" || !view || view.rank[iter] < 0) return "";
    const colour = data.sample_colors[view.rank[iter] % data.sample_colors.length];
    return `<span class="swatch" style="background:${colour}"></span>`;
  }

  function chooseArrow(k) {
    state.chosenArrow = k;
    state.chosenNeuron = null;
    highlightLane();
    for (const g of document.querySelectorAll(".msg.chosen")) g.classList.remove("chosen");
    const g = document.querySelector(`.msg[data-arrow="${k}"]`);
    if (g) g.classList.add("chosen");
    panel.innerHTML = arrowHtml(arrows[k], true);
    panel.dataset.showing = "message";
  }

  // The iteration a neuron is in at time t: the latest one shown with an
  // event at the neuron by then (else the first with any).
  function currentIteration(i) {
    let best = null, bestTime = -Infinity, first = null, firstTime = Infinity;
    const consider = (iter, time) => {
      if (iter === undefined || !view.shownIter[iter]) return;
      if (time <= state.t + 1e-12 && time >= bestTime) { best = iter; bestTime = time; }
      if (time < firstTime) { first = iter; firstTime = time; }
    };
    for (let m = 0; m < M.epoch.length; m++) {
      if (M.destination[m] === i) consider(msgIter[m], M.received_at[m]);
      if (M.source[m] === i) consider(msgIter[m], M.sent_at[m]);
    }
    for (let u = 0; u < U.time.length; u++) if (U.neuron[u] === i) consider(updIter[u], U.time[u]);
    return best !== null ? best : first;
  }

  function chooseNeuron(i, iter = null) {
    state.chosenNeuron = i;
    state.chosenArrow = null;
    state.pinnedIteration = iter !== null;
    for (const g of document.querySelectorAll(".msg.chosen")) g.classList.remove("chosen");
    highlightLane();
    showNeuron(i, iter, false);
  }
  function highlightLane() {
    for (const label of document.querySelectorAll(".lane-label")) {
      label.classList.toggle("chosen", state.chosenNeuron !== null && Number(label.dataset.node) === state.chosenNeuron && label.dataset.node !== undefined);
    }
    $("neuron").value = state.chosenNeuron === null ? "" : String(state.chosenNeuron);
  }

  function showNeuron(i, iter, quiet) {
    if (iter === null) iter = currentIteration(i);
    const key = i + "@" + iter;
    if (quiet && panel.dataset.key === key) { markFuture(); return; }
    panel.dataset.key = key;
    panel.dataset.showing = "neuron";
    const layer = layerOfNode[i] >= 0 ? model.layers[layerOfNode[i]].name : "";
    const rows = [`<h2>neuron ${esc(nodeName(i))}</h2>`];
    rows.push(`<p>${esc(layer)} layer${iter !== null ? " · " + swatch(iter) + iterName(iter) : ""}</p>`);
    if (iter === null) {
      rows.push(`<p class="note">nothing of this neuron in the iterations shown</p>`);
      panel.innerHTML = rows.join("");
      return;
    }
    const same = (epoch, sample, k) => iterIndex.get(epoch[k] + ":" + sample[k]) === iter;
    // What the neuron computed, when the trace recorded it.
    let row = -1;
    if (I) {
      for (let k = 0; k < I.epoch.length; k++) {
        if (I.neuron[k] === i && same(I.epoch, I.sample, k)) { row = k; break; }
      }
    }
    if (row >= 0) {
      const fwd = I.forward_at ? I.forward_at[row] : NaN, bwd = I.backward_at ? I.backward_at[row] : NaN;
      const line = (name, label, at) => I[name] === undefined ? "" :
        `<tr data-at="${at}"><td>${label}</td><td class="internal-${name}">${valueCell(I[name][row])}</td></tr>`;
      // An output of a softmax group has y once the others' e have come.
      let softAt = -Infinity;
      for (let m = 0; m < M.epoch.length; m++) {
        if (msgIter[m] === iter && M.destination[m] === i && KINDS[M.kind[m]] === "softmax") {
          softAt = Math.max(softAt, M.received_at[m]);
        }
      }
      const soft = softAt > -Infinity;
      rows.push(`<h3>what it computed</h3><table>`);
      rows.push(line("e", "e (weighted sum)", fwd));
      rows.push(soft ? line("y", "y = softmax of the group’s e", softAt) : line("y", "y = f(e)", fwd));
      rows.push(line("fprime", soft ? "f′(e) (1: cross-entropy)" : "f′(e)", fwd));
      rows.push(line("delta", "δ (error)", bwd));
      rows.push(line("g", "g = δ·f′(e)", bwd));
      if (I.version) rows.push(`<tr><td>weights version</td><td>${I.version[row]}</td></tr>`);
      rows.push(`<tr><td>forward at</td><td>${timeText(fwd)}</td></tr>`);
      rows.push(`<tr><td>backward at</td><td>${timeText(bwd)}</td></tr></table>`);
    } else if (layerOfNode[i] !== 0) {
      rows.push(`<p class="note">${I ? "no internals recorded for this neuron here" :
        "this trace holds no neuron internals (e, y, f′(e), δ, g); here is what its messages say"}</p>`);
    }
    // Its messages in this iteration.
    const groups = [
      ["signals in (x)", (m) => M.destination[m] === i && KINDS[M.kind[m]] === "forward", "source", "received_at"],
      ["signal out (y)", (m) => M.source[m] === i && KINDS[M.kind[m]] === "forward", "destination", "sent_at"],
      ["softmax e in", (m) => M.destination[m] === i && KINDS[M.kind[m]] === "softmax", "source", "received_at"],
      ["softmax e out", (m) => M.source[m] === i && KINDS[M.kind[m]] === "softmax", "destination", "sent_at"],
      ["errors in", (m) => M.destination[m] === i && isError(M.kind[m]), "source", "received_at"],
      ["errors out", (m) => M.source[m] === i && isError(M.kind[m]), "destination", "sent_at"],
    ];
    for (const [title, test, other, at] of groups) {
      const found = [];
      for (let m = 0; m < M.epoch.length; m++) if (msgIter[m] === iter && test(m)) found.push(m);
      if (!found.length) continue;
      rows.push(`<h3>${title}</h3><table>`);
      for (const m of found.slice(0, 40)) {
        const fate = M.fate[m] !== DELIVERED ? ` <span class="note">(${esc(FATES[M.fate[m]])})</span>` : "";
        rows.push(`<tr data-at="${M[at][m]}"><td>${other === "source" ? "from" : "to"} ${esc(nodeName(M[other][m]))}${fate}</td>` +
          `<td>${valueCell(M.value[m])}</td><td class="note">t ${timeText(M[at][m])}</td></tr>`);
      }
      if (found.length > 40) rows.push(`<tr><td class="note" colspan="3">… ${found.length - 40} more</td></tr>`);
      rows.push(`</table>`);
    }
    // Its parameters, before and after this iteration's update.
    const changed = [];
    for (let u = 0; u < U.time.length; u++) if (U.neuron[u] === i && updIter[u] === iter) changed.push(u);
    if (changed.length) {
      const gradient = U.gradient !== undefined;
      rows.push(`<h3>weights (update at t ${timeText(U.time[changed[0]])})</h3><table>`);
      rows.push(`<tr><th>from</th><th>before</th><th>after</th>${gradient ? "<th>gradient</th>" : "<th>change</th>"}</tr>`);
      for (const u of changed.slice(0, 60)) {
        rows.push(`<tr data-at="${U.time[u]}"><td>${esc(nodeName(U.source[u]))}</td><td>${valueCell(U.old[u])}</td>` +
          `<td>${valueCell(U.new[u])}</td><td>${gradient ? valueCell(U.gradient[u]) : valueCell(U.new[u] - U.old[u])}</td></tr>`);
      }
      if (changed.length > 60) rows.push(`<tr><td class="note" colspan="4">… ${changed.length - 60} more</td></tr>`);
      rows.push(`</table>`);
    } else if (layerOfNode[i] !== 0) {
      rows.push(`<p class="note">no parameter update of this neuron in this iteration</p>`);
    }
    rows.push(`<p class="note">greyed: not yet happened at the current time</p>`);
    panel.innerHTML = rows.join("");
    markFuture();
  }
  function markFuture() {
    for (const row of panel.querySelectorAll("tr[data-at]")) {
      const at = Number(row.dataset.at);
      row.style.opacity = at > state.t + 1e-12 ? "0.4" : "";
    }
  }

  function help() {
    panel.dataset.showing = "help";
    panel.dataset.key = "";
    panel.innerHTML = `<h2>How to read it</h2>
      <p>One lane per neuron, inputs at the top. Each message is an arrow from the time it was
      sent, on its sender's lane, to the time it arrived, on its receiver's lane. A dot rides
      along the arrows of the messages in flight.</p>
      <p>Press <b>Play</b>, drag the slider, or step with <b>←</b> and <b>→</b>;
      the mouse wheel over the timeline zooms into time.</p>
      <p>Hover or click a message for its value; click a neuron's name or an update mark ◆
      for what the neuron computed and how its weights changed.</p>`;
  }

  // ------------------------------------------------------------------
  // events

  const svg = $("timeline");
  svg.addEventListener("mousemove", (event) => {
    const g = event.target.closest(".msg");
    const mark = event.target.closest(".mark");
    if (!g && !mark) { tooltip.hidden = true; return; }
    if (g) tooltip.innerHTML = arrowHtml(arrows[Number(g.dataset.arrow)], false);
    else {
      const m = marks[Number(mark.dataset.mark)];
      const count = U.time.filter((t, u) => t === m.time && updIter[u] === m.iter && laneOf[U.neuron[u]] === m.lane).length;
      tooltip.innerHTML = `<b>update</b> of ${esc(lanes[m.lane].label)}: ${count} parameter${count === 1 ? "" : "s"} at t ${timeText(m.time)}<br>${iterName(m.iter)}`;
    }
    tooltip.hidden = false;
    const box = tooltip.getBoundingClientRect();
    let left = event.clientX + 14, top = event.clientY + 14;
    if (left + box.width > window.innerWidth - 4) left = event.clientX - box.width - 14;
    if (top + box.height > window.innerHeight - 4) top = event.clientY - box.height - 14;
    tooltip.style.left = left + "px";
    tooltip.style.top = top + "px";
  });
  svg.addEventListener("mouseleave", () => { tooltip.hidden = true; });
  // The wheel zooms the time axis around the pointer; a double click shows all.
  svg.addEventListener("wheel", (event) => {
    if (!view) return;
    event.preventDefault();
    const box = svg.getBoundingClientRect();
    const px = ((event.clientX - box.left) / box.width) * view.width;
    const at = view.w0 + ((px - view.left) / view.plotW) * (view.w1 - view.w0);
    const factor = event.deltaY > 0 ? 1.25 : 0.8;
    const [f0, f1] = view.full;
    let w0 = at - (at - view.w0) * factor, w1 = at + (view.w1 - at) * factor;
    if (w1 - w0 < (f1 - f0) / 2000) return;
    if (w0 < f0) { w1 += f0 - w0; w0 = f0; }
    if (w1 > f1) { w0 -= w1 - f1; w1 = f1; }
    state.window = w1 - w0 >= f1 - f0 - 1e-12 ? null : [Math.max(w0, f0), w1];
    render();
  }, { passive: false });
  svg.addEventListener("dblclick", () => { state.window = null; render(); });
  svg.addEventListener("click", (event) => {
    const g = event.target.closest(".msg");
    if (g) { chooseArrow(Number(g.dataset.arrow)); return; }
    const mark = event.target.closest(".mark");
    if (mark) {
      const m = marks[Number(mark.dataset.mark)];
      const lane = lanes[m.lane];
      if (lane.nodes.length === 1) chooseNeuron(lane.nodes[0], m.iter);
      return;
    }
    const label = event.target.closest(".lane-label");
    if (label && label.dataset.node !== undefined) { chooseNeuron(Number(label.dataset.node)); return; }
    if (label) {
      const lane = lanes[Number(label.dataset.lane)];
      state.chosenNeuron = null;
      panel.dataset.showing = "layer";
      panel.dataset.key = "";
      panel.innerHTML = `<h2>${esc(lane.label)}</h2><p>${lane.nodes.length} neurons drawn as one lane.
        Pick one in the <b>neuron</b> list above to see what it computed.</p>`;
    }
  });
  $("play").addEventListener("click", () => (state.playing ? stop() : play()));
  $("prev").addEventListener("click", () => step(-1));
  $("next").addEventListener("click", () => step(1));
  $("time").addEventListener("input", (event) => { stop(); setTime(Number(event.target.value)); });
  $("speed").addEventListener("change", (event) => { state.speed = Number(event.target.value); });
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (target.tagName === "SELECT" || (target.tagName === "INPUT" && target.type === "text")) return;
    // Space on a button or a box is theirs (a click), not play or pause.
    if (event.key === " " && (target.tagName === "BUTTON" || target.tagName === "INPUT") && target.type !== "range") return;
    if (event.key === "ArrowRight") { event.preventDefault(); step(1); }
    else if (event.key === "ArrowLeft") { event.preventDefault(); step(-1); }
    else if (event.key === " ") { event.preventDefault(); state.playing ? stop() : play(); }
    else if (event.key === "Home") { event.preventDefault(); stop(); setTime(view.t0); }
    else if (event.key === "End") { event.preventDefault(); stop(); setTime(view.t1); }
  });
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(render, 120);
  });

  buildFilters();
  help();
  state.t = -Infinity;
  render();
  document.body.dataset.ready = "true";
})();
