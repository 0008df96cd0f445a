"""Run by tests/compliance/test_report_jobs.py in a process of its own, against the fresh
database of the database_env fixture: the organisation of tests/conftest.py, then an
auditor asks for the PDF on the report page with Django's test client, follows the job
page (the job runs in the process the page started) and downloads the file. Prints what
it saw as JSON."""

from __future__ import annotations

import json
import os
import re
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "secman.settings")
django.setup()

from django.test import Client  # noqa: E402

from tests.conftest import build_org  # noqa: E402


def main(first: str, last: str) -> None:
    org = build_org()
    client = Client()
    client.force_login(org.aud.user)
    asked = client.post("/compliance/report/jobs/", {"from": first, "to": last})
    job_url = asked["Location"]
    seen: list[str] = []
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        page = client.get(job_url).content.decode()
        status = re.search(r'data-status="(\w+)"', page)[1]
        seen.append(status)
        if status in ("done", "failed"):
            break
        time.sleep(1)
    download = client.get(f"{job_url}file/")
    body = b"".join(download.streaming_content) if download.status_code == 200 else b""
    other = Client()
    other.force_login(org.bea.user)
    print(json.dumps({
        "asked": asked.status_code, "job_url": job_url, "seen": seen,
        "refresh": '<meta http-equiv="refresh"' in client.get(job_url).content.decode(),
        "status": download.status_code, "type": download.get("Content-Type"),
        "disposition": download.get("Content-Disposition"), "start": body[:5].decode(),
        "size": len(body), "board_member": other.get(f"{job_url}file/").status_code,
    }))


if __name__ == "__main__":
    main(*sys.argv[1:3])
