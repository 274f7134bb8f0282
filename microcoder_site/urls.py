from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", include("accounts.urls")),
    path("api/v1/", include("evaluations.api_urls")),
    path("api/v1/", include("curation.api.urls")),
    path("training/", include("training_jobs.urls")),
    path("evaluations/", include("evaluations.urls")),
    path("", include("curation.urls")),
]

# Styled error pages with the navigation (microcoder_site/views.py).
handler403 = "microcoder_site.views.permission_denied"
handler404 = "microcoder_site.views.page_not_found"
handler500 = "microcoder_site.views.server_error"
