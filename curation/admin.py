from django.contrib import admin

from curation import models


class TestCaseInline(admin.TabularInline):
    model = models.TestCase
    extra = 0
    fields = ("ordinal", "kind", "size_bytes", "is_training", "input", "output")
    show_change_link = False


class ReferenceSolutionInline(admin.StackedInline):
    model = models.ReferenceSolution
    extra = 0


@admin.register(models.Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ("name", "license", "url", "created_at")
    search_fields = ("name",)


@admin.register(models.ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = ("id", "source", "format", "status", "done", "total", "created_count", "updated_count", "unchanged_count", "failed_count", "created_at")
    list_filter = ("status", "format", "source")
    readonly_fields = ("errors",)


@admin.register(models.Problem)
class ProblemAdmin(admin.ModelAdmin):
    list_display = ("id", "title", "source", "external_id", "platform", "io_format", "difficulty_label", "process_status", "verification_status", "bucket")
    list_filter = ("source", "platform", "io_format", "process_status", "verification_status", "bucket", "is_benchmark", "is_duplicate")
    search_fields = ("title", "external_id")
    readonly_fields = ("content_hash", "raw_hash", "import_run", "version", "created_at", "updated_at")
    inlines = [TestCaseInline, ReferenceSolutionInline]
    list_select_related = ("source",)


@admin.register(models.ProblemRevision)
class ProblemRevisionAdmin(admin.ModelAdmin):
    list_display = ("problem", "content_hash", "import_run", "replaced_at")


@admin.register(models.TestCase)
class TestCaseAdmin(admin.ModelAdmin):
    list_display = ("id", "problem", "ordinal", "kind", "size_bytes", "is_training")
    list_filter = ("kind", "is_training")
    raw_id_fields = ("problem",)


@admin.register(models.ReferenceSolution)
class ReferenceSolutionAdmin(admin.ModelAdmin):
    list_display = ("id", "problem", "language", "is_correct")
    raw_id_fields = ("problem",)


for model in (
    models.StageRun, models.DuplicateCluster, models.ContaminationMatch,
    models.DifficultyRubric, models.DifficultyModel, models.Prediction, models.PassRateMeasurement, models.Calibration, models.Selection,
    models.Review, models.ReviewLease, models.SavedView, models.Webhook,
):
    admin.site.register(model)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that are history, not settings: snapshots are immutable (saving one raised
    ImmutableError), exports are files of a snapshot, audit events and verification results are
    evidence. Admins may look; nobody adds, edits or deletes them here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


for model in (
    models.DatasetSnapshot, models.SnapshotItem, models.Export, models.AuditEvent, models.VerificationRun, models.Verdict,
):
    admin.site.register(model, ReadOnlyAdmin)


@admin.register(models.WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log: every attempt's outcome, read-only."""

    list_display = ("id", "event", "webhook", "status", "attempts", "response_status", "created_at", "delivered_at")
    list_filter = ("status", "event", "webhook")
    search_fields = ("message_id",)
    readonly_fields = [f.name for f in models.WebhookDelivery._meta.fields]
    list_select_related = ("webhook",)
