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

}  // namespace
}  // namespace lakehose
