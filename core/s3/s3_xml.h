// S3's XML answers, parsed without an XML library. What a failed answer means is decided
// from its status and the <Error><Code> parsed here by ClassifyS3Error (core/s3/s3_outcome.h).
//
//   if (auto err = ParseS3Error(response.body); err.ok()) {
//     switch (ClassifyS3Error(response.status, err->code)) { ... }
//   }
//
// The extractor understands exactly what S3 (and STS) send: an optional <?xml?>
// declaration, elements with optional attributes, text with the five predefined
// entities, numeric character references and CDATA. It finds the first element with a
// given name anywhere in the document. It is robust, not validating: any input, however
// malformed, yields a value or an error and never reads out of bounds.
//
// Pure (no I/O); thread-safe (no state).
#ifndef LAKEHOSE_CORE_S3_S3_XML_H_
#define LAKEHOSE_CORE_S3_S3_XML_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace lakehose {

// The largest XML answer parsed. S3's answers to the operations lakehose calls (Error,
// InitiateMultipartUploadResult, CompleteMultipartUploadResult, STS credentials) are a
// few KiB; anything past 1 MiB is not one of them and is refused unread.
inline constexpr size_t kMaxS3XmlBytes = 1 << 20;

// An S3 <Error> document.
struct S3Error {
  std::string code;  // "SlowDown", "NoSuchUpload", ...
  std::string message;
  std::string request_id;  // for support tickets; safe to log
};

// The decoded text of the first element named `name` (e.g. "UploadId"), or nullopt if
// there is none or it is not closed. Entities and CDATA are decoded; nested markup inside
// the element is returned as is.
std::optional<std::string> XmlElementText(std::string_view xml, std::string_view name);

// The name of the document's root element, skipping the declaration, comments,
// processing instructions and whitespace (S3 pads long CompleteMultipartUpload answers
// with leading whitespace). nullopt if there is no element.
std::optional<std::string_view> XmlRootElementName(std::string_view xml);

// Parses an <Error> document. INVALID_ARGUMENT if `xml` is not one (empty, garbage, too
// large, or another root element).
absl::StatusOr<S3Error> ParseS3Error(std::string_view xml);

// The UploadId of an <InitiateMultipartUploadResult>. INVALID_ARGUMENT if absent or empty.
absl::StatusOr<std::string> ParseInitiateMultipartUploadResult(std::string_view xml);

// CompleteMultipartUpload answers 200 and can still have failed: the body is then an
// <Error> document, which S3 documents as "retry the request".
struct CompleteMultipartUploadOutcome {
  bool failed = false;
  S3Error error;     // set iff failed
  std::string etag;  // the object's ETag on success (quotes kept as sent)
};
// INVALID_ARGUMENT if the body is neither <CompleteMultipartUploadResult> nor <Error>
// (e.g. truncated: the connection dropped while S3 was still padding with whitespace).
absl::StatusOr<CompleteMultipartUploadOutcome> ParseCompleteMultipartUploadResult(
    std::string_view xml);

struct CompletedPart {
  int part_number = 0;  // 1..10000
  std::string etag;     // as UploadPart returned it, quotes included
};
// The <CompleteMultipartUpload> request body, parts in the given order (ascending).
std::string BuildCompleteMultipartUploadXml(const std::vector<CompletedPart>& parts);

// Escapes & < > " ' for XML text and attribute values.
std::string XmlEscape(std::string_view text);

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_S3_S3_XML_H_
