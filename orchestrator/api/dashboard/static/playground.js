// symoe admin, playground: Run without leaving the page, watching it go. The run posts to
// /admin/playground/live, which answers with server-sent events: `plan` (skills, who is
// drawn), `text` (the final answer as the aggregator decodes it), then `done` or `error`
// carrying the finished page, whose main part replaces this page's. A refused input comes
// back as a plain page (4xx), shown the same way. Without JavaScript the form posts to
// /admin/playground/run as a plain form.
"use strict";

function showPage(html) {
  const page = new DOMParser().parseFromString(html, "text/html");
  const main = page.querySelector("main");
  if (main === null) throw new Error("the server's page has no main part");
  document.querySelector("main").innerHTML = main.innerHTML;
}

function line(result, className, text) {
  const p = document.createElement("p");
  p.className = className;
  p.textContent = text;
  result.append(p);
  return p;
}

// One server-sent event block ("event: x\ndata: y") -> [name, parsed data].
function parseEvent(block) {
  let name = "message";
  const data = [];
  for (const row of block.split("\n")) {
    if (row.startsWith("event:")) name = row.slice(6).trim();
    else if (row.startsWith("data:")) data.push(row.slice(5).replace(/^ /, ""));
  }
  return [name, data.length ? JSON.parse(data.join("\n")) : null];
}

document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || form.id !== "run-form") return;
  event.preventDefault();
  const button = form.querySelector("button[type='submit']");
  button.disabled = true;
  const result = document.getElementById("run-result");
  const started = performance.now();
  result.innerHTML = "<h2>Trace</h2>";
  const running = line(result, "running", "Running… 0.0 s");
  running.setAttribute("role", "status");
  running.id = "running";
  const timer = window.setInterval(() => {
    running.textContent = `Running… ${((performance.now() - started) / 1000).toFixed(1)} s`;
  }, 100);
  let answer = null;
  try {
    const response = await fetch("/admin/playground/live", {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      headers: { "X-CSRF-Token": window.symoeCsrf() },
      credentials: "same-origin",
    });
    if (!(response.headers.get("content-type") || "").startsWith("text/event-stream")) {
      showPage(await response.text()); // refused before running: the page says why
      return;
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer = (buffer + decoder.decode(value, { stream: true })).replace(/\r\n/g, "\n");
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const [name, data] = parseEvent(buffer.slice(0, cut));
        buffer = buffer.slice(cut + 2);
        if (name === "plan") {
          line(result, "live-plan", `Drawn: ${data.drawn.join(", ")} · skills: ${data.skills.join(", ") || "none"}`);
        } else if (name === "text") {
          if (answer === null) {
            answer = document.createElement("pre");
            answer.id = "live-answer";
            result.append(answer);
          }
          answer.textContent += data.text;
        } else if (name === "done" || name === "error") {
          showPage(data.page);
          return;
        }
      }
    }
    throw new Error("the run's stream ended early");
  } catch (error) {
    line(result, "error", `The run failed: ${error.message}`);
    button.disabled = false;
  } finally {
    window.clearInterval(timer);
  }
});
