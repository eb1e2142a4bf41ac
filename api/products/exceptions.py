from rest_framework import status

from core.exceptions import ApplicationError, Conflict


class StockBelowReserved(Conflict):
    code = "stock_below_reserved"
    default_message = "Stock can't go below what checkouts are holding."


class OutOfStock(Conflict):
    code = "out_of_stock"
    default_message = "Not enough stock."


class SizeInUse(Conflict):
    code = "size_in_use"
    default_message = "A size that checkouts are holding can't be removed yet."


class NotProductOwner(ApplicationError):
    code = "permission_denied"
    http_status = status.HTTP_403_FORBIDDEN
    default_message = "Only the store's owner can change its products."
