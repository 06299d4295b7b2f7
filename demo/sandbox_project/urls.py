"""The sandbox's URLs: the demo pages, the admin and every plugin's URLs, as the LMS mounts them."""
from django.contrib import admin
from django.urls import include, path
from edx_django_utils.plugins import get_plugin_url_patterns

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("sandbox.urls")),
] + get_plugin_url_patterns("lms.djangoapp")
