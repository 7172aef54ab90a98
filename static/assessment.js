// The ENISA severity as the assessment is filled in: SE = DPC x EI + CB (incidents/severity.py,
// the same rule on the server, which stays the one that counts).
(function () {
  "use strict";
  var out = document.querySelector(".enisa-score");
  var form = out && out.closest("form");
  if (!form) return;

  function number(name) {
    var field = form.elements[name];
    var value = field ? parseFloat(field.value) : NaN;
    return isNaN(value) ? null : value;
  }

  function band(score) {
    if (score < 2) return out.dataset.low;
    if (score < 3) return out.dataset.medium;
    if (score < 4) return out.dataset.high;
    return out.dataset.veryHigh;
  }

  function update() {
    var dpc = number("enisa_dpc"), adjust = number("enisa_dpc_adjustment") || 0;
    var ei = number("enisa_ease_of_identification");
    if (dpc === null || ei === null) { out.hidden = true; return; }
    var cb = (number("enisa_confidentiality") || 0) + (number("enisa_integrity") || 0) +
      (number("enisa_availability") || 0);
    if (form.elements.cause_intent && form.elements.cause_intent.value === "malicious") cb += 0.5;
    var score = Math.round(((dpc + adjust) * ei + cb) * 100) / 100;
    // In the page's language, as the server writes it: 2,00 in Dutch and French, 2.00 in English.
    var shown = new Intl.NumberFormat(document.documentElement.lang || "nl", {
      minimumFractionDigits: 2, maximumFractionDigits: 2
    }).format(score);
    out.textContent = out.dataset.label + ": " + shown + " · " + band(score);
    out.hidden = false;
  }

  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
})();

// Each kind of breach is asked once: its ENISA grade shows only when the kind is ticked (the
// server sets the grade of an unticked kind to its lowest, so what is hidden never counts).
(function () {
  "use strict";
  var form = document.querySelector("form.assessment");
  if (!form) return;
  ["confidentiality", "integrity", "availability"].forEach(function (kind) {
    var box = form.elements[kind];
    var grade = form.querySelector('.field[data-field="enisa_' + kind + '"]');
    if (!box || !grade) return;
    function show() { grade.hidden = !box.checked; }
    box.addEventListener("change", show);
    show();
  });
})();

// Saved as you go: a few seconds after typing stops (DRAFT_SAVED_AFTER_SECONDS), what is typed is kept as the person's
// draft (the server's incidents/drafts.py), which changes no state. The status says when.
(function () {
  "use strict";
  var form = document.querySelector("form.assessment");
  var status = form && form.querySelector(".draft-status");
  if (!status || !window.fetch || !window.FormData) return;
  var timer = null, busy = false, again = false;

  function save() {
    if (busy) { again = true; return; }
    busy = true;
    var data = new FormData(form);
    data.set("draft", "auto");
    fetch(form.getAttribute("action") || window.location.pathname, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (response.redirected || !(response.headers.get("Content-Type") || "").match(/json/)) {
        status.textContent = status.dataset.lost || "";
        return null;
      }
      return response.json();
    }).then(function (answer) {
      if (answer) status.textContent = answer.saved || answer.error || "";
    }).catch(function () {
      status.textContent = status.dataset.offline || "";
    }).then(function () {
      busy = false;
      if (again) { again = false; save(); }
    });
  }

  function soon() {
    window.clearTimeout(timer);
    timer = window.setTimeout(save, Number(status.dataset.after) || 3000);
  }
  form.addEventListener("input", soon);
  form.addEventListener("change", soon);
  form.addEventListener("submit", function () { window.clearTimeout(timer); });
})();
