// The in-memory catalog against a straightforward reference (filter everything, sort, slice,
// count the facets), readers concurrent with writers, and the token check's cache. Search
// ranking itself is tested in search_test.cpp and search_relevance_test.cpp.
#include "services/catalog_read_model.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <random>
#include <thread>
#include <tuple>

#include "services/access_cache.hpp"
#include "utils/text.hpp"

namespace flaskcart::services {
namespace {

using models::Product;
using models::ProductQuery;
using models::ProductSortKey;

std::string hex_id(std::uint64_t n) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string id(24, '0');
    for (int i = 23; i >= 0 && n > 0; --i, n >>= 4) id[static_cast<std::size_t>(i)] = kHex[n & 0xF];
    return id;
}

// Search over the generated vocabulary below, where no word is a stem, a typo or a completion
// of another: every query word is a word of the product, the last one possibly its beginning.
bool matches_text(const Product& p, const std::string& text) {
    const auto wanted = search_words(text);
    if (wanted.empty()) return false;  // nothing searchable in it
    const auto have = search_words(p.name + " " + p.description);
    for (std::size_t i = 0; i < wanted.size(); ++i) {
        const bool is_last = i + 1 == wanted.size();
        const bool found = std::any_of(have.begin(), have.end(), [&](const std::string& word) {
            return word == wanted[i] || (is_last && word.starts_with(wanted[i]));
        });
        if (!found) return false;
    }
    return true;
}

struct ReferencePage {
    std::vector<Product> items;
    std::int64_t total = 0;
    ListingFacets facets;
};

// What a listing means, written the obvious way.
ReferencePage reference(const std::vector<Product>& all, const ProductQuery& query) {
    std::vector<Product> matching;
    std::map<std::string, std::int64_t> counts;
    ReferencePage page;
    for (const auto& p : all) {
        if (query.min_price_cents && p.price_cents < *query.min_price_cents) continue;
        if (query.max_price_cents && p.price_cents > *query.max_price_cents) continue;
        if (query.in_stock_only && p.stock <= 0) continue;
        if (!query.text.empty() && !matches_text(p, query.text)) continue;
        if (!p.category_id.empty()) ++counts[p.category_id];
        if (!query.category_id.empty() && p.category_id != query.category_id) continue;
        matching.push_back(p);
        auto& facets = page.facets;
        facets.min_price_cents =
            std::min(facets.min_price_cents.value_or(p.price_cents), p.price_cents);
        facets.max_price_cents =
            std::max(facets.max_price_cents.value_or(p.price_cents), p.price_cents);
        if (p.stock > 0) ++facets.in_stock;
    }
    for (const auto& [id, count] : counts) page.facets.categories.push_back({id, "", count});
    auto less = [&](const Product& a, const Product& b) {
        switch (query.sort_key) {
            case ProductSortKey::kName: {
                const auto an = text::to_lower_ascii(a.name);
                const auto bn = text::to_lower_ascii(b.name);
                return std::tie(an, a.id) < std::tie(bn, b.id);
            }
            case ProductSortKey::kPrice:
                return std::tie(a.price_cents, a.id) < std::tie(b.price_cents, b.id);
            case ProductSortKey::kCreatedAt:
            case ProductSortKey::kRelevance:  // not drawn: random_query sorts by the other keys
                break;
        }
        return std::tie(a.created_at_ms, a.id) < std::tie(b.created_at_ms, b.id);
    };
    std::sort(matching.begin(), matching.end(), [&](const Product& a, const Product& b) {
        return query.descending ? less(b, a) : less(a, b);
    });
    page.total = static_cast<std::int64_t>(matching.size());
    const auto skip = (query.page - 1) * query.limit;
    for (auto i = skip; i < page.total && i < skip + query.limit; ++i) {
        page.items.push_back(matching[static_cast<std::size_t>(i)]);
    }
    return page;
}

std::vector<Product> generate_catalog(std::mt19937& rng, int n, int categories) {
    static const std::vector<std::string> kWords = {"Steel", "steel", "Lamp",  "ÉCLAIR", "éclair",
                                                    "Mug",   "Tea",   "Ωmega", "кофе",   "КОФЕ",
                                                    "50%",   "a.b",   "(x)",   "Zebra"};
    std::vector<Product> out;
    for (int i = 0; i < n; ++i) {
        Product p;
        p.id = hex_id(static_cast<std::uint64_t>(rng() % 100000) * 1000 + static_cast<unsigned>(i));
        p.name = kWords[rng() % kWords.size()] + " " + kWords[rng() % kWords.size()];
        p.description = rng() % 3 == 0 ? "" : kWords[rng() % kWords.size()] + " thing";
        p.price_cents = static_cast<std::int64_t>(rng() % 50) * 100 + (rng() % 2 ? 99 : 0);
        p.stock = static_cast<std::int64_t>(rng() % 4);
        p.category_id =
            rng() % 5 == 0 ? "" : hex_id(900000000 + rng() % static_cast<unsigned>(categories));
        p.created_at_ms = 1'700'000'000'000 + static_cast<std::int64_t>(rng() % 20);  // many ties
        out.push_back(std::move(p));
    }
    return out;
}

ProductQuery random_query(std::mt19937& rng, int categories) {
    static const std::vector<std::string> kTexts = {"",      "",     "steel",  "STEEL", "éclair",
                                                    "ω",     "КОФЕ", "50%",    "a.b",   "(x)",
                                                    "thing", "zzz",  "mug tea"};
    ProductQuery q;
    q.text = kTexts[rng() % kTexts.size()];
    if (rng() % 3 == 0)
        q.category_id = hex_id(900000000 + rng() % static_cast<unsigned>(categories + 1));
    if (rng() % 3 == 0) q.min_price_cents = static_cast<std::int64_t>(rng() % 3000);
    if (rng() % 3 == 0) q.max_price_cents = static_cast<std::int64_t>(1000 + rng() % 4000);
    q.in_stock_only = rng() % 3 == 0;
    q.sort_key = static_cast<ProductSortKey>(rng() % 3);
    q.descending = rng() % 2 == 0;
    q.limit = 1 + static_cast<std::int64_t>(rng() % 30);
    q.page = 1 + static_cast<std::int64_t>(rng() % 6);
    return q;
}

// The model's facets list only categories it knows (all of them in these tests), by count.
void expect_same_facets(const ListingFacets& got, const ListingFacets& want,
                        const std::string& context) {
    EXPECT_EQ(got.min_price_cents, want.min_price_cents) << context;
    EXPECT_EQ(got.max_price_cents, want.max_price_cents) << context;
    EXPECT_EQ(got.in_stock, want.in_stock) << context;
    std::map<std::string, std::int64_t> got_counts;
    for (std::size_t i = 0; i < got.categories.size(); ++i) {
        got_counts[got.categories[i].id] = got.categories[i].count;
        if (i > 0) {
            EXPECT_GE(got.categories[i - 1].count, got.categories[i].count) << context;
        }
    }
    std::map<std::string, std::int64_t> want_counts;
    for (const auto& category : want.categories) want_counts[category.id] = category.count;
    EXPECT_EQ(got_counts, want_counts) << context;
}

void expect_same(const ProductListing& got, const ReferencePage& want, const std::string& context) {
    expect_same_facets(got.facets, want.facets, context);
    EXPECT_EQ(got.total, want.total) << context;
    ASSERT_EQ(got.items.size(), want.items.size()) << context;
    for (std::size_t i = 0; i < got.items.size(); ++i) {
        EXPECT_EQ(got.items[i].id, want.items[i].id) << context << " item " << i;
        EXPECT_EQ(got.items[i].stock, want.items[i].stock) << context << " item " << i;
    }
}

std::vector<models::Category> categories_of(int count) {
    std::vector<models::Category> out;
    for (int i = 0; i < count; ++i) {
        out.push_back({.id = hex_id(900000000 + static_cast<unsigned>(i)),
                       .name = "Category " + std::to_string(i)});
    }
    return out;
}

TEST(CatalogReadModel, AnswersLikeTheReferenceOnGeneratedCatalogs) {
    std::mt19937 rng(20261128);
    for (int round = 0; round < 20; ++round) {
        const int categories = 1 + round % 4;
        auto products = generate_catalog(rng, 50 + round * 10, categories);
        CatalogReadModel model;
        model.replace_all(products, categories_of(categories));
        for (int i = 0; i < 60; ++i) {
            const auto query = random_query(rng, categories);
            expect_same(model.list(query), reference(products, query),
                        "round " + std::to_string(round) + " query " + std::to_string(i) + " q='" +
                            query.text + "'");
        }
    }
}

TEST(CatalogReadModel, WritesKeepIndexesCountsAndStockExact) {
    std::mt19937 rng(7);
    auto products = generate_catalog(rng, 200, 3);
    CatalogReadModel model;
    model.replace_all(products, {models::Category{.id = hex_id(900000000), .name = "B"},
                                 models::Category{.id = hex_id(900000001), .name = "a"},
                                 models::Category{.id = hex_id(900000002), .name = "c"}});
    for (int step = 0; step < 500; ++step) {
        const std::size_t i = rng() % products.size();
        switch (rng() % 4) {
            case 0:  // rename / reprice / move category
                products[i].name = "Renamed " + std::to_string(rng() % 50);
                products[i].price_cents = static_cast<std::int64_t>(rng() % 9000);
                products[i].category_id = rng() % 2 ? "" : hex_id(900000000 + rng() % 3);
                model.upsert_product(products[i]);
                break;
            case 1: {
                const std::int64_t delta = static_cast<std::int64_t>(rng() % 7) - 3;
                products[i].stock += delta;
                EXPECT_TRUE(model.adjust_stock(products[i].id, delta));
                break;
            }
            case 2:
                model.remove_product(products[i].id);
                products.erase(products.begin() + static_cast<long>(i));
                break;
            default: {
                auto fresh = generate_catalog(rng, 1, 3).front();
                fresh.id = hex_id(5'000'000'000ULL + static_cast<unsigned>(step));
                model.upsert_product(fresh);
                products.push_back(fresh);
                break;
            }
        }
    }
    EXPECT_FALSE(model.adjust_stock(hex_id(1), 1));
    EXPECT_EQ(model.product_count(), products.size());
    for (int i = 0; i < 100; ++i) {
        const auto query = random_query(rng, 3);
        expect_same(model.list(query), reference(products, query),
                    "after writes " + std::to_string(i));
    }
    const auto categories = model.categories();
    ASSERT_EQ(categories.size(), 3U);
    EXPECT_EQ(categories[0].category.name, "a");  // by name key, case-insensitively
    for (const auto& item : categories) {
        const auto expected =
            std::count_if(products.begin(), products.end(),
                          [&](const Product& p) { return p.category_id == item.category.id; });
        EXPECT_EQ(item.product_count, expected);
        EXPECT_EQ(model.count_in_category(item.category.id), expected);
    }
}

TEST(CatalogReadModel, KeepsEachProductRenderedThroughWrites) {
    std::mt19937 rng(3);
    auto products = generate_catalog(rng, 80, 2);
    CatalogReadModel model([](const Product& p) { return p.id + ":" + std::to_string(p.stock); });
    model.replace_all(products, {});
    model.adjust_stock(products[0].id, 5);
    products[0].stock += 5;
    products[1].name = "Renamed";
    model.upsert_product(products[1]);
    for (int i = 0; i < 40; ++i) {
        const auto query = random_query(rng, 2);
        const auto plain = model.list(query);
        const auto rendered = model.list_rendered(query);
        EXPECT_EQ(rendered.total, plain.total);
        ASSERT_EQ(rendered.items.size(), plain.items.size());
        for (std::size_t k = 0; k < plain.items.size(); ++k) {
            EXPECT_EQ(rendered.items[k],
                      plain.items[k].id + ":" + std::to_string(plain.items[k].stock));
        }
    }
    EXPECT_EQ(model.find_rendered(products[0].id),
              products[0].id + ":" + std::to_string(products[0].stock));
    EXPECT_FALSE(model.find_rendered(hex_id(1)));
}

// Unfiltered listings take the whole catalog's category facet as the model keeps it rendered;
// every write that moves a product between categories, or renames, adds or removes a category,
// must leave it exactly what counting the catalog gives.
TEST(CatalogReadModel, KeepsTheWholeCatalogsCategoryFacetRenderedThroughWrites) {
    const auto render = [](const std::vector<ListingFacets::CategoryCount>& categories) {
        std::string out;
        for (const auto& c : categories)
            out += c.id + "/" + c.name + "=" + std::to_string(c.count) + ";";
        return out;
    };
    std::mt19937 rng(11);
    auto products = generate_catalog(rng, 120, 4);
    std::map<std::string, std::string> names;  // category id → name
    for (const auto& category : categories_of(4)) names[category.id] = category.name;
    CatalogReadModel model([](const Product& p) { return p.id; }, render);
    model.replace_all(products, categories_of(4));
    const auto expected = [&] {
        std::map<std::string, std::int64_t> counts;
        for (const auto& p : products) {
            if (!p.category_id.empty() && names.count(p.category_id) > 0) ++counts[p.category_id];
        }
        std::vector<ListingFacets::CategoryCount> out;
        for (const auto& [id, count] : counts) out.push_back({id, names[id], count});
        std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
            return std::tie(b.count, a.name, a.id) < std::tie(a.count, b.name, b.id);
        });
        return render(out);
    };
    for (int step = 0; step < 300; ++step) {
        const std::size_t i = rng() % products.size();
        switch (rng() % 6) {
            case 0:  // move to another category, or to none
                products[i].category_id = rng() % 4 == 0 ? "" : hex_id(900000000 + rng() % 5);
                model.upsert_product(products[i]);
                break;
            case 1:
                model.remove_product(products[i].id);
                products.erase(products.begin() + static_cast<long>(i));
                break;
            case 2: {
                auto fresh = generate_catalog(rng, 1, 5).front();
                fresh.id = hex_id(6'000'000'000ULL + static_cast<unsigned>(step));
                model.upsert_product(fresh);
                products.push_back(fresh);
                break;
            }
            case 3: {  // rename, or create, one of five categories
                const models::Category category{.id = hex_id(900000000 + rng() % 5),
                                                .name = "Renamed " + std::to_string(step)};
                names[category.id] = category.name;
                model.upsert_category(category);
                break;
            }
            case 4: {
                const std::string id = hex_id(900000000 + rng() % 5);
                names.erase(id);
                model.remove_category(id);
                break;
            }
            default:
                model.adjust_stock(products[i].id, 1);
                ++products[i].stock;
                break;
        }
        ProductQuery query;
        if (step % 2 == 0) query.category_id = hex_id(900000000 + rng() % 5);
        const auto page = model.list_rendered(query);
        ASSERT_TRUE(page.facets.categories_json) << "step " << step;
        EXPECT_TRUE(page.facets.categories.empty());
        EXPECT_EQ(*page.facets.categories_json, expected()) << "step " << step;
        EXPECT_EQ(render(model.list(query).facets.categories), expected()) << "step " << step;
    }
    // A filtered listing counts its own matches: nothing rendered ahead.
    ProductQuery filtered;
    filtered.in_stock_only = true;
    EXPECT_FALSE(model.list_rendered(filtered).facets.categories_json);
}

TEST(CatalogReadModel, IsNotLoadedUntilReplaced) {
    CatalogReadModel model;
    EXPECT_FALSE(model.is_loaded());
    model.replace_all({}, {});
    EXPECT_TRUE(model.is_loaded());
    EXPECT_EQ(model.list(ProductQuery{}).total, 0);
    EXPECT_FALSE(model.find_product(hex_id(3)));
}

// Readers never see a torn state: every page is sorted, within the window, and its total never
// exceeds the catalog; stock moves by writers commute, so the final stock is exact.
TEST(CatalogReadModel, ReadersConcurrentWithWritersSeeConsistentPages) {
    std::mt19937 rng(11);
    auto products = generate_catalog(rng, 300, 4);
    for (auto& p : products) p.stock = 1000;
    CatalogReadModel model;
    model.replace_all(products, {});
    std::atomic<bool> stop{false};
    std::atomic<int> reads{0};
    std::vector<std::thread> threads;
    for (int w = 0; w < 3; ++w) {
        threads.emplace_back([&, w] {
            std::mt19937 local(static_cast<unsigned>(w));
            for (int step = 0; step < 1000; ++step) {
                // Each writer owns every third product, so its own moves stay ordered.
                const std::size_t i =
                    (local() % (products.size() / 3)) * 3 + static_cast<std::size_t>(w);
                const auto& p = products[i];
                if (step % 10 == 0) {
                    Product renamed = p;
                    renamed.name = "W" + std::to_string(local() % 100);
                    renamed.stock = 1000;  // same stock: only the indexes move
                    model.upsert_product(renamed);
                } else {
                    model.adjust_stock(p.id, -1);
                    model.adjust_stock(p.id, +1);
                }
            }
        });
    }
    for (int r = 0; r < 3; ++r) {
        threads.emplace_back([&, r] {
            std::mt19937 local(static_cast<unsigned>(100 + r));
            while (!stop.load()) {
                auto query = random_query(local, 4);
                const auto page = model.list(query);
                EXPECT_LE(page.total, 300);
                EXPECT_LE(static_cast<std::int64_t>(page.items.size()), query.limit);
                for (std::size_t i = 1;
                     i < page.items.size() && query.sort_key == ProductSortKey::kPrice; ++i) {
                    const auto& a = page.items[i - 1];
                    const auto& b = page.items[i];
                    EXPECT_TRUE(query.descending ? a.price_cents >= b.price_cents
                                                 : a.price_cents <= b.price_cents);
                }
                model.find_product(products[local() % products.size()].id);
                model.categories();
                ++reads;
            }
        });
    }
    for (int w = 0; w < 3; ++w) threads[static_cast<std::size_t>(w)].join();
    stop = true;
    for (std::size_t t = 3; t < threads.size(); ++t) threads[t].join();
    EXPECT_GT(reads.load(), 0);
    for (const auto& p : products) EXPECT_EQ(model.find_product(p.id)->stock, 1000);
    EXPECT_EQ(model.product_count(), 300U);
}

TEST(AccessCache, AnOlderReadNeverUndoesANewerWrite) {
    AccessCache cache(std::chrono::seconds(60));
    const auto now = AccessCache::Clock::now();
    EXPECT_FALSE(cache.role_of("u1", now));
    cache.user_written("u1", "customer", 2000, now);  // demoted here at t=2000
    cache.remember_user("u1", "admin", 1000, now);    // a read that started before
    EXPECT_EQ(cache.role_of("u1", now), "customer");
    cache.remember_user("u1", "admin", 3000, now);  // promoted later elsewhere
    EXPECT_EQ(cache.role_of("u1", now), "admin");
    cache.forget_user("u1");
    EXPECT_FALSE(cache.role_of("u1", now));
}

TEST(AccessCache, UsersExpireAfterTheTtlAndTheCacheStaysBounded) {
    AccessCache cache(std::chrono::seconds(60), 4);
    const auto now = AccessCache::Clock::now();
    cache.remember_user("u1", "customer", 1, now);
    EXPECT_FALSE(cache.role_of("u1", now + std::chrono::seconds(61)));
    for (int i = 0; i < 20; ++i) cache.remember_user("x" + std::to_string(i), "customer", 1, now);
    EXPECT_LE(cache.user_count(), 4U);
}

TEST(AccessCache, RevocationsSurviveAReloadAndExpire) {
    AccessCache cache;
    cache.revoke("local", 5000);
    cache.replace_revocations({{"loaded", 9000}});
    EXPECT_TRUE(cache.is_revoked("local"));
    EXPECT_TRUE(cache.is_revoked("loaded"));
    EXPECT_FALSE(cache.is_revoked("other"));
    cache.purge_expired(6000);
    EXPECT_FALSE(cache.is_revoked("local"));
    EXPECT_TRUE(cache.is_revoked("loaded"));
    EXPECT_EQ(cache.revocation_count(), 1U);
}

}  // namespace
}  // namespace flaskcart::services
