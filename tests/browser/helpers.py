"""Shared steps of the browser flows: logging in through the page, and API set-up data."""

import struct
import time
import uuid
import zlib

from conftest import PASSWORD


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def ui_login(tab, email, password=PASSWORD, start="/shop/login"):
    page = tab.page
    tab.goto(start)
    page.fill("#login-email", email)
    page.fill("#login-password", password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Log out").wait_for()


def create_category(shop, token, name, description="Made by the browser tests"):
    status, body = shop.api("POST", "/categories", {"name": name, "description": description}, token)
    assert status == 201, body
    return body


def create_product(shop, token, name, price, stock, category=None, description="A test product"):
    status, body = shop.api("POST", "/products", {
        "name": name, "price": price, "stock": stock, "category": category, "description": description,
    }, token)
    assert status == 201, body
    return body


def add_to_cart(shop, token, product_id, quantity):
    status, body = shop.api("POST", "/cart/add", {"product_id": product_id, "quantity": quantity}, token)
    assert status in (200, 201), body


def place_order(shop, token):
    status, body = shop.api("POST", "/order", {}, token, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert status == 201, body
    return body


def png_bytes(width=64, height=48, rgb=(230, 120, 40)):
    """A valid RGB PNG of one colour, made here so the test ships no binary file."""
    row = b"\x00" + bytes(rgb) * width
    raw = row * height

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def wait_until(locator, predicate, timeout=15.0):
    """Polls `predicate` (a JS function of the element) until it is true. (page.wait_for_function
    would evaluate a string with eval, which the pages' CSP rightly refuses.)"""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if locator.evaluate(predicate):
                return
        except Exception:  # not attached yet
            pass
        assert time.monotonic() < deadline, f"timed out waiting for {predicate} on {locator}"
        time.sleep(0.05)
