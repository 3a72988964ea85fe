#include "services/search_index.hpp"

#include <signal.h>  // kill
#include <stdlib.h>  // mkdtemp
#include <unistd.h>  // getpid
#include <xapian.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <system_error>
#include <tuple>

namespace flaskcart::services {

namespace {

constexpr char kNamePrefix[] = "N";
constexpr char kDescriptionPrefix[] = "D";
// Tier and field factors on BM25: a name match counts three times a description match; an
// exact word beats a completion of the last word, which beats a corrected typo.
constexpr double kNameFactor = 3.0;
constexpr double kExactFactor = 1.0;
constexpr double kPrefixFactor = 0.6;
constexpr double kOneTypoFactor = 0.35;
constexpr double kTwoTyposFactor = 0.25;
// A completion of one or two letters could name most of the vocabulary: keep the most used, the
// fewer the shorter the prefix (each kept completion is two more terms for Xapian to weigh: its
// term statistics were most of the cost of a one-letter search at 20,000 products).
std::size_t max_prefix_expansions(std::size_t prefix_bytes) {
    if (prefix_bytes <= 1) return 8;
    if (prefix_bytes == 2) return 24;
    return 64;
}
// Expanded words kept between searches (State::expansions); beyond this the cache starts over.
constexpr std::size_t kMaxCachedExpansions = 4096;
// Search results kept between searches (State::results): at most this many, holding at most
// this many hits in all (16 bytes each).
constexpr std::size_t kMaxCachedResults = 1024;
constexpr std::size_t kMaxHitsRemembered = 262'144;
// The value slot of a document's tie-break key (best_matches()).
constexpr Xapian::valueno kTieBreakSlot = 0;
// Xapian refuses terms over 245 bytes; no real word comes near this.
constexpr std::size_t kMaxWordBytes = 64;

// Base letters of U+0100..U+017F (Latin Extended-A); '#' marks the two ligatures.
constexpr std::string_view kLatinExtendedA =
    "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii##jjkkkllllllllllnnnnnnnnnoooooo##"
    "rrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";
static_assert(kLatinExtendedA.size() == 0x80);
// Base letters of U+00E0..U+00FF; '#' marks æ and þ, '-' marks ÷ (not a letter).
constexpr std::string_view kLatin1Lower = "aaaaaa#ceeeeiiiidnooooo-ouuuuy#y";
static_assert(kLatin1Lower.size() == 32);

// What a lower-case code point becomes in a search word: itself (empty view), its base letters,
// or nothing ("" with drop = true) for a combining mark.
std::string_view strip_accent(unsigned c, bool& drop) {
    drop = false;
    if (c >= 0x300 && c <= 0x36F) {
        drop = true;
        return {};
    }
    if (c == 0xDF) return "ss";
    if (c >= 0xE0 && c <= 0xFF) {
        if (c == 0xE6) return "ae";
        if (c == 0xFE) return "th";
        return kLatin1Lower.substr(c - 0xE0, 1);
    }
    if (c >= 0x100 && c <= 0x17F) {
        if (c == 0x132 || c == 0x133) return "ij";
        if (c == 0x152 || c == 0x153) return "oe";
        return kLatinExtendedA.substr(c - 0x100, 1);
    }
    return {};
}

bool is_apostrophe(unsigned c) {
    return c == '\'' || c == 0x2019;
}

void finish_word(std::string& word, std::vector<std::string>& words) {
    if (word.empty()) return;
    if (word.size() > kMaxWordBytes) word.resize(kMaxWordBytes);
    words.push_back(std::move(word));
    word.clear();
}

std::size_t letter_count(std::string_view word) {
    std::size_t letters = 0;
    for (char c : word) letters += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
    return letters;
}

bool has_letter(std::string_view word) {
    return std::any_of(word.begin(), word.end(), [](char c) { return c < '0' || c > '9'; });
}

struct VocabularyWord {
    std::string stem;
    std::int64_t uses = 0;
};

using Vocabulary = std::map<std::string, VocabularyWord, std::less<>>;
using VocabularyEntry = Vocabulary::value_type;

const std::string& key_of(const VocabularyEntry& entry) {
    return entry.first;
}
const std::string& key_of(const std::string& word) {
    return word;
}

// The first key after every key that starts with `prefix` (end() when there is none).
template <typename SortedWords>
typename SortedWords::const_iterator past_prefix(const SortedWords& words, std::string prefix) {
    while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xFF) prefix.pop_back();
    if (prefix.empty()) return words.end();
    prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
    return words.lower_bound(prefix);
}

// Calls visit(entry, distance) for every vocabulary word within `budget` edits of `query`
// (optimal string alignment, by bytes, as bounded_edit_distance). The sorted vocabulary is
// walked as a trie: the table row of a prefix is computed once for all the words that share it,
// and a prefix whose row already exceeds the budget (a row's minimum never falls further down
// the table) skips every word that starts with it. So the cost follows the prefixes near the
// query, not the size of the vocabulary.
template <typename SortedWords, typename Visit>
void for_each_word_within(const SortedWords& vocabulary, std::string_view query, int budget,
                          Visit&& visit) {
    const std::size_t columns = query.size() + 1;
    // Row k (at k * columns) is the row of the current word's first k bytes; rows_valid of them
    // are current.
    std::vector<int> table((kMaxWordBytes + 1) * columns);
    const auto row_at = [&table, columns](std::size_t k) { return table.data() + k * columns; };
    for (std::size_t j = 0; j < columns; ++j) table[j] = static_cast<int>(j);
    std::string_view previous;
    std::size_t rows_valid = 1;
    auto it = vocabulary.begin();
    while (it != vocabulary.end()) {
        const std::string_view word = std::string_view(key_of(*it)).substr(0, kMaxWordBytes);
        std::size_t depth = 1;
        while (depth < rows_valid && depth <= word.size() && depth <= previous.size() &&
               word[depth - 1] == previous[depth - 1]) {
            ++depth;
        }
        bool pruned = false;
        for (; depth <= word.size(); ++depth) {
            const int* above = row_at(depth - 1);
            int* row = row_at(depth);
            const char letter = word[depth - 1];
            row[0] = static_cast<int>(depth);
            int row_min = row[0];
            for (std::size_t j = 1; j < columns; ++j) {
                int best = std::min({above[j] + 1, row[j - 1] + 1,
                                     above[j - 1] + (letter == query[j - 1] ? 0 : 1)});
                if (depth > 1 && j > 1 && letter == query[j - 2] &&
                    word[depth - 2] == query[j - 1]) {
                    best = std::min(best, row_at(depth - 2)[j - 2] + 1);
                }
                row[j] = best;
                row_min = std::min(row_min, best);
            }
            if (row_min > budget) {
                pruned = true;
                break;
            }
        }
        previous = word;
        if (pruned) {
            rows_valid = depth;  // rows[depth] is this word's but is over budget: recompute it
            it = past_prefix(vocabulary, std::string(word.substr(0, depth)));
            continue;
        }
        rows_valid = word.size() + 1;
        if (const int distance = row_at(word.size())[columns - 1]; distance <= budget) {
            visit(*it, distance);
        }
        ++it;
    }
}

}  // namespace

