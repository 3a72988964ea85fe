#pragma once
// The writer lease of a database whose conditional updates are not atomic (FerretDB): a chain
// of tiny documents in `writer_lease`, one per term, each created by insert and never changed.
// The unique _id ("writer/<term>") is the arbiter: of all instances inserting term n + 1, exactly
// one succeeds, on FerretDB too. Renewals, take-overs and releases are all such inserts; no
// update or conditional delete takes part in deciding who holds the lease.

#include <cstdint>
#include <optional>
#include <string>

namespace flaskcart::db {
class Db;
class BsonView;
}  // namespace flaskcart::db

namespace flaskcart::models {

// One term of the lease: who held it from that insert on, or that its holder let go.
struct LeaseTerm {
    std::int64_t term = 0;
    std::string holder_id;  // random per process, so a restarted process is a new holder
    std::string host;
    std::int64_t pid = 0;
    std::int64_t started_at_ms = 0;  // when the holding process started (wall clock, for people)
    bool released = false;           // the holder shut down cleanly: take over at once
};

enum class LeaseInsertResult { kInserted, kTermTaken };

// Data access for the lease chain. Abstract so the lease logic is unit-tested with a fake.
class LeaseStorage {
  public:
    virtual ~LeaseStorage() = default;
    // The highest term, or std::nullopt when the chain is empty. Throws db::DbError.
    virtual std::optional<LeaseTerm> latest() = 0;
    virtual std::optional<LeaseTerm> find(std::int64_t term) = 0;
    // Inserts `term`; kTermTaken when a document of that term already exists. Throws
    // db::DbError on any other failure (then the insert may or may not have happened).
    virtual LeaseInsertResult insert(const LeaseTerm& term) = 0;
    // Deletes the terms below `term` (they decide nothing any more; _ids are never reused).
    virtual void prune_below(std::int64_t term) = 0;
};

class LeaseStore final : public LeaseStorage {
  public:
    explicit LeaseStore(db::Db& db) : db_(db) {}
    std::optional<LeaseTerm> latest() override;
    std::optional<LeaseTerm> find(std::int64_t term) override;
    LeaseInsertResult insert(const LeaseTerm& lease) override;
    void prune_below(std::int64_t term) override;

  private:
    db::Db& db_;
};

// Whether the server makes a conditional single-document update atomic, from its own buildInfo
// reply: FerretDB reports itself there (`ferretdbVersion`, `ferretdbFeatures`); MongoDB does not.
enum class ServerKind { kAtomicUpdates, kFerretDb };
ServerKind classify_build_info(const db::BsonView& build_info);
// Asks the server (buildInfo on admin). Throws db::DbError when it cannot be reached.
ServerKind detect_server_kind(db::Db& db);

}  // namespace flaskcart::models
