"""account_create and the create_account command: who gets which account, and what is refused."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from accounts import services
from accounts.models import User
from accounts.permissions import user_covers_agency
from accounts.services import account_create
from agencies.services import agencies_load
from core.errors import InvalidInput
from core.identity import MSG_ID_CHECK, id_number_decrypt

ID_NUMBER = "11010519491231002X"
PASSWORD = "wide-river-lantern-42"


@pytest.fixture
def agency_list(db) -> None:
    agencies_load()


def user_rows() -> list[tuple]:
    return list(User.objects.order_by("pk").values_list())


def refused(**kwargs) -> dict[str, list[str]]:
    """Call account_create expecting a refusal; check nothing was written; return the errors."""
    before = user_rows()
    with pytest.raises(InvalidInput) as exc:
        account_create(**kwargs)
    assert user_rows() == before
    return exc.value.errors


# --- each role --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_applicant_carries_name_and_encrypted_id_number(agency_list):
    user = account_create(
        role="applicant",
        username="zhangsan",
        password=PASSWORD,
        name="张三",
        id_number="11010519491231002x ",
        phone="13812345678",
    )
    user.refresh_from_db()
    assert (user.role, user.real_name, user.phone, user.agency_id) == (
        "applicant",
        "张三",
        "13812345678",
        None,
    )
    assert user.id_number_masked == "110105********002X"
    assert id_number_decrypt(user.id_number_encrypted) == ID_NUMBER
    assert not user.is_staff
    assert not user.is_superuser
    assert user.check_password(PASSWORD)


@pytest.mark.django_db
def test_the_id_number_is_not_stored_in_plain_text(agency_list):
    user = account_create(
        role="applicant", username="zhangsan", password=PASSWORD, name="张三", id_number=ID_NUMBER
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_user WHERE id = %s", [user.pk])
        row = cursor.fetchone()
    stored = " ".join(str(value) for value in row)
    assert ID_NUMBER not in stored
    # Not even the birth date next to the address code.
    assert ID_NUMBER[:14] not in stored


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["caseworker", "supervisor"])
def test_agency_staff_can_use_the_admin(agency_list, role):
    user = account_create(
        role=role, username="sz_staff", password=PASSWORD, agency_code="440300", name="陈晓"
    )
    user.refresh_from_db()
    assert (user.role, user.agency_id, user.real_name, user.province_wide) == (
        role,
        "440300",
        "陈晓",
        False,
    )
    assert user.is_staff
    assert not user.is_superuser
    assert user.id_number_digest == ""


@pytest.mark.django_db
def test_a_provincial_supervisor_covers_the_province(agency_list):
    user = account_create(
        role="supervisor",
        username="gd_supervisor",
        password=PASSWORD,
        agency_code="440000",
        province_wide=True,
    )
    assert user.province_wide
    assert user_covers_agency(user, "440300")
    assert not user_covers_agency(user, "430100")


@pytest.mark.django_db
def test_a_platform_account_is_not_admin_staff(agency_list):
    user = account_create(
        role="platform",
        username="gd_platform",
        password=PASSWORD,
        agency_code="440000",
        province_wide=True,
    )
    assert (user.role, user.agency_id, user.province_wide) == ("platform", "440000", True)
    assert not user.is_staff
    assert not user.is_superuser


@pytest.mark.django_db
def test_an_admin_is_a_superuser(agency_list):
    user = account_create(role="admin", username="root2", password=PASSWORD)
    assert (user.role, user.agency_id) == ("admin", None)
    assert user.is_staff
    assert user.is_superuser


@pytest.mark.django_db
def test_without_a_password_the_account_cannot_sign_in(agency_list, client):
    user = account_create(role="caseworker", username="sz_cw", agency_code="440300")
    assert not user.has_usable_password()
    assert not client.login(username="sz_cw", password="")


# --- refusals: every bad field reported, nothing written -------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["caseworker", "supervisor", "platform"])
def test_agency_roles_need_an_agency(agency_list, role):
    errors = refused(role=role, username="x1", password=PASSWORD)
    assert errors == {"agency_code": [str(services.MSG_AGENCY_REQUIRED).format(role=role)]}


@pytest.mark.django_db
def test_the_agency_must_exist(agency_list):
    errors = refused(role="caseworker", username="x1", password=PASSWORD, agency_code="440399")
    assert errors == {"agency_code": [str(services.MSG_AGENCY_UNKNOWN).format(code="440399")]}


@pytest.mark.django_db
def test_without_any_agencies_loaded_the_message_says_what_to_do(db):
    errors = refused(role="caseworker", username="x1", password=PASSWORD, agency_code="440300")
    assert "manage.py load_agencies" in errors["agency_code"][0]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["applicant", "admin"])
def test_only_agency_roles_have_an_agency(agency_list, role):
    identity = {"name": "张三", "id_number": ID_NUMBER} if role == "applicant" else {}
    errors = refused(role=role, username="x1", password=PASSWORD, agency_code="440300", **identity)
    assert errors == {"agency_code": [str(services.MSG_AGENCY_NOT_ALLOWED)]}


@pytest.mark.django_db
def test_province_wide_is_for_supervisors_and_platforms_at_a_provincial_agency(agency_list):
    errors = refused(
        role="caseworker",
        username="x1",
        password=PASSWORD,
        agency_code="440000",
        province_wide=True,
    )
    assert errors == {"province_wide": [str(services.MSG_PROVINCE_WIDE_ROLE)]}
    errors = refused(
        role="supervisor",
        username="x1",
        password=PASSWORD,
        agency_code="440300",
        province_wide=True,
    )
    assert errors == {
        "province_wide": [
            str(services.MSG_PROVINCE_WIDE_LEVEL).format(province_code="440000", code="440300")
        ]
    }


@pytest.mark.django_db
def test_an_invalid_id_number_is_refused_without_echoing_it(agency_list):
    wrong = ID_NUMBER[:17] + "1"
    errors = refused(
        role="applicant", username="zhangsan", password=PASSWORD, name="张三", id_number=wrong
    )
    assert errors == {"id_number": [str(MSG_ID_CHECK)]}
    assert wrong not in str(errors)


@pytest.mark.django_db
def test_an_applicant_needs_name_and_id_number(agency_list):
    errors = refused(role="applicant", username="zhangsan", password=PASSWORD)
    assert errors == {
        "name": [str(services.MSG_NAME_REQUIRED)],
        "id_number": [str(services.MSG_ID_NUMBER_REQUIRED)],
    }


@pytest.mark.django_db
def test_staff_accounts_carry_no_id_number(agency_list):
    errors = refused(
        role="caseworker",
        username="x1",
        password=PASSWORD,
        agency_code="440300",
        id_number=ID_NUMBER,
    )
    assert errors == {"id_number": [str(services.MSG_ID_NUMBER_NOT_ALLOWED)]}


@pytest.mark.django_db
@pytest.mark.parametrize("taken", ["sz_cw", "SZ_CW"])
def test_a_username_is_unique_whatever_its_case(agency_list, taken):
    account_create(role="caseworker", username="sz_cw", password=PASSWORD, agency_code="440300")
    errors = refused(role="caseworker", username=taken, password=PASSWORD, agency_code="440300")
    assert errors == {"username": [str(services.MSG_USERNAME_TAKEN).format(username=taken)]}


@pytest.mark.django_db
def test_one_account_per_id_number(agency_list):
    account_create(
        role="applicant", username="zhangsan", password=PASSWORD, name="张三", id_number=ID_NUMBER
    )
    errors = refused(
        role="applicant", username="zhangsan2", password=PASSWORD, name="张三", id_number=ID_NUMBER
    )
    assert errors == {"id_number": [str(services.MSG_ID_NUMBER_TAKEN)]}


@pytest.mark.django_db
def test_a_weak_password_is_refused(agency_list):
    errors = refused(role="admin", username="root2", password="123")
    assert list(errors) == ["password"]
    assert len(errors["password"]) >= 2  # too short and too common


@pytest.mark.django_db
def test_every_bad_field_is_reported_at_once(agency_list):
    errors = refused(
        role="applicant",
        username="bad name!",
        password=PASSWORD,
        name="张" * 51,
        id_number="123",
        phone="12ab",
    )
    assert set(errors) == {"username", "name", "id_number", "phone"}


@pytest.mark.django_db
def test_an_unknown_role_is_refused(agency_list):
    errors = refused(role="superhero", username="x1", password=PASSWORD)
    assert list(errors) == ["role"]


# --- the create_account command ---------------------------------------------------------------------


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("create_account", *args, stdout=out, stderr=out)
    return out.getvalue()


@pytest.mark.django_db
def test_create_account_prints_the_masked_id_number_only(agency_list):
    output = run(
        "--role=applicant",
        "--username=zhangsan",
        "--name=张三",
        f"--id-number={ID_NUMBER}",
        "--phone=13812345678",
        f"--password={PASSWORD}",
    )
    assert "110105********002X" in output
    assert ID_NUMBER not in output
    assert ID_NUMBER[:14] not in output
    assert PASSWORD not in output
    user = User.objects.get(username="zhangsan")
    assert user.check_password(PASSWORD)


@pytest.mark.django_db
def test_create_account_generates_a_strong_password_and_prints_it_once(agency_list):
    output = run("--role=supervisor", "--username=gd_sup", "--agency=440000", "--province-wide")
    generated = re.findall(r"Password \(shown only now[^)]*\): (\S+)", output)
    assert len(generated) == 1
    password = generated[0]
    assert len(password) >= 20
    assert output.count(password) == 1
    user = User.objects.get(username="gd_sup")
    assert user.check_password(password)
    assert (user.role, user.agency_id, user.province_wide) == ("supervisor", "440000", True)


@pytest.mark.django_db
def test_create_account_reports_every_error_and_creates_nothing(agency_list):
    wrong = ID_NUMBER[:17] + "1"
    with pytest.raises(CommandError) as exc:
        run("--role=applicant", "--username=zhangsan", f"--id-number={wrong}")
    message = str(exc.value)
    assert "No account was created." in message
    assert f"id_number: {MSG_ID_CHECK}" in message
    assert f"name: {services.MSG_NAME_REQUIRED}" in message
    assert wrong not in message
    assert not User.objects.exists()


@pytest.mark.django_db
def test_create_account_refuses_an_unknown_role(agency_list):
    with pytest.raises(CommandError, match="invalid choice"):
        run("--role=root", "--username=x1")


@pytest.mark.django_db
def test_createsuperuser_makes_an_administrator():
    from django.core.management import call_command

    call_command("createsuperuser", username="root", email="", interactive=False, verbosity=0)
    user = User.objects.get(username="root")
    assert (user.role, user.is_superuser, user.is_staff) == ("admin", True, True)
