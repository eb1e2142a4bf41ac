from django.urls import path

from payments import apis

urlpatterns = [
    path("", apis.PaymentListApi.as_view(), name="payment-list"),
    path("create/", apis.PaymentCreateApi.as_view(), name="payment-create"),
    path("confirm/", apis.PaymentConfirmApi.as_view(), name="payment-confirm"),
    path("gateways/", apis.GatewayListApi.as_view(), name="payment-gateways"),
    path("analytics/", apis.AnalyticsApi.as_view(), name="payment-analytics"),
    path("webhook/", apis.TestWebhookApi.as_view(), name="payment-webhook-test"),
    path("webhook/stripe/", apis.StripeWebhookApi.as_view(), name="payment-webhook-stripe"),
    path("webhook/paypal/", apis.PayPalWebhookApi.as_view(), name="payment-webhook-paypal"),
    path("<int:payment_id>/", apis.PaymentDetailApi.as_view(), name="payment-detail"),
    path("<int:payment_id>/refund/", apis.PaymentRefundApi.as_view(), name="payment-refund"),
    path("<int:payment_id>/collect/", apis.PaymentCollectApi.as_view(), name="payment-collect"),
]
