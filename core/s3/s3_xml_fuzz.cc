// Fuzz target for the S3 XML parsing in core/s3/s3_xml.h (untrusted: whatever an endpoint or
// a proxy in front of it answers). Its seed corpus (corpus/s3_xml) runs as a plain test in
// every build; with libFuzzer (clang) it links -fsanitize=fuzzer as tests/fuzz does.
//
// Invariants checked beyond "does not crash": escaping then extracting gives back the
// input, whatever its bytes.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/s3/s3_outcome.h"
#include "core/s3/s3_xml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)lakehose::ParseS3Error(in);
  (void)lakehose::ParseInitiateMultipartUploadResult(in);
  if (auto o = lakehose::ParseCompleteMultipartUploadResult(in); o.ok() && o->failed) {
    (void)lakehose::ClassifyS3Error(200, o->error.code);
  }
  (void)lakehose::XmlRootElementName(in);
  (void)lakehose::XmlElementText(in, "Code");
  const std::string wrapped = "<A>" + lakehose::XmlEscape(in) + "</A>";
  if (lakehose::XmlElementText(wrapped, "A") != in) std::abort();
  const std::string body = lakehose::BuildCompleteMultipartUploadXml({{1, std::string(in)}});
  if (lakehose::XmlElementText(body, "ETag") != in) std::abort();
  return 0;
}
