"""What applicants and staff are told, in zh-Hans (the default) and en: the texts of every message
cases sends through the outbox (notifications knows no transfer rules and no texts).

Each kind has a subject and a body per language, with ``str.format`` placeholders. A context value
may be a plain value or a mapping of language to value (a stage's name in both languages: ``labels``
gives one from the states' and stages' own labels), so the cause needs no knowledge of which
language a recipient reads.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, Final

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

DEFAULT_LANGUAGE: Final = "zh-hans"
LANGUAGES: Final = ("zh-hans", "en")
# Applicants read zh-Hans: their accounts carry no language yet.
APPLICANT_LANGUAGE: Final = DEFAULT_LANGUAGE

TEMPLATES: Final[dict[str, dict[str, tuple[str, str]]]] = {
    "due_soon": {
        "zh-hans": (
            "【即将到期】{reference} {stage}",
            "案件 {reference}（{stage}）将于 {due_at} 到期，剩余不超过 {days_left} 个工作日，请及时办理。",
        ),
        "en": (
            "[Due soon] {reference} {stage}",
            "Case {reference} ({stage}) is due at {due_at}; at most {days_left} working day(s) "
            "left. Please act on it.",
        ),
    },
    "overdue": {
        "zh-hans": (
            "【已超期】{reference} {stage}",
            "案件 {reference}（{stage}）已于 {due_at} 超过办理时限，请尽快办理。",
        ),
        "en": (
            "[Overdue] {reference} {stage}",
            "Case {reference} ({stage}) passed its deadline at {due_at}. Please act on it now.",
        ),
    },
    "escalation": {
        "zh-hans": (
            "【超期督办】{reference} {stage}",
            "案件 {reference}（{stage}）自 {due_at} 超期，{escalation_days} 个工作日后仍未办结，请督办。",
        ),
        "en": (
            "[Escalation] {reference} {stage}",
            "Case {reference} ({stage}) has been overdue since {due_at} and is still open "
            "{escalation_days} working day(s) later. Please follow it up.",
        ),
    },
    "materials_reminder": {
        "zh-hans": (
            "【待补正提醒】{reference}",
            "您的医保关系转移申请 {reference} 仍待补正材料（{missing}），请尽快提交。",
        ),
        "en": (
            "[Materials outstanding] {reference}",
            "Your transfer application {reference} is still waiting for materials ({missing}). "
            "Please send them.",
        ),
    },
    "digest": {
        "zh-hans": (
            "【每日提醒】{date} 即将到期 {due_soon_count} 件，已超期 {overdue_count} 件",
            "即将到期：{due_soon}\n已超期：{overdue}",
        ),
        "en": (
            "[Daily digest] {date}: {due_soon_count} due soon, {overdue_count} overdue",
            "Due soon: {due_soon}\nOverdue: {overdue}",
        ),
    },
    "status_changed": {
        "zh-hans": (
            "【办理进度】{reference} {state}",
            "您的医保关系转移申请 {reference} 当前状态：{state}。{detail}",
        ),
        "en": (
            "[Progress] {reference} {state}",
            "Your transfer application {reference} is now: {state}. {detail}",
        ),
    },
}


def template_render(
    kind: str, *, context: Mapping[str, Any], language: str | None = None
) -> tuple[str, str]:
    """(subject, body) of ``kind`` in ``language`` (settings.LANGUAGE_CODE when not given)."""
    language = (language or settings.LANGUAGE_CODE or DEFAULT_LANGUAGE).lower()
    variants = TEMPLATES[kind]
    subject, body = variants.get(language) or variants[DEFAULT_LANGUAGE]
    values = {
        key: (
            value.get(language, value.get(DEFAULT_LANGUAGE, ""))
            if isinstance(value, Mapping)
            else value
        )
        for key, value in context.items()
    }
    return subject.format_map(values)[:200], body.format_map(values)


def provisional_marks() -> dict[str, str]:
    """What follows a date that rests on a year with no published holiday schedule, in every
    language: " （暂定）", " (provisional)"."""
    out = {}
    for language in LANGUAGES:
        with translation.override(language):
            out[language] = " " + gettext("(provisional)")
    return out


def dated(text: str, *, provisional: bool) -> str | dict[str, str]:
    """``text`` (a formatted date), marked in every language when it is provisional."""
    if not provisional:
        return text
    return {language: text + mark for language, mark in provisional_marks().items()}


def labels_in_languages(label: Callable[[str, str], str], value: str, kind: str) -> dict[str, str]:
    """``label(value, kind)`` (``cases.states.state_label``, ``stage_label``: a merge has words of
    its own) in every language."""
    return dict(_labels_in_languages(label, value, kind))


@functools.cache
def _labels_in_languages(label: Callable[[str, str], str], value: str, kind: str) -> dict[str, str]:
    # Once per process and (label, value, kind): switching the language twice for every message
    # cost the SLA scan more than a third of its Python time (issue 14). The labels are pure
    # functions of their arguments in a language, and the catalogs never change while the
    # process runs.
    out = {}
    for language in LANGUAGES:
        with translation.override(language):
            out[language] = label(value, kind)
    return out
