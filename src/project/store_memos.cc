// Store: memos.
#include "common/hash.h"
#include "project/input.h"
#include "project/sqlite.h"
#include "project/store.h"

namespace cqda::project {
namespace {

std::optional<std::string> link(const std::string& value) {
  return value.empty() ? std::nullopt : std::optional<std::string>(value);
}

// Columns: id, title, text, author, document_id, segment_id, code_id, created_at
Memo read_memo(const sqlite::Query& q) {
  return {q.int64(0), q.text(1), q.text(2), q.text(3), q.text(4), q.text(5), q.text(6), q.text(7)};
}

}  // namespace

Result<Memo> Store::add_memo(const NewMemo& in) {
  if (Status ok = writable(); !ok) return ok.error();
  for (Status ok : {check_field("memo text", in.text, kMaxMemoBytes, true, FieldKind::kText),
                    check_field("memo title", in.title, kMaxNameBytes, false),
                    check_field("memo author", in.author, kMaxNameBytes, true),
                    check_field("memo document_id", in.document_id, kMaxIdBytes, false),
                    check_field("memo segment_id", in.segment_id, kMaxIdBytes, false),
                    check_field("memo code_id", in.code_id, kMaxIdBytes, false)})
    if (!ok) return make_error("add memo: " + ok.error().message);
  if (!in.code_id.empty() && codebook_.find(in.code_id) == nullptr)
    return make_error("add memo: unknown code " + quote_text(in.code_id));

  Memo memo{0, in.title, in.text, in.author, in.document_id, in.segment_id, in.code_id, utc_now()};
  Result<sqlite::Transaction> transaction = sqlite::Transaction::begin(*db_);
  if (!transaction) return transaction.error();
  Result<sqlite::Query> insert = db_->query(
      "INSERT INTO memos (title, text, author, document_id, segment_id, code_id, created_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  if (!insert) return insert.error();
  insert->bind_all(memo.title, memo.text, memo.author, link(memo.document_id),
                   link(memo.segment_id), link(memo.code_id), memo.created_at);
  if (Status ok = insert->run(); !ok) return make_error("add memo: " + ok.error().message);
  memo.id = db_->last_insert_rowid();
  if (Status ok = transaction->commit(); !ok) return make_error("add memo: " + ok.error().message);
  last_change_ = {
      {"kind", "memo.add"}, {"id", memo.id}, {"sha256", sha256_hex(to_json(memo).dump())}};
  return memo;
}

Result<MemoPage> Store::list_memos(const MemoFilter& f) const {
  if (Status ok = check_page("list memos", f.limit); !ok) return ok.error();
  MemoPage page;
  Result<sqlite::Query> count = db_->query(
      "SELECT count(*) FROM memos WHERE (?1 IS NULL OR document_id = ?1) AND "
      "(?2 IS NULL OR segment_id = ?2) AND (?3 IS NULL OR code_id = ?3) AND "
      "(?4 IS NULL OR author = ?4)");
  if (!count) return count.error();
  count->bind_all(f.document_id, f.segment_id, f.code_id, f.author);
  if (Result<bool> row = count->step(); !row) return row.error();
  page.total = count->int64(0);

  Result<sqlite::Query> q = db_->query(
      "SELECT id, title, text, author, document_id, segment_id, code_id, created_at FROM memos "
      "WHERE (?1 IS NULL OR document_id = ?1) AND (?2 IS NULL OR segment_id = ?2) AND "
      "(?3 IS NULL OR code_id = ?3) AND (?4 IS NULL OR author = ?4) "
      "ORDER BY id LIMIT ?5 OFFSET ?6");
  if (!q) return q.error();
  q->bind_all(f.document_id, f.segment_id, f.code_id, f.author, f.limit, as_offset(f.offset));
  for (;;) {
    Result<bool> row = q->step();
    if (!row) return row.error();
    if (!*row) break;
    page.memos.push_back(read_memo(*q));
  }
  return page;
}

Json to_json(const Memo& memo) {
  Json out = {{"id", memo.id}, {"title", memo.title}, {"text", memo.text}, {"author", memo.author}};
  if (!memo.document_id.empty()) out["document_id"] = memo.document_id;
  if (!memo.segment_id.empty()) out["segment_id"] = memo.segment_id;
  if (!memo.code_id.empty()) out["code_id"] = memo.code_id;
  out["created_at"] = memo.created_at;
  return out;
}

}  // namespace cqda::project
