import datetime as dt

from django.core.management.base import BaseCommand

from curation.services.decontamination import benchmark_mark


class Command(BaseCommand):
    help = "Mark imported problems as a benchmark (by source and contest-date window) for decontamination."

    def add_arguments(self, parser):
        parser.add_argument("name", help="benchmark name, e.g. livecodebench-v6")
        parser.add_argument("--source", default=None)
        parser.add_argument("--from", dest="date_from", type=dt.date.fromisoformat, default=None)
        parser.add_argument("--to", dest="date_to", type=dt.date.fromisoformat, default=None)

    def handle(self, name, source, date_from, date_to, **options):
        count = benchmark_mark(name=name, source_name=source, date_from=date_from, date_to=date_to)
        self.stdout.write(f"marked {count} problems as benchmark '{name}'")
