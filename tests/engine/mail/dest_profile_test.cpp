// The destination profile's rules on values (engine/mail/dest_profile.hpp; FACTS.md §6 for carbonio).
#include "engine/mail/dest_profile.hpp"

#include <map>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "engine/mail/folder_map.hpp"

// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace dest_profile_test {

using namespace arrival::engine;

namespace {

std::vector<std::string> levels_of(const std::vector<adapted_path>& a, std::size_t i) { return a.at(i).levels; }

}  // namespace

TEST(dest_profile, choice_parses_exact_names) {
    EXPECT_EQ(parse_dest_profile_choice("auto"), dest_profile_choice::automatic);
    EXPECT_EQ(parse_dest_profile_choice("carbonio"), dest_profile_choice::carbonio);
    EXPECT_EQ(parse_dest_profile_choice("generic"), dest_profile_choice::generic);
    EXPECT_EQ(parse_dest_profile_choice("zimbra"), std::nullopt);
    EXPECT_EQ(to_string(dest_profile_kind::carbonio), "carbonio");
}

TEST(dest_profile, detects_carbonio_from_id_greeting_or_capability) {
    // ImapHandler.ID_PARAMS and ServerConfig.getGreeting ("<host> Zimbra IMAP4rev1 server ready").
    server_identity by_id{"IMAP4rev1 proxy ready", {{"NAME", "Zimbra"}, {"VERSION", "24.12.0"}}, {"IMAP4rev1", "ID"}};
    auto d = detect_dest_profile(by_id);
    EXPECT_EQ(d.kind, dest_profile_kind::carbonio);
    EXPECT_NE(d.evidence.find("Zimbra"), std::string::npos);

    server_identity by_greeting{"mail.example.test Zimbra IMAP4rev1 server ready", {}, {"IMAP4rev1"}};
    EXPECT_EQ(detect_dest_profile(by_greeting).kind, dest_profile_kind::carbonio);
    server_identity by_capa{"ready", {}, {"IMAP4rev1", "X-ZIMBRA"}};
    EXPECT_EQ(detect_dest_profile(by_capa).kind, dest_profile_kind::carbonio);

    server_identity dovecot{"Dovecot ready.", {{"name", "Dovecot"}}, {"IMAP4rev1", "ID", "MULTIAPPEND"}};
    EXPECT_EQ(detect_dest_profile(dovecot).kind, dest_profile_kind::generic);
    EXPECT_TRUE(detect_dest_profile(dovecot).evidence.empty());
    // A field other than name/vendor mentioning Zimbra (e.g. a migration's own notes) decides nothing.
    server_identity other{"ready", {{"support-url", "https://zimbra.example"}}, {}};
    EXPECT_EQ(detect_dest_profile(other).kind, dest_profile_kind::generic);

    EXPECT_EQ(resolve_dest_profile(dest_profile_choice::generic, by_id).kind, dest_profile_kind::generic);
    EXPECT_EQ(resolve_dest_profile(dest_profile_choice::carbonio, dovecot).kind, dest_profile_kind::carbonio);
    EXPECT_EQ(resolve_dest_profile(dest_profile_choice::automatic, by_id).kind, dest_profile_kind::carbonio);
}

TEST(dest_profile, size_limit_is_appendlimit_then_option_then_carbonio_default) {
    auto p = dest_profile::make(dest_profile_kind::carbonio, std::nullopt, std::nullopt);
    EXPECT_EQ(p.max_message_size, 10'240'000u);
    p = dest_profile::make(dest_profile_kind::carbonio, std::nullopt, 5000);
    EXPECT_EQ(p.max_message_size, 5000u);
    p = dest_profile::make(dest_profile_kind::carbonio, 65536, 5000);
    EXPECT_EQ(p.max_message_size, 65536u);
    EXPECT_TRUE(p.max_from_appendlimit);
    EXPECT_EQ(dest_profile::make(dest_profile_kind::generic, std::nullopt, std::nullopt).max_message_size, std::nullopt);
    EXPECT_EQ(dest_profile::make(dest_profile_kind::generic, std::nullopt, 100).max_message_size, 100u);
}

