from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm


class SignUpForm(UserCreationForm):
    """Whether the e-mail address is registered is not checked here: the form would say so to
    anyone. The sign-up service tells the address's owner instead (accounts/services.py)."""

    email = forms.EmailField(
        required=True, help_text="We send a link to finish signing up; never shown to anyone."
    )

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip()
