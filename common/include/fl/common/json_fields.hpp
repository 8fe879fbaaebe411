// Typed fields read out of a parsed JSON object (nlohmann::json), for the JSON
// documents common parses (job terms, cosigned checkpoints, receipts, example
// proofs). Every error names the document (the prefix given at construction)
// and the field, e.g. `receipt "round" is not a non-negative integer`.
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fl/common/crypto.hpp"
#include "fl/common/result.hpp"

namespace fl::common {

class JsonFields {
 public:
  using json = nlohmann::json;

  // `prefix` starts every error message ("receipt ", "job terms: ",
  // "proof.json: ").
  explicit JsonFields(std::string prefix) : prefix_(std::move(prefix)) {}

  Error bad(const std::string &what) const {
    return make_error(ErrorCode::kInvalidArgument, prefix_ + what);
  }
  Result<const json *> field(const json &j, const char *name) const {
    const auto it = j.find(name);
    if (it == j.end()) return bad(std::string("has no \"") + name + "\"");
    return &*it;
  }
  Result<std::string> text(const json &j, const char *name) const {
    FL_ASSIGN_OR_RETURN(const json *v, field(j, name));
    if (!v->is_string()) return bad(quoted(name) + " is not a string");
    return v->get<std::string>();
  }
  Result<std::uint64_t> u64(const json &j, const char *name) const {
    FL_ASSIGN_OR_RETURN(const json *v, field(j, name));
    if (!v->is_number_unsigned()) return bad(quoted(name) + " is not a non-negative integer");
    return v->get<std::uint64_t>();
  }
  Result<double> number(const json &j, const char *name) const {
    FL_ASSIGN_OR_RETURN(const json *v, field(j, name));
    if (!v->is_number()) return bad(quoted(name) + " is not a number");
    return v->get<double>();
  }
  Result<bool> boolean(const json &j, const char *name) const {
    FL_ASSIGN_OR_RETURN(const json *v, field(j, name));
    if (!v->is_boolean()) return bad(quoted(name) + " is not true or false");
    return v->get<bool>();
  }
  // `v` itself as N bytes in hex; `what` names it in the error.
  template <std::size_t N>
  Result<std::array<std::uint8_t, N>> hex_value(const json &v, const std::string &what) const {
    if (!v.is_string()) return bad(what + " is not a hex string");
    auto a = fixed_from_hex<N>(v.get<std::string>(), what);
    if (!a.ok()) return bad(what + " is not " + std::to_string(2 * N) + " hex digits");
    return a;
  }
  template <std::size_t N>
  Result<std::array<std::uint8_t, N>> hex(const json &j, const char *name) const {
    FL_ASSIGN_OR_RETURN(const json *v, field(j, name));
    return hex_value<N>(*v, quoted(name));
  }
  Result<Digest> digest(const json &j, const char *name) const { return hex<32>(j, name); }
  // The field as a list, each item read by `item(value, "name[i]")`.
  template <typename T, typename ReadItem>
  Result<std::vector<T>> list(const json &j, const char *name, ReadItem item) const {
    FL_ASSIGN_OR_RETURN(const json *v, field(j, name));
    if (!v->is_array()) return bad(quoted(name) + " is not a list");
    std::vector<T> out;
    for (std::size_t i = 0; i < v->size(); ++i) {
      FL_ASSIGN_OR_RETURN(T one, item((*v)[i], std::string(name) + "[" + std::to_string(i) + "]"));
      out.push_back(std::move(one));
    }
    return out;
  }

 private:
  static std::string quoted(const char *name) { return std::string("\"") + name + "\""; }
  std::string prefix_;
};

}  // namespace fl::common