std::vector<std::string> search_words(std::string_view utf8) {
    std::vector<std::string> words;
    std::string word;
    for (Xapian::Utf8Iterator it(utf8.data(), utf8.size()); it != Xapian::Utf8Iterator(); ++it) {
        const unsigned c = Xapian::Unicode::tolower(*it);
        if (is_apostrophe(c) && !word.empty()) continue;
        bool drop = false;
        const std::string_view base = strip_accent(c, drop);
        if (drop) continue;
        if (base == "-" || !Xapian::Unicode::is_wordchar(c)) {
            finish_word(word, words);
        } else if (!base.empty()) {
            word += base;
        } else {
            Xapian::Unicode::append_utf8(word, c);
        }
    }
    finish_word(word, words);
    return words;
}

int bounded_edit_distance(std::string_view a, std::string_view b, int max_distance) {
    const auto n = static_cast<int>(a.size());
    const auto m = static_cast<int>(b.size());
    if (std::abs(n - m) > max_distance) return max_distance + 1;
    // Three rows of the optimal-string-alignment table; a row whose minimum exceeds the budget
    // ends the scan.
    std::vector<int> before(static_cast<std::size_t>(m + 1));
    std::vector<int> previous(static_cast<std::size_t>(m + 1));
    std::vector<int> current(static_cast<std::size_t>(m + 1));
    for (int j = 0; j <= m; ++j) previous[static_cast<std::size_t>(j)] = j;
    for (int i = 1; i <= n; ++i) {
        current[0] = i;
        int row_min = i;
        for (int j = 1; j <= m; ++j) {
            const auto uj = static_cast<std::size_t>(j);
            const int cost = a[static_cast<std::size_t>(i - 1)] == b[uj - 1] ? 0 : 1;
            int best = std::min({previous[uj] + 1, current[uj - 1] + 1, previous[uj - 1] + cost});
            if (i > 1 && j > 1 && a[static_cast<std::size_t>(i - 1)] == b[uj - 2] &&
                a[static_cast<std::size_t>(i - 2)] == b[uj - 1]) {
                best = std::min(best, before[uj - 2] + 1);
            }
            current[uj] = best;
            row_min = std::min(row_min, best);
        }
        if (row_min > max_distance) return max_distance + 1;
        std::swap(before, previous);
        std::swap(previous, current);
    }
    return std::min(previous[static_cast<std::size_t>(m)], max_distance + 1);
}

