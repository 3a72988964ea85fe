"""The first visit (dev mode on an empty database shows the demo catalog), the headers every page
is served with, keyboard use, and the interactive API reference at /docs with "try it out"
sending the shop login's bearer token."""

import subprocess
import time
import urllib.error
import urllib.request

from playwright.sync_api import expect

from helpers import ui_login, unique


def test_a_first_visit_shows_the_demo_catalog(tab, shop):
    page = tab.page
    # Loaded at start-up because the database was empty and the mode is dev.
    assert shop.db.categories.find_one({"name": "Electronics"}) is not None
    tab.goto("/")
    expect(page.locator(".card")).to_have_count(12)
    expect(page.locator(".result-count")).to_contain_text("page 1 of")
    page.get_by_role("link", name="Next →").click()
    page.wait_for_url("**/?page=2")
    expect(page.locator(".result-count")).to_contain_text("page 2 of")
    tab.axe("catalog")
    # The README's picture of the storefront: one demo category, cheapest first.
    electronics = shop.db.categories.find_one({"name": "Electronics"})
    tab.goto(f"/?category={electronics['_id']}&sort=price")
    expect(page.locator(".card")).to_have_count(10)
    tab.screenshot("readme-storefront", full_page=False)


def test_pages_and_assets_are_served_with_cache_and_security_headers(shop):
    with urllib.request.urlopen(shop.base_url + "/") as response:
        page = response.read().decode()
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
        assert response.headers["Cache-Control"] == "no-cache"
        assert response.headers["ETag"]
    script = next(part.split('"')[0] for part in page.split('src="')[1:] if part.split('"')[0].endswith("shop.js"))
    with urllib.request.urlopen(shop.base_url + script) as response:
        assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
        assert "immutable" in response.headers["Cache-Control"]
        etag = response.headers["ETag"]
    with urllib.request.urlopen(urllib.request.Request(shop.base_url + "/admin", method="HEAD")) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert response.read() == b""
    request = urllib.request.Request(shop.base_url + script, headers={"If-None-Match": etag})
    try:
        urllib.request.urlopen(request)
        raise AssertionError("expected 304")
    except urllib.error.HTTPError as error:
        assert error.code == 304


def test_the_storefront_works_from_the_keyboard(tab, shop):
    page = tab.page
    tab.goto("/")
    page.locator(".card").first.wait_for()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    # Tab to the first product link and open it with Enter.
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('.card-title') !== null"):
            break
    name = page.evaluate("document.activeElement.textContent")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    page.wait_for_url("**/shop/product/*")
    expect(page.locator("h1")).to_have_text(name)
    # Focus moves to the new page's heading, so reading starts there.
    expect(page.locator("h1")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("#quantity")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Add to cart")).to_be_focused()


def test_the_api_reference_tries_requests_with_the_shop_login(tab, shop):
    page = tab.page
    email = f"{unique('docs')}@example.com"
    shop.register("Dee Docs", email)
    ui_login(tab, email)
    tab.goto("/docs")
    page.get_by_text(f"Requests are sent as {email}").wait_for()
    operation = page.locator("#operations-users-getProfile")
    operation.wait_for(timeout=30000)
    tab.axe("docs")
    operation.locator(".opblock-summary-control").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    expect(operation.locator(".live-responses-table tbody .response-col_status").first).to_contain_text("200")
    expect(operation.locator(".live-responses-table .microlight").first).to_contain_text(email)


def run_until_ready(shop, database, *args):
    """Starts another flaskcart on `database` (same server), waits for /ready, stops it."""
    env = dict(shop.env, FLASKCART_DATABASE=database)
    service = subprocess.Popen([shop.binary, "--port=0", "--log-level=warn", *args], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        port = int(service.stdout.readline().split()[1])
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            assert time.monotonic() < deadline, "never ready"
            time.sleep(0.1)
    finally:
        service.terminate()
        assert service.wait(timeout=30) == 0


def test_the_demo_catalog_is_loaded_only_on_an_empty_database_in_dev_mode(shop):
    client = shop.db.client
    production = f"{shop.db.name}_production"
    run_until_ready(shop, production, "--mode=production")
    assert client[production].products.count_documents({}) == 0

    not_empty = f"{shop.db.name}_not_empty"
    client[not_empty].categories.insert_one({"name": "Ours", "name_key": "ours"})
    run_until_ready(shop, not_empty)
    assert client[not_empty].products.count_documents({}) == 0
    assert client[not_empty].categories.count_documents({}) == 1

    switched_off = f"{shop.db.name}_off"
    run_until_ready(shop, switched_off, "--demo-catalog-on-empty=false")
    assert client[switched_off].products.count_documents({}) == 0

    for name in (production, not_empty, switched_off):
        client.drop_database(name)
