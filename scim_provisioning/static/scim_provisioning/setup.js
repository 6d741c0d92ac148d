/* The guided SCIM setup page, progressively enhanced: copy buttons and a live status.
   Everything essential works without this file. No inline script is needed (strict CSP). */
(function () {
  "use strict";

  // A new token is only in the POST's response: make a reload a plain GET that shows none.
  if (document.querySelector("[data-token-shown]") && window.history.replaceState) {
    window.history.replaceState(null, "", window.location.href);
  }

  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = document.getElementById(button.dataset.copy).textContent.trim();
      if (!navigator.clipboard) { return; }
      navigator.clipboard.writeText(text).then(function () {
        button.textContent = "Copied";
        window.setTimeout(function () { button.textContent = label; }, 2000);
      });
    });
  });

  var status = document.getElementById("scim-setup-status");
  if (!status || !window.fetch) { return; }
  var INTERVAL_MS = 4000;

  function paragraph(label, text) {
    var p = document.createElement("p");
    p.className = "scim-setup-explanation";
    var strong = document.createElement("strong");
    strong.textContent = label + " ";
    p.appendChild(strong);
    p.appendChild(document.createTextNode(text));
    return p;
  }

  function show(data) {
    status.dataset.state = data.state;
    status.className = "scim-setup-status scim-setup-status-" + data.state;
    document.getElementById("scim-setup-headline").textContent = data.headline;
    document.getElementById("scim-setup-detail").textContent = data.detail;
    var failure = document.getElementById("scim-setup-failure");
    failure.replaceChildren();
    if (data.failure && data.failure.error) {
      failure.appendChild(paragraph("The site answered:", data.failure.error));
    }
    (data.failure ? data.failure.explanations : []).forEach(function (explanation) {
      failure.appendChild(paragraph("What it means:", explanation.meaning));
      failure.appendChild(paragraph("Fix:", explanation.fix));
    });
  }

  function poll() {
    fetch(status.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data) { show(data); }
        if (!data || data.state !== "connected") { window.setTimeout(poll, INTERVAL_MS); }
      })
      .catch(function () { window.setTimeout(poll, INTERVAL_MS * 2); });
  }

  if (status.dataset.state !== "connected") { window.setTimeout(poll, INTERVAL_MS); }
})();
