"""Flow 2, the shop owner: log in → create a category → create a product with an uploaded PNG →
it appears on the storefront with its image → mark an order paid, then shipped → the shopper
sees the new status; cancel a pending order → its stock is back. Also: customers are sent back
to the storefront, and the 409s for a used category and for the last admin are explained."""

from bson import ObjectId
from playwright.sync_api import expect

from helpers import add_to_cart, place_order, png_bytes, ui_login, unique, wait_until


def test_admin_runs_the_shop(tab, shop, admin_token, browser, tmp_path):
    page = tab.page
    tag = unique("kite")

    # /admin asks for a login, then comes back.
    tab.goto("/admin")
    page.wait_for_url("**/shop/login?next=%2Fadmin")
    page.fill("#login-email", "admin@example.com")
    page.fill("#login-password", "correct-horse-1")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Products").wait_for()
    tab.axe("admin-products")

    # A category, then a product in it with a photo.
    page.get_by_role("link", name="Categories").click()
    page.get_by_role("heading", name="Categories").wait_for()
    page.fill("#c-name", f"Kites {tag}")
    page.fill("#c-description", "Things that fly")
    page.get_by_role("button", name="Add category").click()
    page.get_by_text(f"Added “Kites {tag}”.").wait_for()
    category = shop.db.categories.find_one({"name": f"Kites {tag}"})
    assert category is not None
    tab.axe("admin-categories")

    photo = tmp_path / "kite.png"
    photo.write_bytes(png_bytes())
    page.get_by_role("link", name="Products").click()
    page.get_by_role("link", name="New product").click()
    page.get_by_role("heading", name="New product").wait_for()
    page.fill("#pf-name", f"Aurora Kite {tag}")
    page.fill("#pf-description", "A stunt kite.\nRipstop nylon.")
    page.fill("#pf-price", "24.99")
    page.fill("#pf-stock", "8")
    page.select_option("#pf-category", str(category["_id"]))
    page.set_input_files("#pf-image", str(photo))
    wait_until(page.locator(".preview img"), "img => img.naturalWidth === 64")
    tab.axe("admin-product-form")
    page.get_by_role("button", name="Create product").click()
    page.get_by_text(f"Created “Aurora Kite {tag}”.").wait_for()
    product = shop.db.products.find_one({"name": f"Aurora Kite {tag}"})
    assert product is not None and product["price_cents"] == 2499 and product["stock"] == 8
    product_id = str(product["_id"])
    assert product["image_url"] == f"/products/{product_id}/image"
    expect(page.locator(".preview img")).to_have_attribute("src", f"/products/{product_id}/image")
    wait_until(page.locator(".preview img"), "img => img.naturalWidth === 64")

    # The storefront shows it with its photo.
    tab.goto(f"/?q=Aurora+Kite+{tag}")
    card_image = page.locator(f".card[data-product-id='{product_id}'] img")
    wait_until(card_image, "img => img.naturalWidth === 64")
    assert card_image.get_attribute("src") == f"/products/{product_id}/image"
    assert card_image.get_attribute("alt") == f"Aurora Kite {tag}"

    # A customer buys twice.
    customer_email = f"{unique('buyer')}@example.com"
    shop.register("Cory Customer", customer_email)
    customer_token = shop.login(customer_email)
    add_to_cart(shop, customer_token, product_id, 2)
    to_ship = place_order(shop, customer_token)
    add_to_cart(shop, customer_token, product_id, 3)
    to_cancel = place_order(shop, customer_token)
    assert shop.stock_of(product_id) == 3

    # Paid, then shipped: only the moves the state machine allows are offered.
    page.goto(shop.base_url + "/admin/orders")
    page.select_option("#o-status", "pending")
    page.wait_for_url("**/admin/orders?status=pending")
    row = page.locator(f"tr[data-order-id='{to_ship['_id']}']")
    expect(row.locator("select option")).to_have_text(["Mark paid", "Mark cancelled"])
    tab.axe("admin-orders")
    row.locator("select").select_option("paid")
    row.get_by_role("button", name="Apply").click()
    page.get_by_text(f"is now paid").wait_for()
    page.select_option("#o-status", "paid")
    page.wait_for_url("**/admin/orders?status=paid")
    row = page.locator(f"tr[data-order-id='{to_ship['_id']}']")
    expect(row.locator(".badge")).to_have_text("Paid")
    expect(row.locator("select option")).to_have_text(["Mark shipped", "Mark cancelled"])
    row.locator("select").select_option("shipped")
    row.get_by_role("button", name="Apply").click()
    page.get_by_text("is now shipped").wait_for()
    assert shop.db.orders.find_one({"_id": ObjectId(to_ship["_id"])})["status"] == "shipped"

    # Cancelling the pending order puts its 3 units back.
    page.select_option("#o-status", "pending")
    page.wait_for_url("**/admin/orders?status=pending")
    expect(page.locator(f"tr[data-order-id='{to_ship['_id']}']")).to_have_count(0)
    row = page.locator(f"tr[data-order-id='{to_cancel['_id']}']")
    row.locator("select").select_option("cancelled")
    row.get_by_role("button", name="Apply").click()
    page.get_by_text("is now cancelled").wait_for()
    assert shop.db.orders.find_one({"_id": ObjectId(to_cancel["_id"])})["status"] == "cancelled"
    assert shop.stock_of(product_id) == 6
    # The README's picture of the admin console.
    page.select_option("#o-status", "")
    page.wait_for_url("**/admin/orders")
    expect(page.locator(f"tr[data-order-id='{to_ship['_id']}']")).to_have_count(1)
    tab.screenshot("readme-admin", full_page=False)

    # Editing the price shows on the storefront; a product can be deleted.
    page.get_by_role("link", name="Products").click()
    page.fill("#a-q", f"Aurora Kite {tag}")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=f"Edit Aurora Kite {tag}").click()
    expect(page.locator("#pf-price")).to_have_value("24.99")
    page.fill("#pf-price", "19.5")
    page.get_by_role("button", name="Save changes").click()
    page.get_by_text(f"Saved “Aurora Kite {tag}”.").wait_for()
    assert shop.db.products.find_one({"_id": product["_id"]})["price_cents"] == 1950
    page.fill("#pf-price", "19.999")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#pf-price-error")).not_to_be_empty()
    expect(page.locator("#pf-price")).to_have_attribute("aria-invalid", "true")
    spare = shop.api("POST", "/products", {"name": f"Spare Kite {tag}", "price": 5, "stock": 1}, admin_token)[1]
    tab.goto(f"/admin/products?q=Spare+Kite+{tag}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=f"Delete Spare Kite {tag}").click()
    page.get_by_text(f"Deleted “Spare Kite {tag}”.").wait_for()
    assert shop.db.products.find_one({"_id": ObjectId(spare["_id"])}) is None

    # A category with products cannot go; the page says why.
    page.get_by_role("link", name="Categories").click()
    page.get_by_role("button", name=f"Delete Kites {tag}").wait_for()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=f"Delete Kites {tag}").click()
    page.get_by_text("cannot be deleted").wait_for()
    assert shop.db.categories.find_one({"_id": category["_id"]}) is not None

    # The last admin cannot step down; another user can be promoted and demoted.
    page.get_by_role("link", name="Users").click()
    page.get_by_role("heading", name="Users").wait_for()
    tab.axe("admin-users")
    me = shop.db.users.find_one({"email": "admin@example.com"})
    mine = page.locator(f"tr[data-user-id='{me['_id']}']")
    mine.locator("select").select_option("customer")
    mine.get_by_role("button", name="Save role").click()
    mine.get_by_text("always keeps at least one administrator").wait_for()
    assert shop.db.users.find_one({"_id": me["_id"]})["role"] == "admin"
    customer = shop.db.users.find_one({"email": customer_email})
    theirs = page.locator(f"tr[data-user-id='{customer['_id']}']")
    theirs.locator("select").select_option("admin")
    theirs.get_by_role("button", name="Save role").click()
    page.get_by_text(f"{customer_email} is now an admin.").wait_for()
    assert shop.db.users.find_one({"_id": customer["_id"]})["role"] == "admin"
    theirs = page.locator(f"tr[data-user-id='{customer['_id']}']")
    expect(theirs.locator("select")).to_have_value("admin")
    theirs.locator("select").select_option("customer")
    theirs.get_by_role("button", name="Save role").click()
    page.get_by_text(f"{customer_email} is now a customer.").wait_for()
    assert shop.db.users.find_one({"_id": customer["_id"]})["role"] == "customer"

    # The customer sees the new status, and is sent back from /admin.
    context = browser.new_context(viewport={"width": 375, "height": 800})
    try:
        customer_page = context.new_page()
        customer_tab = type(tab)(customer_page, shop)
        ui_login(customer_tab, customer_email)
        customer_tab.goto(f"/shop/orders/{to_ship['_id']}")
        expect(customer_page.locator("#order-status")).to_have_text("Shipped")
        customer_tab.goto(f"/shop/orders/{to_cancel['_id']}")
        expect(customer_page.locator("#order-status")).to_have_text("Cancelled")
        customer_tab.goto("/admin")
        customer_page.get_by_text("The admin console is for shop administrators.").wait_for()
        assert customer_page.url == shop.base_url + "/"
        assert not customer_tab.script_errors, customer_tab.script_errors
    finally:
        context.close()
