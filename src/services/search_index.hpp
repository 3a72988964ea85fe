#pragma once
// Full-text search over product names and descriptions: a Xapian 1.4 database (by default Glass,
// in a private temporary directory rebuilt at every start and removed at exit; BM25 ranking,
// Snowball English stemming) plus the vocabulary of folded words, from which the last word of a
// query is completed (prefix) and every word of ≥ 4 letters is corrected (1 edit, 2 from 8 letters;
// Xapian 1.4 has no edit-distance operator, so the expansion is a bounded scan of the vocabulary).
//
// Matching: every word of the query must match (AND), each in the name or the description.
// A word matches its own stem (exact), then the stems of the vocabulary words it begins (last
// word only: prefix), then those within its edit budget (typo). The weight of a match is BM25
// scaled by field (name above description) and by tier (exact above prefix above typo).
//
// Thread-safe: Xapian objects may not be shared between threads, so every call holds one
// internal mutex for the duration of its Xapian work.

#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace flaskcart::services {

// Unicode case folding and accent stripping for search ("Crème BRÛLÉE" → "creme brulee"):
// Latin-1 and Latin Extended-A letters lose their marks (ß → ss, æ → ae, œ → oe), combining
// marks are dropped, and text is split into words at everything that is not a letter or digit
// (an apostrophe inside a word is dropped: "chef's" → "chefs").
std::vector<std::string> search_words(std::string_view utf8);

// Bounded optimal-string-alignment distance (an adjacent swap costs 1): the distance when it is
// ≤ max_distance, otherwise max_distance + 1.
int bounded_edit_distance(std::string_view a, std::string_view b, int max_distance);

// Every word of `words` within `budget` edits of `query` (as bounded_edit_distance), with its
// distance, in order: the typo expansion's scan, which walks the sorted words as a trie instead
// of measuring each one.
std::vector<std::pair<std::string, int>> words_within(
    const std::set<std::string, std::less<>>& words, std::string_view query, int budget);

// The edits a word of `letters` letters tolerates: 0 below 4, 1 from 4, 2 from 8.
int typo_budget(std::size_t letters);

using SearchDocId = std::uint32_t;

struct SearchHit {
    SearchDocId doc_id = 0;
    double weight = 0;
};

enum class SearchFields { kNameAndDescription, kNameOnly };

struct SearchResult {
    std::vector<SearchHit> hits;
    std::uint64_t generation = 0;  // which clear() the document ids belong to
};

// Where the index lives: kDisk (Glass, in a private temporary directory: the page cache holds
// it, not the heap) or kMemory (Xapian's in-memory backend: faster first-time queries, ≈ 1.9 KB
// of heap per product).
enum class SearchStorage { kDisk, kMemory };

class SearchIndex {
  public:
    explicit SearchIndex(SearchStorage storage = SearchStorage::kDisk);
    ~SearchIndex();
    SearchIndex(const SearchIndex&) = delete;
    SearchIndex& operator=(const SearchIndex&) = delete;

    // Empties the index and starts a new generation of document ids; returns it.
    std::uint64_t clear();
    // Indexes a document under doc_id (≥ 1), replacing what was there. The caller removes the
    // old text first (remove()) so the vocabulary stays exact.
    // `tie_break` orders documents of equal weight in match()'s best hits (byte order).
    void add(SearchDocId doc_id, std::string_view name, std::string_view description,
             std::string_view tie_break = {});
    void remove(SearchDocId doc_id, std::string_view name, std::string_view description);
    // Writes pending changes out of memory (every 1,024 changes by itself): after a bulk load.
    void commit();

    // Every document matching `text`, in no particular order, with its weight. Empty when the
    // text has no word in it.
    SearchResult match(std::string_view text, SearchFields fields) const;
    // Only the `best` heaviest matches, heaviest first, equal weights in tie_break order: what
    // suggestions need, without ranking every match of a one-letter prefix.
    SearchResult best_matches(std::string_view text, SearchFields fields, std::size_t best) const;

    std::size_t vocabulary_size() const;

  private:
    struct State;
    SearchResult run(std::string_view text, SearchFields fields, std::size_t best) const;
    mutable std::mutex mutex_;
    SearchStorage storage_;
    std::unique_ptr<State> state_;
    std::uint64_t generation_ = 0;
};

}  // namespace flaskcart::services
