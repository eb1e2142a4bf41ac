from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from ops import apis as ops_apis

urlpatterns = [
    path("health/", ops_apis.HealthApi.as_view(), name="health"),
    path("ready/", ops_apis.ReadinessApi.as_view(), name="ready"),
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
    path("api/", include("orders.urls")),  # before the cart's: /api/cart/checkout/
    path("api/cart/", include("carts.urls")),
    path("api/", include("products.urls")),
    path("o/", include("authentication.page_urls")),  # sign-in for /o/authorize/
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
]

if settings.DEBUG:  # in production nginx serves /media/ (deploy/nginx.conf)
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler400 = "core.apis.bad_request"
handler403 = "core.apis.permission_denied"
handler404 = "core.apis.page_not_found"
handler500 = "core.apis.server_error"
