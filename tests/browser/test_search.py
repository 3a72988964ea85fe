"""The storefront's search box suggests product names as the shopper types (GET
/products/suggest); picking a suggestion opens that product; a typo still finds it."""

from playwright.sync_api import expect

from helpers import create_category, create_product, unique


def test_search_box_suggests_and_opens_a_product(tab, shop, admin_token):
    page = tab.page
    tag = unique("sg")
    category = create_category(shop, admin_token, f"Cookware {tag}")
    skillet = create_product(shop, admin_token, f"Cast Iron Skillet {tag}", 39.00, 4, category["_id"])
    create_product(shop, admin_token, f"Skillet Lid {tag}", 12.00, 4, category["_id"])

    tab.goto("/")
    page.locator("#f-q").press_sequentially(f"cast iron skil {tag}"[:14])
    options = page.locator("#f-q-suggestions option")
    expect(options.first).to_have_attribute("value", skillet["name"])
    tab.axe("search-suggestions")

    # Choosing the suggestion puts its name in the box, which opens the product.
    page.fill("#f-q", skillet["name"])
    page.get_by_role("heading", name=skillet["name"]).wait_for()
    assert f"/shop/product/{skillet['_id']}" in page.url

    # A typo and a plural still find it, best match first.
    tab.goto("/")
    page.fill("#f-q", f"skilets {tag}")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".card")).to_have_count(2)
    expect(page.locator("#f-sort")).to_have_value("relevance")
