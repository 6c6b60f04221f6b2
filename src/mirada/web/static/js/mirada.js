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

// The language switcher submits as soon as a language is picked.
document.querySelectorAll("form.language-form").forEach((form) => {
  const select = form.querySelector("select");
  const button = form.querySelector("button");
  if (!select || !button) return;
  button.classList.add("visually-hidden");
  select.addEventListener("change", () => form.requestSubmit());
});
