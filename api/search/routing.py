from django.urls import path

from search.consumers import AutocompleteConsumer

websocket_urlpatterns = [path("ws/autocomplete/", AutocompleteConsumer.as_asgi())]
