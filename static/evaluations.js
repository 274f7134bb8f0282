// Evaluation charts (vendored Chart.js). Data comes from json_script blocks: "eval-data" on the
// results page, "compare-data" on the compare page. No inline script (CSP script-src 'self').
(function () {
  "use strict";
  function read(id) {
    const el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  function chart(id, config) {
    const canvas = document.getElementById(id);
    if (!canvas || !window.Chart) return;
    config.options = Object.assign({ animation: false, responsive: true, maintainAspectRatio: true }, config.options || {});
    canvas.chart = new window.Chart(canvas, config);
  }
  const rate = { y: { min: 0, max: 1, title: { display: true, text: "pass rate" } } };
  function byGroup(id, series) {
    if (!series || !series.groups.length) return;
    const shown = series.ks.length > 4 ? [series.ks[0], series.ks[Math.floor(series.ks.length / 2)], series.ks[series.ks.length - 1]] : series.ks;
    chart(id, {
      type: "bar",
      data: {
        labels: series.groups,
        datasets: shown.map(function (k) { return { label: "pass@" + k, data: series.values["pass@" + k] }; }),
      },
      options: { scales: rate },
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    const d = read("eval-data");
    if (d) {
      byGroup("chart-label", d.label);
      byGroup("chart-bucket", d.bucket);
      chart("chart-month", {
        type: "line",
        data: { labels: d.month.months, datasets: [{ label: "pass@1", data: d.month["pass@1"], tension: 0.2 }] },
        options: { aspectRatio: 5, scales: rate },
      });
    }
    const k = read("checkpoint-data");
    if (k) {
      chart("chart-steps", {
        type: "line",
        data: { labels: k.steps, datasets: Object.keys(k.series).map(function (g) { return { label: g, data: k.series[g], tension: 0.2 }; }) },
        options: { scales: Object.assign({ x: { title: { display: true, text: "step" } } }, rate) },
      });
    }
    const c = read("compare-data");
    if (c) {
      chart("chart-compare", {
        type: "bar",
        data: { labels: c.groups, datasets: c.runs.map(function (r) { return { label: r.label, data: r.pass1 }; }) },
        options: { scales: rate },
      });
      const datasets = [];
      c.deltas.forEach(function (d) {
        datasets.push({ type: "bar", label: "#" + d.run + " interval", data: d.interval, barPercentage: 0.4 });
        datasets.push({ type: "scatter", label: "#" + d.run + " Δ", data: d.delta.map(function (v, i) { return { x: c.groups[i], y: v }; }), pointRadius: 5 });
      });
      chart("chart-delta", {
        data: { labels: c.groups, datasets: datasets },
        options: { scales: { x: { type: "category" }, y: { min: -1, max: 1, title: { display: true, text: "Δ pass@1" } } } },
      });
    }
  });
})();
