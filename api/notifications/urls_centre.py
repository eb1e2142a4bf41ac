"""``/api/notifications/``: the in-app centre and preferences (everyone), templates, assets,
test sends, segments and campaigns (staff), and the email providers' webhooks."""

from django.urls import include, path

from notifications import apis_campaigns, apis_centre, apis_templates, apis_tracking

urlpatterns = [
    *apis_centre.urlpatterns,
    *apis_templates.urlpatterns,
    path("", include(apis_campaigns.urlpatterns)),
    path("esp/", include(apis_tracking.urlpatterns)),
]
