"""The SLA scan (cases.reminders over workflow.claims): each kind fires once, at the right
working-day instant, to the right people, on the 2026 calendar (tests/cases/sla.py)."""

from __future__ import annotations

from django.core.management import call_command

from accounts.models import Role, User
from agencies.models import Agency
from cases.digest import DIGEST, sla_digest
from cases.models import TransferCase
from cases.reminders import sla_scan
from cases.services import case_transition
from notifications.models import Notification
from tests.cases.sla import SUBMIT, at, kinds, open_clock
from workflow.models import StageClock


def test_clock_instants_across_national_day(case):
    clock = open_clock(case)
    assert clock.due_at == at("2026-10-16 23:59:59")
    # 10-day window: due soon with 2 working days left, i.e. from the start of the 8th working
    # day (09-29, 09-30, 10-08, 10-09, 10-10 make-up Sat, 10-12, 10-13, 10-14).
    assert clock.warn_at == at("2026-10-14 00:00")
    # Escalation: 2 working days after the due day (10-19, 10-20).
    assert clock.escalate_at == at("2026-10-20 23:59:59")
    assert clock.remind_at is None


def test_due_soon_fires_once_at_warn_at(case, personas):
    assert kinds(sla_scan(now=at("2026-10-13 23:59:59"))) == {}
    report = sla_scan(now=at("2026-10-14 00:00"))
    assert kinds(report) == {"due_soon": 1}
    rows = Notification.objects.filter(kind="due_soon")
    # Unassigned: every caseworker of the transfer-out agency (one here), in the inbox.
    assert [(n.recipient, n.channel, n.subject_ref) for n in rows] == [
        (personas["cw_out"], "in_app", case.reference)
    ]
    assert "即将到期" in rows[0].subject
    assert kinds(sla_scan(now=at("2026-10-15 12:00"))) == {}
    assert Notification.objects.filter(kind="due_soon").count() == 1


def test_due_soon_goes_to_the_assignee_only_with_email(case, personas):
    cw = personas["cw_out"]
    cw.email = "sz_cw@example.com"
    cw.save()
    # A second caseworker of the agency: told only while the case is unassigned.
    User.objects.create(username="sz_cw2", role=Role.CASEWORKER, agency_id="440300")
    case.assignee = cw
    case.save(update_fields=["assignee"])
    sla_scan(now=at("2026-10-14 00:00"))
    assert sorted(
        Notification.objects.filter(kind="due_soon").values_list("recipient", "channel", "address")
    ) == [(cw.pk, "email", "sz_cw@example.com"), (cw.pk, "in_app", "")]


def test_unassigned_due_soon_goes_to_every_caseworker_of_the_agency(case, personas):
    second = User.objects.create(username="sz_cw2", role=Role.CASEWORKER, agency_id="440300")
    User.objects.create(
        username="sz_cw_gone", role=Role.CASEWORKER, agency_id="440300", is_active=False
    )
    sla_scan(now=at("2026-10-14 00:00"))
    clock = open_clock(case)
    assert sorted(
        Notification.objects.filter(kind="due_soon").values_list("dedup_key", flat=True)
    ) == sorted(
        [
            f"due_soon:{clock.pk}:u{personas['cw_out'].pk}:in_app",
            f"due_soon:{clock.pk}:u{second.pk}:in_app",
        ]
    )


def test_overdue_flags_the_stage_after_the_deadline(case, personas):
    sla_scan(now=at("2026-10-14 00:00"))
    assert kinds(sla_scan(now=at("2026-10-16 23:59:59"))) == {}
    report = sla_scan(now=at("2026-10-17 00:00"))
    assert kinds(report) == {"overdue": 1}
    assert report.references["overdue"] == [case.reference]
    # The flag is the open clock's, at the deadline the stage missed.
    assert open_clock(case).breached_at == at("2026-10-16 23:59:59")
    assert Notification.objects.filter(kind="overdue", recipient=personas["cw_out"]).count() == 1
    assert kinds(sla_scan(now=at("2026-10-17 00:01"))) == {}


def test_first_scan_after_the_deadline_sends_overdue_not_due_soon(case):
    report = sla_scan(now=at("2026-10-19 09:00"))
    assert kinds(report) == {"overdue": 1, "due_soon": 1}
    sla = Notification.objects.exclude(kind="status_changed")
    assert list(sla.values_list("kind", flat=True)) == ["overdue"]


