from django.urls import path

from tools import views

app_name = "tools"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("tools/preview-tags/", views.preview_tags, name="preview-tags"),
    path("tools/<slug:slug>/", views.tool_form, name="form"),
]
