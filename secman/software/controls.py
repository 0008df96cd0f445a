"""The controls of software assessment (SP/SM 7), each naming its section, declared in
CONTROLS for the compliance app to collect."""

from __future__ import annotations

from django.urls import reverse

from secman.core.controls import Control, Finding, Status
from secman.core.roles import TeamKind
from secman.software import git
from secman.software.models import Release, Repository
from secman.software.services import unreviewed_commits
from secman.systems.choices import SystemStatus

_SA = TeamKind.SOFTWARE_ASSESSMENT


def releases_reviewed() -> list[Finding]:
    """SM 7.3: every release's commits are still, as git shows them now, the reviewed
    commits of its changes: a rewritten history or a moved release commit is found."""
    found = []
    for release in Release.objects.select_related("repository").prefetch_related("changes"):
        try:
            missing = unreviewed_commits(release.repository, release.commit, release.since,
                                         list(release.changes.all()))
        except git.GitError as exc:
            found.append(Finding("SM 7.3", f"{release}: the repository cannot be read to check "
                                 f"it ({exc})", release.get_absolute_url(), Status.VIOLATED,
                                 f"release:{release.pk}"))
            continue
        if missing:
            found.append(Finding("SM 7.3", f"{release}: {len(missing)} commit(s) in it belong "
                                 f"to no reviewed change: {', '.join(m[:12] for m in missing)}",
                                 release.get_absolute_url(), Status.VIOLATED,
                                 f"release:{release.pk}"))
    return found


def repositories_registered() -> list[Finding]:
    """SM 7.3: the version control is kept on a system of the register, in service."""
    if not Repository.objects.exists():
        return [Finding("SM 7.3", "No repository is registered", reverse("software:overview"),
                        Status.NOT_EVIDENCED, "repositories")]
    return [Finding("SM 7.3", f"{repository} is hosted on {repository.system}, which is "
                    f"{repository.system.get_status_display().lower()}",
                    reverse("software:overview"), Status.VIOLATED, f"repository:{repository.pk}")
            for repository in Repository.objects.select_related("system")
            if repository.system.status != SystemStatus.IN_SERVICE]


CONTROLS = [
    Control("software.releases_reviewed", ("SM 7.3", "SP 7"),
            "Every commit of every release belongs to a change reviewed (as often as its risk "
            "needs, by people who did not write it) and tested, as git shows it now.", _SA,
            check=releases_reviewed),
    Control("software.repositories", ("SM 7.3",),
            "The central version control is registered, on a system of the register in "
            "service.", _SA, check=repositories_registered),
]
