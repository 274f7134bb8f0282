// Calibration workbench and selection page charts (vendored Chart.js). Data comes from the
// json_script blocks inside the htmx partials, so every what-if redraws from the swapped-in data.
(function () {
  "use strict";
  let colourBy = "source";
  const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

  function readJSON(id) {
    const el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  function draw(id, config) {
    const canvas = document.getElementById(id);
    if (!canvas || !window.Chart) return null;
    const old = window.Chart.getChart(canvas);
    if (old) old.destroy();
    config.options = Object.assign({ animation: false, responsive: true, maintainAspectRatio: true }, config.options || {});
    return new window.Chart(canvas, config);
  }

  function workbench() {
    const d = readJSON("wb-data");
    if (!d) return;
    const select = document.getElementById("colour-by");
    if (select) select.value = colourBy;  // the select is re-rendered by each what-if: keep the choice
    const key = colourBy;
    const groups = {};
    (d.points || []).forEach(function (p) { (groups[p[key] || "—"] = groups[p[key] || "—"] || []).push(p); });
    const bucketColours = { easy: PALETTE[2], medium: PALETTE[1], hard: PALETTE[3] };
    const datasets = Object.keys(groups).sort().map(function (name, i) {
      const colour = key === "bucket" ? bucketColours[name] || PALETTE[7] : PALETTE[i % PALETTE.length];
      return { type: "scatter", label: name, data: groups[name], pointRadius: 2.5, backgroundColor: colour };
    });
    if (d.band && d.band.length) {
      datasets.push({ type: "line", label: "band (90%)", data: d.band.map(function (b) { return { x: b.x, y: b.lo }; }), pointRadius: 0, borderWidth: 0, backgroundColor: "rgba(0,0,0,0.08)" });
      datasets.push({ type: "line", label: "band upper", data: d.band.map(function (b) { return { x: b.x, y: b.hi }; }), pointRadius: 0, borderWidth: 0, backgroundColor: "rgba(0,0,0,0.08)", fill: "-1" });
    }
    if (d.curve && d.curve.length) {
      datasets.push({ type: "line", label: "fitted", data: d.curve, pointRadius: 0, borderWidth: 2, borderColor: "#111" });
    }
    const scatter = document.getElementById("chart-scatter");
    const base = scatter ? scatter.dataset.problemBase || "/problems/" : "/problems/";
    draw("chart-scatter", {
      type: "scatter",
      data: { datasets: datasets },
      options: {
        onClick: function (_evt, elements, chart) {
          // A point opens its problem; the curve and band carry no id.
          for (const el of elements) {
            const point = chart.data.datasets[el.datasetIndex].data[el.index];
            if (point && point.id) { window.location.href = base + point.id + "/"; return; }
          }
        },
        plugins: { legend: { labels: { filter: function (item) { return item.text !== "band upper"; } } } },
        scales: { x: { title: { display: true, text: "weighted score" } }, y: { min: 0, max: 1, title: { display: true, text: "pass rate" } } },
      },
    });
    const rel = d.reliability || [];
    draw("chart-reliability", {
      type: "scatter",
      data: { datasets: [
        { type: "line", label: "perfect", data: [{ x: 0, y: 0 }, { x: 1, y: 1 }], pointRadius: 0, borderDash: [4, 4], borderColor: "#999" },
        { type: "line", label: "observed", data: rel.map(function (b) { return { x: b.mean_predicted, y: b.mean_observed }; }), pointRadius: 3, borderColor: PALETTE[3], backgroundColor: PALETTE[3] },
      ] },
      options: { scales: { x: { min: 0, max: 1, title: { display: true, text: "predicted pass rate" } }, y: { min: 0, max: 1, title: { display: true, text: "observed pass rate" } } } },
    });
  }

  function histogram(id, rows) {
    const labels = Object.keys(rows || {});
    draw(id, {
      type: "bar",
      data: { labels: labels, datasets: [
        { label: "before", data: labels.map(function (k) { return rows[k].before; }), backgroundColor: "#9ab" },
        { label: "after", data: labels.map(function (k) { return rows[k].after; }), backgroundColor: PALETTE[0] },
      ] },
      options: { scales: { y: { beginAtZero: true, title: { display: true, text: "problems" } } } },
    });
  }

  function selection() {
    const d = readJSON("sel-data");
    if (!d) return;
    histogram("chart-sel-bucket", d.by_bucket);
    histogram("chart-sel-source", d.by_source);
  }

  function redraw() { workbench(); selection(); }
  document.addEventListener("DOMContentLoaded", redraw);
  document.addEventListener("change", function (e) {
    if (e.target && e.target.id === "colour-by") {  // client-side only: no request
      colourBy = e.target.value === "bucket" ? "bucket" : "source";
      workbench();
    }
  });
  document.addEventListener("htmx:afterSettle", redraw);
})();
