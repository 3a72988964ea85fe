"""Flow 3, errors: each API problem is shown as its title/detail next to what caused it — a
taken email, a wrong password and the 429 after repeated failures, a product that ran out
between cart and checkout (409 on the right line), a bad filter, an unknown product."""

from playwright.sync_api import expect

from helpers import add_to_cart, create_product, ui_login, unique


def test_a_taken_email_is_shown_on_the_email_field(tab, shop):
    page = tab.page
    email = f"{unique('taken')}@example.com"
    shop.register("First Owner", email)
    tab.goto("/shop/register")
    page.fill("#reg-name", "Second Try")
    page.fill("#reg-email", email)
    page.fill("#reg-password", "correct-horse-1")
    page.get_by_role("button", name="Create account").click()
    error = page.locator("#reg-email-error")
    expect(error).to_have_text("is already registered")
    assert page.get_attribute("#reg-email", "aria-invalid") == "true"
    page.get_by_role("alert").get_by_text("an account with this email already exists").wait_for()
    tab.axe("register-error")


def test_wrong_passwords_then_the_lockout(tab, shop):
    page = tab.page
    email = f"{unique('locked')}@example.com"
    shop.register("Lou Locked", email)
    tab.goto("/shop/login")
    page.fill("#login-email", email)
    page.fill("#login-password", "not-the-password")
    page.get_by_role("button", name="Log in").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    status, problem = shop.api("POST", "/login", {"email": email, "password": "also-wrong-1"})
    assert status == 401
    assert problem["title"] in alert.text_content()
    tab.axe("login-error")
    # The default limit is 5 failures per email: the API call above was the 2nd.
    button = page.get_by_role("button", name="Log in")
    for _ in range(3):
        button.click()
        expect(button).to_be_enabled()
        expect(page.get_by_role("alert")).to_contain_text(problem["title"])
    button.click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Try again in 15 minutes.")
    status, locked = shop.api("POST", "/login", {"email": email, "password": "correct-horse-1"})
    assert status == 429
    expect(alert).to_contain_text(locked["title"])


def test_a_product_sold_out_before_checkout_is_named_on_its_line(tab, shop, admin_token):
    page = tab.page
    tag = unique("lamp")
    scarce = create_product(shop, admin_token, f"Last Lamp {tag}", 30, 2)
    plenty = create_product(shop, admin_token, f"Plenty Pen {tag}", 2.5, 50)
    email = f"{unique('late')}@example.com"
    shop.register("Lee Late", email)
    token = shop.login(email)
    add_to_cart(shop, token, scarce["_id"], 2)
    add_to_cart(shop, token, plenty["_id"], 1)

    ui_login(tab, email)
    tab.goto("/shop/cart")
    page.get_by_role("heading", name="Your cart").wait_for()
    expect(page.locator(".cart-table tbody tr")).to_have_count(2)
    expect(page.locator(".badge-warn")).to_have_count(0)

    # Someone else buys one lamp while this cart page is open.
    status, _ = shop.api("PUT", f"/products/{scarce['_id']}", {"stock": 1}, admin_token)
    assert status == 200
    page.get_by_role("button", name="Place order").click()
    line_error = page.locator(f"#line-error-{scarce['_id']}")
    expect(line_error).to_have_text("only 1 available")
    assert page.locator(f"#line-error-{plenty['_id']}").is_hidden()
    page.get_by_role("alert").get_by_text(f"not enough stock for Last Lamp {tag}").wait_for()
    assert page.is_enabled("#place-order")
    tab.axe("checkout-409")
    user = shop.db.users.find_one({"email": email})
    assert shop.db.orders.count_documents({"user_id": user["_id"], "status": {"$ne": "failed"}}) == 0
    assert shop.stock_of(scarce["_id"]) == 1

    # Reloaded, the cart marks the line the server calls unavailable.
    page.reload()
    page.locator(f"#line-{scarce['_id']} .badge-warn").get_by_text("No longer available").wait_for()
    assert page.locator(f"#line-{plenty['_id']} .badge-warn").count() == 0


def test_a_bad_filter_is_shown_on_its_field(tab):
    page = tab.page
    # (min_price above max_price is no error: it matches nothing, an empty page.)
    tab.goto("/?max_price=2000000")
    error = page.locator("#f-max-error")
    expect(error).to_have_text("must be at most 1000000.00")
    assert page.get_attribute("#f-max", "aria-invalid") == "true"
    tab.axe("catalog-filter-error")


def test_an_unknown_product_is_a_not_found_page(tab):
    page = tab.page
    tab.goto("/shop/product/0123456789abcdef01234567")
    page.get_by_role("heading", name="Not found").wait_for()
    page.get_by_role("alert").wait_for()
    tab.goto("/shop/nowhere")
    page.get_by_role("heading", name="Page not found").wait_for()


def test_login_never_sends_you_to_another_host(tab, shop):
    page = tab.page
    email = f"{unique('redirect')}@example.com"
    shop.register("Red Irect", email)
    for next_value in ("%2F%2Fexample.invalid%2Fphish", "%2F%5Cexample.invalid"):
        tab.goto(f"/shop/login?next={next_value}")
        page.fill("#login-email", email)
        page.fill("#login-password", "correct-horse-1")
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("button", name="Log out").wait_for()
        assert page.url == shop.base_url + "/"
        page.get_by_role("button", name="Log out").click()
        page.get_by_role("link", name="Log in").wait_for()
