#include "core/workload/workload.h"

#include "absl/strings/str_format.h"
#include "core/base/base64.h"
#include "core/base/json_writer.h"
#include "core/base/strings.h"

namespace lakehose {
namespace {

void S(std::string_view name, std::string_view value, std::string* out) {
  AppendJsonString(name, out);
  out->append(":{\"S\":");
  AppendJsonString(value, out);
  out->append("},");
}

void N(std::string_view name, std::string_view value, std::string* out) {
  AppendJsonString(name, out);
  StrAppend(out, ":{\"N\":\"", value, "\"},");
}

}  // namespace

std::optional<Workload> ParseWorkload(std::string_view name) {
  if (name == "transactions") return Workload::kTransactions;
  if (name == "sites") return Workload::kSites;
  if (name == "edge") return Workload::kEdge;
  return std::nullopt;
}

WorkloadGenerator::WorkloadGenerator(Workload workload, uint64_t seed, int64_t start_ms)
    : workload_(workload), state_(seed * 0x9E3779B97F4A7C15ull + 1), start_ms_(start_ms) {}

uint64_t WorkloadGenerator::Rand() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void WorkloadGenerator::Item(int64_t ts, std::string* out, bool old_image) {
  out->push_back('{');
  switch (workload_) {
    case Workload::kTransactions: {
      static const char* const kTypes[] = {"PURCHASE", "REFUND", "PAYMENT", "TRANSFER",
                                           "WITHDRAWAL"};
      static const char* const kCurrencies[] = {"USD", "EUR", "GBP", "INR"};
      static const char* const kCategories[] = {"RETAIL",        "DINING",     "TRAVEL",
                                                "ENTERTAINMENT", "HEALTHCARE", "UTILITIES"};
      static const char* const kMethods[] = {"CREDIT_CARD", "DEBIT_CARD", "DIGITAL_WALLET",
                                             "BANK_TRANSFER"};
      static const char* const kRegions[] = {"US_EAST", "US_WEST", "EU", "APAC"};
      static const char* const kLevels[] = {"LOW", "MEDIUM", "HIGH"};
      static const char* const kDevices[] = {"MOBILE", "WEB", "POS", "ATM"};
      static const char* const kAuth[] = {"2FA", "BIOMETRIC", "PIN", "PASSWORD"};
      static const char* const kVelocity[] = {"PASS", "FLAG", "REVIEW"};
      static const char* const kThreshold[] = {"NORMAL", "HIGH", "VERY_HIGH"};
      static const char* const kPattern[] = {"NORMAL", "SUSPICIOUS"};
      static const char* const kStatus[] = {"APPROVED", "DECLINED", "PENDING_REVIEW", "FLAGGED"};
      static const char* const kTags[] = {"vip", "new", "promo", "mobile", "recurring"};
      S("transaction_id", absl::StrFormat("TXN_%016x", Rand()), out);
      N("timestamp", StrCat(ts), out);
      S("customer_id", absl::StrFormat("CUST_%06d", 1 + Below(1000)), out);
      S("transaction_type", Pick(kTypes), out);
      N("amount", absl::StrFormat("%d.%02d", 10 + Below(990), Below(100)), out);
      S("currency", Pick(kCurrencies), out);
      S("merchant_category", Pick(kCategories), out);
      S("payment_method", Pick(kMethods), out);
      S("region", Pick(kRegions), out);
      S("risk_score", Pick(kLevels), out);
      S("device_type", Pick(kDevices), out);
      S("authentication_method", Pick(kAuth), out);
      S("merchant_id", absl::StrFormat("MERCH_%04d", 1 + Below(1000)), out);
      S("velocity_check", Pick(kVelocity), out);
      S("amount_threshold", Pick(kThreshold), out);
      S("location_risk", Pick(kLevels), out);
      S("pattern_match", Pick(kPattern), out);
      S("status", old_image ? "PENDING_REVIEW" : Pick(kStatus), out);
      N("processing_timestamp", StrCat(ts + 100 + static_cast<int64_t>(Below(900))), out);
      StrAppend(out, "\"is_international\":{\"BOOL\":", Below(10) == 0 ? "true" : "false", "},");
      const uint64_t a = Below(5), b = (a + 1 + Below(4)) % 5;
      StrAppend(out, "\"tags\":{\"SS\":[\"", kTags[std::min(a, b)], "\",\"", kTags[std::max(a, b)],
                "\"]},");
      if (Below(2) == 0)
        out->append("\"notes\":{\"NULL\":true}");
      else
        out->append("\"notes\":{\"S\":\"ok\"}");
      break;
    }
    case Workload::kSites: {
      static const char* const kNames[] = {"one", "two", "three"};
      N("valueOne", StrCat(Below(10001)), out);
      S("siteId", StrCat(1 + Below(20)), out);
      N("createdAtTime", StrCat(ts), out);
      N("valueTwo", StrCat(Below(10001)), out);
      S("id", StrCat(Rand() >> 24), out);
      S("name", StrCat("Name ", Pick(kNames)), out);
      out->pop_back();
      break;
    }
    case Workload::kEdge: {
      S("pk", absl::StrFormat("%016x%016x", Rand(), Rand()), out);
      N("createdAtTime", StrCat(ts), out);
      const uint64_t n = 1 + Below(8);
      for (uint64_t i = 0; i < n; ++i) {
        std::string name = StrCat("a", i, "_");
        EdgeString(&name);
        AppendJsonString(name, out);
        out->push_back(':');
        EdgeValue(0, out);
        out->push_back(',');
      }
      out->pop_back();
      break;
    }
  }
  out->push_back('}');
}

void WorkloadGenerator::EdgeString(std::string* out) {
  static const char* const kPieces[] = {"a",
                                        "Z",
                                        "0",
                                        " ",
                                        "\"",
                                        "\\",
                                        "/",
                                        "\n",
                                        "\t",
                                        "\xC3\xA9",
                                        "\xE4\xB8\xAD",
                                        "\xF0\x9F\x98\x80",
                                        "\x01",
                                        "\x1F",
                                        "\xE2\x80\xA8",
                                        "\xE2\x80\xA9",
                                        "\x7F",
                                        "</script>"};
  const uint64_t n = Below(13);
  for (uint64_t i = 0; i < n; ++i) out->append(Pick(kPieces));
}

void WorkloadGenerator::EdgeNumber(std::string* out) {
  switch (Below(8)) {
    case 0:
      StrAppend(out, static_cast<int64_t>(Below(2000001)) - 1000000);
      break;
    case 1: {  // 38 significant digits
      if (Below(2)) out->push_back('-');
      out->push_back(static_cast<char>('1' + Below(9)));
      for (int i = 0; i < 37; ++i) out->push_back(static_cast<char>('0' + Below(10)));
      break;
    }
    case 2:
      StrAppend(out, Below(1000000), ".", absl::StrFormat("%06d", 1 + Below(999999)));
      break;
    case 3:
      StrAppend(out, 1 + Below(9), "E+", 1 + Below(125));
      break;
    case 4:
      StrAppend(out, 1 + Below(9), "E-", 1 + Below(130));
      break;
    case 5: {  // 38 digits with a decimal point and exponent
      out->append("9.");
      for (int i = 0; i < 37; ++i) out->push_back('9');
      out->append("E+125");
      break;
    }
    case 6:
      StrAppend(out, "0.", std::string(1 + Below(20), '0'), 1 + Below(9));
      break;
    default:
      out->append("0");
  }
}

void WorkloadGenerator::EdgeValue(int depth, std::string* out) {
  const uint64_t kinds = depth < 4 ? 10 : 8;
  switch (Below(kinds)) {
    case 0:
      out->append("{\"S\":\"");
      {
        std::string s;
        EdgeString(&s);
        AppendJsonStringBody(s, out);
      }
      out->append("\"}");
      break;
    case 1:
      // Occasionally with explicit null siblings, as the aws-lambda-go samples have.
      out->append(Below(8) == 0 ? "{\"S\":null,\"N\":\"" : "{\"N\":\"");
      EdgeNumber(out);
      out->append("\"}");
      break;
    case 2: {
      std::string bytes;
      for (uint64_t i = 0, n = Below(17); i < n; ++i)
        bytes.push_back(static_cast<char>(Below(256)));
      StrAppend(out, "{\"B\":\"", Base64Encode(bytes), "\"}");
      break;
    }
    case 3:
      StrAppend(out, "{\"BOOL\":", Below(2) ? "true" : "false", "}");
      break;
    case 4:
      out->append("{\"NULL\":true}");
      break;
    case 5: {
      out->append("{\"SS\":[");
      for (uint64_t i = 0, n = Below(4); i < n; ++i) {
        if (i) out->push_back(',');
        std::string s;
        EdgeString(&s);
        StrAppend(&s, i);
        AppendJsonString(s, out);
      }
      out->append("]}");
      break;
    }
    case 6: {
      out->append("{\"NS\":[");
      for (uint64_t i = 0, n = 1 + Below(4); i < n; ++i) {
        if (i) out->push_back(',');
        out->push_back('"');
        EdgeNumber(out);
        out->push_back('"');
      }
      out->append("]}");
      break;
    }
    case 7: {
      out->append("{\"BS\":[");
      for (uint64_t i = 0, n = 1 + Below(3); i < n; ++i) {
        if (i) out->push_back(',');
        std::string bytes;
        for (uint64_t j = 0, m = 1 + Below(8); j < m; ++j)
          bytes.push_back(static_cast<char>(Below(256)));
        StrAppend(out, "\"", Base64Encode(bytes), "\"");
      }
      out->append("]}");
      break;
    }
    case 8: {
      out->append("{\"M\":{");
      for (uint64_t i = 0, n = Below(5); i < n; ++i) {
        if (i) out->push_back(',');
        std::string key;
        EdgeString(&key);
        StrAppend(&key, "k", i);
        AppendJsonString(key, out);
        out->push_back(':');
        EdgeValue(depth + 1, out);
      }
      out->append("}}");
      break;
    }
    default: {
      out->append("{\"L\":[");
      for (uint64_t i = 0, n = Below(5); i < n; ++i) {
        if (i) out->push_back(',');
        EdgeValue(depth + 1, out);
      }
      out->append("]}");
    }
  }
}

void WorkloadGenerator::Next(std::string* out) {
  const int64_t ts = start_ms_ + static_cast<int64_t>(Below(6ull * 3600 * 1000));
  const uint64_t r = Below(100);
  const char* name = r < 5 ? "REMOVE" : r < 25 ? "MODIFY" : "INSERT";
  const char* key_attr = workload_ == Workload::kTransactions ? "transaction_id"
                         : workload_ == Workload::kSites      ? "id"
                                                              : "pk";
  std::string item;
  Item(ts, &item, false);
  // Keys: the key attribute and its typed value ("pk":{"S":"..."}), cut from the item.
  const std::string key_name = StrCat("\"", key_attr, "\":");
  const size_t k = item.find(key_name);
  const size_t v_end = item.find('}', k + key_name.size()) + 1;
  const std::string key_attr_value = item.substr(k, v_end - k);
  const std::string keys = StrCat("{", key_attr_value, "}");
  StrAppend(
      out, "{\"eventID\":\"", absl::StrFormat("%016x%016x", Rand(), Rand()), "\",\"eventName\":\"",
      name,
      "\",\"eventVersion\":\"1.1\",\"eventSource\":\"aws:dynamodb\",\"awsRegion\":\"us-east-1\","
      "\"dynamodb\":{\"ApproximateCreationDateTime\":",
      ts / 1000, ",\"Keys\":", keys);
  if (name[0] != 'R') StrAppend(out, ",\"NewImage\":", item);
  // One REMOVE in five comes from a KEYS_ONLY stream: no old image, only the keys.
  const bool keys_only = name[0] == 'R' && Below(5) == 0;
  if (name[0] != 'I' && !keys_only) {
    std::string old;
    Item(ts - 1000, &old, true);
    // The old image keeps the item's key.
    const size_t ok = old.find(key_name);
    const size_t ov_end = old.find('}', ok + key_name.size()) + 1;
    old.replace(ok, ov_end - ok, key_attr_value);
    StrAppend(out, ",\"OldImage\":", old);
  }
  StrAppend(out, ",\"SequenceNumber\":\"1", absl::StrFormat("%020d", ++sequence_),
            "\",\"SizeBytes\":", item.size(), ",\"StreamViewType\":\"",
            keys_only ? "KEYS_ONLY" : "NEW_AND_OLD_IMAGES",
            "\"},"
            "\"eventSourceARN\":\"arn:aws:dynamodb:us-east-1:123456789012:table/",
            workload_ == Workload::kTransactions ? "Transactions"
            : workload_ == Workload::kSites      ? "Sites"
                                                 : "Edge",
            "/stream/2023-11-15T00:00:00.000\"}");
}

}  // namespace lakehose
