// A form is sent once per click of its owner: a second click while the first is on its way
// does nothing (the server's one-time token catches any that still get through, and a resend
// after the back button). Coming back to the page makes it sendable again.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.sending) { event.preventDefault(); return; }
    form.dataset.sending = "1";
  });
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-sending]").forEach(function (form) {
      delete form.dataset.sending;
    });
  });
})();
