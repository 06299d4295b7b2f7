from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import path
from django.views.generic import RedirectView

from . import views

app_name = "sandbox"

urlpatterns = [
    path("", views.index, name="index"),
    # Browsers ask for /favicon.ico on every page that names none (the workbench's pages).
    path("favicon.ico", RedirectView.as_view(url=static("sandbox/favicon.svg"), permanent=True)),
    path("login/", auth_views.LoginView.as_view(template_name="sandbox/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="/"), name="logout"),
    path("certificate/request/", views.request_certificate, name="request_certificate"),
    path("certificate/", views.view_certificate, name="view_certificate"),
]
