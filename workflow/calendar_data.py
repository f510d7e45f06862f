"""Writes to the working-day calendar: sync from ``chinesecalendar``, import a file, admin edits.

Every write runs in one transaction that also bumps ``CalendarRevision``, so every process reloads
its cached ``WorkingDayCalendar`` (see ``workflow.calendar.get_calendar``). The revision row is
bumped first: its row lock serialises concurrent calendar writers.

Import files hold one year's official schedule, as the State Council publishes it:

CSV (UTF-8, header ``date,kind[,name]``; kinds ``holiday`` and ``makeup``)::

    date,kind,name
    2027-01-01,holiday,元旦
    2027-02-20,makeup,春节调休

YAML::

    year: 2027
    holidays:
      - {date: 2027-01-01, name: 元旦}
      - {from: 2027-02-06, to: 2027-02-14, name: 春节}
    makeup_workdays:
      - 2027-02-20
      - {date: 2027-02-21, name: 春节调休}

Every other day of the year is a working day from Monday to Friday and a weekend day otherwise.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import chinese_calendar
import yaml
from django.db import transaction
from django.db.models import F

from workflow.calendar import EPOCH, HORIZON, calendar_invalidate
from workflow.models import CalendarDay, CalendarRevision, CalendarSource, CalendarYear, DayKind

NAME_MAX_LENGTH: Final = CalendarDay._meta.get_field("name").max_length
NOTE_MAX_LENGTH: Final = CalendarDay._meta.get_field("note").max_length
WORKING_KINDS: Final = frozenset({DayKind.WORKDAY, DayKind.MAKEUP})
# A file is refused beyond this many problems; the first ones are enough to fix it.
MAX_REPORTED_ERRORS: Final = 20

# --- error messages (tests reuse them) ---------------------------------------------------------
ERR_YEAR_NOT_COVERED: Final = (
    "chinesecalendar {version} has no schedule for {year} (it covers {first}-{last}); "
    "import the State Council's schedule with `manage.py import_calendar FILE`"
)
ERR_YEAR_OUT_OF_RANGE: Final = "{year} is outside the calendar ({first}-{last})"
ERR_FILE_MISSING: Final = "{path}: no such file"
ERR_FILE_TYPE: Final = "{path}: unknown file type; use .csv, .yaml or .yml"
ERR_FILE_ENCODING: Final = "{path}: not UTF-8 text"
ERR_FILE_EMPTY: Final = "the file lists no holidays or make-up working days"
ERR_CSV_HEADER: Final = "line 1: the header must be date,kind or date,kind,name (found {found})"
ERR_CSV_MALFORMED: Final = "line {line}: malformed CSV: {detail}"
ERR_CSV_COLUMNS: Final = "line {line}: expected 2 or 3 columns (date,kind[,name]), found {count}"
ERR_KIND: Final = "line {line}: unknown kind {kind!r}; use holiday or makeup"
ERR_DATE: Final = "line {line}: {value!r} is not a date; use YYYY-MM-DD"
ERR_WRONG_YEAR: Final = "line {line}: {date} is not in {year}; a file holds one year"
ERR_TWO_YEARS: Final = (
    "line {line}: {date} is in {other}, but line {first_line} is in {year}; a file holds one year"
)
ERR_DUPLICATE: Final = "line {line}: {date} is already listed on line {first_line}"
ERR_HOLIDAY_AND_MAKEUP: Final = (
    "line {line}: {date} is both a holiday and a make-up working day (see line {first_line})"
)
ERR_MAKEUP_WEEKDAY: Final = "line {line}: make-up working day {date} is a {weekday}; make-up days fall on a Saturday or Sunday"
ERR_NAME_TOO_LONG: Final = "line {line}: name is longer than {limit} characters"
ERR_YAML_SYNTAX: Final = "line {line}: malformed YAML: {detail}"
ERR_YAML_TOP: Final = "line {line}: the file must be a mapping with year, holidays, makeup_workdays"
ERR_YAML_KEY: Final = "line {line}: unknown key {key!r}; expected one of {expected}"
ERR_YAML_YEAR: Final = "line {line}: year must be a four-digit year, not {value!r}"
ERR_YAML_DUPLICATE_KEY: Final = "line {line}: {key} appears twice"
ERR_YAML_NO_YEAR: Final = "the file has no year"
ERR_YAML_LIST: Final = "line {line}: {key} must be a list"
ERR_YAML_ENTRY: Final = "line {line}: each entry is a date, {{date: ..., name: ...}} or {{from: ..., to: ..., name: ...}}"
ERR_YAML_RANGE: Final = "line {line}: the range ends ({to}) before it starts ({start})"
ERR_UNKNOWN_KIND: Final = "unknown kind {kind!r}; use one of {kinds}"
ERR_DAY_KIND: Final = "{date} is a {weekday}; a {kind} day falls {rule}"

LINE_PREFIX: Final = re.compile(r"line (\d+):")
ISO_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
CSV_HEADER: Final = ["date", "kind"]
YAML_KEYS: Final = ("year", "holidays", "makeup_workdays")
YAML_ENTRY_KEYS: Final = ("date", "from", "to", "name")
WEEKDAY_NAMES: Final = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)

# The package names holidays in English; the calendar shows the Chinese name.
HOLIDAY_NAMES_ZH: Final = {h.value: h.chinese for h in chinese_calendar.Holiday}
MAKEUP_SUFFIX: Final = "调休上班"


class CalendarDataError(Exception):
    """A calendar write was refused; the message says why. Nothing was changed."""


class CalendarYearNotCovered(CalendarDataError):
    """The ``chinesecalendar`` package has no schedule for the year."""


class CalendarFileError(CalendarDataError):
    """An import file is invalid. ``errors`` lists every problem found, line by line."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("\n".join(errors))


