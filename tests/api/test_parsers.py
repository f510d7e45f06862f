"""The JSON parser (api.parsers): strict, size-limited and depth-limited, a 400 never a 500."""

from __future__ import annotations

import pytest

from api.parsers import MAX_JSON_DEPTH, MSG_TOO_DEEP

LOOKUP = "/api/v1/status-lookup/"


# 10,000 deep is 20 KB, inside the body limit (a larger body is a 413 before it is parsed).
@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1000, 10_000])
def test_a_body_nested_too_deep_is_a_malformed_request(client_for, depth):
    for body in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth):
        r = client_for(None).post(LOOKUP, body, content_type="application/json")
        assert r.status_code == 400, r.content[:200]
        assert r["Content-Type"] == "application/problem+json"
        assert r.json()["code"] == "malformed_request"
        assert r.json()["detail"] == str(MSG_TOO_DEEP).format(limit=MAX_JSON_DEPTH)


def test_brackets_inside_strings_do_not_count(client_for):
    body = '{"reference": "' + "[" * 500 + '", "id_number_suffix": "00000X"}'
    r = client_for(None).post(LOOKUP, body, content_type="application/json")
    # Well-formed and shallow: judged on its fields (a reference that long is a field error).
    assert r.status_code == 400
    assert r.json()["code"] == "invalid"
    assert "reference" in r.json()["errors"]


def test_nesting_at_the_limit_is_parsed(client_for):
    depth = MAX_JSON_DEPTH
    body = '{"reference": "YB1", "id_number_suffix": "00000X", "x": ' + "[" * (depth - 1)
    body += "]" * (depth - 1) + "}"
    r = client_for(None).post(LOOKUP, body, content_type="application/json")
    assert r.status_code == 404  # parsed, then simply no such case
