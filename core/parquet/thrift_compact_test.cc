#include "core/parquet/thrift_compact.h"

#include <string>

#include "gtest/gtest.h"

namespace lakehose {
namespace {

std::string Hex(const std::string& s) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

TEST(ThriftCompactTest, Varints) {
  auto varint = [](uint64_t v) {
    std::string s;
    ThriftCompactWriter::AppendVarint(v, &s);
    return Hex(s);
  };
  EXPECT_EQ(varint(0), "00");
  EXPECT_EQ(varint(1), "01");
  EXPECT_EQ(varint(127), "7f");
  EXPECT_EQ(varint(128), "8001");
  EXPECT_EQ(varint(300), "ac02");
  EXPECT_EQ(varint(UINT64_MAX), "ffffffffffffffffff01");
}

TEST(ThriftCompactTest, ZigZag) {
  EXPECT_EQ(ThriftCompactWriter::ZigZag(0), 0u);
  EXPECT_EQ(ThriftCompactWriter::ZigZag(-1), 1u);
  EXPECT_EQ(ThriftCompactWriter::ZigZag(1), 2u);
  EXPECT_EQ(ThriftCompactWriter::ZigZag(-2), 3u);
  EXPECT_EQ(ThriftCompactWriter::ZigZag(2147483647), 4294967294u);
  EXPECT_EQ(ThriftCompactWriter::ZigZag(-2147483648LL), 4294967295u);
  EXPECT_EQ(ThriftCompactWriter::ZigZag(INT64_MIN), UINT64_MAX);
}

TEST(ThriftCompactTest, FieldHeadersUseDeltasUpToFifteen) {
  ThriftCompactWriter w;
  w.BeginStruct();
  w.FieldI32(1, 2);   // delta 1, type 5: 0x15, zigzag(2) = 4
  w.FieldI64(3, -1);  // delta 2, type 6: 0x26, zigzag(-1) = 1
  w.FieldI32(18, 1);  // delta 15: 0xf5
  w.FieldI32(40, 0);  // delta 22: long form 0x05, zigzag(40) = 80 = 0x50
  w.FieldI32(39, 0);  // backwards: long form, zigzag(39) = 78 = 0x4e
  w.EndStruct();
  EXPECT_EQ(Hex(w.bytes()),
            "1504"
            "2601"
            "f502"
            "055000"
            "054e00"
            "00");
}

TEST(ThriftCompactTest, BooleansLiveInTheHeader) {
  ThriftCompactWriter w;
  w.BeginStruct();
  w.FieldBool(1, true);
  w.FieldBool(2, false);
  w.EndStruct();
  EXPECT_EQ(Hex(w.bytes()),
            "1112"
            "00");
}

TEST(ThriftCompactTest, BinaryAndDouble) {
  ThriftCompactWriter w;
  w.BeginStruct();
  w.FieldBinary(4, "abc");
  w.FieldDouble(5, 1.0);
  w.EndStruct();
  EXPECT_EQ(Hex(w.bytes()),
            "4803616263"
            "17000000000000f03f"
            "00");
}

TEST(ThriftCompactTest, NestedStructsRestoreFieldNumbering) {
  ThriftCompactWriter w;
  w.BeginStruct();
  w.FieldI32(1, 1);
  w.FieldBeginStruct(10);  // delta 9: 0x9c
  w.FieldI32(1, 3);        // numbering restarts inside: 0x15 06
  w.EndStruct();           // 00
  w.FieldI32(11, 1);       // delta 1 from 10, not from the inner 1: 0x15 02
  w.EndStruct();
  EXPECT_EQ(Hex(w.bytes()),
            "1502"
            "9c"
            "1506"
            "00"
            "1502"
            "00");
}

TEST(ThriftCompactTest, ShortAndLongLists) {
  ThriftCompactWriter w;
  w.BeginStruct();
  w.FieldBeginList(1, ThriftCompactWriter::kI32, 3);  // 0x19, then (3 << 4 | 5) = 0x35
  w.ElementI32(0);
  w.ElementI32(-1);
  w.ElementI32(64);
  w.FieldBeginList(2, ThriftCompactWriter::kBinary, 15);  // 0x19, 0xf8, varint 15
  for (int i = 0; i < 15; ++i) w.ElementBinary("x");
  w.EndStruct();
  std::string expected =
      "1935"
      "00"
      "01"
      "8001"
      "19f80f";
  for (int i = 0; i < 15; ++i) expected += "0178";
  expected += "00";
  EXPECT_EQ(Hex(w.bytes()), expected);
}

TEST(ThriftCompactTest, ListOfStructs) {
  ThriftCompactWriter w;
  w.BeginStruct();
  w.FieldBeginList(2, ThriftCompactWriter::kStruct, 2);  // 0x29, 0x2c
  for (int i = 0; i < 2; ++i) {
    w.BeginStruct();
    w.FieldBinary(4, "s");  // 0x48 01 73
    w.EndStruct();
  }
  w.FieldI64(3, 5);  // delta 1 from 2: 0x16 0a
  w.EndStruct();
  EXPECT_EQ(Hex(w.bytes()),
            "292c"
            "48017300"
            "48017300"
            "160a"
            "00");
}

TEST(ThriftCompactTest, SmallIntegers) {
  ThriftCompactWriter w;
  w.BeginStruct();
  w.FieldI8(1, -1);
  w.FieldI16(2, -300);  // zigzag 599 = 0xd7 0x04
  w.EndStruct();
  EXPECT_EQ(Hex(w.bytes()),
            "13ff"
            "14d704"
            "00");
}

TEST(ThriftCompactTest, TakeLeavesTheWriterEmpty) {
  ThriftCompactWriter w;
  w.BeginStruct();
  w.EndStruct();
  EXPECT_EQ(w.Take(), std::string(1, '\0'));
  EXPECT_TRUE(w.bytes().empty());
}

// What the writer writes, the reader reads: every field type, a long field id jump (the
// long header form), a nested struct, lists above 15 elements, negative numbers.
TEST(ThriftCompactReaderTest, ReadsWhatTheWriterWrites) {
  ThriftCompactWriter w;
  w.BeginStruct();
  w.FieldI32(1, -7);
  w.FieldI64(2, INT64_MIN);
  w.FieldBool(3, true);
  w.FieldBool(4, false);
  w.FieldBinary(5, "name");
  w.FieldDouble(6, -2.5);
  w.FieldI16(7, -300);
  w.FieldI8(8, -2);
  w.FieldBeginStruct(40);  // a jump past 15: the long form
  w.FieldI32(1, 1);
  w.EndStruct();
  w.FieldBeginList(41, ThriftCompactWriter::kI32, 20);
  for (int i = 0; i < 20; ++i) w.ElementI32(i - 10);
  w.FieldI32(42, INT32_MAX);
  w.EndStruct();

  ThriftCompactReader r(w.bytes());
  r.BeginStruct();
  int16_t id = 0;
  uint8_t type = 0;
  bool stop = false;
  auto next = [&](int16_t want_id, uint8_t want_type) {
    ASSERT_TRUE(r.NextField(&id, &type, &stop).ok());
    ASSERT_FALSE(stop);
    EXPECT_EQ(id, want_id);
    EXPECT_EQ(type, want_type);
  };
  int32_t i32 = 0;
  int64_t i64 = 0;
  next(1, ThriftCompactWriter::kI32);
  ASSERT_TRUE(r.ReadI32(&i32).ok());
  EXPECT_EQ(i32, -7);
  next(2, ThriftCompactWriter::kI64);
  ASSERT_TRUE(r.ReadI64(&i64).ok());
  EXPECT_EQ(i64, INT64_MIN);
  next(3, ThriftCompactWriter::kBoolTrue);
  EXPECT_TRUE(ThriftCompactReader::FieldBoolValue(type));
  next(4, ThriftCompactWriter::kBoolFalse);
  EXPECT_FALSE(ThriftCompactReader::FieldBoolValue(type));
  next(5, ThriftCompactWriter::kBinary);
  std::string_view bin;
  ASSERT_TRUE(r.ReadBinary(&bin).ok());
  EXPECT_EQ(bin, "name");
  next(6, ThriftCompactWriter::kDouble);
  double d = 0;
  ASSERT_TRUE(r.ReadDouble(&d).ok());
  EXPECT_EQ(d, -2.5);
  next(7, ThriftCompactWriter::kI16);
  int16_t i16 = 0;
  ASSERT_TRUE(r.ReadI16(&i16).ok());
  EXPECT_EQ(i16, -300);
  next(8, ThriftCompactWriter::kByte);
  int8_t i8 = 0;
  ASSERT_TRUE(r.ReadI8(&i8).ok());
  EXPECT_EQ(i8, -2);
  next(40, ThriftCompactWriter::kStruct);
  ASSERT_TRUE(r.Skip(type).ok());  // the nested struct, skipped whole
  next(41, ThriftCompactWriter::kList);
  uint8_t et = 0;
  uint32_t n = 0;
  ASSERT_TRUE(r.ReadListHeader(&et, &n).ok());
  EXPECT_EQ(et, ThriftCompactWriter::kI32);
  ASSERT_EQ(n, 20u);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(r.ReadI32(&i32).ok());
    EXPECT_EQ(i32, i - 10);
  }
  next(42, ThriftCompactWriter::kI32);  // field ids continue after the nested struct
  ASSERT_TRUE(r.ReadI32(&i32).ok());
  EXPECT_EQ(i32, INT32_MAX);
  ASSERT_TRUE(r.NextField(&id, &type, &stop).ok());
  EXPECT_TRUE(stop);
  r.EndStruct();
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(ThriftCompactReaderTest, SkipsAWholeStructOfEveryKind) {
  ThriftCompactWriter w;
  w.BeginStruct();
  w.FieldBeginList(1, ThriftCompactWriter::kBoolTrue, 3);  // list bools take a byte each
  w.ElementBool(true);
  w.ElementBool(false);
  w.ElementBool(true);
  w.FieldBeginList(2, ThriftCompactWriter::kStruct, 2);
  w.BeginStruct();
  w.FieldBinary(1, "a");
  w.EndStruct();
  w.BeginStruct();
  w.EndStruct();
  w.FieldDouble(3, 1.0);
  w.EndStruct();
  std::string bytes = w.bytes() + "tail";
  ThriftCompactReader r(bytes);
  ASSERT_TRUE(r.Skip(ThriftCompactWriter::kStruct).ok());
  EXPECT_EQ(r.position(), w.bytes().size());
}

// Damaged input: every truncation fails with DATA_LOSS; so do lengths past the end,
// integers out of their type's range, unknown types and nesting past kMaxThriftDepth.
TEST(ThriftCompactReaderTest, DamagedInputIsDataLoss) {
  ThriftCompactWriter w;
  w.BeginStruct();
  w.FieldBinary(1, "hello");
  w.FieldBeginList(2, ThriftCompactWriter::kI64, 2);
  w.ElementI64(1);
  w.ElementI64(-1);
  w.EndStruct();
  for (size_t n = 0; n < w.bytes().size(); ++n) {
    ThriftCompactReader r(std::string_view(w.bytes()).substr(0, n));
    absl::Status s = r.Skip(ThriftCompactWriter::kStruct);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << n;
  }
  auto skip = [](std::string_view bytes) {
    ThriftCompactReader r(bytes);
    return r.Skip(ThriftCompactWriter::kStruct).code();
  };
  EXPECT_EQ(skip("\x18\x7f"), absl::StatusCode::kDataLoss);      // binary of 127 bytes, 0 left
  EXPECT_EQ(skip("\x19\xf5\x7f"), absl::StatusCode::kDataLoss);  // list of 127 i32, none
  EXPECT_EQ(skip("\x1d"), absl::StatusCode::kDataLoss);          // type 13
  EXPECT_EQ(skip(std::string(11, '\xff')), absl::StatusCode::kDataLoss);
  std::string deep;
  for (int i = 0; i < kMaxThriftDepth + 2; ++i) deep += "\x1c";  // struct in struct in ...
  EXPECT_EQ(skip(deep), absl::StatusCode::kDataLoss);
  ThriftCompactReader r("\x80\x80\x80\x80\x10");  // 2^32: not an i32
  int32_t v = 0;
  EXPECT_EQ(r.ReadI32(&v).code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace lakehose
