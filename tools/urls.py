from django.urls import path

from tools import macro_search_views, views

app_name = "tools"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("tools/preview-tags/", views.preview_tags, name="preview-tags"),
    path(
        "tools/macro-search/export.csv",
        macro_search_views.export,
        {"kind": "csv"},
        name="macro-search-export-csv",
    ),
    path(
        "tools/macro-search/export.json",
        macro_search_views.export,
        {"kind": "json"},
        name="macro-search-export-json",
    ),
    path("tools/<slug:slug>/", views.tool_form, name="form"),
]
