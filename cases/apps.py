from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "转移接续案件"

    def ready(self) -> None:
        # workflow recomputes deadlines after a calendar change through this hook: it may not
        # import cases (docs/decisions/0006-layers.md).
        from cases.services import case_deadlines_recompute
        from workflow.hooks import deadlines_recompute_register

        deadlines_recompute_register(case_deadlines_recompute)
        _admin_yes_no_in_words()


def _admin_yes_no_in_words() -> None:
    """Django's admin draws a boolean as an icon whose text is Python's "True"/"False"/"None"
    (admin_list._boolean_icon, which django.contrib.admin.utils and helpers import at each call):
    English on every Chinese page, for a screen reader too. The same icon with the text in the
    page's language."""
    from django.contrib.admin.templatetags import admin_list
    from django.templatetags.static import static
    from django.utils.html import format_html
    from django.utils.translation import gettext

    def boolean_icon(field_val: bool | None) -> str:
        icon = {True: "yes", False: "no", None: "unknown"}[field_val]
        text = {True: gettext("yes"), False: gettext("no"), None: gettext("unknown")}[field_val]
        return format_html('<img src="{}" alt="{}">', static(f"admin/img/icon-{icon}.svg"), text)

    admin_list._boolean_icon = boolean_icon