TEST(dest_profile, messages_too_large_empty_or_dated_past_2038) {
    const auto c = dest_profile::make(dest_profile_kind::carbonio, std::nullopt, std::nullopt);
    using a = message_decision::action;
    EXPECT_EQ(decide_message(c, 10'240'000, "").what, a::send);
    EXPECT_EQ(decide_message(c, 10'240'001, "").what, a::too_large);
    EXPECT_EQ(decide_message(c, 0, "").what, a::empty);
    // 2038-01-19T03:14:07Z is the last second Carbonio stores (Integer.MAX_VALUE).
    EXPECT_FALSE(decide_message(c, 10, "19-Jan-2038 03:14:07 +0000").drop_internaldate);
    EXPECT_TRUE(decide_message(c, 10, "19-Jan-2038 03:14:08 +0000").drop_internaldate);
    EXPECT_FALSE(decide_message(c, 10, "19-Jan-2038 04:14:07 +0100").drop_internaldate);
    EXPECT_TRUE(decide_message(c, 10, "19-Jan-2038 04:14:08 +0100").drop_internaldate);
    EXPECT_TRUE(decide_message(c, 10, "01-Jan-2040 00:00:00 +0000").drop_internaldate);
    EXPECT_FALSE(decide_message(c, 10, "07-Jul-2022 07:07:07 +0000").drop_internaldate);

    const auto g = dest_profile::make(dest_profile_kind::generic, std::nullopt, std::nullopt);
    EXPECT_EQ(decide_message(g, 0, "").what, a::send);
    EXPECT_FALSE(decide_message(g, 10, "01-Jan-2040 00:00:00 +0000").drop_internaldate);
    EXPECT_EQ(decide_message(g, 1u << 30, "").what, a::send);
}

TEST(dest_profile, internaldate_epoch_reads_imap_dates) {
    EXPECT_EQ(internaldate_epoch("01-Jan-1970 00:00:00 +0000"), 0);
    EXPECT_EQ(internaldate_epoch(" 1-Jan-1970 01:00:00 +0100"), 0);
    EXPECT_EQ(internaldate_epoch("\"19-Jan-2038 03:14:07 +0000\""), 2147483647);
    EXPECT_EQ(internaldate_epoch("31-Dec-1969 23:59:59 +0000"), -1);
    EXPECT_EQ(internaldate_epoch("garbage"), std::nullopt);
    EXPECT_EQ(internaldate_epoch("01-Foo-2020 00:00:00 +0000"), std::nullopt);
}

TEST(dest_profile, folder_names_lose_forbidden_characters) {
    const auto a = adapt_folder_paths(dest_profile_kind::carbonio,
                                      {{"a:b"}, {"say \"hi\""}, {"tab\there"}, {"trailing  "}, {"."}, {".."}, {"INBOX", "x:y"}, {"fine"}});
    EXPECT_EQ(levels_of(a, 0), (std::vector<std::string>{"a_b"}));
    EXPECT_EQ(levels_of(a, 1), (std::vector<std::string>{"say _hi_"}));
    EXPECT_EQ(levels_of(a, 2), (std::vector<std::string>{"tab_here"}));
    EXPECT_EQ(levels_of(a, 3), (std::vector<std::string>{"trailing"}));
    EXPECT_EQ(levels_of(a, 4), (std::vector<std::string>{"_"}));
    EXPECT_EQ(levels_of(a, 5), (std::vector<std::string>{"__"}));
    EXPECT_EQ(levels_of(a, 6), (std::vector<std::string>{"INBOX", "x_y"}));
    EXPECT_EQ(levels_of(a, 7), (std::vector<std::string>{"fine"}));
    EXPECT_NE(a[0].note.find("renamed for Carbonio"), std::string::npos);
    EXPECT_TRUE(a[7].note.empty());
}

TEST(dest_profile, reserved_top_level_moves_with_its_subfolders) {
    const auto a = adapt_folder_paths(dest_profile_kind::carbonio,
                                      {{"Contacts"}, {"Contacts", "Old"}, {"CALENDAR"}, {"notebook"}, {"Work", "Contacts"}, {"Contacts (mail)"}});
    EXPECT_EQ(levels_of(a, 0), (std::vector<std::string>{"Contacts (mail) (2)"}));
    EXPECT_EQ(levels_of(a, 1), (std::vector<std::string>{"Contacts (mail) (2)", "Old"}));
    EXPECT_EQ(levels_of(a, 2), (std::vector<std::string>{"CALENDAR (mail)"}));
    EXPECT_EQ(levels_of(a, 3), (std::vector<std::string>{"notebook (mail)"}));
    EXPECT_EQ(levels_of(a, 4), (std::vector<std::string>{"Work", "Contacts"}));   // only the top level is reserved
    EXPECT_EQ(levels_of(a, 5), (std::vector<std::string>{"Contacts (mail)"}));     // a name of its own is never taken
    EXPECT_NE(a[1].note.find("parent 'Contacts' was renamed"), std::string::npos) << a[1].note;
}

