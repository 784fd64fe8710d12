from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import SignUpForm
from accounts.services import token_get_or_create, token_rotate, user_sign_up


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("detector:analysis-list")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = user_sign_up(form=form)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.username}. Upload an image or video to begin.")
        return redirect("detector:analysis-create")
    return render(request, "accounts/signup.html", {"form": form})


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    token = token_get_or_create(user=request.user)
    return render(request, "accounts/profile.html", {"token": token})


@login_required
@require_POST
def token_rotate_view(request: HttpRequest) -> HttpResponse:
    token_rotate(user=request.user)
    messages.success(request, "Your API token was replaced. The old token no longer works.")
    return redirect("profile")
