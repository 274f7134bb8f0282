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
  }
  // <select data-autosubmit> submits its form on change (no inline handlers under the CSP).
  document.addEventListener("change", function (e) {
    const el = e.target;
    if (el && el.matches && el.matches("select[data-autosubmit]") && el.form) el.form.requestSubmit();
  });
  window.addEventListener("load", function () { renderMaths(document); });
  document.addEventListener("htmx:afterSettle", function (e) { syncQuery(); renderMaths(e.target); });
})();
