"""The therapist's report: one self-contained HTML page whose numbers are the
history's, whose plots are there and described, which a real browser
(headless Chromium) loads without a console message, renders and prints."""
from __future__ import annotations

import datetime as dt
import re
import subprocess
import time
from collections import defaultdict
from html.parser import HTMLParser

import pytest

from openpuck.clinic import browser, units
from openpuck.clinic.history import History
from openpuck.clinic.progression import ProgressionRule
from openpuck.clinic.report import write_report
from tests import synthetic_history as synth
from tests.toolchain import need_tool

pytest.importorskip("matplotlib")

NOW = dt.datetime(2025, 3, 17, 9, 0)          # the day after the last session
PLOTS = {"reps", "range", "force", "success", "targets", "adherence"}


class Page(HTMLParser):
    """The parts of the page the tests read: tables by id (cell texts per
    row, by thead/tbody/tfoot), every element's attributes, texts by id."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.tables: dict[str, dict[str, list[list[str]]]] = {}
        self.row_attrs: dict[str, list[dict[str, str]]] = defaultdict(list)
        self.text_of: dict[str, str] = {}
        self._table: str | None = None
        self._part = "tbody"
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._open: list[tuple[str, str | None]] = []    # (tag, id) of the elements we are inside
        self._texts: dict[str, list[str]] = defaultdict(list)
        self._all: list[str] = []
        self.feed(text)
        self.text_of = {k: " ".join("".join(v).split()) for k, v in self._texts.items()}
        self.all_text = " ".join(" ".join(self._all).split())

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        self.elements.append((tag, a))
        if tag not in ("meta", "br", "rect", "path", "use", "img", "input", "link"):
            self._open.append((tag, a.get("id")))
        if tag == "table":
            self._table = a.get("id", f"table{len(self.tables)}")
            self.tables[self._table] = {"thead": [], "tbody": [], "tfoot": []}
        elif tag in ("thead", "tbody", "tfoot"):
            self._part = tag
        elif tag == "tr" and self._table:
            self._row = []
            self.row_attrs[self._table].append(a)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table:
            self.tables[self._table][self._part].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None
        while self._open and tag not in ("meta", "br", "rect", "path", "use", "img", "input", "link"):
            t, _ = self._open.pop()
            if t == tag:
                break

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        for _, i in self._open:
            if i:
                self._texts[i].append(data)
        self._all.append(data)

    def with_tag(self, tag: str) -> list[dict[str, str]]:
        return [a for t, a in self.elements if t == tag]


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("history") / "history.sqlite3"
    return path, synth.build(path)


@pytest.fixture(scope="module")
def anna(db, tmp_path_factory):
    path, _ = db
    out = tmp_path_factory.mktemp("report") / "anna.html"
    with History(path) as h:
        assert write_report(h, "anna", out, now=NOW) == out
    return out, Page(out.read_text(encoding="utf-8"))


def summary_rows(page: Page) -> dict[str, dict[str, str]]:
    t = page.tables["summary"]
    head = t["thead"][0]
    exercises = [a["data-exercise"] for a in page.row_attrs["summary"] if "data-exercise" in a]
    return {ex: dict(zip(head, row)) for ex, row in zip(exercises, t["tbody"])}


def pct(reps: int, partials: int) -> str:
    return f"{100 * reps / (reps + partials):.0f}%"


# --- the numbers are the history's ---

def test_the_summary_counts_every_set_rep_and_partial_rep_that_was_written(db, anna):
    _, written = db
    _, page = anna
    rows = summary_rows(page)
    assert list(rows) == ["grip_squeeze", "wrist_flexion", "forearm_rotation"]   # in the order first done
    for ex, row in rows.items():
        sets = synth.of(written, "anna", ex)
        reps = sum(len(s.reps) for s in sets)
        partials = sum(len(s.partials) for s in sets)
        assert row["Exercise"] == ex.replace("_", " ")
        assert int(row["Sessions"]) == len({s.session for s in sets})
        assert int(row["Sets"]) == len(sets)
        assert int(row["Reps"]) == reps
        assert int(row["Partial reps"]) == partials
        assert row["Success"] == pct(reps, partials)


def test_the_summary_totals_equal_the_historys_daily_sums(db, anna):
    path, written = db
    _, page = anna
    (foot,) = page.tables["summary"]["tfoot"]
    with History(path) as h:
        daily = h.daily("anna")
        sessions = h.sessions("anna")
    assert foot[0] == "All exercises"
    assert int(foot[1]) == len(sessions) == 12
    assert int(foot[2]) == len(synth.of(written, "anna"))
    assert int(foot[3]) == sum(r.reps for r in daily) == sum(len(s.reps) for s in synth.of(written, "anna"))
    assert int(foot[4]) == sum(r.partial_reps for r in daily)
    assert foot[5] == pct(int(foot[3]), int(foot[4]))


def test_best_and_latest_amplitude_show_their_unit_and_day(db, anna):
    _, written = db
    _, page = anna
    rows = summary_rows(page)
    for ex, sym in (("grip_squeeze", " N"), ("wrist_flexion", "°"), ("forearm_rotation", "°")):
        sets = synth.of(written, "anna", ex)
        best = max((a, s.day) for s in sets for a in s.reps)
        assert rows[ex]["Best rep (date)"] == f"{best[0]:.1f}{sym} {best[1].isoformat()}"
        last_day = max(s.day for s in sets if s.reps)
        last = [a for s in sets if s.day == last_day for a in s.reps]
        assert rows[ex]["Latest day's mean (date)"] == f"{sum(last) / len(last):.1f}{sym} {last_day.isoformat()}"
        latest = max(sets, key=lambda s: s.started_at)
        assert rows[ex]["Target now"] == f"{latest.target:.1f}{sym}"


def test_the_header_gives_patient_period_programme_and_days_practised(anna):
    _, page = anna
    header = page.all_text
    assert "Home programme report: anna" in header
    assert "3 Mar 2025 – 16 Mar 2025 (14 days)" in header
    assert "Hand and arm" in header
    assert "12 (1 not ended)" in header
    assert f"{len(synth.PRACTISED)} of 14 (71%)" in header
    assert "16 Mar 2025 (1 day before this report)" in header
    assert page.text_of["adherence-count"] == "Practised on 10 of 14 days (71%)"


def test_the_calendar_has_a_square_a_day_filled_on_the_days_practised(anna):
    _, page = anna
    squares = {a["data-day"]: int(a["data-attempts"]) for a in page.with_tag("rect") if "data-day" in a}
    days = [synth.FIRST_DAY + dt.timedelta(days=k) for k in range(14)]
    assert sorted(squares) == [d.isoformat() for d in days]
    practised = {(synth.FIRST_DAY + dt.timedelta(days=k)).isoformat() for k in synth.PRACTISED}
    assert {d for d, n in squares.items() if n > 0} == practised
    # a session opened without a single attempt is not a day practised
    assert squares[(synth.FIRST_DAY + dt.timedelta(days=synth.OPENED_ONLY)).isoformat()] == 0
    weeks = page.tables["weeks"]["tbody"]
    assert weeks == [["2025-03-03", "5", "7"], ["2025-03-10", "5", "7"]]


def test_the_last_sessions_come_newest_first_and_the_one_cut_short_says_so(db, anna):
    _, written = db
    _, page = anna
    rows = page.tables["sessions"]["tbody"]
    assert len(rows) == 10                                  # of 12
    assert rows[0][:3] == ["2025-03-16", "10:00", "not ended"]
    assert [r[0] for r in rows] == sorted((r[0] for r in rows), reverse=True)
    ids = [int(a["data-session"]) for a in page.row_attrs["sessions"] if "data-session" in a]
    for sid, row in zip(ids, rows):
        sets = [s for s in written if s.session == sid]
        assert int(row[5]) == len(sets)
        assert int(row[6]) == sum(len(s.reps) for s in sets)
        assert int(row[7]) == sum(len(s.partials) for s in sets)
    assert "The last 10 of 12 sessions" in page.all_text


def test_anothers_data_stays_out(anna):
    _, page = anna
    assert "foot press" not in page.all_text and "Leg" not in page.all_text


# --- the plots ---

def test_every_plot_is_an_inline_svg_with_a_title_and_a_description(anna):
    _, page = anna
    svgs = [a for a in page.with_tag("svg") if a.get("role") == "img"]
    assert {a["aria-labelledby"].split()[0].removeprefix("fig-").removesuffix("-title") for a in svgs} == PLOTS
    for slug in PLOTS:
        title, desc = page.text_of[f"fig-{slug}-title"], page.text_of[f"fig-{slug}-desc"]
        assert title and len(desc) > 60, slug
    assert len(page.with_tag("figure")) == len(PLOTS)
    assert len(page.with_tag("figcaption")) == len(PLOTS)    # the description shows under each: on paper too


def test_the_descriptions_carry_the_numbers(anna):
    _, page = anna
    assert "534 reps and" in page.text_of["fig-reps-desc"]
    assert "best rep 28.3 N" in page.text_of["fig-force-desc"]
    assert "best rep 53.3°" in page.text_of["fig-range-desc"]
    assert "70 to 90%" in page.text_of["fig-success-desc"]
    assert "practised on 10 of 14 days" in page.text_of["fig-adherence-desc"]


def test_the_success_band_is_the_progression_rules(db, tmp_path):
    path, _ = db
    with History(path) as h:
        write_report(h, "anna", tmp_path / "r.html", rule=ProgressionRule(success_low=0.6, success_high=0.8),
                     now=NOW)
    text = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "aim: 60–80% (progression rule)" in text and "70–90%" not in text


def test_ids_are_unique_though_every_matplotlib_figure_numbers_its_own(anna):
    _, page = anna
    ids = [a["id"] for _, a in page.elements if "id" in a]
    assert len(ids) > 100 and len(ids) == len(set(ids))
    refs = {m for _, a in page.elements for v in a.values() for m in re.findall(r"url\(#([^)]+)\)", v)}
    assert refs and refs <= set(ids)                        # every clip path still found


def test_the_page_needs_nothing_from_outside_itself(anna):
    out, page = anna
    assert not page.with_tag("script") and not page.with_tag("link")
    for _, a in page.elements:
        for key in ("src", "href", "xlink:href"):
            v = a.get(key)
            assert v is None or v.startswith("#") or v.startswith("data:"), (key, v)
    (csp,) = [a for a in page.with_tag("meta") if a.get("http-equiv") == "Content-Security-Policy"]
    assert "default-src 'none'" in csp["content"]
    assert not list(out.parent.glob(".*.tmp"))             # written whole, nothing left beside it


def test_the_same_history_gives_the_same_page(db, anna, tmp_path):
    path, _ = db
    with History(path) as h:
        again = write_report(h, "anna", tmp_path / "again.html", now=NOW)
    assert again.read_bytes() == anna[0].read_bytes()


def test_a_patient_with_no_sessions_gets_a_page_that_says_so(db, tmp_path):
    path, _ = db
    with History(path) as h:
        out = write_report(h, "nobody", tmp_path / "nobody.html", now=NOW)
    page = Page(out.read_text(encoding="utf-8"))
    assert "No sessions recorded for nobody yet." in page.all_text
    assert not page.with_tag("svg") and "summary" not in page.tables


def test_a_plot_with_nothing_to_show_says_why(db, tmp_path):
    path, _ = db
    with History(path) as h:                                # ben: one force exercise, no angle
        out = write_report(h, "ben", tmp_path / "ben.html", title="Ben, week 1", now=NOW)
    page = Page(out.read_text(encoding="utf-8"))
    assert "No exercise measured in ° with a rep yet." in page.all_text
    assert page.text_of["fig-force-title"] == "Force per exercise"
    assert "Ben, week 1" in page.all_text and page.text_of["fig-force-desc"].endswith("best rep 75.0 N.")


# --- axes that fit the period (issue 20) ---

DAY_TICK = re.compile(r"^\d{1,2} [A-Z][a-z]{2}( \d{4})?( \(\d+\))?$")
TEXT = re.compile(r'<text style="font-size: ([\d.]+)px[^"]*" x="([-\d.]+)" y="([-\d.]+)"[^>]*>([^<]*)</text>')


def texts_of(page_text: str, slug: str) -> list[tuple[float, float, float, str]]:
    """(font size, x, y, text) of every text of a figure that matplotlib drew."""
    fig = re.search(rf'<figure id="fig-{slug}">(.*?)</figure>', page_text, re.S).group(1)
    return [(float(f), float(x), float(y), t) for f, x, y, t in TEXT.findall(fig)]


def day_ticks(page_text: str, slug: str) -> list[str]:
    return [t for _, _, _, t in texts_of(page_text, slug) if DAY_TICK.match(t)]


def assert_apart(page_text: str, slug: str) -> None:
    """Day labels side by side on one axis do not overlap (a DejaVu Sans letter
    is at most 0.62 em wide on average; labels are centred on their tick)."""
    rows: dict[float, list[tuple[float, float, str]]] = defaultdict(list)
    for size, x, y, t in texts_of(page_text, slug):
        if DAY_TICK.match(t):
            rows[y].append((x, size, t))
    assert rows, slug
    for row in rows.values():
        row.sort()
        for (x1, s1, t1), (x2, s2, t2) in zip(row, row[1:]):
            assert x2 - x1 >= 0.62 * (s1 * len(t1) + s2 * len(t2)) / 2, (slug, t1, t2, x2 - x1)


def test_a_report_of_one_day_has_axes_of_that_day(db, tmp_path):
    path, _ = db
    with History(path) as h:                                # ben: one session on 5 March 2025
        out = write_report(h, "ben", tmp_path / "ben.html", now=NOW)
    text = out.read_text(encoding="utf-8")
    for slug in ("reps", "force", "success", "targets"):
        assert day_ticks(text, slug) == ["5 Mar 2025"], slug
        others = [t for _, _, _, t in texts_of(text, slug) if re.search(r"^(19|20)\d\d$|\d:\d\d|\d\.\d", t)]
        assert not others, (slug, others)            # no years around it, no hours, no half reps
    # the markers sit inside the plot: the axis goes above the best rep (75 N) and the target (60 N)
    for slug, top in (("force", 75.0), ("targets", 60.0)):
        ys = [float(t) for _, _, _, t in texts_of(text, slug) if re.fullmatch(r"\d+", t)]
        assert max(ys) > top, (slug, ys)
    page = Page(text)
    assert "(1 day)" in page.all_text and "1 days" not in page.all_text and "(s)" not in text
    assert "Practised on 1 of 1 day " in page.all_text and "1 session in all" in page.all_text


def test_the_report_names_no_file_of_this_computer(db, anna):
    path, _ = db
    out, page = anna
    text = out.read_text(encoding="utf-8")
    assert str(path.parent) not in text and path.name not in text
    assert page.text_of.get("footer", page.all_text).endswith("Made by OpenPuck " + openpuck_version() + ".")


def openpuck_version() -> str:
    import openpuck
    return openpuck.__version__


def test_a_period_across_months_has_day_ticks_that_do_not_overlap(tmp_path):
    """27 February to 6 March: each tick a day, labels apart, the calendar's
    month labels apart too."""
    days = [dt.date(2025, 2, 27), dt.date(2025, 2, 28), dt.date(2025, 3, 2), dt.date(2025, 3, 2),
            dt.date(2025, 3, 4), dt.date(2025, 3, 6)]
    out: list = []
    with History(tmp_path / "h.sqlite3") as h:
        for n, day in enumerate(days):
            start = synth._at(day, 10 + 6 * (n == 3))
            session = h.start_session("cleo", "Hand", start)
            for k, (exercise, unit) in enumerate((("grip_squeeze", "N"), ("wrist_flexion", "deg"),
                                                 ("forearm_rotation", "deg"))):
                synth._write_set(out, h, "cleo", session, day, start + 120 * k, exercise, unit, 1, 15.0 + n,
                                 [20.0 + n, 22.0 + n, 21.0], [9.0])
            h.end_session(session, start + 600)
        page = write_report(h, "cleo", tmp_path / "cleo.html", now=NOW).read_text(encoding="utf-8")
    for slug in ("reps", "range", "force", "success", "targets"):
        ticks = day_ticks(page, slug)
        assert ticks and all(int(t.split()[0]) in {d.day for d in days} | set(range(27, 29)) | set(range(1, 7))
                             for t in ticks), (slug, ticks)
        assert_apart(page, slug)
    assert day_ticks(page, "reps")[0] == "27 Feb 2025" and "Mar" in day_ticks(page, "reps")[-1]
    cal = re.search(r'<figure id="fig-adherence">(.*?)</figure>', page, re.S).group(1)
    months = [(float(x), t) for x, t in re.findall(r'<text x="([\d.]+)" y="[\d.]+" class="cal-label">'
                                                  r'([A-Z][a-z]{2}(?: \d{4})?)</text>', cal)]
    assert [t for _, t in months if t[:3] in ("Feb", "Mar")], months
    for (x1, t1), (x2, _) in zip(months, months[1:]):
        assert x2 - x1 >= 9 * 0.62 * len(t1), months


def test_a_report_that_cannot_be_written_names_the_path_asked_for(db, tmp_path, capsys):
    from openpuck.cli import main
    path, _ = db
    assert main(["report", "--patient", "ben", "--db", str(path), "-o", "/proc/x.html"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("openpuck report: error: /proc/x.html: cannot write the report") and ".tmp" not in err
    assert len(err.splitlines()) == 1


def test_units_read_as_people_write_them():
    assert units.amount(32.46, "deg") == "32.5°"
    assert units.amount(21, "N") == "21.0 N"
    assert units.amount(None, "N") == "–"
    assert units.percent(0.875) == "88%"


# --- in a real browser ---

@pytest.fixture
def chromium(monkeypatch):
    path = need_tool("chromium", "chromium")
    monkeypatch.setenv(browser.ENV_CHROMIUM, path)          # the report's PDF uses the same one
    return path


def console_messages(stderr: str) -> list[str]:
    """What the page logged to the browser console (Chromium prints it as
    INFO:CONSOLE lines with --enable-logging=stderr): scripts' errors and
    warnings, blocked loads, Content-Security-Policy violations."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def load(chromium: str, url: str, *extra: str) -> tuple[subprocess.CompletedProcess[str], float]:
    t = time.monotonic()
    done = browser.run_headless(url, ["--enable-logging=stderr", "--v=0", *extra], chromium=chromium,
                                timeout_s=120)
    return done, time.monotonic() - t


