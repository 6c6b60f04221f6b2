// The Classify page: drag and drop, one upload per photo with its own progress, result cards.
"use strict";

(() => {
  const form = document.getElementById("classify-form");
  const results = document.getElementById("results");
  if (!form || !results) return;
  const dropZone = document.getElementById("drop-zone");
  const csrfToken = form.querySelector("input[name=csrf_token]").value;
  const maxBytes = Number(form.dataset.maxBytes);
  const queue = [];
  let busy = false;

  const element = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  };

  // The same format as the server's (mirada.web.formatting.percent): the page's locale, one decimal.
  const percentFormat = new Intl.NumberFormat(document.documentElement.lang, {
    style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1,
  });
  const percent = (score) => percentFormat.format(score);

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

  function upload(file, view) {
    return new Promise((resolve) => {
      const data = new FormData();
      data.append("csrf_token", csrfToken);
      data.append("photos", file, file.name);
      const model = form.querySelector("select[name=model]");
      if (model) data.append("model", model.value);
      const request = new XMLHttpRequest();
      request.open("POST", form.action);
      request.setRequestHeader("Accept", "application/json");
      request.setRequestHeader("X-CSRFToken", csrfToken);
      request.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) view.progress.value = (100 * event.loaded) / event.total;
      });
      request.upload.addEventListener("load", () => {
        view.progress.removeAttribute("value");
        view.status.textContent = form.dataset.msgClassifying;
      });
      request.addEventListener("load", () => {
        let body = null;
        try { body = JSON.parse(request.responseText); } catch { body = null; }
        const result = body && body.results ? body.results[0] : null;
        if (request.status === 200 && result && result.predictions) {
          showPredictions(view, result);
        } else {
          const error = (result && result.error) || (body && body.error);
          showError(view, error ? error.message : form.dataset.msgFailed);
        }
        resolve();
      });
      request.addEventListener("error", () => { showError(view, form.dataset.msgFailed); resolve(); });
      request.send(data);
    });
  }

  async function drain() {
    if (busy) return;
    busy = true;
    while (queue.length) {
      const { file, view } = queue.shift();
      await upload(file, view);
    }
    busy = false;
  }

  function accept(files) {
    for (const file of files) {
      const view = newCard(file);
      if (file.size > maxBytes) {
        showError(view, form.dataset.msgTooLarge);
        continue;
      }
      queue.push({ file, view });
    }
    drain();
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
