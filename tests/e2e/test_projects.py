"""A project from start to finish in the browser: classes, photos, training, use and feedback."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.pages import (
    answer_confirmation,
    flash,
    heading,
    horizontal_overflow,
    open_nav,
    register,
)
from tests.support.projects import digit_pngs

pytestmark = pytest.mark.e2e

Screenshot = Callable[[Page, str], Path]
TRAINING_TIMEOUT_MS = 60_000
PER_CLASS = 8
CLASSES = ("zero", "one")

# Every change the page's script makes to the training block, kept across the reload
# it ends with: the proof that the progress moved while the page stayed put.
WATCH_TRAINING = """
document.addEventListener("DOMContentLoaded", () => {
  const block = document.querySelector(".job[data-job-kind=train]");
  if (!block) return;
  const seen = [];
  new MutationObserver(() => {
    const status = block.querySelector(".job-status");
    const progress = block.querySelector("progress");
    seen.push({
      state: block.dataset.jobState,
      status: status ? status.textContent.trim() : "",
      progress: progress ? progress.value : null,
    });
    sessionStorage.setItem("training-updates", JSON.stringify(seen));
  }).observe(block, { attributes: true, childList: true, subtree: true, characterData: true });
});
"""


@pytest.fixture
def digits(tmp_path: Path) -> dict[str, list[Path]]:
    """Digit scans as PNG files: eight of each class to train on, and one new of each."""
    files: dict[str, list[Path]] = {}
    for digit, name in enumerate(CLASSES):
        scans = digit_pngs(digit, PER_CLASS + 1)
        paths = []
        for number, data in enumerate(scans, start=1):
            path = tmp_path / (f"new-{name}.png" if number > PER_CLASS else f"{name}-{number}.png")
            path.write_bytes(data)
            paths.append(path)
        files[name], files[f"new-{name}"] = paths[:PER_CLASS], paths[PER_CLASS:]
    return files


def class_count(page: Page, name: str) -> Locator:
    card = page.locator(".class-card").filter(
        has=page.get_by_role("heading", name=name, exact=True)
    )
    return card.locator(".class-card-count")


def train_job(page: Page) -> Locator:
    return page.locator("#training .job[data-job-kind=train]")


def press_train(page: Page) -> None:
    page.evaluate("sessionStorage.removeItem('training-updates')")
    page.locator("form.train-form").get_by_role("button", name="Train").click()
    expect(page).to_have_url(re.compile(r"/projects/\d+\?job=\d+#training$"))


def training_updates(page: Page) -> list[dict[str, object]]:
    raw = page.evaluate("sessionStorage.getItem('training-updates')")
    return list(json.loads(raw)) if raw else []


def test_train_a_project_classify_with_it_correct_it_and_retrain(
    page: Page,
    unique_email: Callable[[str], str],
    digits: dict[str, list[Path]],
    screenshot: Screenshot,
) -> None:
    page.add_init_script(WATCH_TRAINING)
    overflows: dict[str, tuple[int, int]] = {}

    def shot(name: str) -> None:
        """A screenshot, and a note when the page scrolls sideways."""
        if overflow := horizontal_overflow(page):
            overflows[name] = overflow
        screenshot(page, name)

    register(page, unique_email("projects"))

    # 1. A new project, from the navigation.
    open_nav(page).get_by_role("link", name="Projects").click()
    expect(heading(page)).to_have_text("Projects")
    expect(page.get_by_text("You have no projects yet.")).to_be_visible()
    name = f"Digits {uuid.uuid4().hex[:8]}"
    form = page.locator("main form")
    form.get_by_label("Project name").fill(name)
    form.get_by_label("Description").fill("Handwritten zeros and ones.")
    form.get_by_role("button", name="Create project").click()
    expect(flash(page)).to_have_text(f"The project {name} has been created. Add its classes.")
    expect(heading(page)).to_have_text(name)
    expect(page.locator(".project-description")).to_have_text("Handwritten zeros and ones.")

    page.locator(".breadcrumbs").get_by_role("link", name="Projects").click()
    item = page.locator(".project-item").filter(has_text=name)
    expect(item).to_contain_text("0 classes · 0 examples · Not trained yet")
    shot("projects")
    item.get_by_role("link", name=name).click()
    expect(heading(page)).to_have_text(name)

    # 2. Two classes, eight photos each through the upload form.
    for cls in CLASSES:
        add = page.locator("form.add-class-form")
        add.get_by_label("Class name").fill(cls)
        add.get_by_role("button", name="Add class").click()
        expect(flash(page)).to_have_text(f"The class {cls} has been added.")
        expect(class_count(page, cls)).to_have_text("0 examples")
    expect(page.locator("#training-errors")).to_be_visible()
    expect(page.locator("form.train-form").get_by_role("button", name="Train")).to_be_disabled()

    for cls in CLASSES:
        upload = page.locator("form.upload-examples-form")
        upload.get_by_label("Class").select_option(label=cls)
        upload.locator("input[type=file]").set_input_files(digits[cls])
        upload.get_by_role("button", name="Upload photos").click()
        summary = page.locator(".upload-summary")
        expect(summary).to_contain_text(f"Photos added: {PER_CLASS} of {PER_CLASS}.")
        expect(page.locator(".upload-list .upload-error")).to_have_count(0)
        summary.get_by_role("link", name="Show the new photos").click()
        expect(heading(page)).to_have_text(name)
    for cls in CLASSES:
        expect(class_count(page, cls)).to_have_text(f"{PER_CLASS} examples")
    thumbnails = page.locator(".class-card-thumbs img")
    expect(thumbnails).to_have_count(8)  # four per class
    expect(page.locator("#training-errors")).to_have_count(0)
    shot("project")

    # 3. Train, and watch it happen without reloading.
    press_train(page)
    job = train_job(page)
    shown = job.evaluate(
        """block => ({
            state: block.dataset.jobState,
            status: block.querySelector(".job-status").textContent.trim(),
            progress: block.querySelectorAll("progress.job-progress").length,
        })"""
    )
    assert shown["state"] in ("queued", "running"), shown
    assert shown["progress"] == 1, shown
    assert re.fullmatch(r"Waiting to start…|Starting…|.+… \d+%", shown["status"]), shown
    expect(job.locator(".job-status")).to_have_text(
        "Done: version 1 is ready and now answers new photos.", timeout=TRAINING_TIMEOUT_MS
    )
    expect(job).to_have_attribute("data-job-state", "succeeded")
    expect(job.locator("progress")).to_have_count(0)
    updates = training_updates(page)
    assert updates, "the status never changed while the page was open"
    assert updates[-1] == {
        "state": "succeeded",
        "status": "Done: version 1 is ready and now answers new photos.",
        "progress": None,
    }, updates

    # The page shows itself again, with the new version in the table.
    expect(page).to_have_url(re.compile(r"\?job=\d+#versions$"))
    rows = page.locator(".versions-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Version 1")
    expect(rows.first.locator(".badge")).to_have_text("Serving, newest")
    expect(rows.first).to_contain_text(str(2 * PER_CLASS))

    job.get_by_role("link", name="See version 1").click()
    expect(heading(page)).to_have_text(re.compile(r"^Version 1\s+Serving$"))
    expect(page.locator(".metric-accuracy")).to_have_text(re.compile(r"^\d{1,3}(\.\d)?\s?%$"))
    confusion = page.locator("img.confusion")
    expect(confusion).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=confusion.element_handle()
    )
    metric_rows = page.locator(".metrics-table tbody tr")
    expect(metric_rows).to_have_count(2)
    expect(metric_rows.locator("th")).to_have_text(sorted(CLASSES))
    for row in metric_rows.all():
        expect(row.locator("td")).to_have_count(5)
        expect(row.locator("td").last).to_have_text(str(PER_CLASS))
    shot("version")

    # 4. Classify two new photos with the project.
    open_nav(page).get_by_role("link", name="Classify").click()
    expect(heading(page)).to_have_text("Classify photos")
    page.get_by_label("Model").select_option(label=name)
    page.set_input_files("#photos", [*digits["new-zero"], *digits["new-one"]])
    cards = page.locator("#results .result-card")
    expect(cards).to_have_count(2)
    expect(cards.locator(".predictions")).to_have_count(2, timeout=30_000)
    for cls in CLASSES:
        card = cards.filter(has_text=f"new-{cls}.png")
        labels = card.locator(".prediction-label")
        expect(labels).to_have_count(2)
        assert sorted(labels.all_inner_texts()) == sorted(CLASSES), labels.all_inner_texts()
        expect(labels.first).to_have_text(cls)  # zeros and ones: easy to tell apart
        expect(card.locator(".alert")).to_have_count(0)
        # The right-class choice is on the card, the prediction preselected.
        expect(card.get_by_label("Right class").locator("option:checked")).to_have_text(cls)
    shot("classify-project")

    # 5. Confirm one prediction from its card, without leaving the page.
    page.evaluate("window.stayed = true")
    card = cards.filter(has_text="new-zero.png")
    card.get_by_role("button", name="Save the right class").click()
    expect(card.locator(".feedback-done")).to_have_text(
        "Thank you. The photo is now an example of zero."
    )
    expect(card.locator("form.feedback-form")).to_have_count(0)
    assert page.evaluate("window.stayed") is True

    # ... and the other from the history, reached from the project's "Label these first".
    open_nav(page).get_by_role("link", name="Projects").click()
    page.locator(".project-item").get_by_role("link", name=name).click()
    first = page.locator("#label-first .uncertain-list").get_by_role("link")
    expect(first).to_have_count(1)
    expect(first).to_contain_text("new-one.png")
    first.click()
    expect(page).to_have_url(re.compile(r"/history\?before=(\d+)#classification-\d+$"))
    items = page.locator(".history-item")
    taught = items.filter(has_text="new-one.png")
    other = items.filter(has_text="new-zero.png")
    expect(items.first).to_contain_text("new-one.png")
    expect(taught).to_be_in_viewport()
    expect(taught.locator(".history-model")).to_have_text(f"Model: {name}, version 1")
    expect(taught.get_by_label("Right class").locator("option:checked")).to_have_text("one")
    page.evaluate("window.stayed = true")
    taught.get_by_label("Right class").select_option(label="one")
    taught.get_by_role("button", name="Save the right class").click()
    expect(taught.locator(".feedback-done")).to_have_text(
        "Thank you. The photo is now an example of one."
    )
    expect(taught.locator(".feedback-done")).to_be_focused()
    expect(taught.locator("form.feedback-form")).to_have_count(0)
    assert page.evaluate("window.stayed") is True
    shot("history-project")
    page.goto("/history")
    expect(other.locator(".feedback-done")).to_have_text("Labelled as zero.")
    expect(taught.locator(".feedback-done")).to_have_text("Labelled as one.")

    open_nav(page).get_by_role("link", name="Projects").click()
    page.locator(".project-item").get_by_role("link", name=name).click()
    expect(class_count(page, "one")).to_have_text(f"{PER_CLASS + 1} examples")
    expect(class_count(page, "zero")).to_have_text(f"{PER_CLASS + 1} examples")

    # 6. Train again, then compare the two versions.
    press_train(page)
    expect(train_job(page).locator(".job-status")).to_have_text(
        re.compile(r"^Done: version 2 is ready and now answers new photos\."),
        timeout=TRAINING_TIMEOUT_MS,
    )
    rows = page.locator(".versions-table tbody tr")
    expect(rows).to_have_count(2)
    # The newest first: it answers as soon as it is trained; an older one on request (pinned).
    expect(page.locator("#serving-reason")).to_contain_text(
        "Version 2 answers new photos because it is the newest"
    )
    expect(rows.nth(0)).to_contain_text("Version 2")
    expect(rows.nth(0).locator(".badge")).to_have_text("Serving, newest")
    expect(rows.nth(1)).to_contain_text("Version 1")
    expect(rows.nth(1).locator(".badge")).to_have_count(0)
    expect(rows.nth(1).get_by_role("button", name=re.compile(r"^Pin version 1"))).to_be_visible()
    shot("project-versions")

    compare = page.locator("form.compare-form")
    compare.get_by_label("Compare").select_option(label="Version 1")
    compare.get_by_label("with").select_option(label="Version 2")
    compare.get_by_role("button", name="Compare").click()
    expect(page).to_have_url(re.compile(r"/compare\?a=1&b=2$"))
    expect(heading(page)).to_have_text("Version 1 and version 2")
    table = page.locator(".compare-table").first
    examples = table.locator("tr").filter(has=page.get_by_role("rowheader", name="Examples"))
    expect(examples.locator("td")).to_have_text([str(2 * PER_CLASS), str(2 * PER_CLASS + 2)])
    accuracy = table.locator("tr").filter(has=page.get_by_role("rowheader", name="Accuracy"))
    expect(accuracy.locator("td")).to_have_text([re.compile(r"%"), re.compile(r"%")])
    for cls in CLASSES:
        row = table.locator("tr").filter(has=page.get_by_role("rowheader", name=cls, exact=True))
        expect(row.locator("td")).to_have_text([re.compile(r"^\d\.\d\d$")] * 2)
    evaluation = table.locator("tr").filter(has=page.get_by_role("rowheader", name="Evaluation"))
    expect(evaluation.locator("td")).to_have_text([re.compile("cross-validation|Hold-out")] * 2)
    expect(page.locator("#same-examples")).to_contain_text(re.compile(r"version 1", re.I))
    shot("compare")

    # 7. Pin version 1: it answers, and the page says why, until the newest is chosen again.
    page.get_by_role("link", name="Back to the project").click()
    rows.nth(1).get_by_role("button", name=re.compile(r"^Pin version 1")).click()
    expect(flash(page)).to_contain_text("Version 1 now answers new photos")
    expect(page.locator("#serving-reason")).to_contain_text(
        "Version 1 answers new photos because you pinned it on"
    )
    expect(rows.nth(1).locator(".badge")).to_have_text("Serving, pinned")
    shot("project-pinned")
    page.get_by_role("button", name="Serve the newest version automatically").click()
    expect(rows.nth(0).locator(".badge")).to_have_text("Serving, newest")
    assert not overflows, f"pages that scroll sideways (scrollWidth, width): {overflows}"


def test_deleting_selected_photos_asks_first(
    page: Page, unique_email: Callable[[str], str], digits: dict[str, list[Path]]
) -> None:
    register(page, unique_email("delete-selected"))
    page.goto("/projects")
    form = page.locator("main form")
    form.get_by_label("Project name").fill(f"Pruned {uuid.uuid4().hex[:8]}")
    form.get_by_role("button", name="Create project").click()
    add = page.locator("form.add-class-form")
    add.get_by_label("Class name").fill("zero")
    add.get_by_role("button", name="Add class").click()
    page.locator(".class-card").get_by_role("link", name="zero").click()
    expect(heading(page)).to_have_text("zero")
    page.locator("#upload").get_by_label("Photos").set_input_files(digits["zero"][:2])
    page.locator("#upload").get_by_role("button", name="Upload photos").click()
    expect(page.locator(".upload-summary")).to_contain_text("Photos added: 2 of 2.", timeout=60_000)
    page.get_by_role("link", name="Show the new photos").click()
    tiles = page.locator(".example-tile")
    expect(tiles).to_have_count(2)

    # With nothing chosen there is nothing to ask about: no dialog (Playwright would dismiss
    # one, and the form would not be sent), the server's answer instead.
    page.get_by_role("button", name="Delete selected").click()
    expect(page.get_by_text("Select at least one photo.")).to_be_visible()
    expect(tiles).to_have_count(2)

    tiles.first.locator("input[type=checkbox]").check()
    asked = answer_confirmation(page, accept=False)
    page.get_by_role("button", name="Delete selected").click()
    assert asked == ["Delete the selected photos from zero? This cannot be undone."]
    expect(tiles).to_have_count(2)
    answer_confirmation(page, accept=True)
    page.get_by_role("button", name="Delete selected").click()
    expect(tiles).to_have_count(1)
