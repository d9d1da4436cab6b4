"""Registers djq's operator dashboard with the Django admin (when ``django.contrib.admin`` is installed).

The dashboard lives under the "Jobs" entry of the djq app on the admin
index; it reads and acts through the operations layer only (see
:mod:`djq.web.admin.views`). The model is registered for its place on the
index and its permissions: ``djq.view_job`` to look, ``djq.change_job`` to
act. No add, change or delete form exists: jobs change state only through
djq's verbs.
"""

from django.apps import apps
from django.contrib import admin

from djq.web.admin.views import Dashboard, can_change, can_view


class DashboardAdmin(admin.ModelAdmin):
    actions = None

    def get_urls(self):
        return Dashboard(self).urls()

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return can_view(request.user)

    def has_change_permission(self, request, obj=None):
        return can_change(request.user)


# By name from the app registry: the dashboard is a front end and imports no model module.
admin.site.register(apps.get_model("djq", "Job"), DashboardAdmin)