std::vector<std::pair<std::string, int>> words_within(
    const std::set<std::string, std::less<>>& words, std::string_view query, int budget) {
    std::vector<std::pair<std::string, int>> found;
    for_each_word_within(
        words, query.substr(0, kMaxWordBytes), budget,
        [&found](const std::string& word, int distance) { found.emplace_back(word, distance); });
    return found;
}

int typo_budget(std::size_t letters) {
    if (letters >= 8) return 2;
    if (letters >= 4) return 1;
    return 0;
}

namespace {

// A directory of its own under the system's temporary directory ($TMPDIR), removed with it:
// flaskcart-search-<pid>-XXXXXX. Those left by processes that are gone (killed, crashed) are
// removed when the next one is made.
class PrivateDirectory {
  public:
    PrivateDirectory() {
        const std::filesystem::path parent = std::filesystem::temp_directory_path();
        remove_abandoned(parent);
        std::string pattern =
            (parent / ("flaskcart-search-" + std::to_string(getpid()) + "-XXXXXX")).string();
        if (mkdtemp(pattern.data()) == nullptr) {
            throw std::system_error(errno, std::generic_category(),
                                    "cannot create the search index's directory");
        }
        path_ = std::move(pattern);
    }
    ~PrivateDirectory() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    PrivateDirectory(const PrivateDirectory&) = delete;
    PrivateDirectory& operator=(const PrivateDirectory&) = delete;
    const std::string& path() const { return path_; }

  private:
    static void remove_abandoned(const std::filesystem::path& parent) {
        constexpr std::string_view kPrefix = "flaskcart-search-";
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator(parent, ec)) {
            const std::string name = entry.path().filename().string();
            if (!name.starts_with(kPrefix)) continue;
            const auto pid = std::strtol(name.c_str() + kPrefix.size(), nullptr, 10);
            if (pid <= 0 || kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
            std::error_code ignored;
            std::filesystem::remove_all(entry.path(), ignored);
        }
    }

    std::string path_;
};

// Pending changes are written out after this many (Xapian keeps them in memory until then).
constexpr std::size_t kCommitEvery = 1024;

}  // namespace

struct SearchIndex::State {
    explicit State(SearchStorage storage)
        : directory(storage == SearchStorage::kDisk ? std::make_optional<PrivateDirectory>()
                                                    : std::nullopt),
          db(directory ? Xapian::WritableDatabase(directory->path(),
                                                  Xapian::DB_CREATE_OR_OVERWRITE |
                                                      Xapian::DB_BACKEND_GLASS | Xapian::DB_NO_SYNC)
                       : Xapian::WritableDatabase(std::string(), Xapian::DB_BACKEND_INMEMORY)) {}

    // kDisk: Xapian's Glass backend keeps postings compressed in B-trees, read through the
    // kernel's page cache (≈ 6 MB on disk at 20,000 products); its in-memory backend keeps a
    // vector per posting and per document term (38 MiB of this process's heap at 20,000
    // products) but answers a first-time query 0.3–0.5 ms sooner (README, Search). The index is
    // rebuilt at every start, so nothing is synced to disk.
    std::optional<PrivateDirectory> directory;
    Xapian::WritableDatabase db;
    std::size_t uncommitted = 0;
    Xapian::Stem stemmer{"english"};
    Vocabulary vocabulary;

    const std::string& stem_of(const std::string& word) {
        auto it = vocabulary.find(word);
        if (it == vocabulary.end()) {
            it = vocabulary.emplace(word, VocabularyWord{stemmer(word), 0}).first;
        }
        return it->second.stem;
    }

