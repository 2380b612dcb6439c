// symoe admin: small behaviours written for the dashboard (no third-party code).
"use strict";
// Forms with data-confirm ask before they submit (revoking a key, cancelling a job).
document.addEventListener("submit", (event) => {
  const question = event.target.dataset && event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});
// The CSRF token for requests made from scripts (fetch): header X-CSRF-Token.
window.symoeCsrf = () => document.querySelector('meta[name="csrf-token"]').content;
