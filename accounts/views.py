from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import SignUpForm
from accounts.services import (
    token_get_or_create,
    token_rotate,
    user_activate,
    user_pending_activation,
    user_sign_up,
)
from accounts.signup_limits import SignUpLimited, signup_allowance_spend


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("detector:analysis-list")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            signup_allowance_spend(request)
        except SignUpLimited as limited:
            form.add_error(None, limited.message)
            response = render(request, "accounts/signup.html", {"form": form}, status=429)
            response["Retry-After"] = str(limited.wait_s)
            return response
        user_sign_up(form=form, site_url=request.build_absolute_uri("/"))
        # The same page whether or not the address was registered: the e-mail says which.
        return render(request, "accounts/signup_sent.html")
    return render(request, "accounts/signup.html", {"form": form})


@never_cache
@require_http_methods(["GET", "POST"])
def signup_activate(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """GET asks, POST activates: a mail scanner that opens the link activates nothing."""
    pending = user_pending_activation(uidb64=uidb64, token=token)
    if request.method == "POST" and pending is not None:
        user_activate(user=pending)
        login(request, pending, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(
            request, f"Welcome, {pending.username}. Upload an image or video to begin."
        )
        return redirect("detector:analysis-create")
    status = 200 if pending is not None else 400
    return render(request, "accounts/activate.html", {"pending": pending}, status=status)


@never_cache
@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """Shows the API token: never_cache sends Cache-Control: no-store, so no cache keeps it."""
    token = token_get_or_create(user=request.user)
    return render(request, "accounts/profile.html", {"token": token})


@login_required
@require_POST
def token_rotate_view(request: HttpRequest) -> HttpResponse:
    token_rotate(user=request.user)
    messages.success(request, "Your API token was replaced. The old token no longer works.")
    return redirect("profile")
