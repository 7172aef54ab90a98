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
