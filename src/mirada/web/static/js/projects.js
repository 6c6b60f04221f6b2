// The project pages: photos sent one per request with their progress, and live progress
// of background jobs.
"use strict";

(() => {
  const POLL_MS = 1000;
  const MAX_FAILURES = 5;

  function follow(block) {
    const url = block.dataset.jobUrl;
    const status = block.querySelector(".job-status");
    let progress = block.querySelector("progress");
    let failures = 0;

    const show = (job) => {
      block.dataset.jobState = job.state;
      block.className = `job job-${job.state}`;
      if (status) {
        status.textContent = job.error ? job.error.message : job.status;
        status.classList.toggle("alert", job.state === "failed");
        status.classList.toggle("alert-error", job.state === "failed");
      }
      if (progress) {
        if (job.state === "queued") progress.removeAttribute("value");
        else progress.value = job.progress;
      }
    };

    const finished = (job) => {
      if (progress) {
        progress.remove();
        progress = null;
      }
      if (job.state === "succeeded" && job.kind === "train") {
        // The new version belongs in the versions table: show the project page as it is now
        // (by its own address: this page may be the answer to a form).
        const target = new URL(block.dataset.doneUrl, window.location.href);
        if (target.pathname === window.location.pathname && target.search === window.location.search) {
          window.location.hash = target.hash; // only the hash differs: assign would not reload
          window.location.reload();
        } else {
          window.location.assign(target.href);
        }
      }
    };

    const poll = async () => {
      let job = null;
      try {
        const response = await fetch(url, {
          headers: { Accept: "application/json" },
          credentials: "same-origin",
          cache: "no-store",
        });
        if (response.ok) job = (await response.json()).job;
        else if (response.status === 404) return; // gone: the project or the job was deleted
      } catch {
        job = null;
      }
      if (!job) {
        failures += 1;
        if (failures < MAX_FAILURES) window.setTimeout(poll, POLL_MS * failures);
        return;
      }
      failures = 0;
      show(job);
      if (job.state === "queued" || job.state === "running") window.setTimeout(poll, POLL_MS);
      else finished(job);
    };

    window.setTimeout(poll, POLL_MS);
  }

  document.querySelectorAll(".job[data-job-url]").forEach((block) => {
    const state = block.dataset.jobState;
    if (state === "queued" || state === "running") follow(block);
  });
})();

// "Add photos": each photo in its own request, three at a time, with its own progress. Each
// request carries an upload id; when the connection drops, the page asks what arrived.
(() => {
  const uploads = window.MiradaUploads;
  if (!uploads) return;
  const enqueue = uploads.limited(3);

  async function arrived(form, uploadId) {
    try {
      const url = new URL(form.dataset.outcomeUrl, window.location.href);
      url.searchParams.set("upload_id", uploadId);
      const response = await fetch(url, {
        headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store",
      });
      if (!response.ok) return null;
      return (await response.json()).examples.length > 0;
    } catch {
      return null;
    }
  }

  // Resolves to whether the photo was kept.
  async function sendOne(form, file, item, classId) {
    const uploadId = uploads.newId();
    const { status, body } = await uploads.send({
      url: form.action,
      csrfToken: form.querySelector("input[name=csrf_token]").value,
      field: "photos",
      file,
      fields: [["class_id", classId], ["upload_id", uploadId]],
      onProgress: (fraction) => item.setProgress(fraction),
      onSent: () => item.waiting(form.dataset.msgAdding),
    });
    const result = body && body.results ? body.results[0] : null;
    if (result && result.example) return item.done(form.dataset.msgAdded, true);
    if (status === 0 || status >= 502) { // no answer: did the photo arrive before the drop?
      const kept = await arrived(form, uploadId);
      if (kept === true) return item.done(form.dataset.msgKept, true);
      if (kept === false) return item.done(form.dataset.msgLost, false);
      return item.done(form.dataset.msgFailed, false);
    }
    const error = (result && result.error) || (body && body.error);
    return item.done(error ? error.message : form.dataset.msgFailed, false);
  }

  function start(form, files, list, summary) {
    const classId = form.querySelector("[name=class_id]").value;
    const counts = { total: files.length, added: 0, finished: 0 };
    const report = () => {
      summary.textContent = form.dataset.msgSummary
        .replace("{added}", counts.added).replace("{total}", counts.total);
      if (counts.finished === counts.total && counts.added) {
        const link = uploads.element("a", "upload-show", form.dataset.msgShow);
        link.href = window.location.pathname;
        summary.append(" ", link);
      }
    };
    list.replaceChildren();
    report();
    for (const file of files) {
      const item = uploads.fileRow("li", file, form.dataset.msgUploading);
      list.append(item.row);
      const finish = (ok) => {
        counts.finished += 1;
        if (ok) counts.added += 1;
        report();
      };
      if (file.size > Number(form.dataset.maxBytes)) {
        item.done(form.dataset.msgTooLarge, false);
        finish(false);
        continue;
      }
      enqueue(async () => finish(await sendOne(form, file, item, classId)));
    }
  }

  document.querySelectorAll("form.photo-upload-form").forEach((form) => {
    const input = form.querySelector("input[type=file]");
    const summary = uploads.element("p", "upload-summary");
    summary.setAttribute("role", "status");
    const list = uploads.element("ol", "upload-list");
    form.after(summary, list);
    form.addEventListener("submit", (event) => {
      const files = Array.from(input.files);
      if (!files.length) return; // the browser asks for files (the input is required)
      event.preventDefault();
      start(form, files, list, summary);
      input.value = "";
    });
  });
})();
