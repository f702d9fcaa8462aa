"""The Django app Horizon installs from the enabled file."""

from django.apps import AppConfig


class K2hdkcDashboardConfig(AppConfig):
    name = 'trove_k2hdkc.dashboard'
    label = 'trove_k2hdkc_dashboard'
    verbose_name = 'K2HDKC for Trove Dashboard'

    def ready(self) -> None:
        # trove-dashboard's modules are loaded only now that Django's
        # settings and apps are.
        from trove_k2hdkc.dashboard import capability
        from trove_k2hdkc.dashboard import forms
        capability.enable()
        forms.fit()
