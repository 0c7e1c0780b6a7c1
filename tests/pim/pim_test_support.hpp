// Shared by the tests/pim unit tests: file contents by path and the fixture exports by name.
#pragma once
#include <fstream>
#include <sstream>
#include <string>

namespace arrival::pim::test {

inline std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return std::move(ss).str();
}

// tests/fixtures/NAME, e.g. "ics/recurring.ics" or "csv/google.csv".
inline std::string fixture(const std::string& name) { return slurp(std::string(PIM_FIXTURE_DIR) + "/" + name); }

}  // namespace arrival::pim::test
