// RFC 3986 percent-encoding, the way SigV4 and S3 want it: used for SigV4's canonical
// URI and query, S3 request paths, STS form bodies and file:// URIs. Pure.
#ifndef LAKEHOSE_CORE_BASE_URI_ENCODE_H_
#define LAKEHOSE_CORE_BASE_URI_ENCODE_H_

#include <string>
#include <string_view>

namespace lakehose {

// Unreserved A-Z a-z 0-9 - _ . ~ kept, every other byte %XX (upper-case hex); '/' kept
// when `keep_slash`. Encodes once: "%" becomes "%25".
std::string UriEncode(std::string_view s, bool keep_slash);

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_BASE_URI_ENCODE_H_
