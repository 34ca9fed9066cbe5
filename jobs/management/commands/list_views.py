"""List the active Zendesk views, to find the id `tag_tickets --view` takes."""

import sys

from django.core.management.base import BaseCommand

from tools.sources import load_active_views
from zendesk import ZendeskClient, ZendeskError


class Command(BaseCommand):
    help = "List the active Zendesk views with their ids and ticket counts."

    def handle(self, *args, **options) -> None:
        try:
            views = load_active_views(ZendeskClient.from_settings())
        except ZendeskError as error:
            self.stderr.write(f"Could not load views from Zendesk: {error}")
            sys.exit(1)

        self.stdout.write(f"{'id':>12}  {'tickets':>8}  title")
        for view in views:
            count = "?" if view.count is None else f"{view.count:,}"
            self.stdout.write(f"{view.id:>12}  {count:>8}  {view.title}")
