// Search in the in-memory catalog: folding, stemming, completion, typos, ranking, filters and
// facets with a search, suggestions, and the index following every write.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "services/catalog_read_model.hpp"
#include "services/search_index.hpp"

namespace flaskcart::services {
namespace {

using models::Product;
using models::ProductQuery;
using models::ProductSortKey;

std::string id_of(int n) {
    std::string id = std::to_string(n);
    return std::string(24 - id.size(), '0') + id;
}

const std::string kKitchen = id_of(900);
const std::string kBooks = id_of(901);

Product product(int n, std::string name, std::string description = "",
                std::int64_t price_cents = 1000, std::string category = kKitchen,
                std::int64_t stock = 5) {
    return Product{.id = id_of(n),
                   .name = std::move(name),
                   .description = std::move(description),
                   .price_cents = price_cents,
                   .category_id = std::move(category),
                   .stock = stock,
                   .created_at_ms = 1'700'000'000'000 + n};
}

class Search : public ::testing::Test {
  protected:
    void SetUp() override {
        model_.replace_all(
            {
                product(1, "Cast Iron Skillet", "Heavy pan for searing.", 4999),
                product(2, "Crème brûlée Torch", "Caramelises sugar.", 2500),
                product(3, "Modern C++ Handbook", "A thorough guide.", 3999, kBooks),
                product(4, "Electric Kettle", "Boils water fast; not a skillet.", 2999),
                product(5, "Chef's Knife", "Cuts vegetables.", 5999, kKitchen, 0),
                product(6, "Skillet Lid", "Glass lid for pans.", 1999),
                product(7, "Running Shoes", "Light shoes for running.", 8999, ""),
                product(8, "Skillful Cooking", "A book of recipes for any skillet.", 1500, kBooks),
            },
            {{.id = kKitchen, .name = "Kitchen"}, {.id = kBooks, .name = "Books"}});
    }

    std::vector<std::string> names(ProductQuery query) const {
        if (query.sort_key == ProductSortKey::kCreatedAt && !query.text.empty()) {
            query.sort_key = ProductSortKey::kRelevance;
        }
        std::vector<std::string> out;
        for (const auto& item : model_.list(query).items) out.push_back(item.name);
        return out;
    }
    std::vector<std::string> search(const std::string& text) const {
        return names(ProductQuery{.text = text});
    }

