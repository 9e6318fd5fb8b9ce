// Store: codings (add, remove, list), moving codings between codes, and code frequencies.
#include <algorithm>
#include <map>

#include "common/hash.h"
#include "project/codebook_change.h"
#include "project/input.h"
#include "project/sqlite.h"
#include "project/store.h"

namespace cqda::project {
namespace {

constexpr const char* kRemovedByCoder = "removed by a coder";

// A NewCoding checked against the input bounds and the codebook, with its span resolved.
struct CheckedCoding {
  const NewCoding* input;
  Selection selection;
  std::vector<std::string> code_ids;  // without repeats, in the order given
};

Result<CheckedCoding> check_coding(const NewCoding& in, const codebook::Codebook& book) {
  for (Status ok :
       {check_field("document_id", in.document_id, kMaxIdBytes, true),
        check_field("segment_id", in.segment_id, kMaxIdBytes, true),
        check_field("segment_text", in.segment_text, kMaxSegmentBytes, true, FieldKind::kVerbatim),
        check_field("quote", in.quote, kMaxSegmentBytes, false, FieldKind::kVerbatim),
        check_field("coder", in.coder, kMaxNameBytes, true),
        check_field("memo", in.memo, kMaxMemoBytes, false, FieldKind::kText)})
    if (!ok) return ok.error();
  if (in.code_ids.empty()) return make_error("a coding needs at least one code");
  if (in.code_ids.size() > kMaxCodesPerCoding)
    return make_error("at most " + std::to_string(kMaxCodesPerCoding) + " codes per coding");
  CheckedCoding out{&in, {}, {}};
  for (const std::string& id : in.code_ids) {
    const codebook::Code* code = book.find(id);
    if (code == nullptr)
      return make_error("unknown code " + quote_text(id) + " (not in codebook version " +
                        std::to_string(book.version) + ")");
    if (code->retired)
      return make_error("code \"" + id + "\" is retired; new codings with it are refused");
    if (std::find(out.code_ids.begin(), out.code_ids.end(), id) == out.code_ids.end())
      out.code_ids.push_back(id);
  }
  Result<Selection> selection = locate_selection(in.segment_text, in.segment_id, in.quote, in.span);
  if (!selection) return selection.error();
  out.selection = std::move(selection).value();
  return out;
}

// Columns of every SELECT that reads a Coding, in read_coding's order:
// id, document_id, segment_id, segment_start, span_start, span_end, quote, segment_sha256,
// code_id, codebook_version, coder, memo, created_at, removed_at, removed_by, removed_reason
Coding read_coding(const sqlite::Query& q) {
  Coding c;
  c.id = q.int64(0);
  c.document_id = q.text(1);
  c.segment_id = q.text(2);
  c.segment_start = static_cast<std::size_t>(q.int64(3));
  c.span = {static_cast<std::size_t>(q.int64(4)), static_cast<std::size_t>(q.int64(5))};
  c.quote = q.text(6);
  c.segment_sha256 = q.text(7);
  c.code_id = q.text(8);
  c.codebook_version = static_cast<int>(q.int64(9));
  c.coder = q.text(10);
  c.memo = q.text(11);
  c.created_at = q.text(12);
  c.removed_at = q.text(13);
  c.removed_by = q.text(14);
  c.removed_reason = q.text(15);
  return c;
}

// The SHA-256 of a coding's content as it was added: removal fields are not content.
std::string content_sha256(Coding coding) {
  coding.removed_at.clear();
  coding.removed_by.clear();
  coding.removed_reason.clear();
  return sha256_hex(to_json(coding).dump());
}

}  // namespace

Result<std::vector<Coding>> Store::add_coding(const NewCoding& coding) {
  return add_codings({coding});
}

Result<std::vector<Coding>> Store::add_codings(const std::vector<NewCoding>& codings) {
  if (Status ok = writable(); !ok) return ok.error();
  if (codings.empty()) return make_error("add codings: nothing to add");
  if (codings.size() > kMaxBatch)
    return make_error("add codings: at most " + std::to_string(kMaxBatch) + " per call");
  std::vector<CheckedCoding> checked;
  for (std::size_t i = 0; i < codings.size(); ++i) {
    Result<CheckedCoding> one = check_coding(codings[i], codebook_);
    if (!one)
      return make_error("add coding" +
                        (codings.size() > 1 ? " " + std::to_string(i + 1) : std::string()) + ": " +
                        one.error().message);
    checked.push_back(std::move(one).value());
  }
  const std::string now = utc_now();
  Result<sqlite::Transaction> transaction = sqlite::Transaction::begin(*db_);
  if (!transaction) return transaction.error();
  std::vector<Coding> out;
  Json record = {{"kind", "codings.add"}, {"codings", Json::array()}};
  for (const CheckedCoding& c : checked) {
    for (const std::string& code_id : c.code_ids) {
      bool created = false;
      Result<Coding> row =
          insert_coding(*c.input, code_id, c.selection.span, c.selection.quote, now, created);
      if (!row) return make_error("add coding: " + row.error().message);
      record["codings"].push_back({{"id", row->id},
                                   {"code_id", code_id},
                                   {"created", created},
                                   {"sha256", content_sha256(*row)}});
      out.push_back(std::move(row).value());
    }
  }
  if (Status ok = transaction->commit(); !ok)
    return make_error("add coding: " + ok.error().message);
  last_change_ = std::move(record);
  return out;
}

Result<Coding> Store::insert_coding(const NewCoding& in, const std::string& code_id,
                                    const Span& span, const std::string& quote,
                                    const std::string& now, bool& created) {
  Result<sqlite::Query> existing = db_->query(
      "SELECT id FROM codings WHERE removed_at IS NULL AND segment_id = ?1 AND span_start = ?2 "
      "AND span_end = ?3 AND code_id = ?4 AND coder = ?5 AND document_id = ?6");
  if (!existing) return existing.error();
  existing->bind_all(in.segment_id, span.start, span.end, code_id, in.coder, in.document_id);
  Result<bool> found = existing->step();
  if (!found) return found.error();
  if (*found) {
    created = false;
    return get_coding(existing->int64(0));
  }
  Coding c;
  c.document_id = in.document_id;
  c.segment_id = in.segment_id;
  c.segment_start = in.segment_start;
  c.span = span;
  c.quote = quote;
  c.segment_sha256 = sha256_hex(in.segment_text);
  c.code_id = code_id;
  c.codebook_version = codebook_.version;
  c.coder = in.coder;
  c.memo = in.memo;
  c.created_at = now;
  Result<sqlite::Query> insert = db_->query(
      "INSERT INTO codings (document_id, segment_id, segment_start, span_start, span_end, quote, "
      "segment_sha256, code_id, codebook_version, coder, memo, created_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
  if (!insert) return insert.error();
  insert->bind_all(c.document_id, c.segment_id, c.segment_start, c.span.start, c.span.end, c.quote,
                   c.segment_sha256, c.code_id, c.codebook_version, c.coder, c.memo, c.created_at);
  if (Status ok = insert->run(); !ok) return ok.error();
  c.id = db_->last_insert_rowid();
  created = true;
  return c;
}

Status Store::remove_coding(std::int64_t id, const std::string& by) {
  if (Status ok = writable(); !ok) return ok;
  if (Status ok = check_field("remove coding: by", by, kMaxNameBytes, true); !ok) return ok;
  Result<sqlite::Transaction> transaction = sqlite::Transaction::begin(*db_);
  if (!transaction) return transaction.error();
  Result<Coding> coding = get_coding(id);
  if (!coding) return make_error("remove coding: " + coding.error().message);
  if (coding->removed())
    return make_error("remove coding: coding " + std::to_string(id) + " was already removed by " +
                      coding->removed_by + " at " + coding->removed_at);
  Result<sqlite::Query> update = db_->query(
      "UPDATE codings SET removed_at = ?2, removed_by = ?3, removed_reason = ?4 "
      "WHERE id = ?1 AND removed_at IS NULL");
  if (!update) return update.error();
  update->bind_all(id, utc_now(), by, kRemovedByCoder);
  if (Status ok = update->run(); !ok) return ok;
  if (Status ok = transaction->commit(); !ok)
    return make_error("remove coding: " + ok.error().message);
  last_change_ = {{"kind", "coding.remove"},
                  {"id", id},
                  {"by", by},
                  {"code_id", coding->code_id},
                  {"sha256", content_sha256(*coding)}};
  return {};
}

Result<Coding> Store::get_coding(std::int64_t id) const {
  Result<sqlite::Query> q = db_->query(
      "SELECT id, document_id, segment_id, segment_start, span_start, span_end, quote, "
      "segment_sha256, code_id, codebook_version, coder, memo, created_at, removed_at, "
      "removed_by, removed_reason FROM codings WHERE id = ?1");
  if (!q) return q.error();
  q->bind(1, id);
  Result<bool> row = q->step();
  if (!row) return row.error();
  if (!*row) return make_error("coding " + std::to_string(id) + " does not exist");
  return read_coding(*q);
}

Result<CodingPage> Store::list_codings(const CodingFilter& f) const {
  if (Status ok = check_page("list codings", f.limit); !ok) return ok.error();
  CodingPage page;
  Result<sqlite::Query> count = db_->query(
      "SELECT count(*) FROM codings WHERE (?1 IS NULL OR code_id = ?1) AND "
      "(?2 IS NULL OR document_id = ?2) AND (?3 IS NULL OR segment_id = ?3) AND "
      "(?4 IS NULL OR coder = ?4) AND (?5 OR removed_at IS NULL)");
  if (!count) return count.error();
  count->bind_all(f.code_id, f.document_id, f.segment_id, f.coder, f.include_removed ? 1 : 0);
  if (Result<bool> row = count->step(); !row) return row.error();
  page.total = count->int64(0);

  Result<sqlite::Query> q = db_->query(
      "SELECT id, document_id, segment_id, segment_start, span_start, span_end, quote, "
      "segment_sha256, code_id, codebook_version, coder, memo, created_at, removed_at, "
      "removed_by, removed_reason FROM codings WHERE (?1 IS NULL OR code_id = ?1) AND "
      "(?2 IS NULL OR document_id = ?2) AND (?3 IS NULL OR segment_id = ?3) AND "
      "(?4 IS NULL OR coder = ?4) AND (?5 OR removed_at IS NULL) ORDER BY id LIMIT ?6 OFFSET ?7");
  if (!q) return q.error();
  q->bind_all(f.code_id, f.document_id, f.segment_id, f.coder, f.include_removed ? 1 : 0, f.limit,
              as_offset(f.offset));
  for (;;) {
    Result<bool> row = q->step();
    if (!row) return row.error();
    if (!*row) break;
    page.codings.push_back(read_coding(*q));
  }
  return page;
}

Result<std::int64_t> Store::move_codings(const std::string& from, const std::string& to,
                                         CodingMove how, const std::string& author,
                                         const std::string& now, std::int64_t& collapsed) {
  if (how == CodingMove::kRename) {  // `to` is a new id, so no row can collide
    Result<sqlite::Query> move = db_->query("UPDATE codings SET code_id = ?2 WHERE code_id = ?1");
    if (!move) return move.error();
    move->bind_all(from, to);
    if (Status ok = move->run(); !ok) return ok.error();
    return db_->changes();
  }
  // A merge: a live coding that would duplicate a live coding of `to` (same document, segment,
  // span and coder) is removed first, with the reason; the rest move.
  Result<sqlite::Query> collapse = db_->query(
      "UPDATE codings SET removed_at = ?3, removed_by = ?4, removed_reason = ?5 "
      "WHERE removed_at IS NULL AND code_id = ?1 AND EXISTS (SELECT 1 FROM codings AS kept "
      "WHERE kept.removed_at IS NULL AND kept.code_id = ?2 AND kept.segment_id = "
      "codings.segment_id "
      "AND kept.span_start = codings.span_start AND kept.span_end = codings.span_end "
      "AND kept.coder = codings.coder AND kept.document_id = codings.document_id)");
  if (!collapse) return collapse.error();
  collapse->bind_all(from, to, now, author, "duplicate after merging " + from + " into " + to);
  if (Status ok = collapse->run(); !ok) return ok.error();
  collapsed += db_->changes();
  Result<sqlite::Query> move =
      db_->query("UPDATE codings SET code_id = ?2 WHERE code_id = ?1 AND removed_at IS NULL");
  if (!move) return move.error();
  move->bind_all(from, to);
  if (Status ok = move->run(); !ok) return ok.error();
  return db_->changes();
}

Result<std::vector<CodeFrequency>> Store::code_frequencies(
    const std::optional<std::string>& coder) const {
  Result<sqlite::Query> q = db_->query(
      "SELECT code_id, count(*), count(DISTINCT document_id), count(DISTINCT segment_id) "
      "FROM codings WHERE removed_at IS NULL AND (?1 IS NULL OR coder = ?1) GROUP BY code_id");
  if (!q) return q.error();
  q->bind(1, coder);
  std::map<std::string, CodeFrequency> counted;
  for (;;) {
    Result<bool> row = q->step();
    if (!row) return row.error();
    if (!*row) break;
    counted[q->text(0)] = {q->text(0), "", "", false, q->int64(1), q->int64(2), q->int64(3)};
  }
  std::vector<CodeFrequency> out;
  for (const codebook::Code& code : codebook_.codes) {
    CodeFrequency f = counted.count(code.id) ? counted[code.id] : CodeFrequency{code.id};
    f.name = code.name;
    f.path = codebook_.path_of(code);
    f.retired = code.retired;
    out.push_back(std::move(f));
  }
  return out;
}

Json to_json(const Coding& c) {
  Json out = {{"id", c.id},
              {"document_id", c.document_id},
              {"segment_id", c.segment_id},
              {"segment_start", c.segment_start},
              {"start", c.span.start},
              {"end", c.span.end},
              {"quote", c.quote},
              {"segment_sha256", c.segment_sha256},
              {"code_id", c.code_id},
              {"codebook_version", c.codebook_version},
              {"coder", c.coder},
              {"memo", c.memo},
              {"created_at", c.created_at}};
  if (c.removed()) {
    out["removed_at"] = c.removed_at;
    out["removed_by"] = c.removed_by;
    out["removed_reason"] = c.removed_reason;
  }
  return out;
}

Json to_json(const CodeFrequency& f) {
  return {{"code_id", f.code_id},  {"name", f.name},       {"path", f.path},
          {"retired", f.retired},  {"codings", f.codings}, {"documents", f.documents},
          {"segments", f.segments}};
}

}  // namespace cqda::project
