// Sending photos: one request per file, a few at a time, each with its own progress.
// Shared by the Classify page and the project and class pages (window.MiradaUploads).
"use strict";

window.MiradaUploads = (() => {
  const element = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  };

  // A random id of 32 hex digits (crypto.getRandomValues works on plain http too).
  const newId = () => Array.from(window.crypto.getRandomValues(new Uint8Array(16)),
    (byte) => byte.toString(16).padStart(2, "0")).join("");

  // POST one file with the form's other fields; resolves to {status, body}, where status
  // is 0 when the connection dropped (no answer came back). Never rejects.
  function send({ url, csrfToken, field, file, fields = [], onProgress, onSent }) {
    return new Promise((resolve) => {
      const data = new FormData();
      data.append("csrf_token", csrfToken);
      for (const [name, value] of fields) data.append(name, value);
      data.append(field, file, file.name);
      const request = new XMLHttpRequest();
      request.open("POST", url);
      request.setRequestHeader("Accept", "application/json");
      request.setRequestHeader("X-CSRFToken", csrfToken);
      request.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable && onProgress) onProgress(event.loaded / event.total);
      });
      request.upload.addEventListener("load", () => { if (onSent) onSent(); });
      request.addEventListener("load", () => {
        let body = null;
        try { body = JSON.parse(request.responseText); } catch { body = null; }
        resolve({ status: request.status, body });
      });
      const dropped = () => resolve({ status: 0, body: null });
      request.addEventListener("error", dropped);
      request.addEventListener("abort", dropped);
      request.send(data);
    });
  }

  // A queue that runs at most `limit` tasks (functions returning promises) at once.
  function limited(limit) {
    const waiting = [];
    let running = 0;
    const next = () => {
      while (running < limit && waiting.length) {
        const { task, resolve } = waiting.shift();
        running += 1;
        task().finally(() => { running -= 1; resolve(); next(); });
      }
    };
    return (task) => new Promise((resolve) => { waiting.push({ task, resolve }); next(); });
  }

  // A row for one file: its name, a status line and a progress bar; done() returns ok.
  function fileRow(tag, file, statusText) {
    const row = element(tag, "upload-item upload-pending");
    const name = element("span", "upload-name", file.name);
    const status = element("span", "upload-status muted", statusText);
    const progress = element("progress", "upload-progress");
    progress.max = 100;
    progress.value = 0;
    row.append(name, status, progress);
    return {
      row,
      status,
      progress,
      setProgress(fraction) { progress.value = 100 * fraction; },
      waiting(text) { progress.removeAttribute("value"); status.textContent = text; },
      done(text, ok) {
        row.classList.remove("upload-pending");
        row.classList.add(ok ? "upload-done" : "upload-error");
        progress.remove();
        status.textContent = text;
        status.className = ok ? "upload-status" : "upload-status alert alert-error";
        if (!ok) status.setAttribute("role", "alert");
        return ok;
      },
    };
  }

  return { element, newId, send, limited, fileRow };
})();
