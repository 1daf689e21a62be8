#include "core/base/json_writer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>

#include "gtest/gtest.h"

namespace lakehose {
namespace {

// Quoted JSON of `s`, or "<invalid>" when the writer refuses it.
std::string Quoted(std::string_view s) {
  std::string out;
  if (!AppendJsonString(s, &out)) return "<invalid>";
  return out;
}

TEST(JsonWriterTest, PlainAsciiIsCopied) {
  EXPECT_EQ(Quoted(""), "\"\"");
  EXPECT_EQ(Quoted("hello world"), "\"hello world\"");
  EXPECT_EQ(Quoted("a/b</script>"), "\"a/b</script>\"");  // '/' needs no escape
}

TEST(JsonWriterTest, QuoteAndBackslashAreEscaped) {
  EXPECT_EQ(Quoted("say \"hi\""), R"("say \"hi\"")");
  EXPECT_EQ(Quoted("C:\\dir\\"), R"("C:\\dir\\")");
  EXPECT_EQ(Quoted("\\\""), R"("\\\"")");
}

TEST(JsonWriterTest, ShortFormControlEscapes) {
  EXPECT_EQ(Quoted("\b"), R"("\b")");
  EXPECT_EQ(Quoted("\f"), R"("\f")");
  EXPECT_EQ(Quoted("\n"), R"("\n")");
  EXPECT_EQ(Quoted("\r"), R"("\r")");
  EXPECT_EQ(Quoted("\t"), R"("\t")");
  EXPECT_EQ(Quoted("a\tb\nc"), R"("a\tb\nc")");
}

TEST(JsonWriterTest, OtherControlCharactersUseUnicodeEscapes) {
  EXPECT_EQ(Quoted(std::string_view("\0", 1)), R"("\u0000")");
  EXPECT_EQ(Quoted("\x01"), R"("\u0001")");
  EXPECT_EQ(Quoted("\x0b"), R"("\u000b")");
  EXPECT_EQ(Quoted("\x1f"), R"("\u001f")");
  EXPECT_EQ(Quoted("x\x1ey"), R"("x\u001ey")");
  // DEL (0x7F) is not a JSON control character: copied.
  EXPECT_EQ(Quoted("\x7f"), "\"\x7f\"");
}

TEST(JsonWriterTest, LineAndParagraphSeparatorsAreEscaped) {
  EXPECT_EQ(Quoted("\xE2\x80\xA8"), R"("\u2028")");
  EXPECT_EQ(Quoted("\xE2\x80\xA9"), R"("\u2029")");
  EXPECT_EQ(Quoted("a\xE2\x80\xA8"
                   "b\xE2\x80\xA9"
                   "c"),
            R"("a\u2028b\u2029c")");
}

TEST(JsonWriterTest, OtherE2SequencesAreCopied) {
  EXPECT_EQ(Quoted("\xE2\x82\xAC"), "\"\xE2\x82\xAC\"");                     // U+20AC €
  EXPECT_EQ(Quoted("\xE2\x80\xA6"), "\"\xE2\x80\xA6\"");                     // U+2026 …
  EXPECT_EQ(Quoted("\xE2\x80\xAA"), "\"\xE2\x80\xAA\"");                     // U+202A, next to 2029
  EXPECT_EQ(Quoted("5\xE2\x82\xAC\n"), "\"5\xE2\x82\xAC\\n\"");              // mixed with escapes
  EXPECT_EQ(Quoted("\xE2\x82\xAC\xE2\x80\xA8"), "\"\xE2\x82\xAC\\u2028\"");  // € then U+2028
}

TEST(JsonWriterTest, NonAsciiAndNonBmpAreCopied) {
  EXPECT_EQ(Quoted("caf\xC3\xA9"), "\"caf\xC3\xA9\"");                            // é
  EXPECT_EQ(Quoted("\xE4\xB8\xAD\xE6\x96\x87"), "\"\xE4\xB8\xAD\xE6\x96\x87\"");  // 中文
  EXPECT_EQ(Quoted("\xF0\x9F\x98\x80"), "\"\xF0\x9F\x98\x80\"");                  // U+1F600 emoji
  EXPECT_EQ(Quoted("\xF4\x8F\xBF\xBF"), "\"\xF4\x8F\xBF\xBF\"");                  // U+10FFFF
}

TEST(JsonWriterTest, InvalidUtf8IsRejected) {
  std::string out;
  EXPECT_FALSE(AppendJsonString("\xFF", &out));
  EXPECT_FALSE(AppendJsonString("abc\xC3", &out));           // truncated 2-byte sequence
  EXPECT_FALSE(AppendJsonString("\xC0\xAF", &out));          // overlong '/'
  EXPECT_FALSE(AppendJsonString("\xED\xA0\x80", &out));      // UTF-16 surrogate D800
  EXPECT_FALSE(AppendJsonString("\xF4\x90\x80\x80", &out));  // > U+10FFFF
  EXPECT_FALSE(AppendJsonString("\x80", &out));              // lone continuation byte
  EXPECT_FALSE(AppendJsonString("\xE2\x80", &out));          // truncated E2 lead
  std::string body;
  EXPECT_FALSE(AppendJsonStringBody("ok\xFE", &body));
}

TEST(JsonWriterTest, IsValidUtf8) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("\xF0\x9F\x98\x80\xE2\x80\xA8"));
  EXPECT_FALSE(IsValidUtf8("\xC3"));
  EXPECT_FALSE(IsValidUtf8("\xED\xBF\xBF"));
}

