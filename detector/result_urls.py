"""URL patterns of the result views (downloads, printable report, "this looks wrong")."""

urlpatterns = []
