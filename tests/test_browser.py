"""The app in a real browser: a student gets feedback, a tutor marks two files, hostile text stays text.

Drives Debian's chromium (never a downloaded one) against `streamlit run app/main.py`
started on a free local port; writes the screenshots in docs/screenshots/.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.session_bench import CHROMIUM, CHROMIUM_ARGS, running_app

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "docs" / "screenshots"
DEVSET = ROOT / "data" / "devset" / "essays"
WAIT_MS = 60_000  # a generous bound for the first model fit on a slow CI machine; not an assertion about speed

HOSTILE = "<script>alert(1)</script>"
HOSTILE_IMG = "<img src=x onerror=alert(1)>"

if not CHROMIUM.exists():
    if os.environ.get("CI") == "true":
        pytest.fail(f"{CHROMIUM} is missing; CI must install Debian's chromium package to run the browser test", pytrace=False)
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)

from playwright.sync_api import Error as PlaywrightError, expect, sync_playwright  # noqa: E402
expect.set_options(timeout=WAIT_MS)


def _essay(name: str) -> str:
    return (DEVSET / name).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def app_url():
    with running_app(wait_s=WAIT_MS / 1000) as app:  # $RUBRICATE_DB: conftest's throwaway store
        yield app.url


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.dialogs = dialogs
    try:
        yield page
    finally:
        context.close()


def _get_feedback(page, text: str) -> None:
    box = page.locator("textarea")
    box.fill(text)
    box.press("Control+Enter")  # commit the text to the app before the click
    _wait_until_idle(page)  # a click that lands while that rerun is under way can be lost
    page.get_by_role("button", name="Get feedback").click()
    expect(page.locator(".rb-essay")).to_be_visible()


def _wait_until_idle(page) -> None:
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached")


def _screenshot(page, name: str) -> None:
    """The whole page: Streamlit scrolls inside its main pane, so grow the window to fit it first."""
    _wait_until_idle(page)
    height = 0
    for _ in range(4):  # the page can still grow as the last parts draw: measure again until it stops
        grown = int(page.evaluate("document.querySelector('[data-testid=stMainBlockContainer]').scrollHeight"))
        if grown == height:
            break
        height = grown
        page.set_viewport_size({"width": 1280, "height": min(height + 80, 8000)})
        page.wait_for_timeout(500)  # let charts re-layout to the new size; not a timing assertion
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name))


def test_page_opened_by_its_own_url_on_a_fresh_server_keeps_its_sidebar(app_url, page):
    # First test of the module: the server has not yet run main.py for anyone.
    page.goto(f"{app_url}/coverage")
    expect(page.get_by_role("heading", name="Coverage report")).to_be_visible()
    expect(page.get_by_role("link", name="Tutor: mark a batch")).to_be_visible()
    expect(page.get_by_role("heading", name="Question")).to_be_visible()


def test_student_gets_factor_levels_and_highlighted_evidence(app_url, page):
    page.goto(app_url)
    expect(page.get_by_role("heading", name="Feedback on your essay")).to_be_visible()
    _get_feedback(page, _essay("d01.txt"))

    expect(page.get_by_text("Coverage of the rubric")).to_be_visible()
    expect(page.get_by_text("Mark estimate", exact=True)).to_be_visible()
    page.get_by_text("What moved the mark estimate").click()
    expect(page.get_by_role("cell", name="An average essay")).to_be_visible()  # the estimate added up, part by part
    expect(page.get_by_text("Stalin's role as General Secretary").first).to_be_visible()
    expect(page.get_by_text("developed").first).to_be_visible()
    highlighted = page.locator(".rb-essay mark")
    assert highlighted.count() >= 1
    assert highlighted.first.inner_text().strip() in _essay("d01.txt")
    _screenshot(page, "student.png")


def test_student_uploads_a_word_document_and_gets_feedback(app_url, page, tmp_path):
    import docx

    document = docx.Document()
    for paragraph in _essay("d01.txt").split("\n\n"):
        document.add_paragraph(paragraph)
    path = tmp_path / "my essay.docx"
    document.save(path)
    page.goto(app_url)
    page.get_by_text("Upload a file").click()
    page.locator('input[type="file"]').set_input_files(str(path))
    expect(page.get_by_text("my essay.docx")).to_be_visible()
    page.get_by_role("button", name="Get feedback").click()
    expect(page.locator(".rb-essay")).to_be_visible()
    expect(page.get_by_text("Mark estimate", exact=True)).to_be_visible()
    assert page.locator(".rb-essay mark").count() >= 1


def test_hostile_essay_shows_markup_as_text_and_runs_nothing(app_url, page):
    essay = (
        f"Stalin became leader because he was General Secretary {HOSTILE} and could appoint his supporters. "
        f"{HOSTILE_IMG} Trotsky was arrogant and missed Lenin's funeral, which made him look disloyal. "
        "Stalin allied with Zinoviev and Kamenev against Trotsky and then turned on them."
    )
    page.goto(app_url)
    _get_feedback(page, essay)
    shown = page.locator(".rb-essay")
    expect(shown).to_contain_text(HOSTILE)
    expect(shown).to_contain_text(HOSTILE_IMG)
    assert shown.locator("script").count() == 0
    assert shown.locator("img").count() == 0
    assert page.dialogs == []


def test_tutor_marks_two_files_and_sees_both_then_the_coverage_report(app_url, page, tmp_path):
    alice, bob = tmp_path / 'alice "al".txt', tmp_path / "bob.txt"  # the browser sends the quotes as %22
    alice.write_text(_essay("d02.txt"), encoding="utf-8")
    bob.write_text(_essay("d03.txt"), encoding="utf-8")
    page.goto(app_url)  # as a tutor arrives: the front page, then the sidebar
    page.get_by_role("link", name="Tutor: mark a batch").click()
    expect(page.get_by_role("heading", name="Mark a batch of essays")).to_be_visible()
    page.locator('input[type="file"]').set_input_files([str(alice), str(bob)])
    expect(page.get_by_text("bob.txt").first).to_be_visible()
    page.get_by_role("button", name="Mark essays").click()

    expect(page.get_by_text("Results: 2 marked")).to_be_visible()
    table = page.locator('[data-testid="stDataFrame"]').first
    expect(table).to_contain_text('alice "al".txt')
    expect(table).to_contain_text("bob.txt")
    expect(page.locator(".rb-essay")).to_be_visible()  # the first student's feedback opens below
    _screenshot(page, "batch.png")

    page.get_by_role("link", name="Coverage report").click()
    expect(page.get_by_role("heading", name="Coverage report")).to_be_visible()
    expect(page.get_by_text("2 essays marked")).to_be_visible()
    expect(page.get_by_text("Sentences of each reference essay that make each factor's point")).to_be_visible()
    expect(page.get_by_role("heading", name="Reference sentences that match no factor")).to_be_visible()
    _screenshot(page, "coverage.png")
    assert page.dialogs == []


def _choose(page, label: str, option: str) -> None:
    """Pick `option` in the Streamlit selectbox labelled `label`, and wait for the rerun it starts."""
    # A rerun that starts just after the click redraws the box and closes its list: open it again until it stays open.
    # While a rerun draws, the page can briefly hold the old box beside the new one: act on the newest.
    # The same can happen between typing and choosing, so each try goes from opening the list to choosing.
    for _ in range(8):
        _wait_until_idle(page)
        try:
            page.get_by_label(label, exact=True).last.click(timeout=5_000)
            expect(page.get_by_role("listbox")).to_be_visible(timeout=5_000)
            page.keyboard.type(option)  # filters a long list (marks 0-20) down to the one option
            page.get_by_role("option", name=option, exact=True).click(timeout=5_000)
            break
        except (AssertionError, PlaywrightError):
            page.keyboard.press("Escape")
    else:
        pytest.fail(f"could not choose {option!r} in {label!r}: its list kept closing")
    _wait_until_idle(page)


def _uploader_in_expander(page, title: str):
    """The file input inside the expander titled `title`, once the expander is open and the uploader shows."""
    # A rerun that lands just after the click (the download before it starts one) redraws the expander closed, and
    # while it runs the page can briefly hold the old expander beside the new one: look again after each try.
    expanders = page.get_by_test_id("stExpander").filter(has_text=title)
    for _ in range(8):
        _wait_until_idle(page)
        expander = expanders.last
        try:
            if expander.locator("details[open]").count() == 0:
                expander.get_by_text(title).last.click(timeout=5_000)
            expect(expander.get_by_test_id("stFileUploader")).to_be_visible(timeout=5_000)
        except (AssertionError, PlaywrightError):
            continue
        if expanders.count() == 1:
            break
    return expanders.last.locator('input[type="file"]')


def test_the_tutors_override_is_what_the_student_report_the_coverage_page_and_a_reload_show(app_url, page, tmp_path):
    import io
    import zipfile

    lena, bob = tmp_path / "lena.txt", tmp_path / "bob.txt"
    lena.write_text(_essay("d11.txt"), encoding="utf-8")  # names Lenin's Testament, makes no point about it: absent, 9/20
    bob.write_text(_essay("d02.txt"), encoding="utf-8")
    page.goto(f"{app_url}/batch")
    expect(page.get_by_role("heading", name="Mark a batch of essays")).to_be_visible()
    page.locator('input[type="file"]').first.set_input_files([str(lena), str(bob)])
    expect(page.get_by_text("bob.txt").first).to_be_visible()
    page.get_by_role("button", name="Mark essays").click()
    expect(page.get_by_text("Results: 2 marked")).to_be_visible()
    assert "session=" in page.url

    _choose(page, "Lenin's Testament", "developed")
    _choose(page, "Mark /20", "16")
    expect(page.get_by_text("Tutor's mark", exact=True)).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Feedback reports (.zip of HTML)").click()
    archive = zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes()))
    report = archive.read("feedback-lena.html").decode()
    testament = report.split("<td>Lenin&#x27;s Testament</td>", 1)[1].split("</tr>", 1)[0]
    assert ">developed" in testament and "the tool said absent" in testament
    assert "Mark<b>16 / 20</b>" in report and "Mark estimate" not in report
    assert "makes no point" not in report and "Lenin&#x27;s Testament (absent)" not in report

    page.reload()
    expect(page.get_by_text("Results: 2 marked")).to_be_visible()
    expect(page.locator('[data-testid="stDataFrame"]').first).to_contain_text("lena.txt")

    page.get_by_role("link", name="Coverage report").click()
    expect(page.get_by_text("Lenin's Testament: absent in 1 of 2")).to_be_visible()
    assert page.dialogs == []


def test_no_page_requests_another_host_and_names_make_no_links_or_images(app_url, page, tmp_path):
    import zipfile

    requests: list[str] = []
    page.context.on("request", lambda request: requests.append(request.url))
    hostile = "![x](http://127.0.0.1:8765/p.png) [click me](http://evil.example)"
    upload = tmp_path / "class.zip"
    with zipfile.ZipFile(upload, "w") as archive:
        archive.writestr(f"{hostile}.txt", b"")
        archive.writestr("ann.txt", _essay("d01.txt"))
    page.goto(app_url)
    expect(page.get_by_role("heading", name="Feedback on your essay")).to_be_visible()
    _get_feedback(page, _essay("d05.txt"))
    page.get_by_role("link", name="Tutor: mark a batch").click()
    page.get_by_label("Session name", exact=True).fill(hostile)
    page.get_by_label("Session name", exact=True).press("Enter")
    _wait_until_idle(page)
    page.locator('input[type="file"]').first.set_input_files(str(upload))
    expect(page.get_by_text("class.zip").first).to_be_visible()
    page.get_by_role("button", name="Mark essays").click()
    expect(page.get_by_text("Results: 1 marked, 1 could not be read")).to_be_visible()
    expect(page.get_by_text("could not be marked")).to_be_visible()
    page.get_by_role("link", name="Coverage report").click()
    expect(page.get_by_text("Sentences of each reference essay that make each factor's point")).to_be_visible()
    _wait_until_idle(page)
    page.wait_for_timeout(1000)  # let late requests (favicon, fonts) happen before counting them; not a timing assertion

    assert page.get_by_role("button", name="Deploy").count() == 0  # client.toolbarMode = "minimal"
    assert page.locator('a[href*="evil.example"]').count() == 0
    assert page.locator('img[src*="8765"]').count() == 0
    elsewhere = [url for url in requests if not url.startswith(app_url) and not url.startswith(("data:", "blob:"))]
    assert elsewhere == [], elsewhere


def test_a_tutor_downloads_the_table_edits_it_and_uploads_it_back(app_url, page, tmp_path):
    import csv
    import io

    carl = tmp_path / "carl.txt"
    carl.write_text(_essay("d11.txt"), encoding="utf-8")
    page.goto(f"{app_url}/batch")
    page.locator('input[type="file"]').first.set_input_files(str(carl))
    expect(page.get_by_text("carl.txt").first).to_be_visible()
    page.get_by_role("button", name="Mark essays").click()
    expect(page.get_by_text("Results: 1 marked")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download table (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))
    assert rows[0]["Lenin's Testament"] == "absent"
    rows[0]["Lenin's Testament"] = "developed"
    rows[0]["tutor's comment"] = "Say what the Testament said."
    edited = tmp_path / "edited.csv"
    with edited.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    _uploader_in_expander(page, "Import a table you edited").set_input_files(str(edited))
    _uploader_in_expander(page, "Import a table you edited")  # the upload's rerun may redraw the expander closed: reopen it
    expect(page.get_by_text("edited.csv").first).to_be_visible()
    _wait_until_idle(page)
    page.get_by_role("button", name="Import changes").click()
    expect(page.get_by_text("Imported 1 level, 0 marks and 1 comment.")).to_be_visible()
    expect(page.locator('[data-testid="stDataFrame"]').first).to_contain_text("absent → developed")
    expect(page.get_by_text("Say what the Testament said.").first).to_be_visible()