TEST(dest_profile, nothing_lands_below_junk) {
    const auto a = adapt_folder_paths(dest_profile_kind::carbonio, {{"Junk"}, {"Junk", "Old"}, {"Junk", "x:y", "deep"}, {"Work", "Junk", "Sub"}});
    EXPECT_EQ(levels_of(a, 0), (std::vector<std::string>{"Junk"}));
    EXPECT_EQ(levels_of(a, 1), (std::vector<std::string>{"Junk folders", "Old"}));
    EXPECT_EQ(levels_of(a, 2), (std::vector<std::string>{"Junk folders", "x_y", "deep"}));
    EXPECT_EQ(levels_of(a, 3), (std::vector<std::string>{"Work", "Junk", "Sub"}));   // only the top-level Junk
    // Any case: Carbonio compares the Spam folder's name without it.
    EXPECT_EQ(levels_of(adapt_folder_paths(dest_profile_kind::carbonio, {{"junk", "a"}}), 0), (std::vector<std::string>{"Junk folders", "a"}));
    EXPECT_NE(a[1].note.find("NoInferiors"), std::string::npos) << a[1].note;
    EXPECT_TRUE(a[0].note.empty());
}

TEST(dest_profile, long_names_are_cut_on_characters_and_kept_apart) {
    // Two 261-character names that agree on their first 255: cut, then numbered apart.
    const std::string a1 = std::string(260, 'x') + "A", a2 = std::string(260, 'x') + "B";
    // 300 characters of U+00E9 (2 bytes each): cut at 255 characters, never inside one.
    std::string accents;
    for (int i = 0; i < 300; ++i) accents += "\xC3\xA9";
    const auto a = adapt_folder_paths(dest_profile_kind::carbonio, {{a1}, {a2}, {accents}, {a1, "child"}});
    EXPECT_EQ(levels_of(a, 0)[0], std::string(255, 'x'));
    EXPECT_EQ(levels_of(a, 1)[0], std::string(251, 'x') + " (2)");
    EXPECT_EQ(levels_of(a, 2)[0].size(), 510u);
    EXPECT_EQ(levels_of(a, 3), (std::vector<std::string>{std::string(255, 'x'), "child"}));
    EXPECT_NE(a[0].note.find("255"), std::string::npos);
}

TEST(dest_profile, folder_mapping_is_independent_of_input_order) {
    const std::vector<std::vector<std::string>> one = {{"a:b"}, {"a_b"}, {"a\"b"}};
    const std::vector<std::vector<std::string>> two = {{"a\"b"}, {"a_b"}, {"a:b"}};
    const auto x = adapt_folder_paths(dest_profile_kind::carbonio, one);
    const auto y = adapt_folder_paths(dest_profile_kind::carbonio, two);
    EXPECT_EQ(levels_of(x, 1), (std::vector<std::string>{"a_b"}));   // the unchanged name keeps its name
    EXPECT_EQ(levels_of(x, 0), levels_of(y, 2));
    EXPECT_EQ(levels_of(x, 2), levels_of(y, 0));
    EXPECT_NE(levels_of(x, 0), levels_of(x, 2));
    // Carbonio's names are case-insensitive: "Foo" and "foo" cannot both exist. The first in byte order
    // keeps its name.
    const auto c = adapt_folder_paths(dest_profile_kind::carbonio, {{"foo"}, {"Foo"}});
    EXPECT_EQ(levels_of(c, 0), (std::vector<std::string>{"foo (2)"}));
    EXPECT_EQ(levels_of(c, 1), (std::vector<std::string>{"Foo"}));
}

TEST(dest_profile, generic_leaves_folder_names_alone) {
    const std::vector<std::vector<std::string>> in = {{"a:b"}, {"Contacts"}, {std::string(300, 'x')}};
    const auto a = adapt_folder_paths(dest_profile_kind::generic, in);
    for (std::size_t i = 0; i < in.size(); ++i) {
        EXPECT_EQ(a[i].levels, in[i]);
        EXPECT_TRUE(a[i].note.empty());
    }
}

