"""The job list's filters, read from the URL so a filtered list can be
bookmarked."""

import datetime

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from jobs.models import Job
from tools.models import Tool


class JobFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False,
        choices=[("", "Any status"), *Job.Status.choices],
        error_messages={"invalid_choice": "“%(value)s” is not a job status."},
    )
    tool = forms.ChoiceField(
        required=False,
        error_messages={"invalid_choice": "There is no tool “%(value)s”."},
    )
    user = forms.CharField(
        required=False, label="Started by", max_length=150, strip=True
    )
    since = forms.DateField(
        required=False,
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter the first day as a date, like 2026-12-01."},
    )
    until = forms.DateField(
        required=False,
        label="To",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter the last day as a date, like 2026-12-31."},
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        tools = Tool.objects.order_by("name").values_list("slug", "name")
        self.fields["tool"].choices = [("", "Any tool"), *tools]

    def clean(self) -> dict:
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            # Neither day can be trusted: the range is left out whole.
            self.add_error("until", "The last day comes before the first day.")
            cleaned.pop("since", None)
        return cleaned

    def apply(self, jobs: QuerySet[Job]) -> QuerySet[Job]:
        """Narrow the jobs by every filter that was given and is valid; an
        invalid one is shown as an error and left out."""
        self.is_valid()  # fills cleaned_data with the valid fields
        given = {name: value for name, value in self.cleaned_data.items() if value}

        if "status" in given:
            jobs = jobs.filter(status=given["status"])
        if "tool" in given:
            jobs = jobs.filter(tool__slug=given["tool"])
        if "user" in given:
            jobs = jobs.filter(created_by__username=given["user"])
        if "since" in given:
            jobs = jobs.filter(created_at__gte=_start_of(given["since"]))
        if "until" in given:
            next_day = given["until"] + datetime.timedelta(days=1)
            jobs = jobs.filter(created_at__lt=_start_of(next_day))
        return jobs


def _start_of(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of `day`, in the site's time zone."""
    midnight = datetime.datetime.combine(day, datetime.time.min)
    return timezone.make_aware(midnight)
