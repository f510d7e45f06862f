"""The shipped agency list: one medical insurance bureau per pooling area, loaded from a CSV file.

``agencies/data/agencies.csv`` (UTF-8) is derived from the GB/T 2260 division list: the 31 provincial
bureaus, the 333 prefecture-level ones and the 32 county-level units that report directly to their
province. Columns::

    code,name,division_name,level,province_code,province_name
    440300,深圳市医疗保障局,深圳市,prefecture,440000,广东省

Loading is an upsert keyed by code. It sets what the file describes (name, level, province) and
leaves what agencies edit locally (windows, balance policy, escalation, ``is_active``) alone, so a
reload after an edit in the admin never undoes the edit. Agencies missing from the file are kept:
cases refer to them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from django.db import transaction

from agencies.models import Agency, AgencyLevel, ProvinceMode
from agencies.policies import IntraProvinceMode

# The provinces' intra-province modes known from public rules (domain.md "Provinces' own modes"):
# (province agency, in force from, mode, basis). Loaded with the agencies; a row already there
# (perhaps edited in the admin) is left as it is.
SHIPPED_MODES: Final = (
    (
        "430000",
        "2025-07-10",
        IntraProvinceMode.INSTANT,
        "湘医保办发〔2025〕12号：省内转移接续即时办结，先划转后清算",
    ),
    (
        "350000",
        "2023-11-21",
        IntraProvinceMode.INSTANT,
        "福建省医疗保障局：省内医保转移接续按即办件办理，转入地即时划入个人账户"
        "（泉州市医疗保障局答问，2023-11-21）",
    ),
)

AGENCIES_FILE: Final = Path(__file__).resolve().parent / "data" / "agencies.csv"
COLUMNS: Final = ("code", "name", "division_name", "level", "province_code", "province_name")
# The fields the file owns; every other Agency field is local policy.
FILE_FIELDS: Final = ("name", "level", "province_code", "province_name")
# A file is refused beyond this many problems; the first ones are enough to fix it.
MAX_REPORTED_ERRORS: Final = 20

_CODE = re.compile(r"^[1-8][0-9]{5}$")
_NAME_MAX = Agency._meta.get_field("name").max_length
_PROVINCE_NAME_MAX = Agency._meta.get_field("province_name").max_length

# --- error messages (tests reuse them) ---------------------------------------------------------
ERR_FILE_MISSING: Final = "{path}: no such file"
ERR_FILE_ENCODING: Final = "{path}: not UTF-8 text"
ERR_FILE_EMPTY: Final = "{path}: the file lists no agencies"
ERR_CSV_MALFORMED: Final = "line {line}: malformed CSV: {detail}"
ERR_HEADER: Final = "line 1: the header must be {expected} (found {found})"
ERR_COLUMNS: Final = "line {line}: expected {expected} columns, found {count}"
ERR_CODE: Final = "line {line}: {field} {value!r} is not a 6-digit GB/T 2260 code"
ERR_DUPLICATE: Final = "line {line}: code {code} is already listed on line {first_line}"
ERR_EMPTY: Final = "line {line}: {field} is empty"
ERR_TOO_LONG: Final = "line {line}: {field} is longer than {limit} characters"
ERR_LEVEL: Final = "line {line}: unknown level {value!r}; use one of {choices}"
ERR_PROVINCE_PREFIX: Final = (
    "line {line}: province_code {province_code} is not the province of code {code}"
)
ERR_PROVINCE_MISSING: Final = (
    "line {line}: province_code {province_code} has no province row in the file"
)
ERR_PROVINCE_NAME: Final = (
    "line {line}: province_name {value!r} differs from the name of province {province_code} "
    "({expected!r})"
)
ERR_PROVINCE_ROW: Final = "line {line}: a province row's province_code must be its own code"


class AgencyFileError(Exception):
    """The agency file cannot be loaded; ``errors`` lists the problems, each with its line."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class AgencyLoadResult:
    created: int
    updated: int
    unchanged: int
    modes_created: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    code: str
    name: str
    division_name: str
    level: str
    province_code: str
    province_name: str


def _check_row(row: _Row, errors: list[str]) -> None:
    """Checks that need nothing but the row itself."""
    for field in ("code", "province_code"):
        value = getattr(row, field)
        if not _CODE.match(value):
            errors.append(ERR_CODE.format(line=row.line, field=field, value=value))
    for field in COLUMNS:
        if not getattr(row, field):
            errors.append(ERR_EMPTY.format(line=row.line, field=field))
    if len(row.name) > _NAME_MAX:
        errors.append(ERR_TOO_LONG.format(line=row.line, field="name", limit=_NAME_MAX))
    if len(row.province_name) > _PROVINCE_NAME_MAX:
        errors.append(
            ERR_TOO_LONG.format(line=row.line, field="province_name", limit=_PROVINCE_NAME_MAX)
        )
    if row.level not in AgencyLevel.values:
        errors.append(
            ERR_LEVEL.format(line=row.line, value=row.level, choices=", ".join(AgencyLevel.values))
        )
    elif row.level == AgencyLevel.PROVINCE and row.province_code != row.code:
        errors.append(ERR_PROVINCE_ROW.format(line=row.line))
    if row.code[:2] != row.province_code[:2] or not row.province_code.endswith("0000"):
        errors.append(
            ERR_PROVINCE_PREFIX.format(
                line=row.line, province_code=row.province_code, code=row.code
            )
        )


