// parquet_read_tool [--columns] FILE: reads FILE with lakehose's Parquet reader
// (core/parquet/parquet_reader.h) and prints its rows, one JSON document a line, or
// with --columns the columns it would declare to write them again (as the writer's
// lakehose.columns describes them). On a refusal it prints the status ("UNIMPLEMENTED:
// parquet: ...") on stderr and exits 1. tests/parquet/duckdb_reader.test.mjs runs it
// over files DuckDB wrote. Test-only: never shipped.
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "core/parquet/parquet_reader.h"
#include "core/parquet/schema.h"

int main(int argc, char** argv) {
  const bool columns = argc == 3 && std::string(argv[1]) == "--columns";
  if (argc != 2 && !columns) {
    std::fprintf(stderr, "usage: parquet_read_tool [--columns] FILE\n");
    return 2;
  }
  std::ifstream in(argv[argc - 1], std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot open %s\n", argv[argc - 1]);
    return 2;
  }
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  absl::StatusOr<lakehose::ParquetContents> file = lakehose::ReadParquetFile(bytes);
  if (!file.ok()) {
    std::fprintf(stderr, "%s\n", file.status().ToString().c_str());
    return 1;
  }
  if (columns) {
    std::printf("%s\n", lakehose::parquet_internal::DescribeColumns(file->columns, true).c_str());
    return 0;
  }
  for (const std::string& row : file->rows) std::printf("%s\n", row.c_str());
  return 0;
}
