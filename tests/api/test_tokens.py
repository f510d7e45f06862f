"""Tokens: a refresh token is good once (rotated, the old one blacklisted), and a password change or
a deactivation ends every token the account had, access and refresh alike."""

from __future__ import annotations

import datetime as dt

import pytest

TOKEN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"


@pytest.fixture
def signed_in(client_for, personas):
    r = client_for(None).post(TOKEN, {"username": "sz_cw", "password": "pw-sz_cw"}, format="json")
    assert r.status_code == 200
    return r.json()


def reads_cases(client_for, access: str) -> int:
    client = client_for(None, HTTP_AUTHORIZATION=f"Bearer {access}")
    return client.get("/api/v1/cases/").status_code


def test_a_refresh_token_is_rotated_and_good_once(client_for, signed_in):
    first = client_for(None).post(REFRESH, {"refresh": signed_in["refresh"]}, format="json")
    assert first.status_code == 200
    assert set(first.json()) == {"access", "refresh"}
    assert first.json()["refresh"] != signed_in["refresh"]
    again = client_for(None).post(REFRESH, {"refresh": signed_in["refresh"]}, format="json")
    assert again.status_code == 401
    assert again.json()["code"] == "token_not_valid"
    # The new one works, once.
    rotated = client_for(None).post(REFRESH, {"refresh": first.json()["refresh"]}, format="json")
    assert rotated.status_code == 200
    assert reads_cases(client_for, rotated.json()["access"]) == 200


def test_a_password_change_ends_every_token(client_for, signed_in, personas):
    assert reads_cases(client_for, signed_in["access"]) == 200
    user = personas["cw_out"]
    user.set_password("a-new-password-2026")
    user.save()
    assert reads_cases(client_for, signed_in["access"]) == 401
    r = client_for(None).post(REFRESH, {"refresh": signed_in["refresh"]}, format="json")
    assert r.status_code == 401
    # Signing in with the new password gives tokens that work.
    r = client_for(None).post(
        TOKEN, {"username": "sz_cw", "password": "a-new-password-2026"}, format="json"
    )
    assert reads_cases(client_for, r.json()["access"]) == 200


def test_a_deactivated_account_keeps_no_token(client_for, signed_in, personas):
    user = personas["cw_out"]
    user.is_active = False
    user.save()
    assert reads_cases(client_for, signed_in["access"]) == 401
    r = client_for(None).post(REFRESH, {"refresh": signed_in["refresh"]}, format="json")
    assert r.status_code == 401


def test_a_refresh_token_of_a_deleted_account_is_a_401_not_a_500(client_for, signed_in, personas):
    from accounts.models import User

    User.objects.filter(pk=personas["cw_out"].pk).delete()
    r = client_for(None).post(REFRESH, {"refresh": signed_in["refresh"]}, format="json")
    assert r.status_code == 401


def test_a_remembered_token_is_refused_once_it_expires_or_altered(client_for, signed_in):
    import time_machine
    from django.conf import settings

    # Validated once, then remembered (api/authentication.py) ...
    assert reads_cases(client_for, signed_in["access"]) == 200
    assert reads_cases(client_for, signed_in["access"]) == 200
    # ... by its exact bytes only: another signature on the same claims is checked, and refused.
    head, claims, signature = signed_in["access"].split(".")
    forged = f"{head}.{claims}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    assert reads_cases(client_for, forged) == 401
    # ... and only until it expires.
    lifetime = settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"]
    with time_machine.travel(lifetime + dt.timedelta(seconds=5)):
        assert reads_cases(client_for, signed_in["access"]) == 401
