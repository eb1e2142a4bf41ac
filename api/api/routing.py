"""WebSocket routes. Apps with consumers add their ``websocket_urlpatterns`` here."""

from django.urls import URLPattern

websocket_urlpatterns: list[URLPattern] = []
