"""What applicants and agency systems hear when a case changes state (cases.notify)."""

from __future__ import annotations

from agencies.models import Agency
from cases.services import case_transition
from core.identity import id_number_decrypt
from notifications.models import Notification
from tests.cases.sla import SUBMIT, at


def test_status_changes_notify_the_applicant(case, personas):
    personas["applicant"].email = "zhangsan@example.com"
    personas["applicant"].save()
    case_transition(
        case=case,
        action="request_materials",
        actor=personas["cw_out"],
        payload={"missing_materials": ["离职证明"]},
        now=at("2026-09-28 10:00"),
    )
    rows = Notification.objects.filter(
        kind="status_changed", payload__to_state="materials_requested"
    )
    assert sorted(rows.values_list("channel", "address")) == [
        ("email", "zhangsan@example.com"),
        ("in_app", ""),
        ("sms", "13812345678"),
    ]
    assert all("待补正" in n.body and "离职证明" in n.body for n in rows)
    # The submission itself was a state change too ("" -> applied).
    assert Notification.objects.filter(kind="status_changed", payload__to_state="applied").exists()


def test_agency_webhook_hears_of_state_changes(calendar_2026, submit_case):
    Agency.objects.filter(code="430100").update(
        webhook_url="https://cs.example/hook", webhook_secret="s3cret"
    )
    case = submit_case(**SUBMIT)
    hooks = Notification.objects.filter(channel="webhook", subject_ref=case.reference)
    assert [(n.address, n.payload["agency"]) for n in hooks] == [
        ("https://cs.example/hook", "430100")
    ]


def test_a_rejection_tells_the_applicant_the_reason_in_words(case, personas):
    case_transition(
        case=case,
        action="reject",
        actor=personas["cw_out"],
        payload={"reason_code": "arrears"},
        now=at("2026-09-28 10:00"),
    )
    sms = Notification.objects.get(
        kind="status_changed", channel="sms", payload__to_state="rejected"
    )
    assert "原因：存在欠费。" in sms.body
    assert "arrears" not in sms.body


def test_an_other_rejection_carries_the_explanation_without_an_id_number(
    calendar_2026, submit_case, personas
):
    from tests.conftest import make_id_number

    number = make_id_number("440305", "19880512", 321)
    case = submit_case(**SUBMIT)
    case_transition(
        case=case,
        action="reject",
        actor=personas["cw_out"],
        payload={"reason_code": "other", "note": f"与 {number} 的参保记录重复"},
        now=at("2026-09-28 10:00"),
    )
    rows = Notification.objects.filter(kind="status_changed", payload__to_state="rejected")
    assert rows.exists()
    for row in rows:
        assert f"原因：其他：与 {number[:6]}********{number[-4:]} 的参保记录重复。" in row.body
        assert number not in row.body
        assert number not in str(row.payload)


def test_an_applicant_with_an_account_hears_of_a_case_a_window_submitted(
    calendar_2026, submit_case, personas
):
    from cases.services import Applicant

    personas["applicant"].email = "zhangsan@example.com"
    personas["applicant"].save()
    own_number = id_number_decrypt(personas["applicant"].id_number_encrypted)
    case = submit_case(
        actor=personas["cw_out"],
        applicant=Applicant(name="张三", id_number=own_number, phone=""),
        **SUBMIT,
    )
    rows = Notification.objects.filter(subject_ref=case.reference, kind="status_changed")
    assert sorted(rows.values_list("channel", "recipient__username", "address")) == [
        ("email", "zhangsan", "zhangsan@example.com"),
        ("in_app", "zhangsan", ""),
    ]