    CatalogReadModel model_;
};

bool contains(const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

TEST(SearchWords, FoldCaseAndAccentsAndSplitAtPunctuation) {
    EXPECT_EQ(search_words("Crème BRÛLÉE"), (std::vector<std::string>{"creme", "brulee"}));
    EXPECT_EQ(search_words("Straße Æther Œuvre Łódź"),
              (std::vector<std::string>{"strasse", "aether", "oeuvre", "lodz"}));
    EXPECT_EQ(search_words("Chef's USB-C 1000-Piece"),
              (std::vector<std::string>{"chefs", "usb", "c", "1000", "piece"}));
    // "e" followed by a combining acute accent (decomposed input).
    EXPECT_EQ(search_words("Cre\xCC\x80me"), (std::vector<std::string>{"creme"}));
    EXPECT_EQ(search_words("ΩMEGA КОФЕ"), (std::vector<std::string>{"ωmega", "кофе"}));
    EXPECT_TRUE(search_words(".* ()[] -- %").empty());
    EXPECT_TRUE(search_words("").empty());
}

TEST(SearchWords, EditDistanceIsBoundedAndCountsASwapOnce) {
    EXPECT_EQ(bounded_edit_distance("skillet", "skillet", 1), 0);
    EXPECT_EQ(bounded_edit_distance("skilet", "skillet", 1), 1);
    EXPECT_EQ(bounded_edit_distance("skillte", "skillet", 1), 1);  // adjacent swap
    EXPECT_EQ(bounded_edit_distance("handbok", "handbook", 2), 1);
    EXPECT_EQ(bounded_edit_distance("kettle", "skillet", 2), 3);  // over the bound: bound + 1
    EXPECT_EQ(bounded_edit_distance("ab", "abcdef", 2), 3);
    EXPECT_EQ(typo_budget(3), 0);
    EXPECT_EQ(typo_budget(4), 1);
    EXPECT_EQ(typo_budget(7), 1);
    EXPECT_EQ(typo_budget(8), 2);
}

// The trie walk over the sorted vocabulary finds exactly what measuring every word finds: random
// vocabularies over a small alphabet (so shared prefixes, near misses and swaps are common),
// every budget the expansion uses.
TEST(SearchWords, TrieWalkFindsExactlyTheWordsWithinTheBudget) {
    std::mt19937 random(20261128);
    const std::string alphabet = "abcde9\xc3\xa9";
    const auto random_word = [&](std::size_t max_length) {
        std::string word;
        const std::size_t length = 1 + random() % max_length;
        for (std::size_t i = 0; i < length; ++i) word += alphabet[random() % alphabet.size()];
        return word;
    };
    for (int round = 0; round < 200; ++round) {
        std::set<std::string, std::less<>> words;
        const std::size_t size = 1 + random() % 300;
        while (words.size() < size) words.insert(random_word(9));
        const std::string query = round % 10 == 0 ? *words.begin() : random_word(10);
        for (int budget = 0; budget <= 2; ++budget) {
            std::vector<std::pair<std::string, int>> expected;
            for (const std::string& word : words) {
                const int distance = bounded_edit_distance(word, query, budget);
                if (distance <= budget) expected.emplace_back(word, distance);
            }
            ASSERT_EQ(words_within(words, query, budget), expected)
                << "query " << query << ", budget " << budget << ", round " << round;
        }
    }
}

TEST_F(Search, StemsPluralsAndFoldsAccents) {
    EXPECT_TRUE(contains(search("skillets"), "Cast Iron Skillet"));
    EXPECT_TRUE(contains(search("CREME brulee"), "Crème brûlée Torch"));
    EXPECT_TRUE(contains(search("crème BRÛLÉE"), "Crème brûlée Torch"));
    EXPECT_EQ(search("run"), (std::vector<std::string>{"Running Shoes"}));
}

TEST_F(Search, CompletesOnlyTheLastWord) {
    EXPECT_TRUE(contains(search("skil"), "Cast Iron Skillet"));
    EXPECT_TRUE(contains(search("cast iron skil"), "Cast Iron Skillet"));
    EXPECT_TRUE(search("cas iron").empty());  // "cas" is not the last word
    EXPECT_EQ(search("hand"), (std::vector<std::string>{"Modern C++ Handbook"}));
}

TEST_F(Search, ToleratesOneTypoFromFourLettersAndTwoFromEight) {
    const auto skilet = search("skilet");
    ASSERT_GE(skilet.size(), 2U);
    EXPECT_EQ(skilet[0], "Skillet Lid");  // the same typo: the shorter name first
    EXPECT_EQ(skilet[1], "Cast Iron Skillet");
    EXPECT_EQ(search("handbok"), (std::vector<std::string>{"Modern C++ Handbook"}));
    EXPECT_EQ(search("kettel"), (std::vector<std::string>{"Electric Kettle"}));
    EXPECT_EQ(search("kettels"), (std::vector<std::string>{"Electric Kettle"}));  // plural too
    EXPECT_EQ(search("vegetabels"), (std::vector<std::string>{"Chef's Knife"}));  // a swap
    EXPECT_EQ(search("vgetabels"), (std::vector<std::string>{"Chef's Knife"}));   // 2 edits, 9
    EXPECT_TRUE(search("vgtabels").empty());                                      // 3 edits
    EXPECT_TRUE(search("kettlxx").empty());  // 2 edits on 7 letters: too many
    EXPECT_TRUE(search("pna").empty());      // 3 letters: no typo allowed
}

TEST_F(Search, EveryWordMustMatchInTheNameOrTheDescription) {
    EXPECT_EQ(search("heavy skillet"), (std::vector<std::string>{"Cast Iron Skillet"}));
    EXPECT_EQ(search("glass lid"), (std::vector<std::string>{"Skillet Lid"}));
    EXPECT_TRUE(search("skillet torch").empty());
    EXPECT_EQ(search("sugar"), (std::vector<std::string>{"Crème brûlée Torch"}));  // description
}

TEST_F(Search, RanksNameAboveDescriptionAndExactAbovePrefixAboveTypo) {
    const auto skillet = search("skillet");
    ASSERT_EQ(skillet.size(), 4U);
    // Name matches first (the shorter name first: BM25's length normalisation), then the
    // description-only matches.
    EXPECT_EQ(skillet[0], "Skillet Lid");
    EXPECT_EQ(skillet[1], "Cast Iron Skillet");
    EXPECT_TRUE(contains({skillet[2], skillet[3]}, "Electric Kettle"));
    EXPECT_TRUE(contains({skillet[2], skillet[3]}, "Skillful Cooking"));

    CatalogReadModel tiers;
    tiers.replace_all({product(1, "Lamb"), product(2, "Lampshade"), product(3, "Lamp")}, {});
    std::vector<std::string> ranked;
    for (const auto& item :
         tiers.list(ProductQuery{.text = "lamp", .sort_key = ProductSortKey::kRelevance}).items) {
        ranked.push_back(item.name);
    }
    EXPECT_EQ(ranked, (std::vector<std::string>{"Lamp", "Lampshade", "Lamb"}));
}

TEST_F(Search, PunctuationAloneMatchesNothing) {
    for (const char* text : {".*", "()", "%", "--", "'"}) {
        const auto page = model_.list(ProductQuery{.text = text});
        EXPECT_EQ(page.total, 0) << text;
        EXPECT_TRUE(page.items.empty()) << text;
        EXPECT_TRUE(page.facets.categories.empty()) << text;
        EXPECT_FALSE(page.facets.min_price_cents) << text;
    }
}

TEST_F(Search, FiltersSortsAndPagesApplyToMatchesWithExactTotals) {
    ProductQuery query{.text = "skillet", .sort_key = ProductSortKey::kPrice, .descending = false};
    EXPECT_EQ(names(query), (std::vector<std::string>{"Skillful Cooking", "Skillet Lid",
                                                      "Electric Kettle", "Cast Iron Skillet"}));
    query.max_price_cents = 2999;
    query.limit = 2;
    query.page = 2;
    const auto page = model_.list(query);
    EXPECT_EQ(page.total, 3);
    ASSERT_EQ(page.items.size(), 1U);
    EXPECT_EQ(page.items[0].name, "Electric Kettle");
    query.page = 3;
    EXPECT_EQ(model_.list(query).total, 3);
    EXPECT_TRUE(model_.list(query).items.empty());

    ProductQuery by_name{
        .text = "skillet", .category_id = kBooks, .sort_key = ProductSortKey::kName};
    EXPECT_EQ(names(by_name), (std::vector<std::string>{"Skillful Cooking"}));
    ProductQuery in_stock{.text = "cuts", .in_stock_only = true};
    EXPECT_TRUE(names(in_stock).empty());  // the knife is sold out
}

TEST_F(Search, FacetsCountMatchesAndIgnoreOnlyTheCategoryFilter) {
    ProductQuery query{.text = "skillet", .category_id = kBooks};
    const auto page = model_.list(query);
    EXPECT_EQ(page.total, 1);
    ASSERT_EQ(page.facets.categories.size(), 2U);
    EXPECT_EQ(page.facets.categories[0].name, "Kitchen");  // 3 matches, most first
    EXPECT_EQ(page.facets.categories[0].count, 3);
    EXPECT_EQ(page.facets.categories[1].id, kBooks);
    EXPECT_EQ(page.facets.categories[1].count, 1);
    EXPECT_EQ(page.facets.min_price_cents, 1500);  // within the category: one book
    EXPECT_EQ(page.facets.max_price_cents, 1500);
    EXPECT_EQ(page.facets.in_stock, 1);

    const auto all = model_.list(ProductQuery{});
    EXPECT_EQ(all.total, 8);
    EXPECT_EQ(all.facets.min_price_cents, 1500);
    EXPECT_EQ(all.facets.max_price_cents, 8999);
    EXPECT_EQ(all.facets.in_stock, 7);
    ASSERT_EQ(all.facets.categories.size(), 2U);  // the product without a category is in none
    EXPECT_EQ(all.facets.categories[0].count, 5);
    EXPECT_EQ(all.facets.categories[1].count, 2);

    const auto cheap = model_.list(ProductQuery{.max_price_cents = 2000, .in_stock_only = true});
    EXPECT_EQ(cheap.total, 2);
    EXPECT_EQ(cheap.facets.in_stock, 2);
    EXPECT_EQ(cheap.facets.max_price_cents, 1999);
}

TEST_F(Search, SuggestsNamesCompletingTheTextBestFirst) {
    const auto suggestions = model_.suggest("skil", 8);
    std::vector<std::string> got;
    for (const auto& s : suggestions) got.push_back(s.name);
    // Names only: the kettle mentions a skillet in its description and is no suggestion.
    EXPECT_EQ(got.size(), 3U);
    EXPECT_FALSE(contains(got, "Electric Kettle"));
    EXPECT_EQ(model_.suggest("skil", 1).size(), 1U);
    EXPECT_EQ(model_.suggest("cast iron s", 8).front().name, "Cast Iron Skillet");
    EXPECT_EQ(model_.suggest("cast iron s", 8).front().id, id_of(1));
    EXPECT_TRUE(model_.suggest("", 8).empty());
    EXPECT_TRUE(model_.suggest(".*", 8).empty());
    EXPECT_TRUE(model_.suggest("zzzz", 8).empty());
}

// Suggestions take only the best few from the index; they must be the same few, in the same
// order, as ranking every match would give (equal weights by name, then _id).
TEST(SearchSuggestions, TheBestFewAreTheHeadOfTheFullRanking) {
    CatalogReadModel model;
    std::vector<Product> products;
    for (int n = 1; n <= 60; ++n) {
        // Equal weights in groups: the same two-word shapes, names that tie and names that differ.
        const std::string name = (n % 3 == 0   ? "Mug "
                                  : n % 3 == 1 ? "Muffin tin "
                                               : "Mug rack ") +
                                 std::to_string(n % 7);
        products.push_back(product(n, name, n % 2 == 0 ? "mug" : ""));
    }
    model.replace_all(std::move(products), {{.id = kKitchen, .name = "Kitchen"}});
    for (const std::string prefix : {"m", "mu", "mug", "mug r", "muf"}) {
        const auto all = model.suggest(prefix, 100);
        ASSERT_FALSE(all.empty()) << prefix;
        for (std::size_t limit : {1U, 3U, 8U, 20U}) {
            const auto few = model.suggest(prefix, limit);
            ASSERT_EQ(few.size(), std::min(limit, all.size())) << prefix;
            for (std::size_t i = 0; i < few.size(); ++i) {
                EXPECT_EQ(few[i].id, all[i].id) << prefix << " limit " << limit << " at " << i;
            }
        }
    }
}

// Stock and price changes leave the search index alone; a changed name is found at once.
TEST_F(Search, AStockChangeKeepsTheProductFindableAndARenameMovesIt) {
    Product skillet = product(1, "Cast Iron Skillet", "Heavy pan for searing.", 4999);
    skillet.stock = 0;
    skillet.price_cents = 5999;
    model_.upsert_product(skillet);
    EXPECT_TRUE(contains(search("skillet"), "Cast Iron Skillet"));
    EXPECT_EQ(model_.suggest("cast", 8).front().id, id_of(1));
    skillet.name = "Cast Iron Griddle";
    model_.upsert_product(skillet);
    EXPECT_FALSE(contains(search("skillet"), "Cast Iron Griddle"));
    EXPECT_TRUE(contains(search("griddle"), "Cast Iron Griddle"));
    EXPECT_EQ(model_.suggest("cast", 8).front().name, "Cast Iron Griddle");
}

TEST_F(Search, FollowsEveryWriteAtOnce) {
    model_.upsert_product(product(9, "Copper Saucepan", "Even heat."));
    // Each search is asked before and after the write that changes it: results and expansions
    // the index remembers must not outlive a change.
    EXPECT_EQ(search("saucepan"), (std::vector<std::string>{"Copper Saucepan"}));
    EXPECT_EQ(search("coper"), (std::vector<std::string>{"Copper Saucepan"}));
    EXPECT_EQ(search("copper"), (std::vector<std::string>{"Copper Saucepan"}));
    EXPECT_TRUE(search("steel").empty());
    model_.upsert_product(product(9, "Steel Saucepan", "Even heat."));
    EXPECT_TRUE(search("copper").empty());
    EXPECT_EQ(search("steel"), (std::vector<std::string>{"Steel Saucepan"}));
    EXPECT_TRUE(search("coper").empty());  // the old word left the vocabulary
    EXPECT_EQ(model_.suggest("stee", 8).size(), 1U);
    EXPECT_EQ(search("saucepan"), (std::vector<std::string>{"Steel Saucepan"}));
    model_.remove_product(id_of(9));
    EXPECT_TRUE(search("saucepan").empty());
    EXPECT_TRUE(model_.suggest("stee", 8).empty());

    // Stock moves reach the in-stock filter and facet of a search.
    ProductQuery knives{.text = "knife", .in_stock_only = true};
    EXPECT_EQ(model_.list(knives).total, 0);
    model_.adjust_stock(id_of(5), 2);
    EXPECT_EQ(model_.list(knives).total, 1);
    EXPECT_EQ(model_.list(ProductQuery{.text = "knife"}).facets.in_stock, 1);

    model_.replace_all({product(20, "Only Thing")}, {});
    EXPECT_TRUE(search("skillet").empty());
    EXPECT_EQ(search("thing"), (std::vector<std::string>{"Only Thing"}));
}

// The index lives on disk in a directory of its own under $TMPDIR, gone with the index; one
// left by a process that no longer exists (killed, crashed) is removed by the next index.
TEST(SearchIndexStorage, KeepsItsDirectoryWhileItLivesAndClearsAbandonedOnes) {
    namespace fs = std::filesystem;
    const fs::path tmp =
        fs::temp_directory_path() / ("search-storage-test-" + std::to_string(getpid()));
    fs::remove_all(tmp);
    fs::create_directories(tmp);
    const char* saved = std::getenv("TMPDIR");
    const std::string saved_value = saved != nullptr ? saved : "";
    setenv("TMPDIR", tmp.c_str(), 1);
    const pid_t child = fork();
    if (child == 0) _exit(0);
    ASSERT_GT(child, 0);
    waitpid(child, nullptr, 0);  // a process id that is no longer in use
    const fs::path abandoned = tmp / ("flaskcart-search-" + std::to_string(child) + "-abcdef");
    fs::create_directories(abandoned);
    std::ofstream(abandoned / "left.glass") << "x";
    const fs::path unrelated = tmp / "someone-else";
    fs::create_directories(unrelated);
    const auto own_directories = [&] {
        std::vector<fs::path> out;
        const std::string prefix = "flaskcart-search-" + std::to_string(getpid()) + "-";
        for (const auto& entry : fs::directory_iterator(tmp)) {
            if (entry.path().filename().string().starts_with(prefix)) out.push_back(entry.path());
        }
        return out;
    };
    {
        SearchIndex index;
        index.add(1, "Copper kettle", "");
        index.commit();
        EXPECT_FALSE(fs::exists(abandoned));
        EXPECT_TRUE(fs::exists(unrelated));
        EXPECT_EQ(own_directories().size(), 1U);
        EXPECT_EQ(index.match("kettle", SearchFields::kNameOnly).hits.size(), 1U);
        index.clear();  // a new, empty database in a new directory
        EXPECT_EQ(own_directories().size(), 1U);
        EXPECT_TRUE(index.match("kettle", SearchFields::kNameOnly).hits.empty());
    }
    EXPECT_TRUE(own_directories().empty());
    if (saved != nullptr) {
        setenv("TMPDIR", saved_value.c_str(), 1);
    } else {
        unsetenv("TMPDIR");
    }
    fs::remove_all(tmp);
}

}  // namespace
}  // namespace flaskcart::services
