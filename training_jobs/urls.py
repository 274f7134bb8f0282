from django.urls import path

from training_jobs import views

app_name = "training_jobs"

urlpatterns = [
    path("", views.run_list, name="run_list"),
    path("new/", views.run_launch, name="run_launch"),
    path("new/preview/", views.run_preview, name="run_preview"),
    path("compare/", views.run_compare, name="run_compare"),
    path("<int:run_id>/", views.run_detail, name="run_detail"),
    path("<int:run_id>/metrics.json", views.run_metrics, name="run_metrics"),
    path("<int:run_id>/cancel/", views.run_cancel, name="run_cancel"),
    path("<int:run_id>/retry/", views.run_retry, name="run_retry"),
]