    // The query each (word, last word?, fields) expanded to. The expansion depends only on the
    // vocabulary and its counts, so any add or remove empties it. Shoppers repeat the same
    // words; an expansion scans the completions of a prefix (thousands for "1" or "s").
    std::map<std::tuple<std::string, bool, SearchFields>, Xapian::Query> expansions;

    // The hits of each (words, fields, best) searched since the index last changed: a search box
    // sends the same few prefixes over and over, and every one of them costs Xapian the term
    // statistics of all its completions. Bounded in entries and in hits held.
    std::map<std::tuple<std::string, SearchFields, std::size_t>, std::vector<SearchHit>> results;
    std::size_t hits_remembered = 0;

    void remember(std::tuple<std::string, SearchFields, std::size_t> key,
                  const std::vector<SearchHit>& hits) {
        if (hits.size() > kMaxHitsRemembered / 8) return;  // a rare, broad search: not kept
        if (results.size() >= kMaxCachedResults ||
            hits_remembered + hits.size() > kMaxHitsRemembered) {
            forget_results();
        }
        hits_remembered += hits.size();
        results.emplace(std::move(key), hits);
    }
    void forget_results() {
        results.clear();
        hits_remembered = 0;
    }

    void commit() {
        if (uncommitted == 0) return;
        db.commit();
        uncommitted = 0;
    }
    void count_change() {
        if (++uncommitted >= kCommitEvery) commit();
    }

    void count_words(std::string_view text, std::int64_t delta, Xapian::Document* document,
                     const char* prefix) {
        expansions.clear();
        forget_results();
        for (const std::string& word : search_words(text)) {
            const std::string& stem = stem_of(word);
            if (document != nullptr) document->add_term(prefix + stem);
            auto it = vocabulary.find(word);
            it->second.uses += delta;
            if (it->second.uses <= 0) vocabulary.erase(it);
        }
    }

    // stem → the best factor any expansion of `word` gave it.
    std::map<std::string, double> expand(const std::string& word, bool is_last);
    Xapian::Query word_query(const std::string& word, bool is_last, SearchFields fields);
};

std::map<std::string, double> SearchIndex::State::expand(const std::string& word, bool is_last) {
    std::map<std::string, double> stems;
    const auto offer = [&stems](const std::string& stem, double factor) {
        double& best = stems[stem];
        best = std::max(best, factor);
    };
    offer(stemmer(word), kExactFactor);
    if (is_last) {
        std::vector<const std::pair<const std::string, VocabularyWord>*> completions;
        for (auto it = vocabulary.lower_bound(word);
             it != vocabulary.end() && it->first.compare(0, word.size(), word) == 0; ++it) {
            completions.push_back(&*it);
        }
        const std::size_t kept = max_prefix_expansions(word.size());
        if (completions.size() > kept) {
            std::nth_element(completions.begin(), completions.begin() + static_cast<long>(kept),
                             completions.end(), [](const auto* a, const auto* b) {
                                 return a->second.uses > b->second.uses;
                             });
            completions.resize(kept);
        }
        for (const auto* completion : completions) offer(completion->second.stem, kPrefixFactor);
    }
    const int budget = has_letter(word) ? typo_budget(letter_count(word)) : 0;
    if (budget == 0) return stems;
    // The stem too, so a typo in a plural ("skilets") is one edit from the word ("skillet").
    const std::string stem = stemmer(word);
    const bool try_stem = stem != word && letter_count(stem) >= 4;
    // Vocabulary entry → its distance from the word or the stem, whichever is closer.
    std::map<const VocabularyEntry*, int> closest;
    const auto note = [&closest](const VocabularyEntry& entry, int distance) {
        auto [it, inserted] = closest.try_emplace(&entry, distance);
        if (!inserted) it->second = std::min(it->second, distance);
    };
    for_each_word_within(vocabulary, word, budget, note);
    if (try_stem) for_each_word_within(vocabulary, stem, budget, note);
    for (const auto& [entry, distance] : closest) {
        if (distance > 0) {
            offer(entry->second.stem, distance == 1 ? kOneTypoFactor : kTwoTyposFactor);
        }
    }
    return stems;
}

