// engine/shares/grant_plan: identifiers mapped through the accounts file and --map-domain, groups between
// Dovecot, Cyrus and Carbonio syntax, and rights never widened against the destination's LISTRIGHTS.
#include <gtest/gtest.h>

#include "engine/shares/grant_plan.hpp"

namespace arrival::test {
// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace grant_plan_test {

using namespace arrival::shares;

identifier_rules rules(group_syntax dest = group_syntax::dovecot) {
    identifier_rules r;
    r.accounts["bob@old.example"] = "robert@new.example";
    r.domains["old.example"] = "new.example";
    r.dest = dest;
    return r;
}

TEST(shares_identifiers, accounts_then_domains_then_kept) {
    const auto r = rules();
    EXPECT_EQ(map_identifier("bob@old.example", r, "ann@new.example").identifier, "robert@new.example");
    EXPECT_EQ(map_identifier("BOB@old.example", r, "ann@new.example").identifier, "robert@new.example");
    EXPECT_EQ(map_identifier("carol@old.example", r, "ann@new.example").identifier, "carol@new.example");
    EXPECT_EQ(map_identifier("carol@OLD.example", r, "ann@new.example").identifier, "carol@new.example");
    const auto kept = map_identifier("dave@elsewhere.example", r, "ann@new.example");
    EXPECT_EQ(kept.identifier, "dave@elsewhere.example");
    EXPECT_TRUE(kept.note.empty());
    EXPECT_NE(map_identifier("carol@old.example", r, "").note.find("--map-domain"), std::string::npos);
}

TEST(shares_identifiers, anyone_authenticated_owner_global_negative) {
    const auto r = rules();
    EXPECT_EQ(map_identifier("anyone", r, "x").identifier, "anyone");
    EXPECT_EQ(map_identifier("authenticated", r, "x").identifier, "authenticated");
    EXPECT_EQ(map_identifier("authenticated", rules(group_syntax::carbonio), "x").identifier, "anyone");
    EXPECT_EQ(map_identifier("owner", r, "x").identifier, "");
    EXPECT_EQ(map_identifier("#anyone", r, "x").identifier, "");
    EXPECT_EQ(map_identifier("-bob@old.example", r, "x").identifier, "-robert@new.example");
    EXPECT_EQ(map_identifier("-anyone", r, "x").identifier, "-anyone");
}

TEST(shares_identifiers, groups_change_syntax) {
    EXPECT_EQ(map_identifier("$staff", rules(), "ann@new.example").identifier, "$staff");
    EXPECT_EQ(map_identifier("group:staff", rules(), "ann@new.example").identifier, "$staff");
    EXPECT_EQ(map_identifier("$staff", rules(group_syntax::cyrus), "ann@new.example").identifier, "group:staff");
    EXPECT_EQ(map_identifier("$staff", rules(group_syntax::carbonio), "ann@new.example").identifier, "staff@new.example");
    EXPECT_EQ(map_identifier("$staff@old.example", rules(group_syntax::carbonio), "ann@x").identifier, "staff@new.example");
}

TEST(shares_rights, unchanged_needs_no_offer) {
    const auto d = decide_rights("lrs", "lrswi", std::nullopt);
    EXPECT_TRUE(d.unchanged);
    EXPECT_EQ(d.grant, "lrs");
    EXPECT_FALSE(decide_rights("lrs", "lr", std::nullopt).unchanged);
    // c/d obsolete letters on either side compare by what they mean.
    EXPECT_TRUE(decide_rights("lrc", "lrk", std::nullopt).unchanged);
}

TEST(shares_rights, dovecot_offers_every_letter) {
    const rights_offer dovecot{"", {"l", "r", "w", "s", "t", "p", "i", "e", "k", "x", "a", "c", "d"}};
    const auto d = decide_rights("lrswipkxtecda", "", dovecot);
    EXPECT_EQ(d.grant, "lrswipkxtea");
    EXPECT_TRUE(d.refused.empty());
    EXPECT_FALSE(d.unchanged);
}

TEST(shares_rights, carbonio_tied_sets_are_never_widened) {
    const rights_offer carbonio{"", {"lr", "sw", "ick", "xted", "a"}};
    // "lrs": s is tied to w, which the source did not grant: refused, lr granted.
    auto d = decide_rights("lrs", "", carbonio);
    EXPECT_EQ(d.grant, "lr");
    EXPECT_EQ(d.refused, "s");
    EXPECT_NE(d.why.find("only as a whole"), std::string::npos);
    // p is not offered at all.
    d = decide_rights("lrp", "", carbonio);
    EXPECT_EQ(d.grant, "lr");
    EXPECT_EQ(d.refused, "p");
    EXPECT_NE(d.why.find("no right 'p'"), std::string::npos);
    // Every tied set complete: all granted.
    d = decide_rights("lrswikxtea", "", carbonio);
    EXPECT_EQ(d.grant, "lrswikxtea");
    EXPECT_TRUE(d.refused.empty());
    // Nothing grantable: empty grant.
    d = decide_rights("l", "", carbonio);
    EXPECT_EQ(d.grant, "");
    EXPECT_EQ(d.refused, "l");
}

TEST(shares_rights, required_rights_beyond_the_source_refuse_the_grant) {
    const rights_offer strict{"lr", {"s", "w"}};
    auto d = decide_rights("l", "", strict);
    EXPECT_EQ(d.grant, "");
    EXPECT_EQ(d.refused, "l");
    EXPECT_NE(d.why.find("always grants 'lr'"), std::string::npos);
    d = decide_rights("lrs", "", strict);
    EXPECT_EQ(d.grant, "lrs");
}

}  // namespace
}  // namespace arrival::test
