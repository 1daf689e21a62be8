// The Parquet format's vocabulary shared by the pieces of the writer and the reader: the
// enum values of parquet.thrift that lakehose writes or reads, and how a ParquetType maps onto
// them. The numbers are the format's (they are written into page headers and the footer), so they
// never change.
//
// Constants and pure functions only; thread-safe.
#ifndef LAKEHOSE_CORE_PARQUET_FORMAT_H_
#define LAKEHOSE_CORE_PARQUET_FORMAT_H_

#include <cstdint>

#include "core/parquet/parquet_writer.h"

namespace lakehose {
namespace parquet_internal {

// The writer uses the types and encodings it writes; the reader (parquet_reader.h) all.
enum PhysicalType : int32_t {
  kBoolean = 0,
  kInt32Type = 1,
  kInt64Type = 2,
  kInt96Type = 3,
  kFloatType = 4,
  kDoubleType = 5,
  kByteArray = 6,
  kFixedLenByteArray = 7
};
enum Encoding : int32_t {
  kPlain = 0,
  kPlainDictionary = 2,
  kRle = 3,
  kBitPacked = 4,
  kRleDictionary = 8
};
enum PageType : int32_t { kDataPage = 0, kIndexPage = 1, kDictionaryPage = 2, kDataPageV2 = 3 };
enum ConvertedType : int32_t {
  kUtf8 = 0,
  kListCt = 3,
  kDecimalCt = 5,
  kTimestampMillisCt = 9,
  kTimestampMicrosCt = 10
};
inline constexpr int32_t kRepetitionRequired = 0;
inline constexpr int32_t kRepetitionOptional = 1;
inline constexpr int32_t kRepetitionRepeated = 2;

// ParquetType::kDecimal is always DECIMAL(38, scale) in a FIXED_LEN_BYTE_ARRAY(16).
inline constexpr int kDecimalPrecision = 38;
inline constexpr int kDecimalBytes = 16;

// The CompressionCodec of parquet.thrift.
inline int32_t CodecId(ParquetCodec c) {
  switch (c) {
    case ParquetCodec::kNone:
      return 0;
    case ParquetCodec::kSnappy:
      return 1;
    case ParquetCodec::kGzip:
      return 2;
    case ParquetCodec::kZstd:
      return 6;
  }
  return 0;
}

inline bool IsByteArray(ParquetType t) {
  return t == ParquetType::kString || t == ParquetType::kJson || t == ParquetType::kBinary;
}

// The physical type of a leaf column (groups have none; they never reach here).
inline PhysicalType Physical(ParquetType t) {
  switch (t) {
    case ParquetType::kString:
    case ParquetType::kJson:
    case ParquetType::kBinary:
      return kByteArray;
    case ParquetType::kInt64:
    case ParquetType::kTimestampMillis:
    case ParquetType::kTimestampMicros:
      return kInt64Type;
    case ParquetType::kDecimal:
      return kFixedLenByteArray;
    case ParquetType::kDouble:
      return kDoubleType;
    case ParquetType::kBool:
      return kBoolean;
    case ParquetType::kStruct:
    case ParquetType::kList:
      break;
  }
  return kByteArray;
}

}  // namespace parquet_internal
}  // namespace lakehose

#endif  // LAKEHOSE_CORE_PARQUET_FORMAT_H_
