// The import page: while the sheet is uploaded and checked, the button gives way to a progress
// bar and a line saying so. Without script the form posts the same way.
(function () {
  "use strict";
  var form = document.getElementById("import-form");
  var busy = document.getElementById("import-busy");
  if (!form || !busy) { return; }
  form.addEventListener("submit", function () {
    var button = form.querySelector("button[type=submit]");
    if (button) { button.disabled = true; }
    busy.hidden = false;
  });
}());