TEST(dest_profile, folder_plan_applies_the_rule_and_reports_it) {
    const folder_namespace ns{"", '/'};
    const std::vector<mailbox_entry> src = {{"INBOX", {}, true}, {"Contacts", {}, true}, {"Contacts/Sub", {}, false}, {"x:y", {}, false}};
    const auto plan = plan_folders(src, ns, {{"INBOX", {}, true}}, ns, {}, true, dest_profile_kind::carbonio);
    std::map<std::string, std::string> dest;
    for (const auto& e : plan.entries) dest[e.source_name] = e.dest_name;
    EXPECT_EQ(dest["Contacts"], "Contacts (mail)");
    EXPECT_EQ(dest["Contacts/Sub"], "Contacts (mail)/Sub");
    EXPECT_EQ(dest["x:y"], "x_y");
    EXPECT_TRUE(plan.errors.empty());
    for (const auto& e : plan.entries) {
        if (e.source_name == "x:y") {
            EXPECT_NE(e.note.find("renamed for Carbonio"), std::string::npos);
            EXPECT_TRUE(e.renamed_by_profile);
        }
    }
    // A filter that leaves "a_b" out does not renumber "a:b": the rule saw both either way.
    const std::vector<mailbox_entry> pair = {{"INBOX", {}, true}, {"a:b", {}, false}, {"a\"b", {}, false}};
    const auto all = plan_folders(pair, ns, {}, ns, {}, true, dest_profile_kind::carbonio);
    const auto some = plan_folders(pair, ns, {}, ns, {{}, {"^a\"b$"}}, true, dest_profile_kind::carbonio);
    auto dest_of = [](const folder_plan& p, const std::string& name) {
        for (const auto& e : p.entries) {
            if (e.source_name == name) return e.dest_name;
        }
        return std::string("(none)");
    };
    EXPECT_EQ(dest_of(all, "a:b"), dest_of(some, "a:b"));
    EXPECT_NE(dest_of(all, "a:b"), dest_of(all, "a\"b"));
    EXPECT_EQ(dest_of(some, "a\"b"), "(none)");
    const auto generic = plan_folders(src, ns, {{"INBOX", {}, true}}, ns, {});
    for (const auto& e : generic.entries) EXPECT_EQ(e.source_name, e.dest_name);
}

TEST(dest_profile, carbonio_keywords_follow_facts) {
    std::vector<flag_change> ch;
    const auto f = adapt_flags(dest_profile_kind::carbonio, "INBOX",
                               {"\\Seen", "\\Recent", "\\Foo", "$Forwarded", "NotJunk", "$Junk", "Work", "Name:FLAG3", "a:b",
                                "Bad:Name:FLAG4", "100%", "caf\xC3\xA9", "br]acket", "$Label1", std::string(256, 'k')},
                               permanent_flags{}, ch);
    EXPECT_EQ(f, (std::vector<std::string>{"\\Seen", "$Forwarded", "NotJunk", "$Junk", "Work", "Name", "$Label1"}));
    std::map<std::string, std::string> changed;
    for (const auto& c : ch) changed[c.from] = c.to;
    EXPECT_EQ(changed.size(), 8u);
    EXPECT_EQ(changed[std::string(256, 'k')], "");
    EXPECT_EQ(changed["Name:FLAG3"], "Name");
    EXPECT_EQ(changed["a:b"], "");
    EXPECT_EQ(changed["Bad:Name:FLAG4"], "");
    EXPECT_EQ(changed["100%"], "");
    EXPECT_EQ(changed["caf\xC3\xA9"], "");
    EXPECT_EQ(changed["br]acket"], "");
    EXPECT_EQ(changed["\\Foo"], "");
}

TEST(dest_profile, generic_keywords_keep_todays_rewrite) {
    std::vector<flag_change> a, b;
    const std::vector<std::string> in = {"Name:FLAG51135", "a:b", "%%", "Work"};
    EXPECT_EQ(adapt_flags(dest_profile_kind::generic, "INBOX", in, permanent_flags{}, a), map_flags(in, permanent_flags{}, b));
    EXPECT_EQ(a.size(), b.size());
}

