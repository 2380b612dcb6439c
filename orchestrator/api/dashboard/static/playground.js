// symoe admin, playground: Run without leaving the page. The plan stays in view with a
// running clock while the committee answers (the answers service reports nothing before
// it is done); then the page's main part is replaced by the server's answer: the trace, or
// the error. Without JavaScript the same form posts as a plain form.
"use strict";
document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || form.id !== "run-form") return;
  event.preventDefault();
  const button = form.querySelector("button[type='submit']");
  button.disabled = true;
  const result = document.getElementById("run-result");
  const started = performance.now();
  result.innerHTML = '<h2>Trace</h2><p class="running" role="status" id="running">Running… <span>0.0</span> s</p>';
  const clock = result.querySelector("#running span");
  const timer = window.setInterval(() => {
    clock.textContent = ((performance.now() - started) / 1000).toFixed(1);
  }, 100);
  try {
    const response = await fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      headers: { "X-CSRF-Token": window.symoeCsrf() },
      credentials: "same-origin",
    });
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const main = page.querySelector("main");
    if (main === null) throw new Error(`the server answered ${response.status}`);
    document.querySelector("main").innerHTML = main.innerHTML;
  } catch (error) {
    result.innerHTML = "";
    const p = document.createElement("p");
    p.className = "error";
    p.textContent = `The run failed: ${error.message}`;
    result.append(p);
    button.disabled = false;
  } finally {
    window.clearInterval(timer);
  }
});