@dataclass(frozen=True, slots=True)
class ImportResult:
    year: int
    path: Path
    days: int
    holidays: int
    makeup_workdays: int
    workdays: int

    def __str__(self) -> str:
        return (
            f"{self.year}: {self.days} days from {self.path.name} "
            f"({self.holidays} holidays, {self.makeup_workdays} make-up working days, "
            f"{self.workdays} working days in the year)"
        )


# --- shared helpers ---------------------------------------------------------------------------


def _revision_bump() -> None:
    """Bump the single revision row (creating it if missing); its lock serialises writers."""
    if CalendarRevision.objects.filter(pk=1).update(revision=F("revision") + 1):
        return
    CalendarRevision.objects.bulk_create(
        [CalendarRevision(pk=1, revision=0)], ignore_conflicts=True
    )
    CalendarRevision.objects.filter(pk=1).update(revision=F("revision") + 1)


def _invalidate_after_write() -> None:
    # Now, so the rest of this operation (e.g. recomputing deadlines) sees the new days; and again
    # on commit, in case another thread of this process reloaded while the transaction was open.
    calendar_invalidate()
    transaction.on_commit(calendar_invalidate)


def _year_days(year: int) -> list[dt.date]:
    first = dt.date(year, 1, 1)
    return [first + dt.timedelta(days=i) for i in range((dt.date(year + 1, 1, 1) - first).days)]


def _upsert_days(days: list[CalendarDay]) -> None:
    CalendarDay.objects.bulk_create(
        days,
        update_conflicts=True,
        unique_fields=["date"],
        update_fields=["is_workday", "kind", "name", "source", "note", "updated_at"],
        batch_size=1000,
    )


def calendar_day_check(*, date: dt.date, kind: str) -> None:
    """Refuse a kind that cannot fall on ``date``'s weekday (holidays may fall on any day)."""
    weekend = date.weekday() >= 5
    if kind == DayKind.WORKDAY and weekend:
        rule = "from Monday to Friday (a working Saturday or Sunday is a make-up day)"
    elif kind == DayKind.WEEKEND and not weekend:
        rule = "on a Saturday or Sunday (a day off during the week is a holiday)"
    elif kind == DayKind.MAKEUP and not weekend:
        rule = "on a Saturday or Sunday"
    else:
        return
    raise CalendarDataError(
        ERR_DAY_KIND.format(date=date, weekday=WEEKDAY_NAMES[date.weekday()], kind=kind, rule=rule)
    )


# --- chinesecalendar ---------------------------------------------------------------------------


def calendar_package_years() -> range:
    """The years the installed ``chinesecalendar`` package has a schedule for."""
    return range(min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1)


def _package_day(day: dt.date) -> tuple[bool, str, str]:
    """(is_workday, kind, name) of ``day`` according to the package."""
    is_workday = chinese_calendar.is_workday(day)
    _, holiday = chinese_calendar.get_holiday_detail(day)
    name = HOLIDAY_NAMES_ZH.get(holiday, holiday) if holiday else ""
    weekend = day.weekday() >= 5
    if is_workday and weekend:
        return True, DayKind.MAKEUP, f"{name}{MAKEUP_SUFFIX}" if name else ""
    if is_workday:
        return True, DayKind.WORKDAY, ""
    if holiday:
        return False, DayKind.HOLIDAY, name
    return False, DayKind.WEEKEND, ""


