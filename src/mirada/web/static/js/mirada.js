// Progressive enhancements; every page works without them.
"use strict";

document.documentElement.classList.add("js");

// The browser's time zone, for the server to show times in (mirada.web.i18n.TIMEZONE_COOKIE).
const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
if (browserZone && !document.cookie.split("; ").includes(`mirada_tz=${browserZone}`)) {
  const secure = window.location.protocol === "https:" ? "; Secure" : "";
  document.cookie = `mirada_tz=${browserZone}; path=/; max-age=31536000; SameSite=Lax${secure}`;
}

// Phones: the navigation folds behind a menu button.
const navToggle = document.querySelector(".nav-toggle");
const siteNav = document.getElementById("site-nav");
if (navToggle && siteNav) {
  navToggle.hidden = false;
  navToggle.addEventListener("click", () => {
    const open = siteNav.classList.toggle("open");
    navToggle.setAttribute("aria-expanded", String(open));
  });
}

// The language switcher submits as soon as a language is picked with a pointer or a finger.
// From the keyboard, arrows only move through the list (the change would reload the page at
// once): Enter, or the "Change language" button that then shows, applies it.
document.querySelectorAll("form.language-form").forEach((form) => {
  const select = form.querySelector("select");
  const button = form.querySelector("button");
  if (!select || !button) return;
  button.hidden = true;
  let keyboard = false;
  select.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      form.requestSubmit();
    } else if (event.key !== "Tab") {
      keyboard = true;
    }
  });
  select.addEventListener("pointerdown", () => { keyboard = false; });
  select.addEventListener("change", () => {
    if (keyboard) button.hidden = false;
    else form.requestSubmit();
  });
});

// Forms and buttons that destroy something ask first (data-confirm holds the question);
// data-confirm-needs names what must be chosen first (with nothing chosen the server says so).
document.addEventListener("submit", (event) => {
  const asker = event.submitter && event.submitter.dataset.confirm ? event.submitter : event.target;
  const question = asker.dataset.confirm;
  const needs = asker.dataset.confirmNeeds;
  if (needs && !event.target.querySelector(needs)) return;
  if (question && !window.confirm(question)) event.preventDefault();
});
