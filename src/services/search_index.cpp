#include "services/search_index.hpp"

#include <xapian.h>

#include <algorithm>
#include <array>
#include <map>

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
// A completion of one or two letters could name most of the vocabulary: keep the most used.
constexpr std::size_t kMaxPrefixExpansions = 64;
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

int typo_budget(std::size_t letters) {
    if (letters >= 8) return 2;
    if (letters >= 4) return 1;
    return 0;
}

struct SearchIndex::State {
    Xapian::WritableDatabase db{std::string(), Xapian::DB_BACKEND_INMEMORY};
    Xapian::Stem stemmer{"english"};
    std::map<std::string, VocabularyWord, std::less<>> vocabulary;

    const std::string& stem_of(const std::string& word) {
        auto it = vocabulary.find(word);
        if (it == vocabulary.end()) {
            it = vocabulary.emplace(word, VocabularyWord{stemmer(word), 0}).first;
        }
        return it->second.stem;
    }

    void count_words(std::string_view text, std::int64_t delta, Xapian::Document* document,
                     const char* prefix) {
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
        if (completions.size() > kMaxPrefixExpansions) {
            std::nth_element(
                completions.begin(), completions.begin() + static_cast<long>(kMaxPrefixExpansions),
                completions.end(),
                [](const auto* a, const auto* b) { return a->second.uses > b->second.uses; });
            completions.resize(kMaxPrefixExpansions);
        }
        for (const auto* completion : completions) offer(completion->second.stem, kPrefixFactor);
    }
    const int budget = has_letter(word) ? typo_budget(letter_count(word)) : 0;
    if (budget == 0) return stems;
    // The stem too, so a typo in a plural ("skilets") is one edit from the word ("skillet").
    const std::string stem = stemmer(word);
    const bool try_stem = stem != word && letter_count(stem) >= 4;
    for (const auto& [candidate, entry] : vocabulary) {
        int distance = bounded_edit_distance(word, candidate, budget);
        if (try_stem) distance = std::min(distance, bounded_edit_distance(stem, candidate, budget));
        if (distance > 0 && distance <= budget) {
            offer(entry.stem, distance == 1 ? kOneTypoFactor : kTwoTyposFactor);
        }
    }
    return stems;
}

Xapian::Query SearchIndex::State::word_query(const std::string& word, bool is_last,
                                             SearchFields fields) {
    std::vector<Xapian::Query> alternatives;
    for (const auto& [stem, factor] : expand(word, is_last)) {
        alternatives.emplace_back(Xapian::Query::OP_SCALE_WEIGHT, Xapian::Query(kNamePrefix + stem),
                                  kNameFactor * factor);
        if (fields == SearchFields::kNameAndDescription) {
            alternatives.emplace_back(Xapian::Query::OP_SCALE_WEIGHT,
                                      Xapian::Query(kDescriptionPrefix + stem), factor);
        }
    }
    return {Xapian::Query::OP_OR, alternatives.begin(), alternatives.end()};
}

SearchIndex::SearchIndex() : state_(std::make_unique<State>()) {}
SearchIndex::~SearchIndex() = default;

std::uint64_t SearchIndex::clear() {
    std::lock_guard lock(mutex_);
    state_ = std::make_unique<State>();
    return ++generation_;
}

void SearchIndex::add(SearchDocId doc_id, std::string_view name, std::string_view description) {
    std::lock_guard lock(mutex_);
    Xapian::Document document;
    state_->count_words(name, 1, &document, kNamePrefix);
    state_->count_words(description, 1, &document, kDescriptionPrefix);
    state_->db.replace_document(doc_id, document);
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
}

SearchResult SearchIndex::match(std::string_view text, SearchFields fields) const {
    const std::vector<std::string> words = search_words(text);
    SearchResult result;
    std::vector<SearchHit>& hits = result.hits;
    std::lock_guard lock(mutex_);
    result.generation = generation_;
    if (words.empty()) return result;
    const Xapian::doccount documents = state_->db.get_doccount();
    if (documents == 0) return result;
    std::vector<Xapian::Query> all_words;
    all_words.reserve(words.size());
    for (std::size_t i = 0; i < words.size(); ++i) {
        all_words.push_back(state_->word_query(words[i], i + 1 == words.size(), fields));
    }
    Xapian::Enquire enquire(state_->db);
    enquire.set_query(Xapian::Query(Xapian::Query::OP_AND, all_words.begin(), all_words.end()));
    enquire.set_weighting_scheme(Xapian::BM25Weight());
    const Xapian::MSet mset = enquire.get_mset(0, documents);
    hits.reserve(mset.size());
    for (auto it = mset.begin(); it != mset.end(); ++it) hits.push_back({*it, it.get_weight()});
    return result;
}

std::size_t SearchIndex::vocabulary_size() const {
    std::lock_guard lock(mutex_);
    return state_->vocabulary.size();
}

}  // namespace flaskcart::services