def calendar_sync_year(*, year: int, force: bool = False) -> int:
    """Load ``year`` from ``chinesecalendar``; returns the number of days written.

    Idempotent. Days edited in the admin are kept unless ``force``. Raises
    ``CalendarYearNotCovered`` for a year the package has no schedule for.
    """
    try:
        chinese_calendar.is_workday(dt.date(year, 1, 1))
    except NotImplementedError as exc:
        years = calendar_package_years()
        raise CalendarYearNotCovered(
            ERR_YEAR_NOT_COVERED.format(
                version=chinese_calendar.__version__, year=year, first=years[0], last=years[-1]
            )
        ) from exc
    with transaction.atomic():
        _revision_bump()
        kept: set[dt.date] = set()
        if not force:
            kept = set(
                CalendarDay.objects.filter(
                    date__year=year, source=CalendarSource.ADMIN
                ).values_list("date", flat=True)
            )
        rows = []
        for day in _year_days(year):
            if day in kept:
                continue
            is_workday, kind, name = _package_day(day)
            rows.append(
                CalendarDay(
                    date=day,
                    is_workday=is_workday,
                    kind=kind,
                    name=name,
                    source=CalendarSource.CHINESECALENDAR,
                    note="",
                )
            )
        _upsert_days(rows)
        CalendarYear.objects.update_or_create(
            year=year,
            defaults={
                "source": CalendarSource.CHINESECALENDAR,
                "note": f"chinesecalendar {chinese_calendar.__version__}",
            },
        )
    _invalidate_after_write()
    return len(rows)


def calendar_sync(*, years: Iterable[int] | None = None, force: bool = False) -> dict[int, int]:
    """Load ``years`` (default: every year the package covers) in one transaction.

    Returns the days written per year.
    """
    wanted = sorted(set(calendar_package_years() if years is None else years))
    with transaction.atomic():
        written = {year: calendar_sync_year(year=year, force=force) for year in wanted}
    _invalidate_after_write()
    return written


# --- admin edits -------------------------------------------------------------------------------


def calendar_day_set(*, day: CalendarDay, kind: str, name: str, note: str) -> CalendarDay:
    """Change one day by hand. The day becomes ``source=admin``, which a later sync keeps."""
    if kind not in DayKind.values:
        raise CalendarDataError(ERR_UNKNOWN_KIND.format(kind=kind, kinds=", ".join(DayKind.values)))
    calendar_day_check(date=day.date, kind=kind)
    with transaction.atomic():
        _revision_bump()
        day.kind = kind
        day.is_workday = kind in WORKING_KINDS
        day.name = name
        day.note = note
        day.source = CalendarSource.ADMIN
        day.save()
    _invalidate_after_write()
    return day


# --- import from a file ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Entry:
    line: int
    date: dt.date
    kind: str
    name: str


class _Collector:
    """Gathers problems so that one run reports all of them, in line order.

    Messages about a line start with "line N:"; the others (about the whole file) come first.
    """

    def __init__(self) -> None:
        self._errors: list[tuple[int, str]] = []

    def add(self, message: str) -> None:
        line = LINE_PREFIX.match(message)
        self._errors.append((int(line.group(1)) if line else 0, message))

    @property
    def errors(self) -> list[str]:
        return [message for _, message in sorted(self._errors, key=lambda e: e[0])]


