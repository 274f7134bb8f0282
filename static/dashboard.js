// Dashboard charts (vendored Chart.js); data comes from the page's json_script block.
(function () {
  "use strict";
  function data() {
    const el = document.getElementById("dashboard-data");
    return el ? JSON.parse(el.textContent) : null;
  }
  function chart(id, config) {
    const canvas = document.getElementById(id);
    if (!canvas || !window.Chart) return;
    config.options = Object.assign({ animation: false, responsive: true, maintainAspectRatio: true }, config.options || {});
    new window.Chart(canvas, config);
  }
  document.addEventListener("DOMContentLoaded", function () {
    const d = data();
    if (!d) return;
    const buckets = ["easy", "medium", "hard"];
    const afterLabel = d.selection ? "selection: " + d.selection.name : "selection (none yet)";
    chart("chart-buckets", {
      type: "bar",
      data: {
        labels: buckets,
        datasets: [
          { label: "all problems", data: buckets.map(function (b) { return 100 * (d.before.shares[b] || 0); }) },
          { label: afterLabel, data: buckets.map(function (b) { return 100 * (d.after.shares[b] || 0); }) },
        ],
      },
      options: { scales: { y: { beginAtZero: true, max: 100, title: { display: true, text: "% of problems" } } } },
    });
    const datasets = [{ type: "scatter", label: "measured", data: d.calibration.points, pointRadius: 2 }];
    if (d.calibration.curve && d.calibration.curve.length) {
      datasets.push({ type: "line", label: "fitted (isotonic)", data: d.calibration.curve, stepped: true, pointRadius: 0, borderWidth: 2 });
    }
    chart("chart-calibration", {
      type: "scatter",
      data: { datasets: datasets },
      options: { scales: { x: { title: { display: true, text: "weighted score" } }, y: { min: 0, max: 1, title: { display: true, text: "pass rate" } } } },
    });
    chart("chart-sources", {
      type: "bar",
      data: { labels: d.sources.map(function (r) { return r.source__name; }), datasets: [{ label: "problems", data: d.sources.map(function (r) { return r.n; }) }] },
      options: { indexAxis: "y" },
    });
    chart("chart-platforms", {
      type: "bar",
      data: { labels: d.platforms.map(function (r) { return r.platform; }), datasets: [{ label: "problems", data: d.platforms.map(function (r) { return r.n; }) }] },
      options: { indexAxis: "y" },
    });
    chart("chart-timeline", {
      type: "bar",
      data: { labels: d.timeline.map(function (r) { return r.month; }), datasets: [{ label: "problems per contest month", data: d.timeline.map(function (r) { return r.n; }) }] },
      options: { aspectRatio: 5 },
    });
  });
})();
