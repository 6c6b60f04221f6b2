// The Classify page: one upload per photo with its own progress (sending is uploads.js's
// MiradaUploads, shared with the project pages), result cards in the order the photos were
// chosen, brought into view and announced. Classify and History: right-class choices saved
// in place.
"use strict";

const element = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
};

// "{name}" placeholders of a message the page carries, filled in.
const fill = (message, values) => message.replace(/\{(\w+)\}/g, (all, key) => values[key] ?? all);

// A right-class choice is saved without leaving the page; the form gives way to the answer.
document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.classList.contains("feedback-form")) return;
  if (event.defaultPrevented) return;
  event.preventDefault();
  const button = form.querySelector("button[type=submit]");
  const problem = form.parentElement.querySelector(".feedback-error");
  if (problem) problem.remove();
  button.disabled = true;
  let body = null;
  let ok = false;
  try {
    const response = await fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    ok = response.ok;
    body = await response.json();
  } catch {
    body = null;
  }
  if (ok && body && body.message) {
    const done = element("p", "muted feedback-done");
    done.setAttribute("role", "status");
    done.tabIndex = -1;
    form.replaceWith(done);
    done.textContent = body.message; // filled once in the page, so that it is announced
    done.focus({ preventScroll: true });
    return;
  }
  button.disabled = false;
  const error = element("p", "alert alert-error feedback-error",
                        body && body.error ? body.error.message : form.dataset.msgFailed);
  error.setAttribute("role", "alert");
  form.after(error);
});

(() => {
  const form = document.getElementById("classify-form");
  const results = document.getElementById("results");
  if (!form || !results || !window.MiradaUploads) return;
  const { send, limited } = window.MiradaUploads;
  const title = document.getElementById("results-title");
  const announcer = document.getElementById("results-status");
  const dropZone = document.getElementById("drop-zone");
  const csrfToken = form.querySelector("input[name=csrf_token]").value;
  const maxBytes = Number(form.dataset.maxBytes);
  const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
  const enqueue = limited(1); // one at a time: the history keeps the order they were chosen in

  // The same format as the server's (mirada.presenters.numbers.percent): the page's locale, one decimal.
  const percentFormat = new Intl.NumberFormat(document.documentElement.lang, {
    style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1,
  });
  const percent = (score) => percentFormat.format(score);

  const announce = (text) => {
    announcer.textContent = text;
  };

  function newCard(file) {
    const card = element("article", "result-card result-pending");
    const image = element("img", "result-image");
    image.alt = file.name;
    image.src = URL.createObjectURL(file);
    image.addEventListener("load", () => URL.revokeObjectURL(image.src), { once: true });
    image.addEventListener("error", () => image.remove(), { once: true }); // not a picture
    const body = element("div", "result-body");
    body.append(element("h3", "result-file", file.name));
    const status = element("p", "result-status muted", form.dataset.msgUploading);
    const progress = element("progress", "result-progress");
    progress.max = 100;
    progress.value = 0;
    body.append(status, progress);
    card.append(image, body);
    return { file, card, image, body, status, progress };
  }

  function feedbackForm(id, feedback) {
    const choice = element("form", "feedback-form");
    choice.method = "post";
    choice.action = feedback.url;
    choice.dataset.msgFailed = form.dataset.msgSaveFailed;
    const token = element("input");
    token.type = "hidden";
    token.name = "csrf_token";
    token.value = csrfToken;
    const select = element("select");
    select.id = `correct-${id}`;
    select.name = "class_id";
    for (const cls of feedback.classes) {
      const option = element("option", null, cls.name);
      option.value = cls.id;
      option.selected = cls.id === feedback.predicted_class_id;
      select.append(option);
    }
    const label = element("label", null, form.dataset.msgRightClass);
    label.htmlFor = select.id;
    const button = element("button", "button-small", form.dataset.msgSaveClass);
    button.type = "submit";
    choice.append(token, label, select, button);
    return choice;
  }

  function showPredictions(view, result) {
    view.card.classList.remove("result-pending");
    view.status.remove();
    view.progress.remove();
    if (result.confident === false) {
      const note = element("p", "not-sure", form.dataset.msgNotSure);
      note.setAttribute("role", "note");
      view.body.append(note);
    }
    const list = element("ol", "predictions");
    for (const p of result.predictions) {
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
    if (result.feedback && !result.feedback.class_id) {
      view.body.append(feedbackForm(result.id, result.feedback));
    }
    const best = result.predictions[0];
    if (best) announce(fill(form.dataset.msgResult, { file: view.file.name, label: best.label, score: percent(best.score) }));
  }

  function showError(view, message) {
    view.card.classList.remove("result-pending");
    view.card.classList.add("result-error");
    view.image.remove();
    view.progress.remove();
    view.status.className = "alert alert-error";
    view.status.textContent = message;
    announce(fill(form.dataset.msgRefused, { file: view.file.name, message }));
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

  // The newest photos come first, in the order they were chosen, and in view: on a phone
  // the results would otherwise start below the fold.
  function accept(files) {
    if (!files.length) return;
    const views = files.map(newCard);
    results.prepend(...views.map((view) => view.card));
    title.hidden = false;
    title.focus({ preventScroll: true });
    title.scrollIntoView({ block: "start", behavior: reducedMotion.matches ? "auto" : "smooth" });
    for (const view of views) {
      if (view.file.size > maxBytes) showError(view, form.dataset.msgTooLarge);
      else enqueue(() => upload(view.file, view));
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
