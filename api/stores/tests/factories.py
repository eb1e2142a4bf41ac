import factory
from factory.django import DjangoModelFactory

from accounts.models import User
from accounts.tests.factories import UserFactory
from stores.models import Store


class OwnerFactory(UserFactory):
    account_type = User.AccountType.BUSINESS_OWNER
    is_email_verified = True


class StoreFactory(DjangoModelFactory):
    class Meta:
        model = Store

    owner = factory.SubFactory(OwnerFactory)
    name = factory.Sequence(lambda n: f"Store {n}")
    slug = factory.Sequence(lambda n: f"store-{n}")
    description = "Fresh goods"
    address = "Street 1, Khartoum"
