// Training pages: live curves of a run, overlaid curves of several runs, and the launch
// preview's config. Data comes from json_script blocks and the run's metrics.json endpoint;
// no inline scripts (the Content-Security-Policy allows script-src 'self' only).
(function () {
  "use strict";
  const HEADLINE = ["reward_mean", "response_length", "truncated_ratio", "entropy", "clip_ratio", "kl", "grad_norm", "loss"];
  const MAX_CHARTS = 12;
  const charts = {};

  function readJson(id) {
    const el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function orderKeys(keys) {
    const head = HEADLINE.filter(function (k) { return keys.indexOf(k) >= 0; });
    const val = keys.filter(function (k) { return k.indexOf("val_") === 0 && head.indexOf(k) < 0; }).sort();
    const rest = keys.filter(function (k) { return head.indexOf(k) < 0 && val.indexOf(k) < 0; }).sort();
    return head.concat(val, rest).slice(0, MAX_CHARTS);
  }

  function canvasFor(container, key) {
    const id = container.id + "-" + key.replace(/[^a-zA-Z0-9_-]/g, "_");
    let canvas = document.getElementById(id);
    if (!canvas) {
      const card = document.createElement("div");
      card.className = "chart-card";
      const title = document.createElement("h3");
      title.textContent = key;
      canvas = document.createElement("canvas");
      canvas.id = id;
      canvas.height = 180;
      canvas.setAttribute("aria-label", key + " by step");
      card.appendChild(title);
      card.appendChild(canvas);
      container.appendChild(card);
    }
    return canvas;
  }

  function draw(container, key, datasets) {
    if (!window.Chart) return;
    const canvas = canvasFor(container, key);
    if (charts[canvas.id]) {
      charts[canvas.id].data.datasets = datasets;
      charts[canvas.id].update("none");
      return;
    }
    charts[canvas.id] = new window.Chart(canvas, {
      type: "line",
      data: { datasets: datasets },
      options: {
        animation: false, parsing: false, normalized: true,
        scales: { x: { type: "linear", title: { display: true, text: "step" } } },
        plugins: { legend: { display: datasets.length > 1 } },
        elements: { point: { radius: 0 } },
      },
    });
  }

  function points(series) {
    return series.map(function (p) { return { x: p[0], y: p[1] }; });
  }

  function runPage() {
    const cfg = readJson("training-chart");
    const container = document.getElementById("run-charts");
    if (!cfg || !container) return;
    function refresh() {
      fetch(cfg.metrics_url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          const keys = orderKeys(Object.keys(data.series));
          const empty = document.getElementById("run-charts-empty");
          if (empty) empty.hidden = keys.length > 0;
          keys.forEach(function (key) {
            draw(container, key, [{ label: key, data: points(data.series[key]), borderWidth: 2 }]);
          });
          container.dataset.points = String(keys.reduce(function (n, k) { return n + data.series[k].length; }, 0));
          if (!data.finished) window.setTimeout(refresh, 3000);
        })
        .catch(function () { window.setTimeout(refresh, 10000); });
    }
    refresh();
  }

  function comparePage() {
    const data = readJson("compare-chart");
    const container = document.getElementById("compare-charts");
    if (!data || !container) return;
    orderKeys(data.keys).forEach(function (key) {
      const datasets = data.runs.filter(function (run) { return run.series[key]; }).map(function (run) {
        return { label: "#" + run.id + " " + run.name + " (" + run.snapshot + ")", data: points(run.series[key]), borderWidth: 2 };
      });
      draw(container, key, datasets);
    });
  }

  function previewConfig() {
    const cfg = readJson("preview-config");
    const out = document.getElementById("preview-config-text");
    if (cfg && out) out.textContent = JSON.stringify(cfg, null, 2);
  }

  document.addEventListener("DOMContentLoaded", function () {
    runPage();
    comparePage();
    previewConfig();
  });
  document.addEventListener("htmx:afterSwap", previewConfig);
})();
