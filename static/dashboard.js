// Keeps the dashboard current without a reload: every few seconds the table is fetched again
// (same filters) and swapped in; the tab title carries the number of overdue incidents. No
// library, no CDN: the product works offline. A failed fetch keeps the table and tries again.
(function () {
  "use strict";
  var box = document.getElementById("dashboard-table");
  if (!box || !window.fetch) return;
  var seconds = parseInt(box.dataset.refreshSeconds, 10) || 10;

  function apply() {
    var state = box.querySelector(".dashboard-state");
    if (state) document.title = state.dataset.title;
    if (window.breachdeskCountdown) window.breachdeskCountdown();
  }

  function refresh() {
    if (document.activeElement && box.contains(document.activeElement)) return; // not under a focused link
    fetch(window.location.href, { headers: { "X-Dashboard-Refresh": "1" }, credentials: "same-origin" })
      .then(function (response) {
        if (response.redirected || !response.ok) throw new Error(response.status);
        return response.text();
      })
      .then(function (html) { box.innerHTML = html; apply(); box.dataset.refreshedAt = Date.now(); })
      .catch(function () { /* the next round tries again */ });
  }

  apply();
  setInterval(refresh, seconds * 1000);
})();
