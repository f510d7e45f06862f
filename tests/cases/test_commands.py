"""Operations commands of the cases app: the shipped agency list, load_agencies and load_demo."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import models

from accounts.models import Role, User
from agencies import services as agency_file
from agencies.models import Agency, ProvinceMode
from agencies.services import AGENCIES_FILE, AgencyFileError, agencies_load
from cases.demo import ACCOUNTS, CASES_PER_STATE, DEMO_PASSWORD, demo_scenarios
from cases.management.commands.load_demo import MSG_PRODUCTION
from cases.models import CaseEvent, SettlementStatement, TransferCase
from cases.services.settlement import statement_problems
from cases.states import OPEN_STATES, Action, CaseState
from core.identity import id_number_decrypt, id_number_validate
from workflow.calendar import SHANGHAI
from workflow.models import CalendarYear, StageClock

# A Monday afternoon; the demo's past is all in published 2026 working days.
DEMO_NOW = dt.datetime(2026, 11, 23, 15, 0, tzinfo=SHANGHAI)


def read_rows(path: Path = AGENCIES_FILE) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def run(command: str, *args: str) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out, stderr=out)
    return out.getvalue()


def agency_snapshot() -> list[tuple]:
    return list(Agency.objects.order_by("code").values_list())


@pytest.fixture
def write_csv(tmp_path: Path):
    """Write agency rows (a header plus lines) to a CSV file and return its path."""

    def write(*lines: str, header: str = ",".join(agency_file.COLUMNS)) -> Path:
        path = tmp_path / "agencies.csv"
        path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
        return path

    return write


GD = "440000,广东省医疗保障局,广东省,province,440000,广东省"
SZ = "440300,深圳市医疗保障局,深圳市,prefecture,440000,广东省"
GZ = "440100,广州市医疗保障局,广州市,prefecture,440000,广东省"


# --- the shipped file -----------------------------------------------------------------------------


def test_the_agency_file_lists_every_pooling_area_once():
    rows = read_rows()
    assert list(rows[0]) == list(agency_file.COLUMNS)
    assert len(rows) == 396
    codes = [row["code"] for row in rows]
    assert len(set(codes)) == len(codes)
    assert all(len(code) == 6 and code.isdigit() for code in codes)
    assert all(row["name"] == row["division_name"] + "医疗保障局" for row in rows)
    levels = [row["level"] for row in rows]
    assert (levels.count("province"), levels.count("prefecture"), levels.count("county")) == (
        31,
        333,
        32,
    )


def test_every_agency_belongs_to_a_province_row_of_the_file():
    rows = read_rows()
    provinces = {row["code"]: row for row in rows if row["level"] == "province"}
    for row in rows:
        province = provinces[row["province_code"]]
        assert row["province_name"] == province["division_name"]
        assert row["code"][:2] == row["province_code"][:2]


@pytest.mark.parametrize(
    ("code", "name", "level", "province_name"),
    [
        ("440300", "深圳市医疗保障局", "prefecture", "广东省"),
        ("440000", "广东省医疗保障局", "province", "广东省"),
        ("110000", "北京市医疗保障局", "province", "北京市"),
        ("430100", "长沙市医疗保障局", "prefecture", "湖南省"),
        ("429004", "仙桃市医疗保障局", "county", "湖北省"),
    ],
)
def test_known_agencies(code, name, level, province_name):
    row = next(row for row in read_rows() if row["code"] == code)
    assert (row["name"], row["level"], row["province_name"]) == (name, level, province_name)


# --- agencies_load and load_agencies -------------------------------------------------------------


@pytest.mark.django_db
def test_load_agencies_creates_every_agency_then_changes_nothing():
    out = run("load_agencies")
    assert "396 agencies: 396 created, 0 updated, 0 unchanged; 2 intra-province modes added." in out
    assert Agency.objects.count() == 396
    # The provinces' modes known from public rules come with the list (domain.md).
    assert set(ProvinceMode.objects.values_list("province_id", "mode")) == {
        ("430000", "instant"),
        ("350000", "instant"),
    }
    shenzhen = Agency.objects.get(code="440300")
    assert (shenzhen.name, shenzhen.province_code, shenzhen.province_name, shenzhen.level) == (
        "深圳市医疗保障局",
        "440000",
        "广东省",
        "prefecture",
    )
    before = agency_snapshot()

    assert "396 agencies: 0 created, 0 updated, 396 unchanged; 0 intra-province modes added." in (
        run("load_agencies")
    )
    assert agency_snapshot() == before


@pytest.mark.django_db
def test_a_reload_restores_the_file_fields_and_keeps_local_policy():
    agencies_load()
    Agency.objects.filter(code="440300").update(
        name="深圳市医保局（旧称）",
        transfer_out_days=5,
        transfer_in_days=3,
        balance_days=2,
        balance_policy="merge",
        escalation_days=4,
        is_active=False,
    )

    result = agencies_load()

    assert (result.created, result.updated, result.unchanged) == (0, 1, 395)
    shenzhen = Agency.objects.get(code="440300")
    assert shenzhen.name == "深圳市医疗保障局"
    assert (
        shenzhen.transfer_out_days,
        shenzhen.transfer_in_days,
        shenzhen.balance_days,
        shenzhen.balance_policy,
        shenzhen.escalation_days,
        shenzhen.is_active,
    ) == (5, 3, 2, "merge", 4, False)


@pytest.mark.django_db
def test_load_agencies_reads_another_file(write_csv):
    path = write_csv(GD, SZ, GZ)
    assert "3 agencies: 3 created, 0 updated, 0 unchanged; 0 intra-province modes added." in run(
        "load_agencies", "--file", str(path)
    )
    assert set(Agency.objects.values_list("code", flat=True)) == {"440000", "440300", "440100"}


@pytest.mark.parametrize(
    ("lines", "header", "message"),
    [
        (
            [GD, SZ, "440100,广州市医疗保障局,广州市,prefecture,440000"],
            None,
            agency_file.ERR_COLUMNS.format(line=4, expected=6, count=5),
        ),
        (
            [GD, SZ, "44010,广州市医疗保障局,广州市,prefecture,440000,广东省"],
            None,
            agency_file.ERR_CODE.format(line=4, field="code", value="44010"),
        ),
        (
            [GD, SZ, "440300,深圳市医疗保障局,深圳市,prefecture,440000,广东省"],
            None,
            agency_file.ERR_DUPLICATE.format(line=4, code="440300", first_line=3),
        ),
        (
            [GD, SZ, "440100,广州市医疗保障局,广州市,city,440000,广东省"],
            None,
            agency_file.ERR_LEVEL.format(
                line=4, value="city", choices="province, prefecture, county"
            ),
        ),
        (
            [SZ],
            None,
            agency_file.ERR_PROVINCE_MISSING.format(line=2, province_code="440000"),
        ),
        (
            [GD, "430100,长沙市医疗保障局,长沙市,prefecture,440000,广东省"],
            None,
            agency_file.ERR_PROVINCE_PREFIX.format(line=3, province_code="440000", code="430100"),
        ),
        (
            [GD, "440300,深圳市医疗保障局,深圳市,prefecture,440000,湖南省"],
            None,
            agency_file.ERR_PROVINCE_NAME.format(
                line=3, value="湖南省", province_code="440000", expected="广东省"
            ),
        ),
        (
            [GD, ",深圳市医疗保障局,深圳市,prefecture,440000,广东省"],
            None,
            agency_file.ERR_EMPTY.format(line=3, field="code"),
        ),
        (
            [GD, SZ],
            "code,name,level,province_code,province_name",
            agency_file.ERR_HEADER.format(
                expected=",".join(agency_file.COLUMNS),
                found="code,name,level,province_code,province_name",
            ),
        ),
    ],
)
@pytest.mark.django_db
def test_a_malformed_file_is_refused_with_its_line_and_changes_nothing(
    write_csv, lines, header, message
):
    agencies_load()
    Agency.objects.filter(code="440300").update(name="改过的名称")
    before = agency_snapshot()
    path = write_csv(*lines) if header is None else write_csv(*lines, header=header)

    with pytest.raises(AgencyFileError) as refused:
        agencies_load(path=path)

    assert message in refused.value.errors
    assert agency_snapshot() == before


@pytest.mark.django_db
def test_one_bad_line_refuses_the_whole_file(write_csv):
    # The good rows come first: a load that wrote as it read would have created them.
    path = write_csv(GD, SZ, GZ, "440600,佛山市医疗保障局,佛山市,prefecture,44000X,广东省")

    with pytest.raises(CommandError) as refused:
        run("load_agencies", "--file", str(path))

    assert "Nothing was loaded" in str(refused.value)
    assert "line 5: province_code '44000X' is not a 6-digit GB/T 2260 code" in str(refused.value)
    assert Agency.objects.count() == 0


@pytest.mark.django_db
def test_a_missing_or_empty_file_is_refused(tmp_path, write_csv):
    missing = tmp_path / "nope.csv"
    with pytest.raises(AgencyFileError) as refused:
        agencies_load(path=missing)
    assert refused.value.errors == [agency_file.ERR_FILE_MISSING.format(path=missing)]

    empty = write_csv()
    with pytest.raises(AgencyFileError) as refused:
        agencies_load(path=empty)
    assert refused.value.errors == [agency_file.ERR_FILE_EMPTY.format(path=empty)]
    assert Agency.objects.count() == 0


# --- load_demo -----------------------------------------------------------------------------------


def demo_counts() -> tuple[int, int, int, int, int]:
    return (
        Agency.objects.count(),
        User.objects.count(),
        TransferCase.objects.count(),
        CaseEvent.objects.count(),
        StageClock.objects.count(),
    )


@pytest.fixture
def demo_output(db) -> str:
    with time_machine.travel(DEMO_NOW, tick=False):
        return run("load_demo")


@pytest.mark.django_db
def test_load_demo_loads_agencies_calendar_and_accounts(demo_output):
    assert Agency.objects.count() == 396
    assert set(CalendarYear.objects.values_list("year", flat=True)) >= {2025, 2026}
    for spec in ACCOUNTS:
        user = User.objects.get(username=spec.username)
        assert (user.role, user.agency_id or "") == (spec.role, spec.agency_code)
        assert spec.username in demo_output
    admin = User.objects.get(username="admin")
    assert admin.is_staff
    assert admin.is_superuser
    assert User.objects.get(username="sz_caseworker").is_staff
    platform = User.objects.get(username="gd_platform")
    assert (platform.agency_id, platform.province_wide) == ("440000", True)
    applicants = User.objects.filter(username__in=["sz_applicant", "cs_applicant"])
    for applicant in applicants:
        # Valid, and stored only encrypted.
        id_number_validate(id_number_decrypt(applicant.id_number_encrypted))
        assert applicant.id_number_masked in demo_output


@pytest.mark.django_db
def test_every_demo_account_can_sign_in(demo_output, client):
    assert DEMO_PASSWORD in demo_output
    assert "Local demos only" in demo_output
    for spec in ACCOUNTS:
        assert client.login(username=spec.username, password=DEMO_PASSWORD), spec.username
        client.logout()


@pytest.mark.django_db
def test_background_applicants_cannot_sign_in(demo_output):
    background = User.objects.filter(role=Role.APPLICANT, username__startswith="demo_person_")
    assert background.exists()
    assert not any(user.has_usable_password() for user in background)


@pytest.mark.django_db
def test_load_demo_builds_cases_in_every_state_through_the_services(demo_output):
    for state in CaseState.values:
        assert TransferCase.objects.filter(state=state).count() >= CASES_PER_STATE, state
        assert f"{state} " in demo_output
    assert TransferCase.objects.filter(scope="intra_province").exists()
    assert TransferCase.objects.filter(scope="inter_province").exists()
    assert TransferCase.objects.filter(insurance_type="resident").exists()
    assert TransferCase.objects.filter(channel="window", applicant=None).exists()
    assert TransferCase.objects.filter(
        applicant__username="sz_applicant", submitted_by__username="sz_applicant"
    ).exists()
    assert TransferCase.objects.filter(applicant__username="cs_applicant").exists()
    for case in TransferCase.objects.all():
        events = list(case.events.order_by("at", "id"))
        # Through case_submit: the first event is the submission; every later one follows it.
        assert events[0].action == Action.SUBMIT
        assert events[-1].to_state == case.state
        assert case.created_at <= events[-1].at < DEMO_NOW
        open_clocks = case.clocks.filter(completed_at__isnull=True).count()
        assert open_clocks == (1 if case.state in OPEN_STATES else 0)


@pytest.mark.django_db
def test_the_demo_shows_each_rule_of_issue_9(demo_output):
    from agencies.models import AgencyRule
    from cases.continuity import DUPLICATE_ENROLMENT, continuity_assess

    paid_out = TransferCase.objects.get(balance_paid_out__isnull=False)
    assert (paid_out.insurance_type, paid_out.target_insurance_type) == ("employee", "resident")
    assert paid_out.balance_outcome == "paid_out"
    assert paid_out.balance_paid_out == paid_out.balance_due
    assert paid_out.reference in demo_output
    repeat = TransferCase.objects.get(materials_requests=2)
    assert repeat.state == "materials_requested"
    assert repeat.events.filter(data__has_key="repeat_reason").count() == 1
    # The applicant's side uploaded materials before resubmitting: a PDF and a photo.
    assert sorted(repeat.attachments.values_list("content_type", flat=True)) == [
        "application/pdf",
        "image/png",
    ]
    for attachment in repeat.attachments.all():
        assert attachment.uploaded_at < repeat.events.get(action="resubmit_materials").at
    assert TransferCase.objects.filter(interest__gt=0).exists()
    overlapping = [
        c
        for c in TransferCase.objects.filter(
            kind="transfer", enrolled_at_target_on__lt=models.F("stopped_at_source_on")
        )
        if continuity_assess(
            insurance_type=c.target_insurance_type,
            stopped_on=c.stopped_at_source_on,
            enrolled_on=c.enrolled_at_target_on,
        ).advice_code
        == DUPLICATE_ENROLMENT
    ]
    assert len(overlapping) == 1
    assert overlapping[0].reference in demo_output
    assert AgencyRule.objects.filter(agency_id="430100").count() == 1
    assert "/api/v1/agencies/430100/rules/" in demo_output


@pytest.mark.django_db
def test_the_demo_shows_merges_instant_cases_and_a_settlement(demo_output):
    merges = TransferCase.objects.filter(kind="merge")
    assert set(merges.values_list("state", flat=True)) >= {
        "applied",
        "transfer_out_approved",
        "transfer_in_confirmed",
        "balance_moved",
    }
    done = merges.get(state="balance_moved")
    assert done.refund_amount is not None
    assert done.overlap_months
    instant = TransferCase.objects.filter(mode="instant")
    assert instant.count() == 3
    assert set(instant.values_list("state", flat=True)) == {"balance_moved"}
    assert instant.filter(channel="auto").count() == 2
    # Nothing within Hunan runs the national process any longer.
    assert not TransferCase.objects.filter(
        from_province="43", to_province="43", mode="standard", kind="transfer"
    ).exists()
    statement = SettlementStatement.objects.get()
    assert statement.total == sum(i.amount for i in statement.items.all())
    assert statement.item_count == 2
    assert statement_problems(statement) == []
    for label in ("merge", "instant"):
        assert label in demo_output


@pytest.mark.django_db
def test_some_demo_stages_are_overdue_and_some_due_soon(demo_output):
    open_clocks = StageClock.objects.filter(completed_at__isnull=True, due_at__isnull=False)
    overdue = open_clocks.filter(due_at__lt=DEMO_NOW)
    assert overdue.filter(stage="applied").exists()
    assert overdue.filter(stage="transfer_out_approved").exists()
    assert overdue.filter(stage="transfer_in_confirmed").exists()
    assert open_clocks.filter(
        due_at__gte=DEMO_NOW, due_at__lt=DEMO_NOW + dt.timedelta(days=3)
    ).exists()
    assert open_clocks.filter(due_at__gte=DEMO_NOW + dt.timedelta(days=7)).exists()
    assert f"open stages overdue now: {overdue.count()}" in demo_output


@pytest.mark.django_db
def test_demo_output_shows_no_plain_id_number(demo_output):
    numbers = {scenario.person.id_number for scenario in demo_scenarios()}
    assert not any(number in demo_output for number in numbers)
    assert not any(number[:14] in demo_output for number in numbers)


@pytest.mark.django_db
def test_load_demo_twice_adds_nothing(demo_output):
    before = demo_counts()
    with time_machine.travel(DEMO_NOW + dt.timedelta(days=3), tick=False):
        again = run("load_demo")
    assert demo_counts() == before
    assert f"Cases: 0 created, {before[2]} already there." in again
    assert "[created]" not in again


@pytest.mark.django_db
def test_load_demo_keeps_a_changed_demo_password(demo_output, client):
    admin = User.objects.get(username="admin")
    admin.set_password("a-real-password-now")
    admin.save()
    with time_machine.travel(DEMO_NOW, tick=False):
        run("load_demo")
    assert client.login(username="admin", password="a-real-password-now")


@pytest.mark.django_db
def test_load_demo_refuses_a_username_taken_by_another_account():
    User.objects.create_user(username="sz_caseworker", password="x" * 12, role=Role.ADMIN)

    with time_machine.travel(DEMO_NOW, tick=False), pytest.raises(CommandError) as refused:
        run("load_demo")

    assert "sz_caseworker exists and is not the demo's" in str(refused.value)
    assert demo_counts() == (0, 1, 0, 0, 0)


@pytest.mark.django_db
def test_load_demo_refuses_to_run_in_production(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match=re.escape(MSG_PRODUCTION)):
        run("load_demo")
    assert demo_counts() == (0, 0, 0, 0, 0)