def _parse_date(value: str, line: int, errors: _Collector) -> dt.date | None:
    text = value.strip()
    # fromisoformat alone would also take "20270101" and week dates; the files use one form.
    if ISO_DATE.fullmatch(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    errors.add(ERR_DATE.format(line=line, value=value))
    return None


def _read_csv(text: str, errors: _Collector) -> tuple[int | None, list[_Entry]]:
    """Entries of a CSV file; a CSV file states no year (the first date's year is the file's)."""
    entries: list[_Entry] = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header_seen = False
    try:
        for row in reader:
            line = reader.line_num
            if not header_seen:
                header_seen = True
                if [cell.strip().lower() for cell in row] not in (
                    CSV_HEADER,
                    [*CSV_HEADER, "name"],
                ):
                    errors.add(ERR_CSV_HEADER.format(found=",".join(row) or "an empty line"))
                    return None, entries
                continue
            if not any(cell.strip() for cell in row):
                continue
            if len(row) not in (2, 3):
                errors.add(ERR_CSV_COLUMNS.format(line=line, count=len(row)))
                continue
            day = _parse_date(row[0], line, errors)
            kind = row[1].strip().lower()
            if kind not in (DayKind.HOLIDAY, DayKind.MAKEUP):
                errors.add(ERR_KIND.format(line=line, kind=row[1]))
                continue
            if day is not None:
                name = row[2].strip() if len(row) == 3 else ""
                entries.append(_Entry(line=line, date=day, kind=kind, name=name))
    except csv.Error as exc:
        errors.add(ERR_CSV_MALFORMED.format(line=reader.line_num, detail=exc))
    return None, entries


def _yaml_line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _read_yaml_entry(node: yaml.Node, kind: str, errors: _Collector) -> list[_Entry]:
    """One item of ``holidays`` or ``makeup_workdays``: a date, {date, name} or {from, to, name}."""
    line = _yaml_line(node)
    if isinstance(node, yaml.ScalarNode):
        day = _parse_date(node.value, line, errors)
        return [] if day is None else [_Entry(line=line, date=day, kind=kind, name="")]
    if not isinstance(node, yaml.MappingNode):
        errors.add(ERR_YAML_ENTRY.format(line=line))
        return []
    fields: dict[str, str] = {}
    for key_node, value_node in node.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if key not in YAML_ENTRY_KEYS:
            errors.add(
                ERR_YAML_KEY.format(
                    line=_yaml_line(key_node), key=key, expected=", ".join(YAML_ENTRY_KEYS)
                )
            )
            return []
        if not isinstance(value_node, yaml.ScalarNode):
            errors.add(ERR_YAML_ENTRY.format(line=_yaml_line(value_node)))
            return []
        fields[key] = value_node.value
    name = fields.get("name", "").strip()
    if fields.keys() - {"name"} == {"date"}:
        day = _parse_date(fields["date"], line, errors)
        return [] if day is None else [_Entry(line=line, date=day, kind=kind, name=name)]
    if fields.keys() - {"name"} == {"from", "to"}:
        start = _parse_date(fields["from"], line, errors)
        end = _parse_date(fields["to"], line, errors)
        if start is None or end is None:
            return []
        if end < start:
            errors.add(ERR_YAML_RANGE.format(line=line, start=start, to=end))
            return []
        return [
            _Entry(line=line, date=start + dt.timedelta(days=i), kind=kind, name=name)
            for i in range((end - start).days + 1)
        ]
    errors.add(ERR_YAML_ENTRY.format(line=line))
    return []


def _read_yaml(text: str, errors: _Collector) -> tuple[int | None, list[_Entry]]:
    """The stated year and the entries of a YAML file."""
    # Composing (not loading) keeps every node's line number for the messages, and reads dates as
    # text so that they are checked here, not by YAML's looser timestamp rules.
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        detail = getattr(exc, "problem", None) or str(exc)
        errors.add(ERR_YAML_SYNTAX.format(line=mark.line + 1 if mark else 1, detail=detail))
        return None, []
    if root is None:
        errors.add(ERR_YAML_NO_YEAR)
        return None, []
    if not isinstance(root, yaml.MappingNode):
        errors.add(ERR_YAML_TOP.format(line=_yaml_line(root)))
        return None, []
    year: int | None = None
    seen: set[str] = set()
    entries: list[_Entry] = []
    for key_node, value_node in root.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        line = _yaml_line(key_node)
        if key not in YAML_KEYS:
            errors.add(ERR_YAML_KEY.format(line=line, key=key, expected=", ".join(YAML_KEYS)))
            continue
        if key in seen:
            errors.add(ERR_YAML_DUPLICATE_KEY.format(line=line, key=key))
            continue
        seen.add(key)
        if key == "year":
            raw = value_node.value if isinstance(value_node, yaml.ScalarNode) else None
            if raw is not None and re.fullmatch(r"\d{4}", raw.strip()):
                year = int(raw)
            else:
                errors.add(ERR_YAML_YEAR.format(line=_yaml_line(value_node), value=raw))
            continue
        if isinstance(value_node, yaml.ScalarNode) and value_node.tag.endswith(":null"):
            continue  # "holidays:" with nothing after it: an empty list
        if not isinstance(value_node, yaml.SequenceNode):
            errors.add(ERR_YAML_LIST.format(line=_yaml_line(value_node), key=key))
            continue
        kind = DayKind.HOLIDAY if key == "holidays" else DayKind.MAKEUP
        for item in value_node.value:
            entries.extend(_read_yaml_entry(item, kind, errors))
    if "year" not in seen:
        errors.add(ERR_YAML_NO_YEAR)
    return year, entries


def _validate_entries(year: int | None, entries: list[_Entry], errors: _Collector) -> int | None:
    """Check the entries against each other and the file's year; returns that year.

    A YAML file states its year; a CSV file's year is the year of its first date.
    """
    if not entries:
        if not errors.errors:
            errors.add(ERR_FILE_EMPTY)
        return year
    stated = year is not None
    first = entries[0]
    year = year if stated else first.date.year
    seen: dict[dt.date, _Entry] = {}
    for entry in entries:
        if entry.date.year != year:
            errors.add(
                ERR_WRONG_YEAR.format(line=entry.line, date=entry.date, year=year)
                if stated
                else ERR_TWO_YEARS.format(
                    line=entry.line,
                    date=entry.date,
                    other=entry.date.year,
                    first_line=first.line,
                    year=year,
                )
            )
            continue
        if len(entry.name) > NAME_MAX_LENGTH:
            errors.add(ERR_NAME_TOO_LONG.format(line=entry.line, limit=NAME_MAX_LENGTH))
        if entry.kind == DayKind.MAKEUP and entry.date.weekday() < 5:
            errors.add(
                ERR_MAKEUP_WEEKDAY.format(
                    line=entry.line, date=entry.date, weekday=WEEKDAY_NAMES[entry.date.weekday()]
                )
            )
        earlier = seen.setdefault(entry.date, entry)
        if earlier is entry:
            continue
        if earlier.kind != entry.kind:
            errors.add(
                ERR_HOLIDAY_AND_MAKEUP.format(
                    line=entry.line, date=entry.date, first_line=earlier.line
                )
            )
        else:
            errors.add(
                ERR_DUPLICATE.format(line=entry.line, date=entry.date, first_line=earlier.line)
            )
    return year


def _read_file(path: Path) -> tuple[int, list[_Entry]]:
    """Parse and validate ``path`` completely; raises ``CalendarFileError`` listing every problem."""
    if not path.is_file():
        raise CalendarFileError([ERR_FILE_MISSING.format(path=path)])
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".yaml", ".yml"):
        raise CalendarFileError([ERR_FILE_TYPE.format(path=path)])
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CalendarFileError([ERR_FILE_ENCODING.format(path=path)]) from exc
    errors = _Collector()
    reader = _read_csv if suffix == ".csv" else _read_yaml
    stated_year, entries = reader(text, errors)
    year = _validate_entries(stated_year, entries, errors)
    if year is not None and not EPOCH.year <= year <= HORIZON.year:
        errors.add(ERR_YEAR_OUT_OF_RANGE.format(year=year, first=EPOCH.year, last=HORIZON.year))
    if errors.errors or year is None:
        raise CalendarFileError(errors.errors[:MAX_REPORTED_ERRORS] or [ERR_FILE_EMPTY])
    return year, entries


