#pragma once
// Collections `change_counter` and `changes`: how instances tell each other what they wrote, on
// any MongoDB-compatible server (no change streams needed; FerretDB has none).
//   change_counter: {_id: "changes", seq: int64} — the number of the last published batch;
//                   readers poll it by _id, which is cheap on every server.
//   changes:        {_id: seq, at: date, origin, items: [{k, id, x?}]} — one batch per seq.
// A writer takes the next seq with findAndModify $inc and inserts its batch under it; should two
// writers get the same seq (FerretDB's updates are not atomic), the unique _id refuses the
// second insert and it takes another.

#include <cstdint>
#include <string>
#include <vector>

namespace flaskcart::db {
class Db;
}

namespace flaskcart::models {

struct ChangeItem {
    // 'p' product, 'c' category, 'u' user, 't' revoked token (expires_at_ms set),
    // 'a' the whole catalog.
    char kind = 'p';
    std::string id;
    std::int64_t expires_at_ms = 0;
};

struct ChangeBatch {
    std::int64_t seq = 0;
    std::int64_t at_ms = 0;
    std::string origin;  // the publishing process
    std::vector<ChangeItem> items;
};

// Thread-safe; throws db::DbError when the database fails.
class ChangeLogStore {
  public:
    explicit ChangeLogStore(db::Db& db) : db_(db) {}
    static void ensure_indexes(db::Db& db);

    // The last published seq (0 before the first publication).
    std::int64_t last_seq();
    // Publishes `items` as one batch; returns its seq.
    std::int64_t publish(const std::string& origin, const std::vector<ChangeItem>& items);
    // Batches with after < seq ≤ up_to, by seq; seqs may be missing (being written, or purged).
    std::vector<ChangeBatch> read(std::int64_t after, std::int64_t up_to);
    // Deletes batches published before `before_ms`; returns how many.
    std::int64_t purge_older_than(std::int64_t before_ms);

  private:
    db::Db& db_;
};

}  // namespace flaskcart::models
