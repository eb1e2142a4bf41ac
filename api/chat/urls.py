from django.urls import path

from chat import apis

urlpatterns = [
    path("conversations/", apis.ConversationListCreateApi.as_view(), name="chat-conversations"),
    path(
        "conversations/<int:conversation_id>/messages/",
        apis.MessageListCreateApi.as_view(),
        name="chat-messages",
    ),
    path("conversations/<int:conversation_id>/read/", apis.ReadApi.as_view(), name="chat-read"),
    path("conversations/<int:conversation_id>/block/", apis.BlockApi.as_view(), name="chat-block"),
    path("messages/<int:message_id>/", apis.MessageDetailApi.as_view(), name="chat-message"),
    path("messages/<int:message_id>/report/", apis.ReportApi.as_view(), name="chat-report"),
    path("unread/", apis.UnreadApi.as_view(), name="chat-unread"),
    path(
        "stores/<int:store_id>/response-time/",
        apis.StoreResponseTimeApi.as_view(),
        name="chat-store-response-time",
    ),
    path("attachments/<str:token>/", apis.AttachmentApi.as_view(), name="chat-attachment"),
]
