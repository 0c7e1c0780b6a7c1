// Shared by the tests/engine/pim unit tests: file contents by path, the fixture exports by name, a CSV fixture
// read and mapped as the import does it.
#pragma once
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "engine/pim/csv_mapping.hpp"

namespace arrival::pim::test {

inline std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return std::move(ss).str();
}

// tests/fixtures/NAME, e.g. "ics/recurring.ics" or "csv/google.csv".
inline std::string fixture(const std::string& name) { return slurp(std::string(PIM_FIXTURE_DIR) + "/" + name); }

// tests/fixtures/csv/NAME read, its dialect detected (a test failure if none) and mapped.
struct loaded_csv {
    csv_table table;
    csv_format format = csv_format::outlook;
    mapped_contacts mapped;
};

inline loaded_csv load_csv(const std::string& name) {
    loaded_csv l{read_csv(fixture("csv/" + name)), csv_format::outlook, {}};
    const auto f = detect_csv_format(l.table.header);
    EXPECT_TRUE(f.has_value()) << name;
    l.format = f.value_or(csv_format::outlook);
    l.mapped = map_contacts(l.table, l.format);
    return l;
}

}  // namespace arrival::pim::test
