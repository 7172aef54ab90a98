// A communication being sent: its progress bar follows the server (every data-every seconds,
// SUBJECTS_PROGRESS_SECONDS), and the page reloads with the final figures when nobody is
// waiting any more.
(function () {
  "use strict";
  var bar = document.querySelector("progress[data-poll]");
  if (!bar || !window.fetch) return;
  var every = 1000 * (parseFloat(bar.dataset.every) || 2);
  function poll() {
    fetch(bar.dataset.poll, { credentials: "same-origin", headers: { "X-Dashboard-Refresh": "1" } })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        bar.value = data.handed;
        if (!data.running) { window.location.reload(); return; }
        window.setTimeout(poll, every);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, every);
})();
