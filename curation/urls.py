from django.urls import path

from curation import views, views_problem, workbench_views

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
    path("adjudicate/", views.adjudicate, name="adjudicate"),
    path("adjudicate/next/", views.adjudicate_next, name="adjudicate_next"),
    path("adjudicate/<int:problem_id>/submit/", views.adjudicate_submit, name="adjudicate_submit"),
    path("bulk/", views.bulk_action, name="bulk_action"),
    path("jobs/<int:run_id>/", views.stage_run_detail, name="stage_run_detail"),
    path("imports/<int:run_id>/", views.import_run_detail, name="import_run_detail"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("pipeline/", views.pipeline, name="pipeline"),
    path("pipeline/import/", views.pipeline_import, name="pipeline_import"),
    path("pipeline/stage/", views.pipeline_stage, name="pipeline_stage"),
    path("problems/<int:problem_id>/statement/", views_problem.problem_statement, name="problem_statement"),
    path("problems/<int:problem_id>/checkers/synthesize/", views_problem.checker_synthesize, name="checker_synthesize"),
    path("problems/<int:problem_id>/checkers/save/", views_problem.checker_save, name="checker_save"),
    path("checkers/<int:candidate_id>/edit/", views_problem.checker_edit, name="checker_edit"),
    path("checkers/<int:candidate_id>/approve/", views_problem.checker_approve, name="checker_approve"),
    path("calibration/", workbench_views.calibration_workbench, name="calibration"),
    path("calibration/save/", workbench_views.calibration_save, name="calibration_save"),
    path("calibration/diff/", workbench_views.calibration_diff, name="calibration_diff"),
    path("calibration/<int:calibration_id>/activate/", workbench_views.calibration_activate, name="calibration_activate"),
    path("selection/", workbench_views.selection_page, name="selection"),
    path("selection/apply/", workbench_views.selection_apply, name="selection_apply"),
    path("selection/<int:selection_id>/snapshot/", workbench_views.selection_snapshot, name="selection_snapshot"),
]