def test_the_console_check_sees_what_it_must(chromium, tmp_path):
    """The control: a page with a script error and an image from the web is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="'
                   'default-src \'none\'; script-src \'unsafe-inline\'"></head><body><script>nosuch();</script>'
                   '<img src="https://example.org/x.png" alt=""></body></html>')
    done, _ = load(chromium, bad.as_uri(), "--dump-dom")
    messages = console_messages(done.stderr)
    assert any("nosuch is not defined" in m for m in messages), done.stderr[-2000:]
    assert any("example.org" in m for m in messages)


def test_chromium_loads_the_report_without_a_console_message(chromium, anna, db):
    out, _ = anna
    done, seconds = load(chromium, out.as_uri(), "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    assert console_messages(done.stderr) == []
    assert seconds < 60
    dom = Page(done.stdout)                                # the DOM as Chromium built it
    (foot,) = dom.tables["summary"]["tfoot"]
    assert foot[:5] == ["All exercises", "12", str(len(synth.of(db[1], "anna"))), "534", "96"]
    assert len([a for a in dom.with_tag("svg") if a.get("role") == "img"]) == len(PLOTS)


def test_chromium_renders_the_plots(chromium, anna, tmp_path):
    from PIL import Image  # matplotlib's own dependency
    out, _ = anna
    shot = tmp_path / "anna.png"
    done, _ = load(chromium, out.as_uri(), f"--screenshot={shot}", "--window-size=1100,6000",
                   "--hide-scrollbars")
    assert shot.is_file(), done.stderr[-2000:]
    assert shot.stat().st_size > 100_000
    img = Image.open(shot).convert("RGB")
    assert img.size == (1100, 6000)
    colours = img.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 500       # text, lines, bars: not a blank page
    count = {c: n for n, c in colours}
    # each exercise's colour, drawn by the bars and lines of the SVGs (not by any CSS)
    for hexcode in ("#0072B2", "#E69F00", "#009E73"):
        rgb = tuple(int(hexcode[i:i + 2], 16) for i in (1, 3, 5))
        assert count.get(rgb, 0) > 2000, hexcode
    assert count.get((0xEE, 0xEE, 0xEE), 0) > 100             # the calendar's days not practised


def test_chromium_prints_the_report_to_a_pdf(chromium, db, tmp_path):
    path, _ = db
    with History(path) as h:
        html = write_report(h, "anna", tmp_path / "anna.html", pdf=True, now=NOW)
    pdf = html.with_suffix(".pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", data))
    assert 2 <= pages <= 12                                  # A4: the charts span a few pages
    sizes = {tuple(round(float(x)) for x in m) for m in re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", data)}
    assert sizes == {(595, 842)}                             # A4 in points, as the page's @page asks


def test_a_pdf_without_chromium_says_how_to_get_one_and_the_page_is_still_written(db, tmp_path, monkeypatch):
    path, _ = db
    monkeypatch.setenv(browser.ENV_CHROMIUM, str(tmp_path / "no-chromium-here"))
    with History(path) as h, pytest.raises(browser.BrowserError, match="OPENPUCK_CHROMIUM=.*no such program"):
        write_report(h, "anna", tmp_path / "anna.html", pdf=True)
    assert (tmp_path / "anna.html").is_file() and not (tmp_path / "anna.pdf").exists()
    monkeypatch.delenv(browser.ENV_CHROMIUM)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(browser.BrowserError, match="apt-get install chromium"):
        browser.print_pdf(tmp_path / "anna.html", tmp_path / "anna.pdf")


def test_sets_logged_on_the_puck_while_no_host_listened_are_marked(tmp_path):
    from openpuck.clinic.history_log import LOGGED, import_log
    from openpuck.device.events import Rep
    from tests.test_history_log import MARK, SERIAL, a_set, rep
    out = tmp_path / "anna.html"
    with History(tmp_path / "history.sqlite3") as h:
        session = h.start_session("anna", "Hand", started_at=MARK + 59)
        set_id = h.start_set(session, "grip_squeeze", 1, 20.0, "N", ["right_hand"], started_at=MARK + 60)
        first = rep(0, 3, 1, 64_000).fields
        h.add_event(set_id, Rep(t=64.0, exercise="grip_squeeze", count=1, t_start=first["t_start_us"] / 1e6,
                                t_peak=first["t_peak_us"] / 1e6, t_end=64.0, amplitude=31.5, unit="N",
                                hold_s=0.6, host_time=MARK + 62.0), "right_hand")
        h.end_session(session, ended_at=MARK + 70)
        left_mid_set = a_set(0, 0, start_ms=62_000, reps=3)                              # the host left mid-set
        away = a_set(1, len(left_mid_set), start_ms=10_000, reps=2, mark=MARK + 3600)   # away throughout
        import_log(h, "anna", SERIAL, left_mid_set + away)
        write_report(h, "anna", out, now=dt.datetime.fromtimestamp(MARK + 7200))
    page = Page(out.read_text(encoding="utf-8"))
    rows = page.tables["sessions"]["tbody"]
    assert [(r[3], r[6]) for r in rows] == [(LOGGED, "2"), ("Hand (1 set logged on the puck)", "3")]
    assert "pulled from its own log later" in page.all_text