TEST(dest_profile, flag_list_kept_under_the_command_line_limit) {
    std::vector<std::string> many = {"\\Seen"};
    for (int i = 0; i < 2000; ++i) many.push_back(fmt::format("kw{:04}", i));
    std::vector<flag_change> ch;
    const auto f = adapt_flags(dest_profile_kind::carbonio, "INBOX", many, permanent_flags{}, ch);
    std::size_t line = 0;
    for (const auto& x : f) line += x.size() + 1;
    EXPECT_LT(line + 64, carbonio_max_request_line);
    EXPECT_EQ(f.front(), "\\Seen");
    EXPECT_EQ(f.size() + ch.size(), many.size());
    EXPECT_GT(ch.size(), 0u);
}

namespace {

using clk = append_guard::clock;

std::vector<append_signature::message> same(std::size_t n, std::uint64_t size = 42) {
    return std::vector<append_signature::message>(n, {"01-Jan-2020 00:00:00 +0000", {"\\Seen"}, size});
}

// Sends a plan's commands as refused or accepted, the way the driver feeds the guard.
void feed(append_guard& g, const std::string& box, const std::vector<append_signature::message>& m,
          const append_guard::plan_result& p, bool ok, clk::time_point now) {
    for (const auto& s : p.steps) {
        if (s.noop) {
            g.on_noop_ok();
            continue;
        }
        append_signature sg{box, {m.begin() + static_cast<std::ptrdiff_t>(s.from), m.begin() + static_cast<std::ptrdiff_t>(s.to)}};
        g.on_append(sg, ok, now);
    }
}

}  // namespace

TEST(append_guard, noop_before_a_fifth_refusal_in_a_row) {
    const auto t = clk::now();
    append_guard g(dest_profile_kind::carbonio);
    std::vector<append_signature::message> eight;
    for (std::uint64_t i = 0; i < 8; ++i) eight.push_back({"", {}, 100 + i});
    const auto plan = g.plan("INBOX", eight, false, t);
    // Worst case every APPEND is refused: never more than 4 without a NOOP between.
    int run = 0, noops = 0;
    std::size_t next = 0;
    for (const auto& s : plan.steps) {
        if (s.noop) {
            run = 0;
            ++noops;
            continue;
        }
        EXPECT_EQ(s.from, next);
        EXPECT_EQ(s.to, next + 1);
        next = s.to;
        EXPECT_LT(++run, carbonio_max_consecutive_errors);
    }
    EXPECT_EQ(next, 8u);
    EXPECT_EQ(noops, 1);
    EXPECT_EQ(plan.deferred_from, 8u);
    // After a refused MULTIAPPEND the count starts at 1: the NOOP comes one command earlier.
    g.on_append({"INBOX", eight}, false, t);
    const auto after = g.plan("INBOX", eight, false, t);
    EXPECT_TRUE(after.steps[3].noop);
    for (int i = 0; i < 3; ++i) g.on_append({"INBOX", {eight[0]}}, false, t);
    EXPECT_TRUE(g.needs_noop_before_command());
    g.on_noop_ok();
    EXPECT_EQ(g.consecutive_errors(), 0);
    g.on_other(false);
    EXPECT_EQ(g.consecutive_errors(), 1);
}

TEST(append_guard, thirty_identical_messages_all_go_without_a_26th_identical_append) {
    const auto t = clk::now();
    append_guard g(dest_profile_kind::carbonio);
    const auto m = same(30);
    // In one MULTIAPPEND they are one command.
    const auto whole = g.plan("INBOX", m, true, t);
    ASSERT_EQ(whole.steps.size(), 1u);
    EXPECT_EQ(whole.steps[0].to, 30u);
    // One by one (after a refusal): 25 single APPENDs, then the rest in MULTIAPPENDs whose lists differ.
    const auto singles = g.plan("INBOX", m, false, t);
    EXPECT_EQ(singles.deferred_from, 30u);
    std::map<std::uint64_t, int> uses;
    std::size_t covered = 0;
    for (const auto& s : singles.steps) {
        if (s.noop) continue;
        EXPECT_EQ(s.from, covered);
        covered = s.to;
        ++uses[signature_hash({"INBOX", {m.begin() + static_cast<std::ptrdiff_t>(s.from), m.begin() + static_cast<std::ptrdiff_t>(s.to)}})];
    }
    EXPECT_EQ(covered, 30u);
    for (const auto& [k, n] : uses) EXPECT_LE(n, carbonio_identical_command_limit);
    // What was sent counts for the next plan, on any connection of the account, for 5 minutes.
    feed(g, "INBOX", m, singles, true, t);
    g.on_reconnect(dest_profile_kind::carbonio);
    EXPECT_EQ(g.sent_recently({"INBOX", {m[0]}}, t), 25u);
    const auto again = g.plan("INBOX", same(1), false, t + std::chrono::seconds(60));
    EXPECT_TRUE(again.steps.empty());
    EXPECT_EQ(again.deferred_from, 0u);
    EXPECT_EQ(g.plan("INBOX", same(1), false, t + std::chrono::minutes(6)).steps.size(), 1u);
    // Another size is another signature.
    EXPECT_EQ(g.plan("INBOX", same(1, 43), false, t).steps.size(), 1u);
}

