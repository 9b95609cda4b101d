"""openpuck report: the therapist's report of a patient's history (HTML, and PDF)."""
from __future__ import annotations

import sys
from pathlib import Path

from . import CliError

HELP = "the therapist's report of a patient's history: one HTML page with plots (and a PDF with --pdf)"
DESCRIPTION = """\
Write one self-contained HTML page about a patient's home programme: who,
the period and programmes; a summary per exercise (sessions, reps, partial
reps, success rate, best and latest range of motion or force, the target
now); days practised on a calendar; reps per day; range of motion (°) and
force (N) per exercise over time; success rate per day against the
progression's 70-90% band; the target of every set; the last sessions.

Open it in any browser, offline: plots and styles are inside the file.
Print it from the browser (laid out for A4), or give --pdf to print it
here through headless Chromium (apt-get install chromium) into a PDF
beside the HTML. The database is read as `openpuck history` reads it."""
EPILOG = """\
examples:
  openpuck report --patient anna -o anna.html          then open anna.html in a browser
  openpuck report --patient anna -o anna.html --pdf    and anna.pdf beside it, to mail or print
  openpuck report --patient anna -o reports/anna-week3.html --title "Anna, weeks 1-3"
  openpuck report --patient anna --db /mnt/clinic/history.sqlite3 -o anna.html
  openpuck history                                      the patients there are
"""


def add_arguments(p) -> None:
    p.add_argument("--patient", metavar="ID", required=True,
                   help="the patient's name or id (`openpuck history` lists them)")
    p.add_argument("-o", "--output", metavar="REPORT.html",
                   help="the HTML file to write (default: <patient>-report.html here)")
    p.add_argument("--pdf", action="store_true",
                   help="also print it to a PDF beside the HTML (needs Chromium)")
    p.add_argument("--title", help="the page's heading (default: Home programme report: <patient>)")
    p.add_argument("--db", metavar="PATH", help="the history database, or its folder "
                                                "(default: history.sqlite3 in the data folder)")


def run(args) -> int:
    from ..clinic import browser
    from ..clinic.report import write_report
    from ..clinic.report_data import gather
    from ..clinic.units import percent
    from ._history_db import known_patient, open_history, plural
    out = Path(args.output) if args.output else None
    if out is not None and out.suffix.lower() not in (".html", ".htm"):
        hint = f" (--pdf writes {out.with_suffix('.pdf').name} beside it)" if out.suffix.lower() == ".pdf" else ""
        raise CliError(f"{out}: give an .html name{hint}")
    with open_history(args.db) as h:
        patient = known_patient(h, args.patient)
        out = out or Path(f"{patient.replace(' ', '_')}-report.html")
        write_report(h, patient, out, title=args.title)
        data = gather(h, patient)
    print(f"{out}: {patient}, {plural(len(data.sessions), 'session')} from {data.first_day} to "
          f"{data.last_day}, practised on {len(data.days_practised)} of {plural(len(data.days), 'day')}, "
          f"{plural(data.reps, 'rep')} ({percent(data.success_rate)} success)")
    if args.pdf:
        pdf = out.with_suffix(".pdf")
        try:
            browser.print_pdf(out, pdf)
        except browser.BrowserError as e:
            print(f"openpuck report: no PDF ({out} is written; print it from a browser): {e}", file=sys.stderr)
            return 2
        print(f"{pdf}: the same, printed for A4")
    return 0
