"""``api.rendering``: the planned rendering follows DRF's rules where they are subtle (mappings,
callables, missing values, defaults, fields left out, None, nested and many, overridden fields and
serializers), checked against DRF's own ``to_representation`` of the same objects. (Every document
the other API tests render is compared the same way: tests/api/conftest.py.)"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import pytest
from rest_framework import serializers

from api.rendering import represent_with


class Shouting(serializers.CharField):
    def to_representation(self, value: Any) -> str:
        return str(value).upper()


class Pair(serializers.Serializer):
    left = serializers.IntegerField()
    right = serializers.CharField(source="info.name", allow_null=True)


class Custom(serializers.Serializer):
    value = serializers.IntegerField()

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return {"custom": instance.value * 2}


class Everything(serializers.Serializer):
    plain = serializers.CharField()
    dotted = serializers.CharField(source="inner.name")
    from_mapping = serializers.CharField(source="data.key")
    from_proxy = serializers.IntegerField(source="proxy.n")
    called = serializers.CharField(source="greet")
    through_none = serializers.CharField(source="nothing.name", allow_null=True)
    with_default = serializers.CharField(source="missing", default="fallback")
    left_out = serializers.CharField(source="absent", required=False)
    none_value = serializers.IntegerField(allow_null=True)
    when = serializers.DateTimeField()
    amount = serializers.DecimalField(max_digits=10, decimal_places=2)
    shout = Shouting(source="latin")
    method = serializers.SerializerMethodField()
    nested = Pair()
    many = Pair(many=True)
    custom = Custom(source="inner")
    tags = serializers.ListField(child=serializers.CharField())
    whole = Pair(source="*", required=False)
    write_only = serializers.CharField(write_only=True)

    def get_method(self, instance: Any) -> str:
        return f"{instance.plain}!"


@dataclass
class Info:
    name: str | None


@dataclass
class Inner:
    name: str
    value: int = 21


@dataclass
class Thing:
    plain: str = "甲"
    latin: str = "abc"
    inner: Inner = field(default_factory=lambda: Inner("内"))
    data: dict = field(default_factory=lambda: {"key": "值"})
    proxy: Any = field(default_factory=lambda: MappingProxyType({"n": 7}))
    nothing: Any = None
    none_value: int | None = None
    when: dt.datetime = dt.datetime(2026, 12, 2, 1, 2, 3, tzinfo=dt.UTC)
    amount: Decimal = Decimal("1234.5")
    nested: Any = field(default_factory=lambda: {"left": 1, "info": Info("右")})
    many: list = field(
        default_factory=lambda: [{"left": 2, "info": Info(None)}, {"left": 3, "info": None}]
    )
    tags: list = field(default_factory=lambda: ["a", None, "b"])
    left: int = 9
    info: Info = field(default_factory=lambda: Info("整"))

    def greet(self) -> str:
        return f"你好{self.plain}"


def test_planned_rendering_equals_drf_on_every_rule():
    serializer = Everything()
    thing = Thing()
    expected = serializer.to_representation(thing)
    assert represent_with(serializer)(thing) == expected
    # The rules the comparison covers, spelled out: a mapping's item, a callable called, a
    # missing path to None when null is allowed, a default, a field left out, None untouched.
    assert expected["from_mapping"] == "值"
    assert expected["from_proxy"] == 7
    assert expected["called"] == "你好甲"
    assert expected["through_none"] is None
    assert expected["with_default"] == "fallback"
    assert "left_out" not in expected
    assert "write_only" not in expected
    assert expected["none_value"] is None
    assert expected["shout"] == "ABC"
    assert expected["method"] == "甲!"
    assert expected["many"] == [{"left": 2, "right": None}, {"left": 3, "right": None}]
    assert expected["custom"] == {"custom": 42}
    assert expected["tags"] == ["a", None, "b"]
    assert expected["whole"] == {"left": 9, "right": "整"}


def test_a_missing_required_value_fails_as_drf_fails():
    class Strict(serializers.Serializer):
        name = serializers.CharField(source="inner.absent")

    with pytest.raises(AttributeError) as drf:
        Strict().to_representation(Thing())
    with pytest.raises(AttributeError) as ours:
        represent_with(Strict())(Thing())
    assert str(ours.value) == str(drf.value)
    assert "Strict" in str(ours.value)
