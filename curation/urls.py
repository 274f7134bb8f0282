from django.urls import path

from curation import snapshot_views, views

app_name = "curation"

urlpatterns = [
    path("", views.problem_list, name="home"),
    path("problems/", views.problem_list, name="problem_list"),
    path("problems/<int:problem_id>/", views.problem_detail, name="problem_detail"),
    path("views/save/", views.saved_view_save, name="saved_view_save"),
    path("views/<int:view_id>/delete/", views.saved_view_delete, name="saved_view_delete"),
    path("review/", views.review, name="review"),
    path("review/next/", views.review_next, name="review_next"),
    path("review/<int:problem_id>/submit/", views.review_submit, name="review_submit"),
    path("review/<int:problem_id>/take/", views.review_take, name="review_take"),
    path("review/undo/", views.review_undo, name="review_undo"),
    path("adjudicate/undo/", views.adjudicate_undo, name="adjudicate_undo"),
    path("adjudicate/", views.adjudicate, name="adjudicate"),
    path("adjudicate/next/", views.adjudicate_next, name="adjudicate_next"),
    path("adjudicate/<int:problem_id>/submit/", views.adjudicate_submit, name="adjudicate_submit"),
    path("bulk/", views.bulk_action, name="bulk_action"),
    path("jobs/<int:run_id>/", views.stage_run_detail, name="stage_run_detail"),
    path("jobs/<int:run_id>/undo/", views.bulk_undo, name="bulk_undo"),
    path("imports/<int:run_id>/", views.import_run_detail, name="import_run_detail"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("pipeline/", views.pipeline, name="pipeline"),
    path("pipeline/import/", views.pipeline_import, name="pipeline_import"),
    path("pipeline/stage/", views.pipeline_stage, name="pipeline_stage"),
    path("snapshots/", snapshot_views.snapshot_list, name="snapshot_list"),
    path("snapshots/create/", snapshot_views.snapshot_create_view, name="snapshot_create"),
    path("snapshots/<int:snapshot_id>/", snapshot_views.snapshot_detail, name="snapshot_detail"),
    path("snapshots/<int:snapshot_id>/export/", snapshot_views.export_create_view, name="export_create"),
    path("exports/<int:export_id>/", snapshot_views.export_detail, name="export_detail"),
]
