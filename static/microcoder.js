// Site-wide behaviour: maths rendering and keeping forms in step with the filtered list.
(function () {
  "use strict";
  function renderMaths(root) {
    if (!window.renderMathInElement) return;
    (root || document).querySelectorAll(".statement").forEach(function (el) {
      window.renderMathInElement(el, {
        delimiters: [
          { left: "$$", right: "$$", display: true },
          { left: "\\[", right: "\\]", display: true },
          { left: "\\(", right: "\\)", display: false },
          { left: "$", right: "$", display: false },
        ],
        throwOnError: false,
        trust: false,
      });
    });
  }
  function syncQuery() {
    const tpl = document.getElementById("current-query");
    if (!tpl) return;
    const query = tpl.dataset.query || "";
    ["save-view-query", "bulk-query"].forEach(function (id) {
      const el = document.getElementById(id);
      if (el) el.value = query;
    });
    const ordering = document.querySelector('#filter-form input[name="ordering"]');
    if (ordering) ordering.value = tpl.dataset.ordering || "";
    const savedOrdering = document.getElementById("save-view-ordering");
    if (savedOrdering) savedOrdering.value = tpl.dataset.ordering || "";
  }
  // <select data-autosubmit> submits its form on change (no inline handlers under the CSP).
  document.addEventListener("change", function (e) {
    const el = e.target;
    if (el && el.matches && el.matches("select[data-autosubmit]") && el.form) el.form.requestSubmit();
  });
  window.addEventListener("load", function () { renderMaths(document); });
  document.addEventListener("htmx:afterSettle", function (e) { syncQuery(); renderMaths(e.target); });
})();
// Row picking for bulk actions: the count of picked rows, "pick this page", and the scope radio
// switching to "picked" as soon as a row is ticked. Picks reset when the results are redrawn.
(function () {
  "use strict";
  function picks() { return document.querySelectorAll("#problem-rows input.pick"); }
  function update() {
    const n = Array.prototype.filter.call(picks(), function (el) { return el.checked; }).length;
    const out = document.getElementById("picked-count");
    if (out) out.textContent = String(n);
    const tpl = document.getElementById("current-query");
    const matching = document.getElementById("matching-count");
    if (tpl && matching && tpl.dataset.count) matching.textContent = tpl.dataset.count;
    const picked = document.getElementById("scope-picked");
    const all = document.getElementById("scope-all");
    if (picked && all) { if (n > 0) picked.checked = true; else all.checked = true; }
  }
  document.addEventListener("change", function (e) {
    const el = e.target;
    if (!el || !el.matches) return;
    if (el.id === "pick-page") {
      picks().forEach(function (p) { p.checked = el.checked; });
      update();
    } else if (el.matches("#problem-rows input.pick")) {
      update();
    }
  });
  document.addEventListener("htmx:afterSettle", update);
})();
// One form state for the list: sort headers and pager links set the filter form's fields and submit
// that form, so every request carries filters + sort + page together and hx-sync="this:replace"
// drops an older in-flight one. Empty fields are left out of the request and so of the pushed URL.
(function () {
  "use strict";
  let keepPage = false;
  document.addEventListener("click", function (e) {
    const a = e.target && e.target.closest ? e.target.closest("#results a[data-sort], #results a[data-page]") : null;
    const form = document.getElementById("filter-form");
    if (!a || !form || e.ctrlKey || e.metaKey || e.shiftKey) return;
    e.preventDefault();
    if (a.dataset.sort !== undefined) form.elements.ordering.value = a.dataset.sort;
    if (a.dataset.page !== undefined) { form.elements.page.value = a.dataset.page; keepPage = true; }
    form.requestSubmit();
  });
  document.addEventListener("htmx:configRequest", function (e) {
    const form = document.getElementById("filter-form");
    if (!form || e.detail.elt !== form) return;
    const fd = e.detail.formData;
    if (!fd) return;
    if (!keepPage) fd.delete("page");  // a changed filter or sort starts at page 1
    keepPage = false;
    Array.from(new Set(Array.from(fd.keys()))).forEach(function (key) {
      const values = fd.getAll(key).filter(function (v) { return v !== ""; });
      fd.delete(key);
      values.forEach(function (v) { fd.append(key, v); });
    });
  });
})();
// The result count, read out after each redraw of the list (a persistent live region).
document.addEventListener("htmx:afterSettle", function () {
  "use strict";
  const live = document.getElementById("result-live");
  const count = document.getElementById("result-count");
  if (live && count) live.textContent = count.textContent.replace(/\s+/g, " ").trim();
});

// Problem list column chooser: the shown columns are one class per hidden column on the results
// section (outside the htmx-swapped table, so they survive every redraw), kept per user in
// localStorage and restored on load.
(function () {
  const col = document.getElementById("results-col");
  if (!col) return;
  const key = col.dataset.columnsKey;
  const boxes = () => Array.from(document.querySelectorAll("#col-chooser input[data-col]"));
  const defaults = boxes().filter((b) => !b.checked).map((b) => b.dataset.col);
  function apply(hidden) {
    boxes().forEach(function (b) {
      const off = hidden.indexOf(b.dataset.col) !== -1;
      b.checked = !off;
      col.classList.toggle("hide-" + b.dataset.col, off);
    });
  }
  function load() {
    try { const v = JSON.parse(localStorage.getItem(key) || "null"); return Array.isArray(v) ? v : null; } catch (e) { return null; }
  }
  apply(load() || defaults);
  document.getElementById("col-chooser").addEventListener("change", function (e) {
    if (!e.target.matches("input[data-col]")) return;
    const hidden = boxes().filter((b) => !b.checked).map((b) => b.dataset.col);
    apply(hidden);
    try { localStorage.setItem(key, JSON.stringify(hidden)); } catch (err) { /* storage off: this page only */ }
  });
  document.getElementById("col-reset").addEventListener("click", function () {
    try { localStorage.removeItem(key); } catch (err) { /* ignore */ }
    apply(defaults);
  });
})();
