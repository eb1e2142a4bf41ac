"""WebSocket routes. Apps with consumers add their ``websocket_urlpatterns`` here."""

from django.urls import URLPattern

from notifications.routing import websocket_urlpatterns as notification_routes
from search.routing import websocket_urlpatterns as search_routes

websocket_urlpatterns: list[URLPattern] = [*notification_routes, *search_routes]