TEST(append_guard, generic_plans_plain_commands) {
    const auto t = clk::now();
    append_guard g;
    for (int i = 0; i < 40; ++i) g.on_append({"INBOX", same(1)}, false, t);
    EXPECT_FALSE(g.needs_noop_before_command());
    EXPECT_EQ(g.plan("INBOX", same(40), false, t).steps.size(), 40u);
    EXPECT_EQ(g.plan("INBOX", same(40), true, t).steps.size(), 1u);
}

// The index path reads the Date field only when some profile would not take the INTERNALDATE.
TEST(dest_profile, internaldate_usable_anywhere_is_the_strictest_test) {
    const std::int64_t now = 1796428800;   // 2026-12-05 00:00:00 UTC
    EXPECT_TRUE(internaldate_usable_anywhere("17-Jul-1996 02:44:25 -0700", now));
    EXPECT_FALSE(internaldate_usable_anywhere("", now));
    EXPECT_FALSE(internaldate_usable_anywhere("yesterday", now));
    EXPECT_FALSE(internaldate_usable_anywhere(" 1-Jan-1970 00:00:00 +0000", now));
    EXPECT_FALSE(internaldate_usable_anywhere(" 1-Jan-2030 00:00:00 +0000", now));
    EXPECT_FALSE(internaldate_usable_anywhere("20-Jan-2038 00:00:00 +0000", 2200000000));   // Carbonio's limit
    EXPECT_TRUE(internaldate_usable_anywhere("18-Jan-2038 00:00:00 +0000", 2200000000));
}

// choose_append_date: the INTERNALDATE when usable, else the Date field's instant in UTC, else none; the
// reason names what was wrong with each.
TEST(dest_profile, append_date_falls_back_to_the_date_field) {
    const dest_profile generic = dest_profile::make(dest_profile_kind::generic, std::nullopt, std::nullopt);
    const dest_profile carbonio = dest_profile::make(dest_profile_kind::carbonio, std::nullopt, std::nullopt);
    const std::int64_t now = 1796428800;            // 2026-12-05 00:00:00 UTC
    const std::int64_t header = 1577934245;         // 2020-01-02 03:04:05 UTC

    const append_date kept = choose_append_date(generic, "17-Jul-1996 02:44:25 -0700", header, now);
    EXPECT_EQ(kept.from, append_date::source::internaldate);
    EXPECT_EQ(kept.date, "17-Jul-1996 02:44:25 -0700");
    EXPECT_TRUE(kept.reason.empty());

    const append_date missing = choose_append_date(generic, "", header, now);
    EXPECT_EQ(missing.from, append_date::source::date_header);
    EXPECT_EQ(missing.date, "02-Jan-2020 03:04:05 +0000");
    EXPECT_EQ(missing.reason, "no INTERNALDATE");

    const append_date lost = choose_append_date(generic, " 1-Jan-1970 00:00:00 +0000", header, now);
    EXPECT_EQ(lost.from, append_date::source::date_header);
    EXPECT_EQ(lost.reason, "INTERNALDATE  1-Jan-1970 00:00:00 +0000 is before 1971 (a lost date)");

    // After 2038 only Carbonio refuses; a generic destination keeps what it is given (unless it is in the future).
    const append_date late_generic = choose_append_date(generic, "20-Jan-2038 00:00:00 +0000", header, 2200000000);
    EXPECT_EQ(late_generic.from, append_date::source::internaldate);
    const append_date late = choose_append_date(carbonio, "20-Jan-2038 00:00:00 +0000", header, 2200000000);
    EXPECT_EQ(late.from, append_date::source::date_header);
    EXPECT_EQ(late.reason, "INTERNALDATE 20-Jan-2038 00:00:00 +0000 is after 2038-01-19, which Carbonio refuses");

    const append_date future = choose_append_date(generic, " 1-Jan-2030 00:00:00 +0000", header, now);
    EXPECT_EQ(future.from, append_date::source::date_header);
    EXPECT_EQ(future.reason, "INTERNALDATE  1-Jan-2030 00:00:00 +0000 is in the future");

    const append_date bad = choose_append_date(generic, "yesterday", std::nullopt, now);
    EXPECT_EQ(bad.from, append_date::source::none);
    EXPECT_TRUE(bad.date.empty());
    EXPECT_EQ(bad.reason, "INTERNALDATE 'yesterday' is not an IMAP date-time; no usable Date field");

    const append_date both = choose_append_date(carbonio, "", std::int64_t{2200000000}, 2300000000);
    EXPECT_EQ(both.from, append_date::source::none);
    EXPECT_EQ(both.reason, "no INTERNALDATE; the Date field is after 2038-01-19, which Carbonio refuses");
    EXPECT_EQ(to_string(both.from), "none");
}

