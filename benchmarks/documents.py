"""Documents benchmark: parsing the SM, the whole CLI compare of SP and SM (wall time,
interpreter start included), and importing a generated 5 MB document into the database.

    SECMAN_DATA_DIR=var .venv/bin/python benchmarks/documents.py [--runs 5]

Reads ../shared/reference/cacert/ beside the checkout. The import runs in a throw-away
SQLite database (or the PostgreSQL database DATABASE_URL names, in a test database made
and dropped by Django's test runner machinery). Results go to docs/performance.md by hand.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT.parent / "shared" / "reference" / "cacert"
SP = REFERENCE / "SecurityPolicy.html"
SM = REFERENCE / "SecurityManual.txt"
sys.path.insert(0, str(ROOT))


def generated_document(size: int = 5 * 1024 * 1024) -> bytes:
    """An HTML document of `size` bytes: 10 chapters, 4 levels, about 1 KB per section."""
    paragraph = ("<p>Access Engineers keep the inventory of storage media; every change of "
                 "status is reported with the people present, the steps taken and where the "
                 "media are kept (see §2.2.3 and SM§4.3).</p>\n")
    parts = ["<!doctype html><html><body><h1>Generated manual</h1>\n"]
    total = len(parts[0])
    chapter = 0
    while total < size:
        chapter += 1
        for b in range(1, 31):
            for c in range(1, 11):
                for d in range(1, 6):
                    number = f"{chapter}.{b}.{c}.{d}"
                    block = (f'<h4 id="s{number}">{number} Section {number}</h4>\n'
                             + paragraph * 5)
                    if d == 1:
                        block = f"<h3>{chapter}.{b}.{c} Part {c}</h3>\n" + block
                    if c == 1 and d == 1:
                        block = f"<h2>{chapter}.{b} Area {b}</h2>\n" + block
                    if b == 1 and c == 1 and d == 1:
                        block = f"<h1>{chapter}. Chapter {chapter}</h1>\n" + block
                    parts.append(block)
                    total += len(block)
                    if total >= size:
                        break
                if total >= size:
                    break
            if total >= size:
                break
    parts.append("</body></html>\n")
    return "".join(parts).encode()[: size + 100]


def timed(function, runs: int) -> list[float]:
    results = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        results.append(time.perf_counter() - start)
    return results


def show(name: str, seconds: list[float], limit: float) -> None:
    best, median = min(seconds), statistics.median(seconds)
    verdict = "ok" if median < limit else "TOO SLOW"
    print(f"{name:<48} median {median:7.3f} s  best {best:7.3f} s  "
          f"(limit {limit} s, {len(seconds)} runs) {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from secman.documents.importers import parse

    print(f"python {platform.python_version()} on {platform.machine()}, "
          f"{os.cpu_count()} CPUs; database {os.environ.get('DATABASE_URL', 'SQLite')}")
    sm = SM.read_bytes()
    show("parse the SM (45 KB wiki text)", timed(lambda: parse(sm, filename=SM.name),
                                                 args.runs * 4), 0.2)
    sp = SP.read_bytes()
    show("parse the SP (37 KB HTML)", timed(lambda: parse(sp, filename=SP.name),
                                            args.runs * 4), 0.2)

    secman = ROOT / ".venv" / "bin" / "secman"

    def cli_compare() -> None:
        subprocess.run([str(secman), "docs", "compare", str(SP), str(SM), "-q",  # noqa: S603
                        "--width", "160"], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)

    show("secman docs compare SP SM (wall, process start)", timed(cli_compare, args.runs), 1.0)

    big = generated_document()
    mb = len(big) / 1024 / 1024
    parsed = parse(big, filename="generated.html")
    print(f"generated document: {mb:.2f} MB, {len(parsed.sections)} sections")
    show(f"parse the generated {mb:.1f} MB document", timed(
        lambda: parse(big, filename="generated.html"), max(2, args.runs // 2)), 5.0)
    show(f"import the generated {mb:.1f} MB document (parse + store)",
         _import_times(big, max(2, args.runs // 2)), 5.0)


def _import_times(data: bytes, runs: int) -> list[float]:
    """Import into a fresh test database, the way the test suite makes one."""
    tmp = tempfile.mkdtemp(prefix="secman-bench-")
    os.environ.setdefault("SECMAN_DATA_DIR", tmp)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "secman.settings")
    import django

    django.setup()
    from django.test.utils import (
        setup_databases,
        setup_test_environment,
        teardown_databases,
        teardown_test_environment,
    )

    setup_test_environment()
    old = setup_databases(verbosity=0, interactive=False)
    try:
        from secman.documents.services import import_document

        results = []
        for run in range(runs):
            start = time.perf_counter()
            import_document(actor=None, data=data, filename="generated.html",
                            name=f"Generated {run}", kind="procedure")
            results.append(time.perf_counter() - start)
        return results
    finally:
        teardown_databases(old, verbosity=0)
        teardown_test_environment()


if __name__ == "__main__":
    main()