def _read(path: Path) -> list[_Row]:
    """Parse and validate the whole file; raises ``AgencyFileError`` listing every problem."""
    if not path.is_file():
        raise AgencyFileError([ERR_FILE_MISSING.format(path=path)])
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise AgencyFileError([ERR_FILE_ENCODING.format(path=path)]) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    errors: list[str] = []
    rows: list[_Row] = []
    try:
        header = next(reader, None)
        if header is None:
            raise AgencyFileError([ERR_FILE_EMPTY.format(path=path)])
        if [cell.strip().lower() for cell in header] != list(COLUMNS):
            raise AgencyFileError(
                [ERR_HEADER.format(expected=",".join(COLUMNS), found=",".join(header) or "nothing")]
            )
        for cells in reader:
            # Agency names never span lines, so the reader's line count is the row's line number.
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(COLUMNS):
                errors.append(
                    ERR_COLUMNS.format(line=line, expected=len(COLUMNS), count=len(cells))
                )
                continue
            row = _Row(line, *(cell.strip() for cell in cells))
            _check_row(row, errors)
            rows.append(row)
    except csv.Error as exc:
        errors.append(ERR_CSV_MALFORMED.format(line=reader.line_num, detail=exc))
    if not rows and not errors:
        errors.append(ERR_FILE_EMPTY.format(path=path))

    first_line: dict[str, int] = {}
    # A row's province_name must be its province row's division name.
    provinces = {row.code: row.division_name for row in rows if row.level == AgencyLevel.PROVINCE}
    for row in rows:
        earlier = first_line.setdefault(row.code, row.line)
        if earlier != row.line:
            errors.append(ERR_DUPLICATE.format(line=row.line, code=row.code, first_line=earlier))
        province = provinces.get(row.province_code)
        if province is None:
            errors.append(
                ERR_PROVINCE_MISSING.format(line=row.line, province_code=row.province_code)
            )
        elif province != row.province_name:
            errors.append(
                ERR_PROVINCE_NAME.format(
                    line=row.line,
                    value=row.province_name,
                    province_code=row.province_code,
                    expected=province,
                )
            )
    if errors:
        raise AgencyFileError(errors[:MAX_REPORTED_ERRORS])
    return rows


def agencies_load(*, path: str | Path | None = None) -> AgencyLoadResult:
    """Upsert every agency of the file (default: the shipped list) in one transaction.

    Idempotent: a second load of the same file creates and updates nothing. The whole file is
    validated first; on any problem ``AgencyFileError`` lists them (with line numbers) and nothing
    is written.
    """
    rows = _read(Path(path) if path is not None else AGENCIES_FILE)
    with transaction.atomic():
        # Locking the existing rows keeps a concurrent load (or admin edit) from interleaving.
        existing = Agency.objects.select_for_update().in_bulk([row.code for row in rows])
        to_create: list[Agency] = []
        to_update: list[Agency] = []
        for row in rows:
            values = {field: getattr(row, field) for field in FILE_FIELDS}
            agency = existing.get(row.code)
            if agency is None:
                to_create.append(Agency(code=row.code, **values))
            elif any(getattr(agency, field) != value for field, value in values.items()):
                for field, value in values.items():
                    setattr(agency, field, value)
                to_update.append(agency)
        Agency.objects.bulk_create(to_create, batch_size=500)
        Agency.objects.bulk_update(to_update, list(FILE_FIELDS), batch_size=500)
        modes_created = province_modes_load()
    return AgencyLoadResult(
        created=len(to_create),
        updated=len(to_update),
        unchanged=len(rows) - len(to_create) - len(to_update),
        modes_created=modes_created,
    )


def province_modes_load() -> int:
    """Create the shipped modes (``SHIPPED_MODES``) whose province exists and that are not there
    yet; how many were created. Idempotent."""
    present = set(Agency.objects.filter(level=AgencyLevel.PROVINCE).values_list("code", flat=True))
    created = 0
    for province, since, mode, basis in SHIPPED_MODES:
        if province not in present:
            continue
        _row, made = ProvinceMode.objects.get_or_create(
            province_id=province,
            effective_from=dt.date.fromisoformat(since),
            defaults={"mode": mode, "basis": basis},
        )
        created += made
    return created
