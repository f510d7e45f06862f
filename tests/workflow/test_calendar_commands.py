"""Writing the calendar: sync from chinesecalendar, import a file, edit a day in the admin."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from accounts.models import User
from cases.models import CaseEvent, TransferCase
from tests.workflow.conftest import calendar_revision, calendar_snapshot
from workflow.calendar import SHANGHAI, get_calendar
from workflow.calendar_data import (
    ERR_CSV_COLUMNS,
    ERR_CSV_HEADER,
    ERR_CSV_MALFORMED,
    ERR_DATE,
    ERR_DAY_KIND,
    ERR_DUPLICATE,
    ERR_FILE_EMPTY,
    ERR_FILE_MISSING,
    ERR_FILE_TYPE,
    ERR_HOLIDAY_AND_MAKEUP,
    ERR_KIND,
    ERR_MAKEUP_WEEKDAY,
    ERR_TWO_YEARS,
    ERR_WRONG_YEAR,
    ERR_YAML_ENTRY,
    ERR_YAML_KEY,
    ERR_YAML_LIST,
    ERR_YAML_NO_YEAR,
    ERR_YAML_RANGE,
    ERR_YAML_SYNTAX,
    ERR_YAML_YEAR,
    ERR_YEAR_NOT_COVERED,
    CalendarDataError,
    CalendarFileError,
    CalendarYearNotCovered,
    calendar_day_set,
    calendar_import_file,
    calendar_sync,
    calendar_sync_year,
)
from workflow.models import CalendarDay, CalendarYear, StageClock

WriteFile = Callable[[str, str], Path]

# A made-up 2027 schedule (not the official one): New Year 01-01..01-04, one make-up Saturday.
SCHEDULE_2027_CSV = """date,kind,name
2027-01-01,holiday,元旦
2027-01-02,holiday,元旦
2027-01-03,holiday,元旦
2027-01-04,holiday,元旦
2027-01-09,makeup,元旦调休上班
"""


def day(value: str) -> CalendarDay:
    return CalendarDay.objects.get(date=dt.date.fromisoformat(value))


# --- sync from chinesecalendar ------------------------------------------------------------------


@pytest.mark.django_db
def test_sync_year_loads_every_day_of_2026_with_kinds_and_names() -> None:
    assert calendar_revision() == 0

    written = calendar_sync_year(year=2026)

    assert written == 365
    assert CalendarDay.objects.filter(date__year=2026).count() == 365
    assert CalendarDay.objects.filter(kind="holiday").count() == 33
    assert sorted(CalendarDay.objects.filter(kind="makeup").values_list("date", flat=True)) == [
        dt.date(2026, 1, 4),
        dt.date(2026, 2, 14),
        dt.date(2026, 2, 28),
        dt.date(2026, 5, 9),
        dt.date(2026, 9, 20),
        dt.date(2026, 10, 10),
    ]
    national_day = day("2026-10-03")
    assert (national_day.kind, national_day.is_workday, national_day.name) == (
        "holiday",
        False,
        "国庆节",
    )
    makeup = day("2026-10-10")
    assert (makeup.kind, makeup.is_workday, makeup.name) == ("makeup", True, "国庆节调休上班")
    assert day("2026-02-16").name == "春节"
    assert (day("2026-10-17").kind, day("2026-10-17").is_workday) == ("weekend", False)
    assert (day("2026-10-16").kind, day("2026-10-16").is_workday) == ("workday", True)
    assert set(CalendarDay.objects.values_list("source", flat=True)) == {"chinesecalendar"}
    assert CalendarYear.objects.get(year=2026).source == "chinesecalendar"
    # The revision row did not exist: the sync created it.
    assert calendar_revision() == 1


@pytest.mark.django_db
def test_sync_is_idempotent_and_bumps_the_revision_each_time() -> None:
    calendar_sync_year(year=2026)
    first = list(CalendarDay.objects.values_list("date", "is_workday", "kind", "name", "source"))

    assert calendar_sync_year(year=2026) == 365

    assert (
        list(CalendarDay.objects.values_list("date", "is_workday", "kind", "name", "source"))
        == first
    )
    assert CalendarDay.objects.count() == 365
    assert CalendarYear.objects.count() == 1
    assert calendar_revision() == 2


@pytest.mark.django_db
def test_sync_without_years_loads_every_year_the_package_covers() -> None:
    written = calendar_sync()

    assert list(written) == list(range(2004, 2027))
    assert written[2024] == 366
    assert written[2026] == 365
    assert CalendarDay.objects.count() == (dt.date(2027, 1, 1) - dt.date(2004, 1, 1)).days
    assert list(CalendarYear.objects.values_list("year", flat=True)) == list(range(2004, 2027))
    # 2015's one-off holiday for the 70th anniversary of the victory.
    assert day("2015-09-03").kind == "holiday"
    assert get_calendar().published_years == frozenset(range(2004, 2027))


@pytest.mark.django_db
@pytest.mark.parametrize("year", [2027, 2003])
def test_sync_refuses_a_year_the_package_does_not_cover(year: int) -> None:
    calendar_sync_year(year=2026)
    before = calendar_snapshot()

    with pytest.raises(CalendarYearNotCovered) as caught:
        calendar_sync_year(year=year)

    assert str(caught.value) == ERR_YEAR_NOT_COVERED.format(
        version="1.11.0", year=year, first=2004, last=2026
    )
    assert calendar_snapshot() == before


@pytest.mark.django_db
def test_sync_keeps_days_edited_in_the_admin_unless_forced() -> None:
    calendar_sync_year(year=2026)
    calendar_day_set(day=day("2026-11-20"), kind="holiday", name="地方假日", note="test")

    assert calendar_sync_year(year=2026) == 364

    kept = day("2026-11-20")
    assert (kept.kind, kept.is_workday, kept.source, kept.name) == (
        "holiday",
        False,
        "admin",
        "地方假日",
    )
    assert get_calendar().is_workday(dt.date(2026, 11, 20)) is False

    assert calendar_sync_year(year=2026, force=True) == 365

    restored = day("2026-11-20")
    assert (restored.kind, restored.is_workday, restored.source) == (
        "workday",
        True,
        "chinesecalendar",
    )
    assert get_calendar().is_workday(dt.date(2026, 11, 20)) is True


@pytest.mark.django_db
def test_sync_of_several_years_is_all_or_nothing() -> None:
    with pytest.raises(CalendarYearNotCovered, match="no schedule for 2027"):
        calendar_sync(years=[2026, 2027])

    assert CalendarDay.objects.count() == 0
    assert CalendarYear.objects.count() == 0
    assert calendar_revision() == 0


@pytest.mark.django_db
def test_sync_calendar_command_prints_per_year_counts() -> None:
    out = io.StringIO()

    call_command("sync_calendar", "--year", "2025", "--year", "2026", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[:2] == ["2025: 365 days", "2026: 365 days"]
    assert "Loaded 2 years, 730 days" in lines[2]
    assert CalendarDay.objects.count() == 730


@pytest.mark.django_db
def test_sync_calendar_command_fails_on_an_uncovered_year() -> None:
    with pytest.raises(CommandError, match="has no schedule for 2027"):
        call_command("sync_calendar", "--year", "2027", stdout=io.StringIO())

    assert CalendarDay.objects.count() == 0
    assert calendar_revision() == 0


# --- admin edits through the service ------------------------------------------------------------


@pytest.mark.usefixtures("calendar_2026")
def test_calendar_day_set_keeps_is_workday_consistent_with_kind() -> None:
    revision = calendar_revision()
    get_calendar()

    calendar_day_set(day=day("2026-11-20"), kind="holiday", name="地方假日", note="")
    calendar_day_set(day=day("2026-11-21"), kind="makeup", name="调休", note="")

    assert (day("2026-11-20").is_workday, day("2026-11-21").is_workday) == (False, True)
    assert calendar_revision() == revision + 2
    # This process reloaded at once: Thursday + 1 skips the Friday holiday, lands on the Saturday.
    assert get_calendar().deadline(dt.datetime(2026, 11, 19, tzinfo=SHANGHAI), 1).due_on == (
        dt.date(2026, 11, 21)
    )


@pytest.mark.usefixtures("calendar_2026")
@pytest.mark.parametrize(
    ("date", "kind", "weekday"),
    [("2026-11-19", "makeup", "Thursday"), ("2026-11-21", "workday", "Saturday")],
)
def test_calendar_day_set_refuses_a_kind_that_cannot_fall_on_that_weekday(
    date: str, kind: str, weekday: str
) -> None:
    before = calendar_snapshot()

    with pytest.raises(CalendarDataError, match=f"{date} is a {weekday}; a {kind} day falls"):
        calendar_day_set(day=day(date), kind=kind, name="", note="")

    assert calendar_snapshot() == before


# --- importing a file --------------------------------------------------------------------------


@pytest.mark.usefixtures("calendar_2026")
def test_import_csv_writes_every_day_of_the_year(write_file: WriteFile) -> None:
    revision = calendar_revision()

    result = calendar_import_file(path=write_file("2027.csv", SCHEDULE_2027_CSV))

    assert (result.year, result.days, result.holidays, result.makeup_workdays) == (2027, 365, 4, 1)
    assert result.workdays == 261 - 2 + 1  # 2027 has 261 weekdays; 01-01 and 01-04 are off
    assert CalendarDay.objects.filter(date__year=2027).count() == 365
    assert set(CalendarDay.objects.filter(date__year=2027).values_list("source", flat=True)) == {
        "import"
    }
    assert (day("2027-01-04").kind, day("2027-01-04").is_workday, day("2027-01-04").name) == (
        "holiday",
        False,
        "元旦",
    )
    assert (day("2027-01-09").kind, day("2027-01-09").is_workday) == ("makeup", True)
    assert (day("2027-01-10").kind, day("2027-01-10").is_workday) == ("weekend", False)
    assert (day("2027-01-05").kind, day("2027-01-05").is_workday) == ("workday", True)
    assert CalendarYear.objects.get(year=2027).source == "import"
    assert calendar_revision() == revision + 1
    # 12-31 + 1: 01-01 .. 01-04 off; 2027 is published now.
    assert get_calendar().add_working_days(dt.date(2026, 12, 31), 1) == (dt.date(2027, 1, 5), False)
    assert get_calendar().add_working_days(dt.date(2027, 1, 8), 1) == (dt.date(2027, 1, 9), False)


@pytest.mark.usefixtures("calendar_2026")
def test_import_yaml_with_ranges_and_both_makeup_forms(write_file: WriteFile) -> None:
    path = write_file(
        "2027.yml",
        """# a made-up schedule
