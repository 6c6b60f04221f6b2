// The project pages: live progress of background jobs.
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

