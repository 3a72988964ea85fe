// In-process search latency: a catalog of N products (default 20,000) in a read model, then
// GET /products?q=… (page of 20 with facets) and suggestions, each query timed alone. Prints
// p50/p99/max per scenario and the resident memory the catalog added. Not a test: numbers
// depend on the machine (bench/README.md).
//
//   search_bench [products] [rounds] [demo|bench]
//
// demo: the demo catalog's products (seed-demo) and words; bench: the shape bench/seed_large.py
// seeds (names of two of 20 words and a number) with bench/scenario.lua's queries.
// Environment: SEARCH_BENCH_COLD=1 (a product text changes, untimed, before every query: nothing
// is remembered), SEARCH_BENCH_SLOW_US=N (name queries slower than N us), SEARCH_BENCH_INDEX=memory
// (Xapian's in-memory backend instead of the default, on disk).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "services/catalog_read_model.hpp"
#include "services/catalog_seed.hpp"
#include "services/search_index.hpp"

namespace {

using flaskcart::services::CatalogReadModel;
using Clock = std::chrono::steady_clock;

const std::vector<std::string> kQueries = {
    "skillet",      "skilet",       "cast iron",  "handbok",         "wireles mouse",
    "kettle",       "electric ket", "headphones", "noise canceling", "yoga mat",
    "trail runing", "board game",   "blutooth",   "deluxe earbuds",  "pro chef knife",
    "mug",          "french press", "travel",     "puzzle 1000",     "insulted bottle",
};
// bench/scenario.lua's search_words and suggest lists, and some of its numbers.
const std::vector<std::string> kBenchWords = {
    "skillet",    "skilet",       "cast iron",  "handbok",  "wireles mouse",
    "kettle",     "electric ket", "headphones", "yoga mat", "trail runing",
    "board game", "blutooth",     "7",          "42",       "123",
    "199"};
const std::vector<std::string> kBenchPrefixes = {"s",   "sk",   "skil",   "cast ir",
                                                 "mec", "blue", "handbo", "wireless"};
const std::vector<std::string> kBenchWordList = {
    "steel", "oak", "linen", "copper", "wool",   "glass",   "stone", "cotton", "bamboo", "clay",
    "lamp",  "mug", "chair", "table",  "kettle", "blanket", "vase",  "shelf",  "bowl",   "rug"};

const std::vector<std::string> kPrefixes = {"s",   "sk",   "skil",   "cast ir",
                                            "mec", "blue", "handbo", "wireless",
                                            "yo",  "tra",  "che",    "deluxe e"};

std::string id_of(int n) {
    return flaskcart::services::demo_object_id(n);
}

void load(CatalogReadModel& model, int count) {
    auto catalog = flaskcart::services::demo_catalog(count);
    model.replace_all(std::move(catalog.products), std::move(catalog.categories));
}

// Products named as bench/seed_large.py names them ("Steel mug 123", "A clay thing, bulk item
// 123"), in 20 categories.
void load_bench_shape(CatalogReadModel& model, int count) {
    std::vector<flaskcart::models::Category> categories;
    for (int i = 0; i < 20; ++i) {
        categories.push_back({.id = id_of(900000 + i), .name = "Large " + kBenchWordList[i]});
    }
    std::uint32_t state = 20261128;
    const auto next_word = [&state]() -> const std::string& {
        state = state * 1664525U + 1013904223U;
        return kBenchWordList[(state >> 16) % kBenchWordList.size()];
    };
    std::vector<flaskcart::models::Product> products;
    for (int i = 0; i < count; ++i) {
        std::string name = next_word();
        name[0] = static_cast<char>(name[0] - 'a' + 'A');
        name += " " + next_word() + " " + std::to_string(i);
        products.push_back(
            {.id = id_of(i + 1),
             .name = std::move(name),
             .description = "A " + next_word() + " thing, bulk item " + std::to_string(i),
             .price_cents = 100 + (i * 37) % 50000,
             .category_id = categories[static_cast<std::size_t>(i % 20)].id,
             .stock = i % 1000,
             .created_at_ms = 1'700'000'000'000 + i});
    }
    model.replace_all(std::move(products), std::move(categories));
}

double rss_mib() {
    std::FILE* status = std::fopen("/proc/self/status", "r");
    if (status == nullptr) return 0;
    char line[256];
    double kib = 0;
    while (std::fgets(line, sizeof line, status) != nullptr) {
        if (std::sscanf(line, "VmRSS: %lf", &kib) == 1) break;
    }
    std::fclose(status);
    return kib / 1024;
}

// SEARCH_BENCH_COLD=1: before every timed query a product's text changes (untimed), which
// empties the index's remembered expansions and results: every query is a first run.
std::function<void()> before_each_query = [] {};

template <typename Run>
void measure(const char* scenario, const std::vector<std::string>& inputs, int rounds, Run run) {
    std::vector<double> micros;
    std::size_t results = 0;
    for (int r = 0; r < rounds; ++r) {
        for (const auto& input : inputs) {
            before_each_query();
            const auto start = Clock::now();
            results += run(input);
            micros.push_back(
                std::chrono::duration<double, std::micro>(Clock::now() - start).count());
            // SEARCH_BENCH_SLOW_US=N: name every input slower than N microseconds.
            if (const char* slow = std::getenv("SEARCH_BENCH_SLOW_US");
                slow != nullptr && micros.back() > std::atof(slow)) {
                std::printf("  slow: %s \"%s\" %.0f us (round %d)\n", scenario, input.c_str(),
                            micros.back(), r);
            }
        }
    }
    std::sort(micros.begin(), micros.end());
    const auto at = [&micros](double q) {
        return micros[std::min(micros.size() - 1, static_cast<std::size_t>(q * micros.size()))];
    };
    std::printf("%-28s n=%zu p50=%.0f us p99=%.0f us max=%.0f us (results %zu)\n", scenario,
                micros.size(), at(0.50), at(0.99), micros.back(), results);
}

// SEARCH_BENCH_INDEX=memory: Xapian's in-memory backend instead of the default (disk).
flaskcart::services::SearchStorage storage() {
    const char* chosen = std::getenv("SEARCH_BENCH_INDEX");
    return chosen != nullptr && std::string(chosen) == "memory"
               ? flaskcart::services::SearchStorage::kMemory
               : flaskcart::services::SearchStorage::kDisk;
}

}  // namespace