year: 2027
holidays:
  - {from: 2027-02-05, to: 2027-02-11, name: 春节}
  - date: 2027-05-01
    name: 劳动节
  - 2027-10-01
makeup_workdays:
  - 2027-02-20
  - {date: 2027-02-21, name: 春节调休上班}
""",
    )

    result = calendar_import_file(path=path)

    assert (result.year, result.holidays, result.makeup_workdays) == (2027, 9, 2)
    assert [d.date for d in CalendarDay.objects.filter(kind="holiday", date__year=2027)] == [
        *(dt.date(2027, 2, 5) + dt.timedelta(days=i) for i in range(7)),
        dt.date(2027, 5, 1),
        dt.date(2027, 10, 1),
    ]
    assert day("2027-02-08").name == "春节"
    assert day("2027-10-01").name == ""
    assert (day("2027-02-21").kind, day("2027-02-21").name) == ("makeup", "春节调休上班")


@pytest.mark.usefixtures("calendar_2026")
def test_import_replaces_an_earlier_import_of_the_same_year(write_file: WriteFile) -> None:
    calendar_import_file(path=write_file("a.csv", SCHEDULE_2027_CSV))

    calendar_import_file(path=write_file("b.csv", "date,kind\n2027-03-01,holiday\n"))

    assert day("2027-01-04").kind == "workday"
    assert day("2027-01-09").kind == "weekend"
    assert day("2027-03-01").kind == "holiday"
    assert CalendarYear.objects.get(year=2027).note == "b.csv"


BAD_FILES: list[tuple[str, str, list[str]]] = [
    (
        "bad-date.csv",
        "date,kind,name\n2027-01-01,holiday,元旦\n2027-02-30,holiday,春节\n",
        [ERR_DATE.format(line=3, value="2027-02-30")],
    ),
    (
        "not-iso.csv",
        "date,kind\n20270101,holiday\n2027/01/02,holiday\n",
        [
            ERR_DATE.format(line=2, value="20270101"),
            ERR_DATE.format(line=3, value="2027/01/02"),
        ],
    ),
    (
        "two-years.csv",
        "date,kind\n2027-01-01,holiday\n2028-01-01,holiday\n",
        [ERR_TWO_YEARS.format(line=3, date="2028-01-01", other=2028, first_line=2, year=2027)],
    ),
    (
        "wrong-year.yaml",
        "year: 2027\nholidays:\n  - 2027-01-01\n  - 2028-01-01\n",
        [ERR_WRONG_YEAR.format(line=4, date="2028-01-01", year=2027)],
    ),
    (
        "makeup-weekday.csv",
        "date,kind\n2027-01-01,holiday\n2027-01-06,makeup\n",
        [ERR_MAKEUP_WEEKDAY.format(line=3, date="2027-01-06", weekday="Wednesday")],
    ),
    (
        "makeup-weekday.yaml",
        "year: 2027\nmakeup_workdays:\n  - 2027-01-09\n  - {date: 2027-01-08, name: x}\n",
        [ERR_MAKEUP_WEEKDAY.format(line=4, date="2027-01-08", weekday="Friday")],
    ),
    (
        "holiday-and-makeup.yaml",
        "year: 2027\nholidays:\n  - {from: 2027-01-01, to: 2027-01-03}\n"
        "makeup_workdays:\n  - 2027-01-02\n",
        [ERR_HOLIDAY_AND_MAKEUP.format(line=5, date="2027-01-02", first_line=3)],
    ),
    (
        "duplicate.csv",
        "date,kind\n2027-01-01,holiday\n2027-01-01,holiday\n",
        [ERR_DUPLICATE.format(line=3, date="2027-01-01", first_line=2)],
    ),
    (
        "unknown-kind.csv",
        "date,kind\n2027-01-01,holiday\n2027-01-04,workday\n",
        [ERR_KIND.format(line=3, kind="workday")],
    ),
    (
        "header.csv",
        "day,type\n2027-01-01,holiday\n",
        [ERR_CSV_HEADER.format(found="day,type")],
    ),
    (
        "columns.csv",
        "date,kind,name\n2027-01-01,holiday,元旦,extra\n",
        [ERR_CSV_COLUMNS.format(line=2, count=4)],
    ),
    (
        "quote.csv",
        'date,kind\n2027-01-01,holiday\n"2027-01-02"x,holiday\n',
        [ERR_CSV_MALFORMED.format(line=3, detail="',' expected after '\"'")],
    ),
    ("empty.csv", "date,kind,name\n", [ERR_FILE_EMPTY]),
    ("empty.yaml", "year: 2027\nholidays:\n", [ERR_FILE_EMPTY]),
    (
        "syntax.yaml",
        "year: 2027\nholidays: [2027-01-01\n",
        [ERR_YAML_SYNTAX.format(line=3, detail="expected ',' or ']', but got '<stream end>'")],
    ),
    (
        "keys.yaml",
        "year: 2027\nholiday:\n  - 2027-01-01\n",
        [
            ERR_YAML_KEY.format(line=2, key="holiday", expected="year, holidays, makeup_workdays"),
        ],
    ),
    (
        "no-year.yaml",
        "holidays:\n  - 2027-01-01\n",
        [ERR_YAML_NO_YEAR],
    ),
    (
        "bad-year.yaml",
        "year: next\nholidays:\n  - 2027-01-01\n",
        [ERR_YAML_YEAR.format(line=1, value="next")],
    ),
    (
        "not-a-list.yaml",
        "year: 2027\nholidays: 2027-01-01\n",
        [ERR_YAML_LIST.format(line=2, key="holidays")],
    ),
    (
        "entry.yaml",
        "year: 2027\nholidays:\n  - {from: 2027-01-01, name: 元旦}\n  - [2027-01-02]\n",
        [ERR_YAML_ENTRY.format(line=3), ERR_YAML_ENTRY.format(line=4)],
    ),
    (
        "range.yaml",
        "year: 2027\nholidays:\n  - {from: 2027-01-03, to: 2027-01-01}\n",
        [ERR_YAML_RANGE.format(line=3, start="2027-01-03", to="2027-01-01")],
    ),
    (
        # Every problem, in line order, although dates are checked before the rest.
        "many.csv",
        "date,kind\n2027-01-01,holiday\n2027-01-05,makeup\n2026-01-01,holiday\n2027-13-01,holiday\n",
        [
            ERR_MAKEUP_WEEKDAY.format(line=3, date="2027-01-05", weekday="Tuesday"),
            ERR_TWO_YEARS.format(line=4, date="2026-01-01", other=2026, first_line=2, year=2027),
            ERR_DATE.format(line=5, value="2027-13-01"),
        ],
    ),
]


@pytest.mark.usefixtures("calendar_2026")
@pytest.mark.parametrize(("name", "text", "errors"), BAD_FILES, ids=[f[0] for f in BAD_FILES])
def test_a_bad_file_is_refused_with_every_problem_and_changes_nothing(
    write_file: WriteFile, name: str, text: str, errors: list[str]
) -> None:
    calendar_import_file(path=write_file("good.csv", SCHEDULE_2027_CSV))
    before = calendar_snapshot()
    kinds_before = list(CalendarDay.objects.values_list("date", "kind", "source"))
    cal_before = get_calendar()

    with pytest.raises(CalendarFileError) as caught:
        calendar_import_file(path=write_file(name, text))

    assert caught.value.errors == errors
    assert str(caught.value) == "\n".join(errors)
    assert calendar_snapshot() == before
    assert list(CalendarDay.objects.values_list("date", "kind", "source")) == kinds_before
    assert get_calendar() is cal_before


@pytest.mark.django_db
def test_a_missing_file_or_an_unknown_type_is_refused(write_file: WriteFile) -> None:
    with pytest.raises(CalendarFileError) as caught:
        calendar_import_file(path="/nonexistent/2027.csv")
    assert caught.value.errors == [ERR_FILE_MISSING.format(path="/nonexistent/2027.csv")]

    path = write_file("2027.json", "{}")
    with pytest.raises(CalendarFileError) as caught:
        calendar_import_file(path=path)
    assert caught.value.errors == [ERR_FILE_TYPE.format(path=path)]

    path = write_file("latin1.csv", "")
    path.write_bytes("date,kind,name\n2027-01-01,holiday,f\xeate\n".encode("latin-1"))
    with pytest.raises(CalendarFileError, match="not UTF-8 text"):
        calendar_import_file(path=path)

    assert CalendarDay.objects.count() == 0
    assert calendar_revision() == 0


@pytest.mark.usefixtures("calendar_2026")
def test_import_calendar_command_prints_what_it_loaded(write_file: WriteFile) -> None:
    out = io.StringIO()

    call_command("import_calendar", str(write_file("2027.csv", SCHEDULE_2027_CSV)), stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0] == (
        "Imported 2027: 365 days from 2027.csv (4 holidays, 1 make-up working days, "
        "260 working days in the year)."
    )
    assert lines[-1] == "0 deadlines moved."
    assert CalendarYear.objects.get(year=2027).source == "import"


@pytest.mark.usefixtures("calendar_2026")
def test_import_calendar_command_fails_on_a_bad_file_and_changes_nothing(
    write_file: WriteFile,
) -> None:
    before = calendar_snapshot()
    path = write_file("2027.csv", "date,kind\n2027-01-06,makeup\n")

    with pytest.raises(CommandError) as caught:
        call_command("import_calendar", str(path), stdout=io.StringIO())

    assert str(caught.value) == (
        f"{path}: nothing imported.\n"
        + ERR_MAKEUP_WEEKDAY.format(line=2, date="2027-01-06", weekday="Wednesday")
    )
    assert calendar_snapshot() == before


@pytest.mark.usefixtures("calendar_2026")
def test_import_calendar_recomputes_a_provisional_deadline(
    write_file: WriteFile, submit_case: Callable[..., TransferCase]
) -> None:
    case = submit_case(now=dt.datetime(2026, 12, 24, 9, 0, tzinfo=SHANGHAI))
    clock = StageClock.objects.get(case=case, completed_at__isnull=True)
    # 12-25, 12-28 .. 12-31, then 2027 by weekends and fixed holidays: 01-04 .. 01-08.
    assert clock.due_at == dt.datetime(2027, 1, 8, 23, 59, 59, tzinfo=SHANGHAI)
    assert clock.provisional is True
    out = io.StringIO()

    # 01-01 .. 01-04 off: 01-05 .. 01-08 are the 6th to 9th, the make-up Saturday 01-09 the 10th.
    call_command("import_calendar", str(write_file("2027.csv", SCHEDULE_2027_CSV)), stdout=out)

    clock.refresh_from_db()
    assert clock.due_at == dt.datetime(2027, 1, 9, 23, 59, 59, tzinfo=SHANGHAI)
    assert clock.provisional is False
    lines = out.getvalue().splitlines()
    assert lines[1:] == [
        f"{case.reference} applied: 2027-01-08 -> 2027-01-09",
        "1 deadlines moved.",
    ]
    event = CaseEvent.objects.filter(case=case).order_by("-id").first()
    assert event is not None
    assert event.action == "deadline_recomputed"
    assert dt.datetime.fromisoformat(event.data["new_due_at"]) == clock.due_at


# --- the admin ----------------------------------------------------------------------------------


def admin_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.usefixtures("calendar_2026")
def test_admin_lists_and_filters_calendar_days(calendar_admin: User) -> None:
    client = admin_client(calendar_admin)
    url = reverse("admin:workflow_calendarday_changelist")

    listing = client.get(url, {"date__year": 2026, "date__month": 10, "kind__exact": "makeup"})
    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == [day("2026-10-10")]

    found = client.get(url, {"q": "国庆节"})
    assert [d.date for d in found.context["cl"].queryset.order_by("date")] == [
        dt.date(2026, 9, 20),  # make-up Sunday
        *(dt.date(2026, 10, d) for d in range(1, 8)),
        dt.date(2026, 10, 10),  # make-up Saturday
    ]

    years = client.get(reverse("admin:workflow_calendaryear_changelist"))
    assert years.status_code == 200
    assert [y.year for y in years.context["cl"].result_list] == [2026]


@pytest.mark.usefixtures("calendar_2026")
def test_admin_change_form_saves_through_the_service(calendar_admin: User) -> None:
    client = admin_client(calendar_admin)
    url = reverse("admin:workflow_calendarday_change", args=["2026-11-20"])
    revision = calendar_revision()
    assert client.get(url).status_code == 200
    get_calendar()

    response = client.post(url, {"kind": "holiday", "name": "地方假日", "note": "省政府通知"})

    assert response.status_code == 302
    edited = day("2026-11-20")
    assert (edited.kind, edited.is_workday, edited.source, edited.name, edited.note) == (
        "holiday",
        False,
        "admin",
        "地方假日",
        "省政府通知",
    )
    assert calendar_revision() == revision + 1
    assert get_calendar().deadline(dt.datetime(2026, 11, 19, tzinfo=SHANGHAI), 1).due_on == (
        dt.date(2026, 11, 23)
    )
    # A later sync keeps the edit.
    calendar_sync_year(year=2026)
    assert day("2026-11-20").kind == "holiday"


@pytest.mark.usefixtures("calendar_2026")
def test_admin_change_form_refuses_a_makeup_day_on_a_weekday(calendar_admin: User) -> None:
    client = admin_client(calendar_admin)
    before = calendar_snapshot()

    response = client.post(
        reverse("admin:workflow_calendarday_change", args=["2026-11-19"]),
        {"kind": "makeup", "name": "", "note": ""},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["kind"] == [
        ERR_DAY_KIND.format(
            date="2026-11-19", weekday="Thursday", kind="makeup", rule="on a Saturday or Sunday"
        )
    ]
    assert calendar_snapshot() == before
    assert day("2026-11-19").kind == "workday"


@pytest.mark.usefixtures("calendar_2026")
def test_admin_list_edit_saves_through_the_service(calendar_admin: User) -> None:
    client = admin_client(calendar_admin)
    url = reverse("admin:workflow_calendarday_changelist")
    query = "?date__year=2026&date__month=11&date__day=21"

    response = client.post(
        url + query,
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-date": "2026-11-21",
            "form-0-kind": "makeup",
            "form-0-name": "调休",
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    edited = day("2026-11-21")
    assert (edited.kind, edited.is_workday, edited.source) == ("makeup", True, "admin")
    assert get_calendar().is_workday(dt.date(2026, 11, 21)) is True


@pytest.mark.usefixtures("calendar_2026")
def test_admin_cannot_add_or_delete_days_or_change_years(calendar_admin: User) -> None:
    client = admin_client(calendar_admin)

    assert client.get(reverse("admin:workflow_calendarday_add")).status_code == 403
    assert (
        client.post(reverse("admin:workflow_calendarday_delete", args=["2026-11-20"])).status_code
        == 403
    )
    assert (
        client.post(
            reverse("admin:workflow_calendaryear_change", args=[2026]), {"source": "admin"}
        ).status_code
        == 403
    )
    assert CalendarDay.objects.count() == 365
    assert CalendarYear.objects.get(year=2026).source == "chinesecalendar"


def test_the_sample_files_import_cleanly(db: Any) -> None:
    data = Path(__file__).resolve().parents[2] / "workflow" / "data"
    results = [calendar_import_file(path=path) for path in sorted(data.glob("sample-*.*"))]

    assert len(results) == 2
    assert results[0].days == results[1].days == 365
    # The CSV and the YAML sample describe the same (made-up) year.
    assert (results[0].holidays, results[0].makeup_workdays) == (
        results[1].holidays,
        results[1].makeup_workdays,
    )
