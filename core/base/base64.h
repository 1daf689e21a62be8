// Standard base64 (RFC 4648 section 4, with padding), as DynamoDB and Firehose use it.
#ifndef LAKEHOSE_CORE_BASE_BASE64_H_
#define LAKEHOSE_CORE_BASE_BASE64_H_

#include <optional>
#include <string>
#include <string_view>

namespace lakehose {

void Base64Encode(std::string_view in, std::string* out);
std::string Base64Encode(std::string_view in);
// Decodes padded standard base64; nullopt on any other input.
std::optional<std::string> Base64Decode(std::string_view in);
// True if `in` is padded standard base64 (length a multiple of 4, alphabet, padding).
bool IsBase64(std::string_view in);

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_BASE_BASE64_H_
