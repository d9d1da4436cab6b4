import os

from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path


def pid(request):
    """Which server process answered (the embedding tests watch workers recycle)."""
    return HttpResponse(str(os.getpid()), content_type="text/plain")


urlpatterns = [
    path("pid", pid),
    path("admin/", admin.site.urls),
    path("djq/", include("djq.urls")),
]
