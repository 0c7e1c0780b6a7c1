// The unit-suite side of every fuzz target (tests/fuzz/meson.build builds one per target, without clang or
// libFuzzer): replays each file of the given directories through the target's own LLVMFuzzerTestOneInput,
// the seed corpus tests/fuzz/corpus/<target>/ and the saved findings tests/fuzz/crashes/<target>/, so a fixed
// fuzz finding stays fixed. A finding fails the test the way it failed the fuzzer: the sanitizer aborts
// (build-san has ASan+UBSan; tools/test-env makes both fatal) or the target's own check aborts.
//   <target>_replay SEED_DIR CRASH_DIR      (the seed corpus must hold files; the crash directory may be absent)
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

namespace fs = std::filesystem;

// Replays every regular file of dir in name order; returns how many.
int replay_dir(const fs::path& dir) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.is_regular_file()) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
        std::ifstream in(f, std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::fprintf(stderr, "replay %s (%zu bytes)\n", f.c_str(), bytes.size());
        LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    }
    return static_cast<int>(files.size());
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s SEED_DIR CRASH_DIR\n", argv[0]);
        return 2;
    }
    const fs::path seed = argv[1], crashes = argv[2];
    if (!fs::is_directory(seed)) {
        std::fprintf(stderr, "no seed corpus at %s\n", seed.c_str());
        return 1;
    }
    const int seeds = replay_dir(seed);
    const int found = fs::is_directory(crashes) ? replay_dir(crashes) : 0;
    std::printf("%d seed inputs and %d saved crashes replayed without a finding\n", seeds, found);
    if (seeds == 0) {
        std::fprintf(stderr, "the seed corpus %s is empty\n", seed.c_str());
        return 1;
    }
    return 0;
}
