// Measures what the streaming ICS path saves (not a test; run under /usr/bin/time -v):
//   ics_memory generate N FILE   writes a generated export with N events (tests/engine/pim/ics_generate.hpp)
//   ics_memory whole FILE        read_ics + group_by_uid on the whole file, builds every CalDAV resource
//   ics_memory stream FILE       the same through ics_file (two passes), as `arrival calendars` does
// Both modes print the number of resources and a SHA-256 over all of them, so their outputs can be compared.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "engine/pim/calendar_object.hpp"
#include "engine/pim/ics_file.hpp"
#include "engine/pim/sha256.hpp"
#include "tests/engine/pim/ics_generate.hpp"

int main(int argc, char** argv) {
    using namespace arrival::pim;
    if (argc < 3) {
        std::fprintf(stderr, "usage: ics_memory generate N FILE | whole FILE | stream FILE\n");
        return 2;
    }
    const std::string mode = argv[1];
    if (mode == "generate" && argc == 4) {
        std::ofstream(argv[3], std::ios::binary) << test::generated_ics(std::stoul(argv[2]));
        return 0;
    }
    std::string digest;
    std::size_t n = 0;
    auto consume = [&](const std::string& resource) {
        ++n;
        digest = sha256_hex(digest + sha256_hex(resource, 32), 32);
    };
    if (mode == "whole") {
        std::ifstream in(argv[2], std::ios::binary);
        std::ostringstream ss;
        ss << in.rdbuf();
        const auto bytes = std::move(ss).str();
        const auto cal = read_ics(bytes);
        const auto groups = group_by_uid(cal);
        for (const auto& obj : groups.objects) consume(make_caldav_resource(cal, obj));
    } else if (mode == "stream") {
        ics_file file;
        std::error_code ec;
        std::string error;
        if (!file.open(argv[2], ec, error)) {
            std::fprintf(stderr, "%s\n", error.c_str());
            return 1;
        }
        for (std::size_t i = 0; i < file.groups().objects.size(); ++i) {
            calendar_object obj;
            const auto* part = file.load(i, obj, error);
            if (part == nullptr) {
                std::fprintf(stderr, "%s\n", error.c_str());
                return 1;
            }
            consume(make_caldav_resource(*part, obj));
        }
    } else {
        std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
        return 2;
    }
    std::printf("%zu resources, digest %s\n", n, digest.c_str());
    return 0;
}
