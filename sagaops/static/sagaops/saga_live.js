// The saga page follows a saga while it is active: poll its live state, reload when its version moves.
// Copy buttons put a JSON block on the clipboard. A static file, so a Content-Security-Policy can forbid inline scripts.
(function () {
  "use strict";
  var POLL_MS = 1500;

  function follow(box) {
    var seen = box.getAttribute("data-version");
    var text = box.querySelector(".live-text");
    function poll() {
      fetch(box.getAttribute("data-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (state) {
          if (String(state.version) !== seen) {
            text.textContent = "The saga moved: now " + state.status + " (version " + state.version + "). Reloading…";
            window.location.reload();
            return;
          }
          if (state.active) { window.setTimeout(poll, POLL_MS); }
        })
        .catch(function () {
          text.textContent = "Live updates stopped (the console did not answer). Reload the page.";
        });
    }
    window.setTimeout(poll, POLL_MS);
  }

  function copyButtons() {
    document.querySelectorAll("button.copy[data-copy]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        var source = document.getElementById(button.getAttribute("data-copy"));
        if (!source || !navigator.clipboard) { return; }
        navigator.clipboard.writeText(source.textContent).then(function () {
          button.textContent = "Copied";
          window.setTimeout(function () { button.textContent = "Copy"; }, 1500);
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("saga-live");
    if (box && box.getAttribute("data-active") === "yes") { follow(box); }
    copyButtons();
  });
})();
