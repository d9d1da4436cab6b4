"""djq's observability endpoints, for a project's URLconf::

    urlpatterns += [path("djq/", include("djq.urls"))]

serves ``djq/stats.json`` and ``djq/metrics`` (see the README, "Web endpoints").
"""

from django.urls import path

from djq.web import views

app_name = "djq"

urlpatterns = [
    path("stats.json", views.stats_json, name="stats"),
    path("metrics", views.metrics, name="metrics"),
]
