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
