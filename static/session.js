// Before the session ends for lack of activity, say so and offer "Stay logged in"; typing in a
// form counts as activity (at most one keep-alive a minute). The dashboard's own refresh does
// not: an unattended screen still logs out. After the end, say that a form sent now is kept.
(function () {
  "use strict";
  var box = document.getElementById("session-warning");
  if (!box) { return; }
  var lasts = Number(box.dataset.lasts) * 1000;
  var warnBefore = 120 * 1000;
  // When the session's idle clock started: the server saves it at most once a minute, so this
  // page's own request may not have started it over.
  var extended = Date.now() - (lasts - Number(box.dataset.seconds) * 1000);
  function keepAlive() {
    extended = Date.now();
    box.hidden = true;
    fetch(box.dataset.keepAlive, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": box.dataset.csrf }
    });
  }
  box.querySelector(".stay").addEventListener("click", keepAlive);
  document.addEventListener("input", function () {
    if (Date.now() - extended > 60 * 1000 && Date.now() - extended < lasts) { keepAlive(); }
  });
  setInterval(function () {
    var left = lasts - (Date.now() - extended);
    if (left <= 0) {
      box.querySelector("#session-warning-text").hidden = true;
      box.querySelector(".ended").hidden = false;
      box.querySelector(".stay").hidden = true;
      box.hidden = false;
    } else if (left <= warnBefore) {
      box.hidden = false;
    }
  }, 1000);
})();