TEST(JsonWriterTest, BodyAppendsWithoutQuotesAndKeepsExistingOutput) {
  std::string out = "prefix:";
  ASSERT_TRUE(AppendJsonStringBody("a\"b", &out));
  EXPECT_EQ(out, "prefix:a\\\"b");
  ASSERT_TRUE(AppendJsonString("c", &out));
  EXPECT_EQ(out, "prefix:a\\\"b\"c\"");
}

TEST(JsonWriterTest, LongStringsWithEscapesAtRunBoundaries) {
  // The fast path copies runs between escapes; check runs at the start, middle and end.
  std::string in(100, 'x');
  in[0] = '"';
  in[50] = '\n';
  in[99] = '\\';
  std::string expected = "\"\\\"" + std::string(49, 'x') + "\\n" + std::string(48, 'x') + "\\\\\"";
  EXPECT_EQ(Quoted(in), expected);
}

// A byte-at-a-time reference of the documented escaping, for valid UTF-8 input.
std::string Reference(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(s[i + 2]) == 0xA8 ||
         static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
      out += static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
      i += 2;
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\b') {
      out += "\\b";
    } else if (c == '\f') {
      out += "\\f";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20) {
      out += "\\u00";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out + "\"";
}

constexpr std::string_view kPieces[] = {"\"",
                                        "\\",
                                        "\n",
                                        "\t",
                                        "\b",
                                        "\f",
                                        "\r",
                                        std::string_view("\0", 1),
                                        "\x01",
                                        "\x1F",
                                        " ",
                                        "\x7F",
                                        "\xE2\x80\xA8",
                                        "\xE2\x80\xA9",
                                        "\xE2\x82\xAC",
                                        "\xE2\x80\xA6",
                                        "\xC3\xA9",
                                        "\xF0\x9F\x98\x80",
                                        "/",
                                        "~"};

TEST(JsonWriterTest, EverySpecialCharacterAtEveryOffsetOfLongRuns) {
  // The writer scans 16 bytes at a time; put each special character at offsets around the
  // block boundaries, including multi-byte sequences that straddle them.
  for (std::string_view piece : kPieces) {
    for (size_t offset = 0; offset <= 48; ++offset) {
      const std::string in =
          std::string(offset, 'a') + std::string(piece) + std::string(50 - offset, 'b');
      std::string out;
      ASSERT_TRUE(AppendJsonString(in, &out));
      EXPECT_EQ(out, Reference(in)) << "offset " << offset;
      std::string valid;
      AppendValidJsonString(in, &valid);
      EXPECT_EQ(valid, out) << "offset " << offset;
    }
  }
}

