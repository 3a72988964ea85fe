// Relevance over the demo catalog (`flaskcart seed-demo`, its default 48 products): each query
// names the product(s) a shopper means, which must rank in the top 3. Reports precision@3 and
// the mean reciprocal rank (README, "Search").
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "services/catalog_read_model.hpp"
#include "services/catalog_seed.hpp"

namespace flaskcart::services {
namespace {

constexpr int kDemoProducts = 48;  // seed-demo's default

struct Judgement {
    const char* query;
    const char* kind;      // what the query exercises
    const char* expected;  // a product is relevant when its name contains this
};

const std::vector<Judgement> kJudgements = {
    {"skillet", "exact", "Cast Iron Skillet"},
    {"skillets", "plural", "Cast Iron Skillet"},
    {"skilet", "typo", "Cast Iron Skillet"},
    {"skil", "prefix", "Cast Iron Skillet"},
    {"handbok", "typo", "Modern C++ Handbook"},
    {"handbooks", "plural", "Modern C++ Handbook"},
    {"kettel", "typo (swap)", "Electric Kettle"},
    {"electric ket", "two words, prefix", "Electric Kettle"},
    {"ÉLECTRIC KETTLE", "case and accent", "Electric Kettle"},
    {"earbud", "singular", "Wireless Earbuds"},
    {"wireles mouse", "two words, typo", "Wireless Mouse"},
    {"headphone", "singular", "Noise-Cancelling Headphones"},
    {"noise canceling", "two words, typo", "Noise-Cancelling Headphones"},
    {"mechanical keybaord", "two words, typo (swap)", "Mechanical Keyboard"},
    {"speakers", "plural", "Bluetooth Speaker"},
    {"blutooth", "typo (8 letters)", "Bluetooth Speaker"},
    {"usb-c chargers", "punctuation, plural", "USB-C Charger"},
    {"chef knife", "two words, possessive", "Chef's Knife"},
    {"kitchen knife", "a word only in descriptions", "Chef's Knife"},
    {"Frénch Préss", "accents", "French Press"},
    {"french pres", "two words, prefix", "French Press"},
    {"cutting boards", "two words, plural", "Cutting Board"},
    {"mugs", "plural", "Ceramic Mug Set"},
    {"linen tablecloths", "two words, plural", "Linen Tablecloth"},
    {"trail runing shoes", "three words, typo", "Trail Running Shoes"},
    {"insulted bottle", "two words, typo", "Insulated Water Bottle"},
    {"backpacks", "plural", "Hiking Backpack"},
    {"tent", "exact", "Two-Person Tent"},
    {"board game", "two words", "Strategy Board Game"},
    {"1000 piece", "numbers", "1000-Piece Puzzle"},
    {"remote car", "two words", "Remote Control Car"},
    {"bird guide", "two words, plural", "Field Guide to Birds"},
    {"poetry anthologie", "two words, 2 typos (10 letters)", "Poetry Anthology"},
    {"sport gloves", "a word only in descriptions, stem", "Cycling Gloves"},
    {"deluxe earbuds", "edition and item", "Deluxe Wireless Earbuds"},
    {"clàssic chess", "accent, two words", "Classic Chess Set"},
    {"plush be", "prefix", "Plush Bear"},
    {"atlas books", "a word only in descriptions", "World Atlas"},
};

CatalogReadModel& demo_catalog_model() {
    static CatalogReadModel model;
    static const bool loaded = [] {
        DemoCatalog catalog = demo_catalog(kDemoProducts);
        model.replace_all(std::move(catalog.products), std::move(catalog.categories));
        return true;
    }();
    EXPECT_TRUE(loaded);
    return model;
}

bool is_relevant(const models::Product& product, const Judgement& judgement) {
    return product.name.find(judgement.expected) != std::string::npos;
}

TEST(SearchRelevance, EveryQueryFindsWhatItMeansInTheTopThree) {
    ASSERT_GE(kJudgements.size(), 30U);
    const CatalogReadModel& model = demo_catalog_model();
    double precision_sum = 0;
    double reciprocal_rank_sum = 0;
    int passed = 0;
    for (const Judgement& judgement : kJudgements) {
        const auto page = model.list({.text = judgement.query,
                                      .sort_key = models::ProductSortKey::kRelevance,
                                      .limit = 100});
        int relevant_total = 0;
        for (int i = 0; i < kDemoProducts; ++i) {
            relevant_total += demo_product(i).name.find(judgement.expected) != std::string::npos;
        }
        int first_rank = 0;
        int relevant_in_top3 = 0;
        for (std::size_t i = 0; i < page.items.size(); ++i) {
            if (!is_relevant(page.items[i], judgement)) continue;
            if (first_rank == 0) first_rank = static_cast<int>(i) + 1;
            if (i < 3) ++relevant_in_top3;
        }
        // Precision@3 out of what is attainable: a query with one relevant product scores 1
        // when that product is in the top 3.
        precision_sum += static_cast<double>(relevant_in_top3) / std::min(3, relevant_total);
        reciprocal_rank_sum += first_rank == 0 ? 0.0 : 1.0 / first_rank;
        const bool pass = first_rank >= 1 && first_rank <= 3;
        passed += pass ? 1 : 0;
        EXPECT_TRUE(pass) << "\"" << judgement.query << "\" (" << judgement.kind
                          << "): first relevant at rank " << first_rank << " of " << page.total
                          << "; top: "
                          << (page.items.empty() ? std::string("-") : page.items[0].name);
    }
    const double count = static_cast<double>(kJudgements.size());
    std::printf("search relevance: %zu queries, %d in the top 3, precision@3 %.3f, MRR %.3f\n",
                kJudgements.size(), passed, precision_sum / count, reciprocal_rank_sum / count);
    ::testing::Test::RecordProperty("precision_at_3", std::to_string(precision_sum / count));
    ::testing::Test::RecordProperty("mrr", std::to_string(reciprocal_rank_sum / count));
}

TEST(SearchRelevance, SuggestionsCompleteTheDemoNames) {
    const CatalogReadModel& model = demo_catalog_model();
    for (const Judgement& judgement :
         {Judgement{"skil", "", "Cast Iron Skillet"}, Judgement{"cast ir", "", "Cast Iron Skillet"},
          Judgement{"mech", "", "Mechanical Keyboard"}, Judgement{"blue", "", "Bluetooth Speaker"},
          Judgement{"handbo", "", "Modern C++ Handbook"}}) {
        const auto suggestions = model.suggest(judgement.query, 8);
        ASSERT_FALSE(suggestions.empty()) << judgement.query;
        EXPECT_NE(suggestions.front().name.find(judgement.expected), std::string::npos)
            << judgement.query << " → " << suggestions.front().name;
    }
}

// --search-index=memory keeps the index in Xapian's in-memory backend instead of on disk: the
// same index, so every query must rank and count exactly alike.
TEST(SearchRelevance, TheInMemoryIndexAnswersExactlyLikeTheOneOnDisk) {
    CatalogReadModel on_disk({}, {}, SearchStorage::kDisk);
    CatalogReadModel in_memory({}, {}, SearchStorage::kMemory);
    for (CatalogReadModel* model : {&on_disk, &in_memory}) {
        DemoCatalog catalog = demo_catalog(600);
        model->replace_all(std::move(catalog.products), std::move(catalog.categories));
    }
    std::vector<std::string> texts;
    for (const Judgement& judgement : kJudgements) texts.emplace_back(judgement.query);
    for (const char* text : {"s", "ca", "1", "12", "travel mug 3", "zzzz"})
        texts.emplace_back(text);
    for (const std::string& text : texts) {
        models::ProductQuery query{
            .text = text, .sort_key = models::ProductSortKey::kRelevance, .limit = 50};
        const auto disk = on_disk.list(query);
        const auto memory = in_memory.list(query);
        EXPECT_EQ(disk.total, memory.total) << text;
        ASSERT_EQ(disk.items.size(), memory.items.size()) << text;
        for (std::size_t i = 0; i < disk.items.size(); ++i) {
            EXPECT_EQ(disk.items[i].id, memory.items[i].id) << text << " at " << i;
        }
        const auto disk_suggestions = on_disk.suggest(text, 8);
        const auto memory_suggestions = in_memory.suggest(text, 8);
        ASSERT_EQ(disk_suggestions.size(), memory_suggestions.size()) << text;
        for (std::size_t i = 0; i < disk_suggestions.size(); ++i) {
            EXPECT_EQ(disk_suggestions[i].id, memory_suggestions[i].id) << text << " at " << i;
        }
    }
}

}  // namespace
}  // namespace flaskcart::services
