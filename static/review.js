// Review page: every action has a key, so the page works with the keyboard alone.
// a accept · r reject (reason, then Enter) · 1-5 dimension · +/- score · c comment · n next · ? help
(function () {
  "use strict";
  let selected = null;

  function $(sel) { return document.querySelector(sel); }
  function typing(el) {
    return el && (el.tagName === "TEXTAREA" || el.tagName === "SELECT" ||
      (el.tagName === "INPUT" && !["button", "submit", "checkbox", "radio"].includes(el.type)));
  }
  function submitWith(button) {
    const form = button.form;
    if (form.requestSubmit) form.requestSubmit(button); else button.click();
  }
  function selectDim(index) {
    const row = document.getElementById("score-row-" + index);
    if (!row) return;
    document.querySelectorAll(".score-row.selected").forEach(function (r) { r.classList.remove("selected"); r.removeAttribute("aria-current"); });
    row.classList.add("selected");
    row.setAttribute("aria-current", "true");
    selected = row;
  }
  function adjust(delta) {
    if (!selected) selectDim(1);
    if (!selected) return;
    const input = selected.querySelector("input");
    const current = parseInt(input.value || input.dataset.original || "5", 10);
    const next = Math.max(1, Math.min(10, (isNaN(current) ? 5 : current) + delta));
    input.value = String(next);
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }
  function toggleHelp(show) {
    const overlay = document.getElementById("help-overlay");
    if (!overlay) return;
    const open = show === undefined ? overlay.hidden : show;
    overlay.hidden = !open;
    if (open) overlay.focus(); else document.body.focus();
  }

  document.addEventListener("DOMContentLoaded", function () {
    const reason = $("#id_reason");
    const reject = $("#reject-button");
    if (reason && reject) {
      reason.addEventListener("keydown", function (e) {
        if (e.key === "Enter" && !e.shiftKey) {
          e.preventDefault();
          if (reason.value.trim()) submitWith(reject);
        }
      });
      reason.setAttribute("placeholder", "type the reason, then Enter to reject");
    }
    const close = $("#help-close");
    if (close) close.addEventListener("click", function () { toggleHelp(false); });
    document.querySelectorAll(".score-row input").forEach(function (input) {
      input.addEventListener("focus", function () { selectDim(input.closest(".score-row").dataset.index); });
    });
  });

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const overlay = document.getElementById("help-overlay");
    if (e.key === "Escape") {
      if (overlay && !overlay.hidden) { toggleHelp(false); e.preventDefault(); return; }
      if (typing(document.activeElement)) { document.activeElement.blur(); e.preventDefault(); }
      return;
    }
    if (typing(document.activeElement)) return;
    if (overlay && !overlay.hidden && e.key !== "?") return;
    const accept = $("#accept-button");
    const reject = $("#reject-button");
    switch (e.key) {
      case "?": toggleHelp(); break;
      case "a": if (accept) submitWith(accept); else return; break;
      case "r": {
        const reason = $("#id_reason");
        if (!reject || !reason) return;
        if (reason.value.trim()) submitWith(reject); else reason.focus();
        break;
      }
      case "c": { const c = $("#id_comment"); if (!c) return; c.focus(); break; }
      case "n": { const n = $("#next-button"); if (!n) return; submitWith(n); break; }
      case "u": { const u = $("#undo-button"); if (!u) return; submitWith(u); break; }
      case "1": case "2": case "3": case "4": case "5": selectDim(e.key); break;
      case "+": case "=": adjust(1); break;
      case "-": case "_": adjust(-1); break;
      default: return;
    }
    e.preventDefault();
  });
})();
