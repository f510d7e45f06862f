"""What the API must not tell a user about cases and accounts they may not see (quality.md R15), and
403 kept for "may never" (README, "Errors")."""

from __future__ import annotations

from cases.errors import MSG_DUPLICATE_OPEN_CASE_UNSEEN
from cases.models import CaseEvent, TransferCase
from cases.services import case_transition
from tests.api.conftest import submit_body
from tests.conftest import make_id_number


def window_submission(id_number: str, *, to_agency: str = "430100") -> dict:
    return submit_body(
        channel="window",
        to_agency=to_agency,
        applicant={"name": "王五", "id_number": id_number, "phone": "13900001111"},
    )


def test_a_duplicate_names_the_open_case_only_to_who_may_see_it(client_for, agencies):
    number = make_id_number("440306", "19850101", 321)
    first = client_for("cw_out").post("/api/v1/cases/", window_submission(number), format="json")
    assert first.status_code == 201, first.content
    reference = first.json()["reference"]

    # Staff of the same agency may see that case: they are told which one it is.
    same = client_for("supervisor").post("/api/v1/cases/", window_submission(number), format="json")
    assert same.status_code == 400
    assert reference in same.json()["errors"]["applicant.id_number"][0]

    # Beijing's window may not see it: told only that an open case exists.
    other = client_for("cw_other").post(
        "/api/v1/cases/",
        {**window_submission(number), "from_agency": "110000", "to_agency": "430100"},
        format="json",
    )
    assert other.status_code == 400
    body = other.json()
    assert body["code"] == "duplicate_open_case"
    assert body["errors"] == {"applicant.id_number": [str(MSG_DUPLICATE_OPEN_CASE_UNSEEN)]}
    assert reference not in other.content.decode()
    assert TransferCase.objects.count() == 1


def test_assigning_to_a_username_nobody_has_answers_as_for_an_ineligible_one(
    client_for, case_in_state, personas
):
    case = case_in_state("applied")
    nobody = client_for("supervisor").post(
        f"/api/v1/cases/{case.reference}/assignment/", {"assignee": "no-such-user"}, format="json"
    )
    elsewhere = client_for("supervisor").post(
        f"/api/v1/cases/{case.reference}/assignment/",
        {"assignee": personas["cw_other"].username},
        format="json",
    )
    assert nobody.status_code == elsewhere.status_code == 400
    assert nobody.json() == elsewhere.json()
    # On a closed case both are the same 409: the state is checked before who the assignee is.
    closed = case_transition(case=case, action="withdraw", actor=personas["applicant"])
    answers = [
        client_for("supervisor")
        .post(f"/api/v1/cases/{closed.reference}/assignment/", {"assignee": name}, format="json")
        .json()
        for name in ("no-such-user", personas["cw_out"].username)
    ]
    assert answers[0] == answers[1]
    assert answers[0]["code"] == "transition_not_allowed"
    assert not CaseEvent.objects.filter(action="assign").exists()


def test_rejecting_out_of_turn_is_a_conflict_not_forbidden(client_for, case_in_state):
    """The transfer-in agency may reject once the case has been approved out; before that it is
    the transfer-out agency's turn: 409, as for any move the state does not allow."""
    case = case_in_state("applied")
    r = client_for("cw_in").post(
        f"/api/v1/cases/{case.reference}/transitions/reject/",
        {"reason_code": "arrears"},
        format="json",
    )
    assert r.status_code == 409, r.content
    assert r.json()["code"] == "transition_not_allowed"
    assert r.json()["state"] == "applied"
    # An agency that may never reject this case (neither side): 404, it cannot see it at all.
    r = client_for("cw_other").post(
        f"/api/v1/cases/{case.reference}/transitions/reject/",
        {"reason_code": "arrears"},
        format="json",
    )
    assert r.status_code == 404
    # The applicant may never reject: 403.
    r = client_for("applicant").post(
        f"/api/v1/cases/{case.reference}/transitions/reject/",
        {"reason_code": "arrears"},
        format="json",
    )
    assert r.status_code == 403
    assert r.json()["code"] == "action_forbidden"
    case.refresh_from_db()
    assert (case.state, case.version) == ("applied", 1)
