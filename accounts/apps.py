from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        # Every app's admin module is loaded by now (django.contrib.admin comes first).
        from accounts.admin_labels import third_party_admins_relabel

        third_party_admins_relabel()
