// The controller picker (incidents/picker.py): as the person types a name or a KBO number,
// ask the server for up to 20 matches and offer each as a button; the one chosen is added as a
// ticked box. Without this script the box takes names or numbers, one per line.
(function () {
  "use strict";
  document.querySelectorAll(".controller-picker").forEach(function (picker) {
    var box = picker.querySelector("textarea");
    var matches = picker.querySelector(".matches");
    var picked = picker.querySelector(".picked");
    var asked = 0;

    function chosen(pk) {
      return picked.querySelector('input[value="' + pk + '"]');
    }

    function add(controller) {
      if (!chosen(controller.pk)) {
        var item = document.createElement("li");
        var label = document.createElement("label");
        var input = document.createElement("input");
        input.type = "checkbox";
        input.name = picker.dataset.name;
        input.value = controller.pk;
        input.checked = true;
        label.appendChild(input);
        label.appendChild(document.createTextNode(" " + controller.name + " "));
        var number = document.createElement("span");
        number.className = "muted";
        number.textContent = controller.enterprise_number;
        label.appendChild(number);
        item.appendChild(label);
        picked.appendChild(item);
      }
      box.value = "";
      matches.hidden = true;
      box.focus();
    }

    function show(controllers) {
      matches.textContent = "";
      controllers.forEach(function (controller) {
        var item = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "secondary";
        button.textContent = picker.dataset.addLabel + ": " + controller.name + " (" +
          controller.enterprise_number + ")";
        button.addEventListener("click", function () { add(controller); });
        item.appendChild(button);
        matches.appendChild(item);
      });
      if (!controllers.length) {
        var none = document.createElement("li");
        none.textContent = picker.dataset.none;
        matches.appendChild(none);
      }
      matches.hidden = false;
    }

    // One question at a time, a moment after the last key: not a request per letter typed.
    var waiting = null, pending = null;
    box.addEventListener("input", function () {
      var text = box.value.trim();
      window.clearTimeout(waiting);
      if (text.indexOf("\n") >= 0 || text.length < 2) { matches.hidden = true; return; }
      waiting = window.setTimeout(function () {
        var ask = ++asked;
        if (pending && window.AbortController) { pending.abort(); }
        pending = window.AbortController ? new AbortController() : null;
        fetch(picker.dataset.lookup + "?q=" + encodeURIComponent(text), {
          credentials: "same-origin", signal: pending ? pending.signal : undefined
        })
          .then(function (response) { return response.json(); })
          .then(function (data) { if (ask === asked) show(data.controllers); })
          .catch(function () { /* replaced by a newer question */ });
      }, 200);
    });
  });
})();
