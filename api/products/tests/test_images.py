import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from products.models import ProductImage
from products.tests.factories import make_product
from stores.tests.factories import OwnerFactory

pytestmark = pytest.mark.django_db


def png(name="p.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (2400, 1200), (200, 40, 40)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def test_owner_adds_images_in_order_and_removes_them(make_auth_client, api_client):
    product = make_product()
    owner = make_auth_client(product.store.owner)
    url = f"/api/products/{product.pk}/images/"

    first = owner.post(url, {"image": png()}, format="multipart")
    second = owner.post(url, {"image": png()}, format="multipart")

    assert first.status_code == second.status_code == 201
    assert [first.json()["position"], second.json()["position"]] == [0, 1]
    images = api_client.get(f"/api/products/{product.pk}/").json()["images"]
    assert [i["id"] for i in images] == [first.json()["id"], second.json()["id"]]
    stored = ProductImage.objects.get(pk=first.json()["id"])
    with Image.open(stored.image.path) as img:
        assert img.format == "WEBP"
        assert max(img.size) == 1600

    assert owner.delete(f"{url}{first.json()['id']}/").status_code == 204
    assert [i["id"] for i in api_client.get(f"/api/products/{product.pk}/").json()["images"]] == [
        second.json()["id"]
    ]


def test_others_cannot_add_or_remove_images(make_auth_client):
    product = make_product()
    image = make_auth_client(product.store.owner).post(
        f"/api/products/{product.pk}/images/", {"image": png()}, format="multipart"
    )
    stranger = make_auth_client(OwnerFactory())

    added = stranger.post(
        f"/api/products/{product.pk}/images/", {"image": png()}, format="multipart"
    )
    removed = stranger.delete(f"/api/products/{product.pk}/images/{image.json()['id']}/")

    assert (added.status_code, removed.status_code) == (403, 403)
    assert ProductImage.objects.count() == 1


def test_a_non_image_is_400(make_auth_client):
    product = make_product()

    response = make_auth_client(product.store.owner).post(
        f"/api/products/{product.pk}/images/",
        {"image": SimpleUploadedFile("x.png", b"not an image")},
        format="multipart",
    )

    assert response.status_code == 400
    assert response.json()["details"] == {"image": ["Upload a valid image."]}


def test_an_image_of_another_product_is_404(make_auth_client):
    product, other = make_product(), make_product()
    image = make_auth_client(other.store.owner).post(
        f"/api/products/{other.pk}/images/", {"image": png()}, format="multipart"
    )

    response = make_auth_client(product.store.owner).delete(
        f"/api/products/{product.pk}/images/{image.json()['id']}/"
    )

    assert response.status_code == 404
