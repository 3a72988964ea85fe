"""Flow 1, the shopper: register → log in → search → filter by category → open a product → add
products → change a quantity → remove a line → place the order with a double click → exactly
one order in the history with the right total, and the stock decreased in the database."""

from bson import ObjectId
from playwright.sync_api import expect

from helpers import add_to_cart, create_category, create_product, place_order, ui_login, unique


def test_shopper_buys_from_the_storefront(tab, shop, admin_token):
    page = tab.page
    tag = unique("xt")
    category = create_category(shop, admin_token, f"Lanterns {tag}")
    other = create_category(shop, admin_token, f"Flasks {tag}")
    lantern = create_product(shop, admin_token, f"Trail Lantern {tag}", 12.50, 10, category["_id"])
    lantern_mini = create_product(shop, admin_token, f"Mini Lantern {tag}", 9.00, 10, other["_id"])
    flask = create_product(shop, admin_token, f"Summit Flask {tag}", 7.25, 5, other["_id"])
    email = f"{unique('shopper')}@example.com"

    # Register (the storefront logs the new account in), log out, log in again.
    tab.goto("/shop/register")
    tab.axe("register")
    page.fill("#reg-name", "Sam Shopper")
    page.fill("#reg-email", email)
    page.fill("#reg-password", "correct-horse-1")
    page.get_by_role("button", name="Create account").click()
    page.get_by_text("Your account is ready").wait_for()
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("link", name="Log in").wait_for()
    ui_login(tab, email)
    tab.goto("/shop/login")
    tab.axe("login")

    # Search, then narrow to one category; the state is in the URL and survives a reload.
    tab.goto("/")
    page.fill("#f-q", f"Lantern {tag}")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(f"**/?q=Lantern+{tag}")
    expect(page.locator(".card")).to_have_count(2)
    page.select_option("#f-category", category["_id"])
    page.wait_for_url(f"**category={category['_id']}**")
    expect(page.locator(".card")).to_have_count(1)
    expect(page.locator("#f-category")).to_be_focused()
    page.reload()
    expect(page.locator(".card")).to_have_count(1)
    assert page.input_value("#f-q") == f"Lantern {tag}"
    assert page.input_value("#f-category") == category["_id"]
    tab.axe("catalog-filtered")

    # The product page; add 2 lanterns, then a flask and the mini lantern.
    page.get_by_role("link", name=lantern["name"]).click()
    page.get_by_role("heading", name=lantern["name"]).wait_for()
    page.get_by_text("$12.50").first.wait_for()
    tab.axe("product")
    page.fill("#quantity", "2")
    page.get_by_role("button", name="Add to cart").click()
    page.get_by_text(f"Added 2 × {lantern['name']}").wait_for()
    for product in (flask, lantern_mini):
        tab.goto(f"/shop/product/{product['_id']}")
        page.get_by_role("button", name="Add to cart").click()
        page.get_by_text(f"Added 1 × {product['name']}").wait_for()

    # The cart: three lines; 3 lanterns instead of 2; the mini lantern removed.
    page.get_by_test_id("nav-cart").click()
    page.get_by_role("heading", name="Your cart").wait_for()
    expect(page.locator(".cart-table tbody tr")).to_have_count(3)
    expect(page.locator("#cart-total")).to_have_text("$41.25")
    page.fill(f"#qty-{lantern['_id']}", "3")
    page.locator(f"#line-{lantern['_id']}").get_by_role("button", name="Update").click()
    expect(page.locator("#cart-total")).to_have_text("$53.75")
    expect(page.locator(f"#qty-{lantern['_id']}")).to_be_focused()
    page.get_by_role("button", name=f"Remove {lantern_mini['name']}").click()
    expect(page.locator("#cart-total")).to_have_text("$44.75")
    expect(page.locator(".cart-table tbody tr")).to_have_count(2)
    tab.axe("cart")

    # A double click on "Place order" sends one request and places one order.
    order_posts = []
    page.on("request", lambda r: order_posts.append(r) if r.method == "POST" and r.url.endswith("/order") else None)
    page.dblclick("#place-order")
    page.wait_for_url("**/shop/orders/*")
    page.get_by_text("Thank you! Your order is placed.").wait_for()
    expect(page.locator("#order-total")).to_have_text("$44.75")
    expect(page.locator("#order-status")).to_have_text("Pending")
    assert len(order_posts) == 1, [r.url for r in order_posts]
    assert order_posts[0].headers.get("idempotency-key")
    tab.axe("order")

    page.get_by_role("link", name="Orders").first.click()
    page.get_by_role("heading", name="Your orders").wait_for()
    expect(page.locator(".orders-table tbody tr")).to_have_count(1)
    expect(page.locator(".orders-table tbody tr td").last).to_have_text("$44.75")
    tab.axe("orders")

    user = shop.db.users.find_one({"email": email})
    orders = list(shop.db.orders.find({"user_id": user["_id"]}))
    assert len(orders) == 1, orders
    assert orders[0]["total_price_cents"] == 4475
    assert shop.stock_of(lantern["_id"]) == 7
    assert shop.stock_of(flask["_id"]) == 4
    assert shop.stock_of(lantern_mini["_id"]) == 10
    assert shop.db.cart.count_documents({"user_id": user["_id"]}) == 0


def test_shopper_edits_the_profile(tab, shop):
    page = tab.page
    email = f"{unique('profile')}@example.com"
    shop.register("Pat Profile", email)
    ui_login(tab, email)
    page.get_by_role("link", name="Profile").click()
    page.get_by_role("heading", name="Your profile").wait_for()
    page.fill("#p-phone", "+44 20 7946 0000")
    page.fill("#p-address", "1 Test Street\nLondon")
    page.get_by_role("button", name="Save profile").click()
    page.get_by_text("Profile saved.").wait_for()
    tab.axe("profile")
    user = shop.db.users.find_one({"email": email})
    assert user["phone"] == "+44 20 7946 0000"
    assert user["address"] == "1 Test Street\nLondon"
    assert ObjectId.is_valid(str(user["_id"]))


def test_shopper_cancels_a_pending_order(tab, shop, admin_token):
    page = tab.page
    tag = unique("cancel")
    product = create_product(shop, admin_token, f"Return Rope {tag}", 4, 6)
    email = f"{unique('canceller')}@example.com"
    shop.register("Cass Cancel", email)
    token = shop.login(email)
    add_to_cart(shop, token, product["_id"], 4)
    order = place_order(shop, token)
    assert shop.stock_of(product["_id"]) == 2

    ui_login(tab, email)
    tab.goto(f"/shop/orders/{order['_id']}")
    expect(page.locator("#order-status")).to_have_text("Pending")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel order").click()
    expect(page.locator("#order-status")).to_have_text("Cancelled")
    page.get_by_text("Your order is cancelled.").wait_for()
    expect(page.get_by_role("button", name="Cancel order")).to_have_count(0)
    assert shop.stock_of(product["_id"]) == 6
