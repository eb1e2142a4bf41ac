from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from core import apis as core_apis
from ops import apis as ops_apis
from ops import metrics as ops_metrics

admin.site.site_header = "Sudamall admin"
admin.site.site_title = "Sudamall admin"
admin.site.index_title = "Marketplace"
# The app list stays on the index page: beside a change list it took a fifth of a 1280-px
# screen and pushed the right-hand columns (totals, statuses) behind a horizontal scroll.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("health/", ops_apis.HealthApi.as_view(), name="health"),
    path("ready/", ops_apis.ReadinessApi.as_view(), name="ready"),
    path("metrics", ops_metrics.metrics_view, name="metrics"),  # Prometheus' default path
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "api/schema/swagger-ui/",
        SpectacularSwaggerView.as_view(url_name="schema"),
        name="swagger-ui",
    ),
    path("api/schema/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("api/ops/", include("ops.urls")),
    path("api/auth/", include("authentication.urls")),
    path("api/accounts/", include("accounts.urls")),
    path("api/stores/", include("stores.urls")),
    path("api/payments/", include("payments.urls")),
    path("api/events/", include("notifications.urls")),
    path("api/notifications/", include("notifications.urls_centre")),
    path("api/newsletter/", include("notifications.apis_newsletter")),
    path("api/search/", include("search.urls")),
    path("api/chat/", include("chat.urls")),  # /api/search/products/ is the catalogue's
    path("api/", include("orders.urls")),  # before the cart's: /api/cart/checkout/
    path("api/cart/", include("carts.urls")),
    path("api/", include("products.urls")),
    path("o/", include("authentication.page_urls")),  # sign-in for /o/authorize/
    path("newsletter/", include("notifications.page_urls")),  # the pages emails link to
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    # Last: a missing trailing slash is 308, anything else a JSON 404, DEBUG or not.
    re_path(r"^api/(?P<path>.*)$", core_apis.api_path_not_found),
]

if settings.BENCH_CEILING:  # bench/ceiling.py's bare-framework ceiling; never in a deployment
    urlpatterns.insert(0, path("bench/", include("ops.bench")))

if settings.DEBUG:  # in production nginx serves /media/ (deploy/nginx.conf)
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler400 = "core.apis.bad_request"
handler403 = "core.apis.permission_denied"
handler404 = "core.apis.page_not_found"
handler500 = "core.apis.server_error"
