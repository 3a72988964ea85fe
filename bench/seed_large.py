#!/usr/bin/env python3
"""Seeds a large data set straight into a database, in the document shapes of FlaskCart
(--flavor cpp) or of the Flask peer (--flavor py): products in 20 categories, users (with a
password hash nobody can log in with) and delivered orders spread over the users.

  seed_large.py --uri mongodb://127.0.0.1:PORT/ --db NAME --flavor cpp \
      --products 20000 --users 2000 --orders 20000
"""
import argparse
import datetime
import os
import random

from bson import ObjectId, Int64
from pymongo import MongoClient

WORDS = ["steel", "oak", "linen", "copper", "wool", "glass", "stone", "cotton", "bamboo", "clay",
         "lamp", "mug", "chair", "table", "kettle", "blanket", "vase", "shelf", "bowl", "rug"]
# An argon2id string for a random password: these users exist, they just never log in.
DUMMY_HASH = ("$argon2id$v=19$m=19456,t=2,p=1$" + os.urandom(16).hex()[:22] + "$" +
              os.urandom(32).hex()[:43])


def batched(items, size=1000):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--uri", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--flavor", choices=["cpp", "py"], required=True)
    ap.add_argument("--products", type=int, default=20000)
    ap.add_argument("--users", type=int, default=2000)
    ap.add_argument("--orders", type=int, default=20000)
    a = ap.parse_args()
    rng = random.Random(20261128)
    db = MongoClient(a.uri)[a.db]
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    category_field = "category_id" if a.flavor == "cpp" else "category"

    categories = []
    for i in range(20):
        name = f"Large {WORDS[i]} {i}"
        doc = {"_id": ObjectId(), "name": name, "description": "bulk", "created_at": now,
               "updated_at": now}
        if a.flavor == "cpp":
            doc["name_key"] = name.lower()
        categories.append(doc)
    db.categories.insert_many(categories)

    products = []
    for i in range(a.products):
        name = f"{WORDS[rng.randrange(20)].title()} {WORDS[rng.randrange(20)]} {i}"
        doc = {"_id": ObjectId(), "name": name,
               "description": f"A {WORDS[rng.randrange(20)]} thing, bulk item {i}",
               "price_cents": Int64(rng.randrange(100, 50000)),
               category_field: categories[i % 20]["_id"], "stock": Int64(rng.randrange(0, 1000)),
               "created_at": now - datetime.timedelta(seconds=i), "updated_at": now}
        if a.flavor == "cpp":
            doc["name_lower"] = name.lower()
        else:
            doc["image_url"] = None
        products.append(doc)
    for chunk in batched(products):
        db.products.insert_many(chunk)

    users = []
    for i in range(a.users):
        doc = {"_id": ObjectId(), "name": f"Bulk user {i}", "email": f"bulk-{i}@example.com",
               "phone": "", "address": "", "role": "customer", "created_at": now,
               "updated_at": now}
        doc["password" if a.flavor == "cpp" else "password_hash"] = DUMMY_HASH
        users.append(doc)
    for chunk in batched(users):
        db.users.insert_many(chunk)

    orders = []
    for i in range(a.orders):
        product = products[rng.randrange(len(products))]
        quantity = rng.randrange(1, 4)
        doc = {"_id": ObjectId(), "user_id": users[i % len(users)]["_id"],
               "products": [{"product_id": product["_id"], "name": product["name"],
                             "quantity": Int64(quantity), "price_cents": product["price_cents"]}],
               "total_price_cents": Int64(quantity * product["price_cents"]),
               "status": "delivered",
               "status_history": [{"status": "pending", "at": now}, {"status": "delivered", "at": now}],
               "created_at": now - datetime.timedelta(minutes=i), "updated_at": now}
        if a.flavor == "cpp":
            doc.update(idempotency_key=os.urandom(8).hex(), request_fingerprint="", restocked=False)
        orders.append(doc)
    for chunk in batched(orders):
        db.orders.insert_many(chunk)
    print(f"seeded {a.flavor}: {len(products)} products, {len(users)} users, {len(orders)} orders")


if __name__ == "__main__":
    main()