def test_escalation_to_supervisors_two_working_days_later(case, personas):
    sla_scan(now=at("2026-10-17 00:00"))
    assert kinds(sla_scan(now=at("2026-10-20 23:59:58"))) == {}
    assert kinds(sla_scan(now=at("2026-10-20 23:59:59"))) == {"escalation": 1}
    rows = Notification.objects.filter(kind="escalation")
    assert [n.recipient for n in rows] == [personas["supervisor"]]
    assert "超期督办" in rows[0].subject


def test_escalation_reaches_province_wide_supervisors_and_no_other_agencys(case, personas):
    provincial = User.objects.create(
        username="gd_sup", role=Role.SUPERVISOR, agency_id="440000", province_wide=True
    )
    User.objects.create(username="cs_sup", role=Role.SUPERVISOR, agency_id="430100")
    User.objects.create(
        username="gz_sup", role=Role.SUPERVISOR, agency_id="440100"
    )  # same province, not province-wide: not over Shenzhen
    sla_scan(now=at("2026-10-17 00:00"))
    sla_scan(now=at("2026-10-20 23:59:59"))
    recipients = set(
        Notification.objects.filter(kind="escalation").values_list("recipient__username", flat=True)
    )
    assert recipients == {personas["supervisor"].username, provincial.username}


def test_sla_messages_have_stable_dedup_keys_and_reach_the_agency_webhook(case, personas):
    Agency.objects.filter(code="440300").update(
        webhook_url="https://sz.example/hook", webhook_secret="s"
    )
    sla_scan(now=at("2026-10-17 00:00"))
    sla_scan(now=at("2026-10-20 23:59:59"))
    clock = open_clock(case)
    cw, sup = personas["cw_out"].pk, personas["supervisor"].pk
    keys = set(
        Notification.objects.exclude(kind="status_changed").values_list("dedup_key", "address")
    )
    assert keys == {
        (f"overdue:{clock.pk}:u{cw}:in_app", ""),
        (f"overdue:{clock.pk}:agency:webhook", "https://sz.example/hook"),
        (f"escalation:{clock.pk}:u{sup}:in_app", ""),
        (f"escalation:{clock.pk}:agency:webhook", "https://sz.example/hook"),
    }
    assert kinds(sla_scan(now=at("2026-10-21 10:00"))) == {}


def test_escalation_days_is_per_agency(calendar_2026, submit_case):
    Agency.objects.filter(code="440300").update(escalation_days=4)
    case = submit_case(**SUBMIT)
    # 10-19, 10-20, 10-21, 10-22.
    assert open_clock(case).escalate_at == at("2026-10-22 23:59:59")


def test_a_move_clears_the_flag_and_stops_the_escalation(case, personas):
    sla_scan(now=at("2026-10-17 00:00"))
    case = case_transition(
        case=case,
        action="approve_transfer_out",
        actor=personas["cw_out"],
        payload={"contribution_months": 60, "personal_account_balance": "100.00"},
        now=at("2026-10-19 09:00"),
    )
    # The next stage's clock starts unflagged; the missed one keeps its flag as history.
    assert open_clock(case).breached_at is None
    assert StageClock.objects.get(case=case, stage="applied").breached_at is not None
    assert kinds(sla_scan(now=at("2026-10-20 23:59:59"))) == {}
    assert not Notification.objects.filter(kind="escalation").exists()


def test_materials_reminder_after_five_working_days(case, personas):
    case_transition(
        case=case,
        action="request_materials",
        actor=personas["cw_out"],
        payload={"missing_materials": ["离职证明"]},
        now=at("2026-09-28 10:00"),
    )
    # 09-29, 09-30, 10-08, 10-09 and the make-up Saturday 10-10.
    assert kinds(sla_scan(now=at("2026-10-10 23:59:58"))) == {}
    assert kinds(sla_scan(now=at("2026-10-10 23:59:59"))) == {"materials_reminder": 1}
    rows = Notification.objects.filter(kind="materials_reminder").order_by("channel")
    assert [(n.channel, n.recipient, n.address) for n in rows] == [
        ("in_app", personas["applicant"], ""),
        ("sms", None, "13812345678"),
    ]
    assert "离职证明" in rows[0].body
    clock = open_clock(case)
    assert [n.dedup_key for n in rows] == [
        f"materials_reminder:{clock.pk}:u{personas['applicant'].pk}:in_app",
        f"materials_reminder:{clock.pk}:applicant:sms",
    ]
    assert kinds(sla_scan(now=at("2026-10-12 10:00"))) == {}


