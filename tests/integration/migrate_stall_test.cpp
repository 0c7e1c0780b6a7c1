// A stalled connection in `arrival migrate`: the bytes stop, the socket stays open (tools/testbed/tcp-proxy
// --stall), once mid-FETCH on the source and once mid-APPEND on the destination. With --timeout 5 the
// connection is given up after five silent seconds, the folder resumed on a fresh connection, every message
// arrives exactly once, and a rerun copies nothing. Without the flag a stall would cost the connection's
// default 120 s. Users: user201..user203.
#include <chrono>

#include "tests/integration/migrate_cli_support.hpp"

namespace imap_test {
// Named, not anonymous: the integration tests build in shared unity chunks (meson.build).
namespace migrate_stall_test {

struct stall_case {
    int user;
    const char* instance;    // the server behind the stalling proxy
    const char* direction;   // down: its replies stop (mid-FETCH); up: our writes stop reaching it (mid-APPEND)
    const char* bytes;
};
class migrate_stall : public ::testing::TestWithParam<stall_case> {};

TEST_P(migrate_stall, stalled_connection_is_given_up_and_resumed_on_a_fresh_one) {
    const auto p = GetParam();
    const auto u = user(p.user);
    reset("src", u);
    reset("dst", u);
    seed(u, sample_mailbox(fmt::format("s{}", p.user)));
    const auto before = snapshot("SRC", u);
    temp_dir dir;
    tcp_proxy proxy(p.instance, {"--drop-after-bytes", p.bytes, "--drop-direction", p.direction, "--drop-connections", "1", "--stall"},
                    dir.path / "proxy.log");
    const bool source_side = std::string(p.instance) == "SRC";
    const int src_port = source_side ? proxy.port() : port_of("SRC");
    const int dst_port = source_side ? port_of("DST") : proxy.port();
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = migrate(dir, {u}, src_port, dst_port, "--batch 5 --timeout 5");
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto log = proxy.stop();
    EXPECT_NE(log.find("stalled after"), std::string::npos) << log;
    EXPECT_EQ(r.status, 0) << r.output;
    // Not a benchmark: the bound only tells "gave up after --timeout" from "waited the default 120 s". The
    // timeout is 5 s, not 2: a healthy server on a loaded box (ASan, load 8) can be silent for 2 s, and each
    // such give-up costs one of the account's four attempts.
    EXPECT_LT(seconds, 90.0) << r.output;
    const auto* a = account_in(r.report, u);
    ASSERT_NE(a, nullptr) << r.output;
    EXPECT_EQ((*a)["status"], "ok") << a->dump(2);
    const auto dst = snapshot("DST", u);
    expect_copied_exactly_once(before, dst);
    EXPECT_EQ(total_messages(dst), total_messages(before));
    EXPECT_TRUE(snapshot("SRC", u) == before) << "the source changed during the run";

    // A rerun with the same state copies nothing.
    const auto again = migrate(dir, {u}, port_of("SRC"), port_of("DST"), "--timeout 5");
    EXPECT_EQ(again.status, 0) << again.output;
    const auto* b = account_in(again.report, u);
    ASSERT_NE(b, nullptr) << again.output;
    EXPECT_EQ((*b)["copied"], 0) << b->dump(2);
    EXPECT_EQ(total_messages(snapshot("DST", u)), total_messages(before));
}

INSTANTIATE_TEST_SUITE_P(sides, migrate_stall,
                         ::testing::Values(stall_case{201, "SRC", "down", "40000"},   // inside the bodies' UID FETCH
                                           stall_case{202, "DST", "up", "30000"}),    // inside a MULTIAPPEND literal
                         [](const ::testing::TestParamInfo<stall_case>& c) { return std::string(c.param.instance == std::string("SRC") ? "fetch" : "append"); });

}  // namespace
}  // namespace imap_test
