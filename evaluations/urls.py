from django.urls import path

from . import views

app_name = "evaluations"

urlpatterns = [
    path("", views.eval_list, name="list"),
    path("start/", views.eval_start, name="start"),
    path("import/", views.eval_import, name="import"),
    path("compare/", views.eval_compare, name="compare"),
    path("training-runs/<int:training_run_id>/", views.eval_checkpoints, name="checkpoints"),
    path("<int:run_id>/", views.eval_detail, name="detail"),
    path("<int:run_id>/resume/", views.eval_resume, name="resume"),
    path("<int:run_id>/cancel/", views.eval_cancel, name="cancel"),
    path("<int:run_id>/lcb-custom-input.json", views.eval_custom_input, name="custom_input"),
    path("<int:run_id>/problems/<int:eval_problem_id>/", views.eval_problem, name="problem"),
]