TEST(JsonWriterTest, MatchesReferenceOnMixedStrings) {
  uint64_t state = 12345;
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return state >> 33;
  };
  for (int iter = 0; iter < 2000; ++iter) {
    std::string in;
    const size_t n = next() % 40;
    for (size_t i = 0; i < n; ++i) {
      if (next() % 3 == 0)
        in += kPieces[next() % std::size(kPieces)];
      else
        in.push_back(static_cast<char>('a' + next() % 26));
    }
    std::string out;
    ASSERT_TRUE(AppendJsonString(in, &out)) << in;
    ASSERT_EQ(out, Reference(in)) << in;
    std::string valid;
    AppendValidJsonString(in, &valid);
    ASSERT_EQ(valid, out);
  }
}

TEST(JsonWriterTest, ShortStringsEveryLengthAndStopPosition) {
  // Tails shorter than 16 bytes are scanned with one masked 16-byte load: a stop byte at
  // any position of a string of any length below 34 (two blocks and a tail), and bytes
  // beyond the end that would be stop bytes (they must be masked off).
  for (size_t len = 0; len < 34; ++len) {
    for (size_t pos = 0; pos <= len; ++pos) {
      for (std::string_view piece :
           {std::string_view("\""), std::string_view("\x01"), std::string_view("\xE2\x80\xA8")}) {
        std::string buf(len, 'k');
        if (pos < len)
          buf.replace(pos, std::min(piece.size(), len - pos), piece.substr(0, len - pos));
        buf += std::string(20, '"');  // stop bytes right after the string's end
        const std::string_view in(buf.data(), len);
        std::string valid;
        AppendValidJsonString(in, &valid);
        ASSERT_EQ(valid, Reference(in)) << "len " << len << " pos " << pos;
      }
    }
  }
}

TEST(JsonWriterTest, StringsEndingAtAPageBoundaryDoNotReadPastIt) {
  // A string whose last byte is the last byte of a mapped page, followed by an unmapped
  // page: the masked tail load must not touch the next page (it falls back to the byte
  // loop there), or this test dies with SIGSEGV.
  const long page = sysconf(_SC_PAGESIZE);
  void* mem = mmap(nullptr, static_cast<size_t>(2 * page), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mem, MAP_FAILED);
  char* base = static_cast<char*>(mem);
  ASSERT_EQ(mprotect(base + page, static_cast<size_t>(page), PROT_NONE), 0);
  for (size_t len = 0; len < 40; ++len) {
    char* start = base + page - static_cast<long>(len);
    for (size_t i = 0; i < len; ++i) start[i] = static_cast<char>(i % 7 == 3 ? '\n' : 'a' + i % 26);
    const std::string_view in(start, len);
    std::string valid;
    AppendValidJsonString(in, &valid);
    EXPECT_EQ(valid, Reference(in)) << "len " << len;
  }
  munmap(mem, static_cast<size_t>(2 * page));
}

TEST(JsonWriterTest, QuoteForMessage) {
  EXPECT_EQ(QuoteForMessage("abc"), "\"abc\"");
  EXPECT_EQ(QuoteForMessage("a\"b\n"), "\"a\\\"b\\n\"");
  EXPECT_EQ(QuoteForMessage(std::string(64, 'x')), "\"" + std::string(64, 'x') + "\"");
  EXPECT_EQ(QuoteForMessage(std::string(100, 'x')), "\"" + std::string(64, 'x') + "...\"");
  EXPECT_EQ(QuoteForMessage("abcdef", 3), "\"abc...\"");
  // The cut never splits a character: 63 ASCII bytes then a 2-byte é straddling byte 64.
  EXPECT_EQ(QuoteForMessage(std::string(63, 'x') + "\xC3\xA9" + "yyy"),
            "\"" + std::string(63, 'x') + "...\"");
  EXPECT_EQ(QuoteForMessage("\xF0\x9F\x98\x80\xF0\x9F\x98\x80", 5), "\"\xF0\x9F\x98\x80...\"");
  EXPECT_EQ(QuoteForMessage("bad\xFF"), "(invalid UTF-8)");
  for (size_t max = 0; max < 12; ++max) {
    EXPECT_TRUE(IsValidUtf8(QuoteForMessage("\xE4\xB8\xAD\xE6\x96\x87\xF0\x9F\x98\x80z", max)))
        << max;
  }
}

}  // namespace
}  // namespace lakehose
