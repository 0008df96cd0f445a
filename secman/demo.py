"""The demo organisation: fictional people in every team, filled access lists, Board
decisions, Arbitration cases, pending proposals and sign-offs, so that every page shows
something real. Everything is made through the services, so the Event Log tells the
story of how the organisation came to be."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from secman.authority import arbitration
from secman.authority import services as authority
from secman.authority.signoff import TASK, dual_control, four_eyes
from secman.core import channel
from secman.core.roles import Role, TeamKind
from secman.people import services as people
from secman.people.choices import ListKind
from secman.people.models import AccessList, Person, Team
from secman.people.selectors import roles_of, team_leader

DEMO_PASSWORD = "demo-secman-2026"

# login, name, team, role, leader
STAFF = [
    ("beatrix", "Beatrix Holloway", TeamKind.BOARD, Role.BOARD_MEMBER, False),
    ("tomasz", "Tomasz Brandt", TeamKind.BOARD, Role.BOARD_MEMBER, False),
    ("ingrid", "Ingrid Solberg", TeamKind.BOARD, Role.BOARD_MEMBER, False),
    ("aurelio", "Aurelio Vance", TeamKind.ARBITRATION, Role.ARBITRATOR, False),
    ("mina", "Mina Okafor", TeamKind.ARBITRATION, Role.CASE_MANAGER, False),
    ("ana", "Ana Kovač", TeamKind.ACCESS, Role.ACCESS_ENGINEER, True),
    ("jonas", "Jonas Weber", TeamKind.ACCESS, Role.ACCESS_ENGINEER, False),
    ("samir", "Samir Haddad", TeamKind.SYSTEMS_ADMINISTRATION, Role.SYSTEMS_ADMINISTRATOR, True),
    ("lena", "Lena Fischer", TeamKind.SYSTEMS_ADMINISTRATION, Role.SYSTEMS_ADMINISTRATOR, False),
    ("piet", "Piet de Vries", TeamKind.SYSTEMS_ADMINISTRATION, Role.SYSTEMS_ADMINISTRATOR,
     False),
    ("clara", "Clara Moreau", TeamKind.SOFTWARE_ASSESSMENT, Role.SOFTWARE_ASSESSOR, True),
    ("oskar", "Oskar Lind", TeamKind.SOFTWARE_ASSESSMENT, Role.SOFTWARE_ASSESSOR, False),
    ("hana", "Hana Sato", TeamKind.SUPPORT, Role.SUPPORT_ENGINEER, True),
    ("diego", "Diego Ramos", TeamKind.SUPPORT, Role.SUPPORT_ENGINEER, False),
    ("ursula", "Ursula Kent", TeamKind.AUDIT, Role.AUDITOR, False),
    ("ravi", "Ravi Menon", TeamKind.AUDIT, Role.AUDITOR, False),
]

# Approved at the start, so the lists have members.
LIST_MEMBERS = [
    (ListKind.PHYSICAL_CONTROL, "ana"),
    (ListKind.PHYSICAL_CONTROL, "jonas"),
    (ListKind.PHYSICAL_ACCESS, "samir"),
    (ListKind.PHYSICAL_ACCESS, "lena"),
    (ListKind.SSH_ACCESS, "piet"),
    (ListKind.REPOSITORY_ACCESS, "clara"),
    (ListKind.REPOSITORY_ACCESS, "oskar"),
    (ListKind.SUPPORT_ACCESS, "hana"),
    (ListKind.SUPPORT_ACCESS, "diego"),
    (ListKind.CONSOLE_ACCESS, "samir"),
    (ListKind.CONSOLE_ACCESS, "lena"),
]


def database_is_empty() -> bool:
    return not Person.objects.exists()


def existing_logins() -> list[tuple[str, str, str]]:
    logins = []
    for username, *_ in STAFF:
        person = Person.objects.filter(user__username=username).first()
        if person:
            logins.append((username, person.name, _roles_text(person)))
    return logins


def _roles_text(person: Person) -> str:
    return ", ".join(sorted(role.label for role in roles_of(person)))


def _email(username: str) -> str:
    return f"{username}@example.org"


@transaction.atomic
def load() -> list[tuple[str, str, str]]:
    """Build the organisation; returns (login, name, roles) for each demo login."""
    # Its entries say they are the demo's ("via": channel "demo"), made by the operator's
    # operating-system user: the fictional people sign both slots of their requests from
    # this one command, which the command line's one-slot-per-operator rule would refuse.
    with channel.using(channel.Channel(channel.DEMO, channel.os_user())):
        return _build()


def _build() -> list[tuple[str, str, str]]:
    today = timezone.localdate()
    founded = today - dt.timedelta(days=400)
    people_by_login: dict[str, Person] = {}
    for number, (username, name, *_rest) in enumerate(STAFF, start=1):
        people_by_login[username] = people.create_person(
            actor=None, authority="SP 9.1.3", name=name, email=_email(username),
            member_number=f"D-{1000 + number}", username=username, password=DEMO_PASSWORD,
            phone=f"+00 555 01{number:02d}", chat_handle=f"@{username}:chat.example.org",
            emergency_contact=f"Contact person of {name.split()[0]}, +00 555 09{number:02d}",
        )
    admin = people.create_person(actor=None, authority="SP 1.2", name="secman administrator",
                         email="admin@example.org", username="admin",
                         password=DEMO_PASSWORD, superuser=True)
    teams = {team.kind: team for team in Team.objects.all()}
    board = [people_by_login[login] for login in ("beatrix", "tomasz", "ingrid")]
    for member in board:
        people.add_member(actor=None, team=teams[TeamKind.BOARD], person=member,
                          authority="SP 9.1.1", start=founded)

    staffing = authority.record_board_decision(
        actor=board[0], minute_id=f"m{founded:%Y%m%d}.1", decided_on=founded,
        title="Staffing of the critical teams and Arbitration",
        text="The Board authorises the individuals listed in the annex to the minutes in "
        "their teams and roles, after their Arbitrated Background Checks.",
        votes={board[0]: "aye", board[1]: "aye", board[2]: "abstain"},
    )
    # SP 1.2: each decision's minutes are confirmed by a Board member who did not record
    # them; until then the decision authorises nothing.
    staffing = authority.confirm_board_decision(actor=board[1], decision=staffing)
    for username, _name, team_kind, role, leader in STAFF:
        if team_kind == TeamKind.BOARD:
            continue
        people.add_member(actor=None, team=teams[team_kind], person=people_by_login[username],
                          role=role, is_leader=leader, start=founded, authority=staffing)

    arbitrator, case_manager = people_by_login["aurelio"], people_by_login["mina"]
    abc_date = founded - dt.timedelta(days=30)
    abc = arbitration.file_case(
        actor=case_manager, number=f"a{abc_date:%Y%m%d}.1",
        title="Arbitrated Background Check of Piet de Vries", filed_on=abc_date,
        arbitrator=arbitrator, case_manager=case_manager,
    )
    arbitration.update_case(
        actor=arbitrator, case=abc, status="ruled", arbitrator=arbitrator,
        case_manager=case_manager, ruled_on=founded,
        ruling_summary="The candidate has the knowledge and standing the role needs; "
        "no conflict of interest was found. Recommended to the Board.",
    )
    running_date = today - dt.timedelta(days=12)
    arbitration.file_case(
        actor=case_manager, number=f"a{running_date:%Y%m%d}.1",
        title="Request for an exception to the four-eyes rule during a data-centre move",
        filed_on=running_date, arbitrator=arbitrator, case_manager=case_manager,
    )

    lists = {access_list.kind: access_list for access_list in AccessList.objects.all()}
    lists_decision_date = founded + dt.timedelta(days=3)
    lists_decision = authority.record_board_decision(
        actor=board[1], minute_id=f"m{lists_decision_date:%Y%m%d}.1",
        decided_on=lists_decision_date, title="Initial access control lists",
        text="The Board approves the access control lists as proposed by the team leaders.",
        votes={member: "aye" for member in board},
    )
    lists_decision = authority.confirm_board_decision(actor=board[2], decision=lists_decision)
    for kind, username in LIST_MEMBERS:
        access_list = lists[kind]
        proposer = team_leader(access_list.manager.kind) or board[0]
        proposal = people.propose_list_change(
            actor=proposer, access_list=access_list, person=people_by_login[username],
            change="add", reason="Initial list, per the staffing decision.",
        )
        people.approve_proposal(actor=board[1], proposal=proposal, decision=lists_decision)

    # Waiting for the Board: one addition, and a removal after a change of duties.
    people.propose_list_change(
        actor=people_by_login["samir"], access_list=lists[ListKind.PHYSICAL_ACCESS],
        person=people_by_login["piet"], change="add",
        reason="Piet takes over hardware recovery on the signing server.",
    )
    people.propose_list_change(
        actor=people_by_login["clara"], access_list=lists[ListKind.REPOSITORY_ACCESS],
        person=people_by_login["oskar"], change="remove",
        reason="Oskar steps back from assessing patches for six months.",
    )
    declined_date = today - dt.timedelta(days=20)
    declined = authority.record_board_decision(
        actor=board[2], minute_id=f"m{declined_date:%Y%m%d}.2", decided_on=declined_date,
        title="Support access for a second support tool",
        text="The Board does not approve Support Access List changes until the support "
        "procedures are reviewed.",
        votes={board[0]: "naye", board[1]: "aye", board[2]: "naye"},
    )
    assert not declined.carried
    authority.confirm_board_decision(actor=board[0], decision=declined)
    # Minuted by the administrator on the Board's behalf, waiting for a Board member to
    # confirm them before they can approve the pending addition.
    pending_date = today - dt.timedelta(days=1)
    authority.record_board_decision(
        actor=admin, minute_id=f"m{pending_date:%Y%m%d}.1", decided_on=pending_date,
        title="Piet de Vries on the Physical Access List",
        text="The Board approves adding Piet de Vries to the Physical Access List for "
        "hardware recovery on the signing server.",
        votes={board[0]: "aye", board[1]: "aye", board[2]: "aye"},
    )

    sysadmins = [people_by_login[login] for login in ("samir", "lena", "piet")]
    disk = authority.request_signoff(
        actor=sysadmins[0], action=TASK, title="Replace the failed disk in the signing server",
        description="Disk 2 of the mirror reports errors. Swap it for a provisioned spare "
        "and keep the old disk for retirement.",
        requirement=four_eyes(Role.SYSTEMS_ADMINISTRATOR, Role.SYSTEMS_ADMINISTRATOR),
        authority="SM 2.2.3",
    )
    authority.sign(actor=sysadmins[0], request=disk, slot="executor",
                   comment="Disk swapped; resync running.")
    authority.request_signoff(
        actor=sysadmins[1], action=TASK, title="Rotate the database backup encryption key",
        requirement=dual_control(Role.SYSTEMS_ADMINISTRATOR), authority="SM 4.3",
        expires_in=dt.timedelta(days=14),
    )
    rack = authority.request_signoff(
        actor=people_by_login["ana"], action=TASK, title="Quarterly inventory of the rack",
        requirement=dual_control(Role.ACCESS_ENGINEER), authority="SM 2.2.1",
    )
    authority.sign(actor=people_by_login["ana"], request=rack)
    authority.sign(actor=people_by_login["jonas"], request=rack, comment="All labels match.")
    from secman.physical import demo as physical_demo

    physical_demo.load(people_by_login)
    from secman.visits import demo as visits_demo

    visits_demo.load(people_by_login)
    from secman.systems import demo as systems_demo

    systems_demo.load(people_by_login)
    systems_demo.load_patches(people_by_login)
    systems_demo.load_agent_report(people_by_login)
    from secman.privileged import demo as privileged_demo

    privileged_demo.load(people_by_login)
    from secman.compliance import demo as compliance_demo

    compliance_demo.load(people_by_login, staffing)
    # After the duties are done: the brute force it stores leaves the monitor's next
    # examination waiting for it.
    from secman.logs import demo as logs_demo

    logs_demo.load(people_by_login)
    from secman.backups import demo as backups_demo

    backups_demo.load(people_by_login)
    from secman.incidents import demo as incidents_demo

    incidents_demo.load(people_by_login)
    from secman.recovery import demo as recovery_demo

    recovery_demo.load(people_by_login)
    from secman.support import demo as support_demo

    support_demo.load(people_by_login)
    from secman.software import demo as software_demo

    software_demo.load(people_by_login)
    # A signed checkpoint over every entry, so the demo's log is verifiable from the start
    # (appends sign one only every SECMAN_EVENTLOG_CHECKPOINT_EVERY entries or so often).
    from secman.eventlog.checkpoints import write_checkpoint

    write_checkpoint()
    return [*existing_logins(), ("admin", "secman administrator", "administrator")]
