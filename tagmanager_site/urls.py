from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from tagmanager_site.queue_dashboard import dashboard_urlpatterns
from tools.admin_views import zendesk_connection

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "admin/zendesk-connection/",
        admin.site.admin_view(zendesk_connection),
        name="zendesk-connection",
    ),
    path("admin/", admin.site.urls),
    path("django-rq/", include((dashboard_urlpatterns(), "django_rq"))),
    path("jobs/", include("jobs.urls")),
    path("", include("tools.urls")),
]

handler404 = "tagmanager_site.errors.not_found"

if settings.SANDBOX_ENABLED:
    urlpatterns.insert(0, path("sandbox/", include("sandbox.urls")))