def calendar_import_file(*, path: str | Path) -> ImportResult:
    """Load one year's official schedule from a CSV or YAML file (see the module docstring).

    The whole file is validated before anything is written; on any problem ``CalendarFileError``
    lists them all and nothing changes. Every day of the year is written with ``source=import``
    (replacing admin edits too: the file is the official schedule), so the year is no longer
    provisional.
    """
    path = Path(path)
    year, entries = _read_file(path)
    listed = {entry.date: entry for entry in entries}
    rows = []
    for day in _year_days(year):
        entry = listed.get(day)
        if entry is not None:
            kind, name = entry.kind, entry.name
        else:
            kind, name = (DayKind.WEEKEND if day.weekday() >= 5 else DayKind.WORKDAY), ""
        rows.append(
            CalendarDay(
                date=day,
                is_workday=kind in WORKING_KINDS,
                kind=kind,
                name=name,
                source=CalendarSource.IMPORT,
                note="",
            )
        )
    with transaction.atomic():
        _revision_bump()
        _upsert_days(rows)
        CalendarYear.objects.update_or_create(
            year=year,
            defaults={"source": CalendarSource.IMPORT, "note": path.name[:NOTE_MAX_LENGTH]},
        )
    _invalidate_after_write()
    return ImportResult(
        year=year,
        path=path,
        days=len(rows),
        holidays=sum(1 for row in rows if row.kind == DayKind.HOLIDAY),
        makeup_workdays=sum(1 for row in rows if row.kind == DayKind.MAKEUP),
        workdays=sum(1 for row in rows if row.is_workday),
    )
