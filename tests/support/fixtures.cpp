#include "tests/support/fixtures.hpp"

#include <fstream>
#include <iterator>
#include <stdexcept>

#ifndef ARRIVAL_FIXTURE_DIR
#error "ARRIVAL_FIXTURE_DIR must be defined by the build (tests/support/meson.build)"
#endif

namespace arrival::test {

std::string fixture_dir() { return ARRIVAL_FIXTURE_DIR; }

std::string load_fixture(std::string_view relative) {
    const std::string path = std::string(ARRIVAL_FIXTURE_DIR) + "/" + std::string(relative);
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read fixture " + path);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace arrival::test
