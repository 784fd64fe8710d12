from django.urls import include, path

from accounts import views

# Login, logout (POST), password change and reset come from django.contrib.auth, with the
# templates in templates/registration/.
urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path(
        "signup/activate/<str:uidb64>/<str:token>/",
        views.signup_activate,
        name="signup-activate",
    ),
    path("profile/", views.profile, name="profile"),
    path("profile/token/rotate/", views.token_rotate_view, name="token-rotate"),
    path("", include("django.contrib.auth.urls")),
]
