from django.apps import AppConfig


class CurationConfig(AppConfig):
    name = "curation"
    verbose_name = "Curation"

    def ready(self) -> None:
        # The stage map is registered once, here: every stage's service resolved and checked.
        from curation import pipeline

        pipeline.stages_register()
