"""The accounts admin's forms refuse what account_create refuses (accounts.services): the rule of who
may reach a whole province is one, whichever door an account comes through."""

from __future__ import annotations

import pytest
from django.contrib import admin

from accounts import services
from accounts.models import Role, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def edit(rf):
    """The change form the admin builds for an administrator (fields from its fieldsets)."""
    request = rf.get("/admin/")
    request.user = User.objects.create_superuser(username="root", password="pw-root-2026")

    def form(user: User, **changes):
        form_class = admin.site._registry[User].get_form(request, obj=user)
        data = {
            "username": user.username,
            "role": user.role,
            "agency": user.agency_id or "",
            "date_joined_0": "2026-12-01",
            "date_joined_1": "09:00:00",
            "is_active": "on",
            **changes,
        }
        return form_class(data=data, instance=user)

    return form


def test_a_caseworker_cannot_be_made_province_wide(personas, edit):
    form = edit(personas["cw_out"], province_wide="on")
    assert not form.is_valid()
    assert form.errors["province_wide"] == [str(services.MSG_PROVINCE_WIDE_ROLE)]
    personas["cw_out"].refresh_from_db()
    assert personas["cw_out"].province_wide is False


def test_a_city_supervisor_cannot_be_made_province_wide(personas, edit):
    form = edit(personas["supervisor"], province_wide="on")
    assert not form.is_valid()
    assert form.errors["province_wide"] == [
        str(services.MSG_PROVINCE_WIDE_LEVEL).format(province_code="440000", code="440300")
    ]


def test_a_provincial_supervisor_may_be(personas, edit):
    user = User.objects.create(username="gd_sup", role=Role.SUPERVISOR, agency_id="440000")
    form = edit(user, province_wide="on", real_name="黄敏")
    assert form.is_valid(), form.errors
    assert form.save().province_wide is True


def test_staff_need_a_name_people_know_them_by(personas, edit):
    form = edit(personas["cw_out"], real_name="  ")
    assert not form.is_valid()
    assert form.errors["real_name"] == [str(services.MSG_STAFF_NAME_REQUIRED)]
    assert edit(personas["cw_out"], real_name="陈晓").is_valid()
