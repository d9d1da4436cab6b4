"""URLconf for benchmarks/web_endpoints.py: the admin and djq's endpoints."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [path("admin/", admin.site.urls), path("djq/", include("djq.urls"))]