TEST(dest_profile, cyrus_detected_and_its_refusals_kept_back) {
    // What the testbed's Cyrus 3.6 says (tools/testbed/cyrus.sh).
    server_identity by_id{"ready", {{"name", "Cyrus IMAPD"}, {"vendor", "Project Cyrus"}}, {"IMAP4rev1", "ID"}};
    auto d = detect_dest_profile(by_id);
    EXPECT_EQ(d.kind, dest_profile_kind::cyrus);
    EXPECT_NE(d.evidence.find("Cyrus IMAPD"), std::string::npos);
    server_identity by_greeting{"[CAPABILITY IMAP4rev1 LITERAL+ ID] localhost Cyrus IMAP 3.6.1-Debian server ready", {}, {}};
    EXPECT_EQ(detect_dest_profile(by_greeting).kind, dest_profile_kind::cyrus);
    EXPECT_EQ(resolve_dest_profile(dest_profile_choice::cyrus, server_identity{}).kind, dest_profile_kind::cyrus);
    EXPECT_EQ(parse_dest_profile_choice("cyrus"), dest_profile_choice::cyrus);
    EXPECT_EQ(to_string(dest_profile_kind::cyrus), "cyrus");

    // NO "Zero-length message literal"; BAD "Invalid date-time in Append command" before 1970.
    const auto p = dest_profile::make(dest_profile_kind::cyrus, 4294967295u, std::nullopt);
    using a = message_decision::action;
    EXPECT_EQ(decide_message(p, 0, "").what, a::empty);
    EXPECT_EQ(decide_message(p, 10, "").what, a::send);
    EXPECT_TRUE(decide_message(p, 10, "31-Dec-1969 23:59:59 +0000").drop_internaldate);
    EXPECT_FALSE(decide_message(p, 10, "01-Jan-1970 00:00:00 +0000").drop_internaldate);
    EXPECT_FALSE(decide_message(p, 10, "01-Jan-2100 00:00:00 +0000").drop_internaldate);   // Cyrus takes it
    // Folder names and keywords as under generic.
    EXPECT_EQ(adapt_folder_paths(dest_profile_kind::cyrus, {{"a: b", "Contacts"}})[0].levels, (std::vector<std::string>{"a: b", "Contacts"}));
}

// A message with NUL: Cyrus answers NO "Message contains NUL characters" to a plain literal and stores a
// literal8 byte for byte (it offers BINARY); no NUL, no change.
TEST(dest_profile, nul_bytes_go_as_literal8_where_binary_is_offered) {
    using b = body_literal;
    for (auto k : {dest_profile_kind::generic, dest_profile_kind::carbonio, dest_profile_kind::cyrus}) {
        EXPECT_EQ(choose_body_literal(k, false, true), b::plain);
        EXPECT_EQ(choose_body_literal(k, false, false), b::plain);
        EXPECT_EQ(choose_body_literal(k, true, true), b::binary);
    }
    EXPECT_EQ(choose_body_literal(dest_profile_kind::cyrus, true, false), b::refused);
    EXPECT_EQ(choose_body_literal(dest_profile_kind::generic, true, false), b::plain);
    EXPECT_NE(nul_refused_reason.find("Message contains NUL characters"), std::string_view::npos);
}

}  // namespace dest_profile_test
