"""The sandbox's URLs: the demo pages, the admin and every plugin's URLs, as the LMS mounts them."""
from django.contrib import admin
from django.urls import include, path
from edx_django_utils.plugins import get_plugin_url_patterns
from workbench import urls as workbench_urls

# The workbench's own pages and handlers, without its second copy of the admin.
WORKBENCH_PATTERNS = [p for p in workbench_urls.urlpatterns if "admin" not in str(p.pattern)]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("sandbox.urls")),
    path("workbench/", include(WORKBENCH_PATTERNS)),
] + get_plugin_url_patterns("lms.djangoapp")

# Clear pages with a way back instead of Django's bare ones (the LMS has its own handlers).
handler403 = "miiwrap_fidelity.pages.error_pages.permission_denied"
handler404 = "miiwrap_fidelity.pages.error_pages.page_not_found"
