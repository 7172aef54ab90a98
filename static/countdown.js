// Keeps every countdown on the page current without a reload; the colours follow
// incidents/deadlines.py: amber under 12 h, red under 4 h, overdue once the deadline has passed.
(function () {
  "use strict";
  var HOUR = 3600 * 1000;

  function format(ms) {
    var minutes = Math.floor(Math.abs(ms) / 60000);
    var m = minutes % 60;
    return Math.floor(minutes / 60) + " h " + (m < 10 ? "0" : "") + m + " min";
  }

  function level(ms) {
    if (ms <= 0) return "overdue";
    if (ms < 4 * HOUR) return "red";
    if (ms < 12 * HOUR) return "amber";
    return "green";
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll(".clock[data-deadline]").forEach(function (el) {
      var left = Date.parse(el.dataset.deadline) - now;
      var lvl = level(left);
      var changed = el.dataset.level && el.dataset.level !== lvl;
      el.dataset.level = lvl;
      el.className = "clock " + lvl;
      el.textContent = lvl === "overdue" ? el.dataset.overdueLabel + " " + format(left) : format(left);
      // A screen reader hears the clock when its band changes (amber, red, overdue), not
      // every minute: the timer itself is not a live region.
      var band = el.parentNode && el.parentNode.parentNode.querySelector(".clock-band");
      if (changed && band) band.textContent = el.textContent;
    });
  }

  tick();
  setInterval(tick, 15000);
  window.breachdeskCountdown = tick; // dashboard.js calls it after swapping the table
})();