Xapian::Query SearchIndex::State::word_query(const std::string& word, bool is_last,
                                             SearchFields fields) {
    auto key = std::make_tuple(word, is_last, fields);
    if (auto it = expansions.find(key); it != expansions.end()) return it->second;
    if (expansions.size() >= kMaxCachedExpansions) expansions.clear();
    std::vector<Xapian::Query> alternatives;
    for (const auto& [stem, factor] : expand(word, is_last)) {
        alternatives.emplace_back(Xapian::Query::OP_SCALE_WEIGHT, Xapian::Query(kNamePrefix + stem),
                                  kNameFactor * factor);
        if (fields == SearchFields::kNameAndDescription) {
            alternatives.emplace_back(Xapian::Query::OP_SCALE_WEIGHT,
                                      Xapian::Query(kDescriptionPrefix + stem), factor);
        }
    }
    Xapian::Query query(Xapian::Query::OP_OR, alternatives.begin(), alternatives.end());
    expansions.emplace(std::move(key), query);
    return query;
}

SearchIndex::SearchIndex(SearchStorage storage)
    : storage_(storage), state_(std::make_unique<State>(storage)) {}
SearchIndex::~SearchIndex() = default;

std::uint64_t SearchIndex::clear() {
    std::lock_guard lock(mutex_);
    state_ = std::make_unique<State>(storage_);
    return ++generation_;
}

void SearchIndex::add(SearchDocId doc_id, std::string_view name, std::string_view description,
                      std::string_view tie_break) {
    std::lock_guard lock(mutex_);
    Xapian::Document document;
    document.add_value(kTieBreakSlot, std::string(tie_break));
    state_->count_words(name, 1, &document, kNamePrefix);
    state_->count_words(description, 1, &document, kDescriptionPrefix);
    state_->db.replace_document(doc_id, document);
    state_->count_change();
}

void SearchIndex::remove(SearchDocId doc_id, std::string_view name, std::string_view description) {
    std::lock_guard lock(mutex_);
    state_->count_words(name, -1, nullptr, kNamePrefix);
    state_->count_words(description, -1, nullptr, kDescriptionPrefix);
    try {
        state_->db.delete_document(doc_id);
    } catch (const Xapian::DocNotFoundError&) {
        // Never indexed (an add that failed): nothing to delete.
    }
    state_->count_change();
}

void SearchIndex::commit() {
    std::lock_guard lock(mutex_);
    state_->commit();
}

SearchResult SearchIndex::match(std::string_view text, SearchFields fields) const {
    return run(text, fields, 0);
}

SearchResult SearchIndex::best_matches(std::string_view text, SearchFields fields,
                                       std::size_t best) const {
    return best == 0 ? SearchResult{} : run(text, fields, best);
}

SearchResult SearchIndex::run(std::string_view text, SearchFields fields, std::size_t best) const {
    const std::vector<std::string> words = search_words(text);
    SearchResult result;
    std::vector<SearchHit>& hits = result.hits;
    std::lock_guard lock(mutex_);
    result.generation = generation_;
    if (words.empty()) return result;
    const Xapian::doccount documents = state_->db.get_doccount();
    if (documents == 0) return result;
    std::string key;
    for (const std::string& word : words) (key += word) += ' ';
    auto cache_key = std::make_tuple(std::move(key), fields, best);
    if (auto it = state_->results.find(cache_key); it != state_->results.end()) {
        hits = it->second;
        return result;
    }
    std::vector<Xapian::Query> all_words;
    all_words.reserve(words.size());
    for (std::size_t i = 0; i < words.size(); ++i) {
        all_words.push_back(state_->word_query(words[i], i + 1 == words.size(), fields));
    }
    Xapian::Enquire enquire(state_->db);
    enquire.set_query(Xapian::Query(Xapian::Query::OP_AND, all_words.begin(), all_words.end()));
    enquire.set_weighting_scheme(Xapian::BM25Weight());
    if (best > 0) enquire.set_sort_by_relevance_then_value(kTieBreakSlot, false);
    const Xapian::MSet mset =
        enquire.get_mset(0, best > 0 ? static_cast<Xapian::doccount>(best) : documents);
    hits.reserve(mset.size());
    for (auto it = mset.begin(); it != mset.end(); ++it) hits.push_back({*it, it.get_weight()});
    state_->remember(std::move(cache_key), hits);
    return result;
}

std::size_t SearchIndex::vocabulary_size() const {
    std::lock_guard lock(mutex_);
    return state_->vocabulary.size();
}

}  // namespace flaskcart::services