int main(int argc, char** argv) {
    const int count = argc > 1 ? std::atoi(argv[1]) : 20000;
    const int rounds = argc > 2 ? std::atoi(argv[2]) : 50;
    const bool bench_shape = argc > 3 && std::string(argv[3]) == "bench";
    if (argc > 4 && std::string(argv[4]) == "index-only") {
        // The search index alone, for its share of the memory.
        CatalogReadModel shaped;
        if (bench_shape) {
            load_bench_shape(shaped, count);
        } else {
            load(shaped, count);
        }
        flaskcart::services::SearchIndex index(storage());
        const double before = rss_mib();
        for (int i = 0; i < count; ++i) {
            const auto product = shaped.find_product(id_of(i + 1));
            if (product) {
                index.add(static_cast<flaskcart::services::SearchDocId>(i + 1), product->name,
                          product->description, product->name);
            }
        }
        std::printf("search index alone, %d products: RSS +%.1f MiB\n", count, rss_mib() - before);
        return 0;
    }
    const std::vector<std::string>& queries = bench_shape ? kBenchWords : kQueries;
    const std::vector<std::string>& prefixes = bench_shape ? kBenchPrefixes : kPrefixes;
    // The service renders each product's JSON once, at load; a name stands in for it here.
    CatalogReadModel model([](const flaskcart::models::Product& p) { return p.name; }, {},
                           storage());
    const double rss_before = rss_mib();
    const auto start = Clock::now();
    if (bench_shape) {
        load_bench_shape(model, count);
    } else {
        load(model, count);
    }
    std::printf("loaded %d products (%s shape) in %.0f ms; RSS %.1f -> %.1f MiB\n", count,
                bench_shape ? "bench" : "demo",
                std::chrono::duration<double, std::milli>(Clock::now() - start).count(), rss_before,
                rss_mib());
    int renames = 0;
    if (std::getenv("SEARCH_BENCH_COLD") != nullptr) {
        before_each_query = [&model, &renames] {
            auto product = model.find_product(id_of(1));
            if (!product) return;
            product->name = "Renamed " + std::to_string(renames++);
            model.upsert_product(*product);
        };
    }
    measure("search (q, page 20, facets)", queries, rounds, [&](const std::string& q) {
        flaskcart::models::ProductQuery query{
            .text = q, .sort_key = flaskcart::models::ProductSortKey::kRelevance};
        return static_cast<std::size_t>(model.list_rendered(query).total);
    });
    measure("search + filters, by price", queries, rounds, [&](const std::string& q) {
        flaskcart::models::ProductQuery query{
            .text = q,
            .max_price_cents = 10000,
            .in_stock_only = true,
            .sort_key = flaskcart::models::ProductSortKey::kPrice};
        return static_cast<std::size_t>(model.list_rendered(query).total);
    });
    measure("suggest (limit 8)", prefixes, rounds,
            [&](const std::string& q) { return model.suggest(q, 8).size(); });
    measure("browse (no q, facets)", {"-"}, rounds * 20, [&](const std::string&) {
        return static_cast<std::size_t>(model.list_rendered({}).total);
    });
    return 0;
}
