// symoe admin, a job's page: follow its progress over server-sent events (EventSource on
// /admin/jobs/<id>/events, the dashboard session's cookie goes along) until it finishes,
// then reload once to show the answered items and drop the Cancel button.
"use strict";
(() => {
  const box = document.getElementById("job-progress");
  if (!box || !box.dataset.events || !window.EventSource) return;
  const status = document.getElementById("job-status");
  const count = document.getElementById("job-count");
  const bar = document.getElementById("job-bar");
  const live = document.getElementById("job-live");
  const show = (event) => {
    const job = JSON.parse(event.data);
    status.textContent = job.status;
    count.textContent = `${job.completed} of ${job.total}`;
    bar.max = job.total;
    bar.value = job.completed;
    box.dataset.status = job.status;
    box.dataset.completed = String(job.completed);
  };
  const source = new EventSource(box.dataset.events);
  let leaving = false; // the page is going away (the Cancel form posts): no reload then
  window.addEventListener("beforeunload", () => {
    leaving = true;
    source.close();
  });
  source.addEventListener("progress", show);
  for (const end of ["done", "failed", "cancelled"]) {
    source.addEventListener(end, (event) => {
      show(event);
      source.close();
      live.textContent = `finished: ${end}`;
      window.setTimeout(() => leaving || window.location.reload(), 800);
    });
  }
  source.onerror = () => {
    // the server went away or the session ended: stop, say so (no reconnect loop)
    if (source.readyState === EventSource.CLOSED) live.textContent = "live updates stopped";
  };
})();