def test_command_prints_what_it_claimed(case, capsys):
    call_command("sla_scan", "--as-of", "2026-10-17T00:00:00+08:00")
    out = capsys.readouterr().out
    assert "overdue: 1: " + case.reference in out
    assert "due_soon: 1" in out
    assert "notifications written: 1" in out


def test_scan_batches_bound_what_it_holds(calendar_2026, submit_case, personas):
    from cases.services import Applicant
    from tests.conftest import make_id_number

    for i in range(5):
        submit_case(
            actor=personas["cw_out"],
            applicant=Applicant(
                name="王五", id_number=make_id_number("440306", "19850101", 700 + i)
            ),
            **SUBMIT,
        )
    report = sla_scan(now=at("2026-10-17 00:00"), batch_size=2)
    assert report.counts["overdue"] == 5
    assert report.batches >= 3 + 3  # overdue in 3 batches, due-soon claims in 3
    flagged = StageClock.objects.filter(completed_at__isnull=True, breached_at__isnull=False)
    assert flagged.count() == 5


def test_an_assignee_of_the_other_agency_does_not_swallow_the_warnings(case, personas):
    """A case still assigned to a transfer-out caseworker in the transfer-in stage (rows from
    before handover cleared the assignee): the transfer-in caseworkers are warned and digested."""
    case = case_transition(
        case=case,
        action="approve_transfer_out",
        actor=personas["cw_out"],
        payload={"contribution_months": 60, "personal_account_balance": "100.00"},
        now=at("2026-09-29 09:00"),
    )
    TransferCase.objects.filter(pk=case.pk).update(assignee=personas["cw_out"])
    # 5-day window from 09-29: 09-30, 10-08, 10-09, 10-10 (make-up), 10-12; due soon from 10-10.
    assert open_clock(case).warn_at == at("2026-10-10 00:00")
    sla_scan(now=at("2026-10-10 00:00"))
    assert list(
        Notification.objects.filter(kind="due_soon").values_list("recipient__username", flat=True)
    ) == ["cs_cw"]
    assert sla_digest(now=at("2026-10-10 08:30")).recipients == 1
    assert Notification.objects.get(kind=DIGEST).recipient == personas["cw_in"]


def test_cases_sharing_a_deadline_each_get_their_own_messages(calendar_2026, submit_case, personas):
    """The scan works out who is told and the texts once per group of clocks that share stage,
    agency, deadline and assignee, then makes each case's rows: every case still gets its own
    reference, dedup key and payload, and an assignee still takes their case out of the group."""
    from cases.services import Applicant
    from tests.conftest import make_id_number

    cases = [
        submit_case(
            actor=personas["cw_out"],
            applicant=Applicant(
                name="王五", id_number=make_id_number("440306", "19850101", 600 + i)
            ),
            **SUBMIT,
        )
        for i in range(4)
    ]
    TransferCase.objects.filter(pk=cases[3].pk).update(assignee=personas["cw_out"])
    User.objects.create(username="sz_cw2", role=Role.CASEWORKER, agency_id="440300")
    agency_caseworkers = set(
        User.objects.filter(role=Role.CASEWORKER, agency_id="440300", is_active=True).values_list(
            "pk", flat=True
        )
    )
    report = sla_scan(now=at("2026-10-17 00:00"))
    assert report.counts["overdue"] == 4
    for case in cases:
        clock = StageClock.objects.get(case=case, stage="applied")
        rows = Notification.objects.filter(kind="overdue", subject_ref=case.reference)
        in_app = {r.recipient_id for r in rows if r.channel == "in_app"}
        expected = {personas["cw_out"].pk} if case is cases[3] else agency_caseworkers
        assert in_app == expected, case.reference
        for row in rows:
            assert row.subject.startswith(f"【已超期】{case.reference} ")
            assert f"案件 {case.reference}（" in row.body
            assert row.payload["case"] == case.reference
            assert row.payload["agency"] == "440300"
            assert row.dedup_key.startswith(f"overdue:{clock.pk}:")
            others = [c.reference for c in cases if c is not case]
            assert not any(ref in row.subject + row.body for ref in others)
