// The Classify page: drag and drop, one upload per photo with its own progress, result cards.
// Sending is uploads.js's (MiradaUploads), shared with the project pages.
"use strict";

(() => {
  const form = document.getElementById("classify-form");
  const results = document.getElementById("results");
  if (!form || !results || !window.MiradaUploads) return;
  const { element, send, limited } = window.MiradaUploads;
  const dropZone = document.getElementById("drop-zone");
  const csrfToken = form.querySelector("input[name=csrf_token]").value;
  const maxBytes = Number(form.dataset.maxBytes);
  const enqueue = limited(1); // one at a time: the history keeps the order they were chosen in

  const percent = (score) =>
    new Intl.NumberFormat(document.documentElement.lang, { style: "percent", maximumFractionDigits: 1 })
      .format(score);

  function newCard(file) {
    const card = element("article", "result-card result-pending");
    const image = element("img", "result-image");
    image.alt = file.name;
    image.src = URL.createObjectURL(file);
    image.addEventListener("load", () => URL.revokeObjectURL(image.src), { once: true });
    const body = element("div", "result-body");
    body.append(element("h3", "result-file", file.name));
    const status = element("p", "result-status muted", form.dataset.msgUploading);
    const progress = element("progress", "result-progress");
    progress.max = 100;
    progress.value = 0;
    body.append(status, progress);
    card.append(image, body);
    results.prepend(card);
    return { card, body, status, progress };
  }

  function showPredictions(view, result) {
    const predictions = result.predictions;
    view.card.classList.remove("result-pending");
    view.status.remove();
    view.progress.remove();
    if (result.confident === false) {
      const note = element("p", "not-sure", form.dataset.msgNotSure);
      note.setAttribute("role", "note");
      view.body.append(note);
    }
    const list = element("ol", "predictions");
    for (const p of predictions) {
      const item = element("li");
      const meter = element("meter");
      meter.min = 0;
      meter.max = 1;
      meter.value = p.score;
      meter.setAttribute("aria-hidden", "true");
      item.append(element("span", "prediction-label", p.label),
                  element("span", "prediction-score", percent(p.score)), meter);
      list.append(item);
    }
    view.body.append(list);
  }

  function showError(view, message) {
    view.card.classList.remove("result-pending");
    view.card.classList.add("result-error");
    view.progress.remove();
    view.status.className = "alert alert-error";
    view.status.setAttribute("role", "alert");
    view.status.textContent = message;
  }

  async function upload(file, view) {
    const model = form.querySelector("select[name=model]");
    const { status, body } = await send({
      url: form.action,
      csrfToken,
      field: "photos",
      file,
      fields: model ? [["model", model.value]] : [],
      onProgress: (fraction) => { view.progress.value = 100 * fraction; },
      onSent: () => {
        view.progress.removeAttribute("value");
        view.status.textContent = form.dataset.msgClassifying;
      },
    });
    const result = body && body.results ? body.results[0] : null;
    if (status === 200 && result && result.predictions) {
      showPredictions(view, result);
    } else {
      const error = (result && result.error) || (body && body.error);
      showError(view, error ? error.message : form.dataset.msgFailed);
    }
  }

  function accept(files) {
    for (const file of files) {
      const view = newCard(file);
      if (file.size > maxBytes) {
        showError(view, form.dataset.msgTooLarge);
        continue;
      }
      enqueue(() => upload(file, view));
    }
  }

  form.querySelectorAll("input[type=file]").forEach((input) => {
    input.addEventListener("change", () => {
      accept(Array.from(input.files));
      input.value = "";
    });
  });
  form.addEventListener("submit", (event) => event.preventDefault());
  ["dragenter", "dragover"].forEach((name) => dropZone.addEventListener(name, (event) => {
    event.preventDefault();
    dropZone.classList.add("drop-zone-active");
  }));
  ["dragleave", "drop"].forEach((name) => dropZone.addEventListener(name, (event) => {
    event.preventDefault();
    dropZone.classList.remove("drop-zone-active");
  }));
  dropZone.addEventListener("drop", (event) => accept(Array.from(event.dataTransfer.files)));
})();

// Buttons that delete ask first.
document.querySelectorAll("form.confirm-form").forEach((form) => {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
});
