// In-process search latency: the demo catalog at N products (default 20,000) in a read model,
// then GET /products?q=… (page of 20 with facets) and suggestions, each query timed alone.
// Prints p50/p99/max per scenario. Not a test: numbers depend on the machine (bench/README.md).
//
//   search_bench [products] [rounds]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "services/catalog_read_model.hpp"
#include "services/catalog_seed.hpp"

namespace {

using flaskcart::services::CatalogReadModel;
using Clock = std::chrono::steady_clock;

const std::vector<std::string> kQueries = {
    "skillet",      "skilet",       "cast iron",  "handbok",         "wireles mouse",
    "kettle",       "electric ket", "headphones", "noise canceling", "yoga mat",
    "trail runing", "board game",   "blutooth",   "deluxe earbuds",  "pro chef knife",
    "mug",          "french press", "travel",     "puzzle 1000",     "insulted bottle",
};
const std::vector<std::string> kPrefixes = {"s",   "sk",   "skil",   "cast ir",
                                            "mec", "blue", "handbo", "wireless",
                                            "yo",  "tra",  "che",    "deluxe e"};

std::string id_of(int n) {
    std::string id = std::to_string(n);
    return std::string(24 - id.size(), '0') + id;
}

void load(CatalogReadModel& model, int count) {
    std::vector<flaskcart::models::Category> categories;
    const auto names = flaskcart::services::demo_category_names();
    for (std::size_t i = 0; i < names.size(); ++i) {
        categories.push_back({.id = id_of(900000 + static_cast<int>(i)), .name = names[i]});
    }
    std::vector<flaskcart::models::Product> products;
    for (int i = 0; i < count; ++i) {
        const auto demo = flaskcart::services::demo_product(i);
        std::string category;
        for (std::size_t c = 0; c < names.size(); ++c) {
            if (names[c] == demo.category) category = categories[c].id;
        }
        products.push_back({.id = id_of(i + 1),
                            .name = demo.name,
                            .description = demo.description,
                            .price_cents = demo.price_cents,
                            .category_id = category,
                            .stock = demo.stock,
                            .created_at_ms = 1'700'000'000'000 + i});
    }
    model.replace_all(std::move(products), std::move(categories));
}

template <typename Run>
void measure(const char* scenario, const std::vector<std::string>& inputs, int rounds, Run run) {
    std::vector<double> micros;
    std::size_t results = 0;
    for (int r = 0; r < rounds; ++r) {
        for (const auto& input : inputs) {
            const auto start = Clock::now();
            results += run(input);
            micros.push_back(
                std::chrono::duration<double, std::micro>(Clock::now() - start).count());
        }
    }
    std::sort(micros.begin(), micros.end());
    const auto at = [&micros](double q) {
        return micros[std::min(micros.size() - 1, static_cast<std::size_t>(q * micros.size()))];
    };
    std::printf("%-28s n=%zu p50=%.0f us p99=%.0f us max=%.0f us (results %zu)\n", scenario,
                micros.size(), at(0.50), at(0.99), micros.back(), results);
}

}  // namespace

int main(int argc, char** argv) {
    const int count = argc > 1 ? std::atoi(argv[1]) : 20000;
    const int rounds = argc > 2 ? std::atoi(argv[2]) : 50;
    CatalogReadModel model([](const flaskcart::models::Product& p) { return p.name; });
    const auto start = Clock::now();
    load(model, count);
    std::printf("loaded %d products in %.0f ms\n", count,
                std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    measure("search (q, page 20, facets)", kQueries, rounds, [&](const std::string& q) {
        flaskcart::models::ProductQuery query{
            .text = q, .sort_key = flaskcart::models::ProductSortKey::kRelevance};
        return static_cast<std::size_t>(model.list_rendered(query).total);
    });
    measure("search + filters, by price", kQueries, rounds, [&](const std::string& q) {
        flaskcart::models::ProductQuery query{
            .text = q,
            .max_price_cents = 10000,
            .in_stock_only = true,
            .sort_key = flaskcart::models::ProductSortKey::kPrice};
        return static_cast<std::size_t>(model.list_rendered(query).total);
    });
    measure("suggest (limit 8)", kPrefixes, rounds,
            [&](const std::string& q) { return model.suggest(q, 8).size(); });
    measure("browse (no q, facets)", {"-"}, rounds * 20, [&](const std::string&) {
        return static_cast<std::size_t>(model.list_rendered({}).total);
    });
    return 0;
}
