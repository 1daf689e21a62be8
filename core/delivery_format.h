// What delivery writes, as pure functions: object keys and Firehose-style error
// documents.
#ifndef LAKEHOSE_CORE_DELIVERY_FORMAT_H_
#define LAKEHOSE_CORE_DELIVERY_FORMAT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "core/pipeline.h"

namespace lakehose {

// `<prefix><pipeline>-<writer_id>-<sequence, 16 digits><extension>`: deterministic,
// sortable by sequence, unique per replica (writer_id) as long as sequences are.
std::string ObjectKey(std::string_view prefix, std::string_view pipeline, std::string_view writer_id,
                      uint64_t sequence, Compression codec);

// Appends one Firehose-style error document and a newline:
// {"attemptsMade":1,"arrivalTimestamp":<ms>,"errorCode":"...","errorMessage":"...",
//  "rawData":"<base64 of the input>"}
void AppendErrorDocument(int attempts, int64_t arrival_ms, std::string_view error_code,
                         std::string_view error_message, std::string_view raw_data, std::string* out);

// A writer_id made safe for object keys: [A-Za-z0-9_.-], others replaced by '-', at most
// 64 characters; "lakehose" if nothing is left.
std::string SanitizeWriterId(std::string_view id);

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_DELIVERY_FORMAT_H_
