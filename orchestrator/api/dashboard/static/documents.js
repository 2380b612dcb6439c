// symoe admin, Documents: refuse a file over the server's body limit before sending it
// (the server would answer 413 without a page).
"use strict";
document.getElementById("upload")?.addEventListener("submit", (event) => {
  const input = event.target.querySelector("input[type=file]");
  const limit = Number(input.dataset.maxBytes);
  const file = input.files && input.files[0];
  if (file && limit && file.size > limit) {
    event.preventDefault();
    window.alert(`${file.name} has ${file.size} bytes: uploads are limited to ${limit} bytes.`);
  }
});
