app_name = "detector"
urlpatterns = []
