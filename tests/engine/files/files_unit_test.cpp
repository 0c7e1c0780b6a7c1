// engine/files on bytes: the Zimbra .meta reader, the WebDAV listing, Carbonio Files' GraphQL and upload
// replies, the name mapping, and a tgz read end to end from an archive written here with libarchive.
#include <archive.h>
#include <archive_entry.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/files/carbonio_files.hpp"
#include "engine/files/dav_listing.hpp"
#include "engine/files/name_map.hpp"
#include "engine/files/source_tree.hpp"
#include "engine/files/zimbra_meta.hpp"

namespace arrival::files {
// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace files_unit_test {

TEST(zimbra_meta, document_with_revision) {
    zimbra_item it;
    ASSERT_EQ(parse_zimbra_meta(R"({"id":300,"type":8,"date":1700000000,"size":12,"name":"Plan é.txt",)"
                                R"("metadata":"d1:ai1e3:veri3e4:zzzz1:ae","Path":"/Briefcase/Projekte/Plan é.txt","Ver":10})",
                                it),
              "");
    EXPECT_EQ(it.type, zimbra_type_document);
    EXPECT_EQ(it.size, 12u);
    EXPECT_EQ(it.date, 1700000000);
    EXPECT_EQ(it.version, 3);
    EXPECT_EQ(it.path, "/Briefcase/Projekte/Plan é.txt");
    std::vector<std::string> dirs;
    std::string name;
    ASSERT_TRUE(split_document_path(it.path, dirs, name));
    EXPECT_EQ(dirs, std::vector<std::string>{"Projekte"});
    EXPECT_EQ(name, "Plan é.txt");
    ASSERT_TRUE(split_document_path("/Docs//x", dirs, name));
    EXPECT_EQ(dirs, std::vector<std::string>{"Docs"});
    EXPECT_FALSE(split_document_path("/", dirs, name));
}

TEST(zimbra_meta, refusals) {
    zimbra_item it;
    EXPECT_EQ(parse_zimbra_meta("[1]", it), "not a JSON object");
    EXPECT_EQ(parse_zimbra_meta("{\"type\":8}", it), "no \"size\"");
    EXPECT_EQ(parse_zimbra_meta("{\"size\":1}", it), "no integer \"type\"");
    EXPECT_EQ(parse_zimbra_meta("{nope", it), "not a JSON object");
    ASSERT_EQ(parse_zimbra_meta(R"({"type":8,"size":0,"metadata":"3:veri0e"})", it), "");
    EXPECT_EQ(it.version, 1) << "a zero revision is no revision";
}

// Apache mod_dav's answer, as the testbed's httpd gives it (lp1/lp2 prefixes, lower-case escapes).
constexpr std::string_view apache_listing = R"(<?xml version="1.0" encoding="utf-8"?>
<D:multistatus xmlns:D="DAV:">
<D:response xmlns:lp1="DAV:" xmlns:lp2="http://apache.org/dav/props/">
<D:href>/dav/user291@example.test/</D:href>
<D:propstat><D:prop><lp1:resourcetype><D:collection/></lp1:resourcetype>
<lp1:getlastmodified>Sat, 05 Dec 2026 03:51:18 GMT</lp1:getlastmodified></D:prop>
<D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
<D:response xmlns:lp1="DAV:">
<D:href>/dav/user291@example.test/h%c3%a9.txt</D:href>
<D:propstat><D:prop><lp1:resourcetype/><lp1:getcontentlength>3</lp1:getcontentlength>
<lp1:getlastmodified>Sat, 05 Dec 2026 03:51:18 GMT</lp1:getlastmodified></D:prop>
<D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
<D:response><D:href>https://localhost:8443/dav/user291@example.test/Sub%20dir/</D:href>
<D:propstat><D:prop><D:resourcetype><D:collection/></D:resourcetype></D:prop>
<D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
</D:multistatus>)";

TEST(dav_listing, children_of_an_apache_collection) {
    std::vector<http::dav_response> parsed;
    ASSERT_EQ(http::parse_multistatus(apache_listing, parsed), "");
    std::vector<remote_entry> out;
    ASSERT_EQ(dav_children(parsed, "/dav/user291%40example.test", out), "");
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].name, "hé.txt");
    EXPECT_FALSE(out[0].folder);
    EXPECT_EQ(out[0].size, 3u);
    EXPECT_EQ(out[0].mtime, 1796442678);
    EXPECT_EQ(out[0].id, "/dav/user291@example.test/h%c3%a9.txt");
    EXPECT_EQ(out[1].name, "Sub dir");
    EXPECT_TRUE(out[1].folder);
    EXPECT_EQ(out[1].id, "/dav/user291@example.test/Sub%20dir/");
}

TEST(dav_listing, http_dates) {
    EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
    EXPECT_FALSE(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"));
    EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT trailing"));
}

TEST(carbonio_files, queries_use_variables) {
    const auto q = nlohmann::json::parse(children_query("f1", 200, ""));
    EXPECT_NE(q["query"].get<std::string>().find("getNode(node_id: $id)"), std::string::npos);
    EXPECT_EQ(q["variables"]["id"], "f1");
    EXPECT_TRUE(q["variables"]["cursor"].is_null());
    const auto c = nlohmann::json::parse(create_folder_query("LOCAL_ROOT", "Ünter \"x\""));
    EXPECT_EQ(c["variables"]["name"], "Ünter \"x\"");
    EXPECT_NE(c["query"].get<std::string>().find("createFolder(destination_id: $parent, name: $name)"),
              std::string::npos);
}

TEST(carbonio_files, replies) {
    std::vector<remote_entry> out;
    bool full = true;
    ASSERT_EQ(read_children(R"({"data":{"getNode":{"id":"LOCAL_ROOT","children":[)"
                            R"({"id":"a","name":"Docs","type":"FOLDER","updated_at":1700000000123},)"
                            R"({"id":"b","name":"x.pdf","type":"APPLICATION","size":5,"version":2,"updated_at":1000}]}}})",
                            2, out, full),
              "");
    ASSERT_EQ(out.size(), 2u);
    EXPECT_TRUE(full);
    EXPECT_TRUE(out[0].folder);
    EXPECT_EQ(out[0].mtime, 1700000000);
    EXPECT_EQ(out[1].size, 5u);
    EXPECT_EQ(out[1].version, 2);
    EXPECT_EQ(read_children(R"({"data":null,"errors":[{"message":"no such node"}]})", 2, out, full),
              "GraphQL error: no such node");
    EXPECT_EQ(read_children(R"({"data":{"getNode":null}})", 2, out, full), "getNode found no such folder");
    remote_entry made;
    ASSERT_EQ(read_created_folder(R"j({"data":{"createFolder":{"id":"n","name":"Docs (1)","type":"FOLDER"}}})j", made), "");
    EXPECT_EQ(made.name, "Docs (1)");
    std::string node;
    int version = 0;
    ASSERT_EQ(read_upload_reply(R"({"nodeId":"u-1","version":1})", node, version), "");
    EXPECT_EQ(node, "u-1");
    EXPECT_EQ(version, 1);
    EXPECT_NE(read_upload_reply("<html>", node, version), "");
    const auto h = upload_headers("é.txt", "p");
    EXPECT_EQ(h[0], (std::pair<std::string, std::string>{"Filename", "w6kudHh0"}));
    EXPECT_EQ(h[1], (std::pair<std::string, std::string>{"ParentId", "p"}));
}

TEST(name_map, refused_characters_and_lengths) {
    EXPECT_EQ(map_name("Bericht é.txt", dest_kind::carbonio).why, "");
    auto m = map_name(std::string("a\tb\x01.txt"), dest_kind::webdav);
    EXPECT_EQ(m.name, "a_b_.txt");
    EXPECT_NE(m.why.find("control"), std::string::npos);
    m = map_name("caf\xe9.txt", dest_kind::carbonio);  // Latin-1 on disk
    EXPECT_EQ(m.name, "caf_.txt");
    EXPECT_NE(m.why.find("UTF-8"), std::string::npos);
    EXPECT_EQ(map_name("..", dest_kind::webdav).name, "__");
    EXPECT_EQ(map_name(".", dest_kind::webdav).name, "_");
    std::string longname(300, 'a');
    m = map_name(longname + ".pdf", dest_kind::webdav);
    EXPECT_EQ(m.name.size(), 255u);
    EXPECT_EQ(m.name.substr(251), ".pdf");
    std::string wide;
    for (int i = 0; i < 1100; ++i) wide += "é";
    m = map_name(wide + ".txt", dest_kind::carbonio);
    EXPECT_EQ(m.name.size(), 1020u * 2 + 4) << "1024 characters, extension kept, no character cut in half";
    EXPECT_EQ(map_name(wide, dest_kind::carbonio).name.size(), 2048u);
}

// A Zimbra-like export written with libarchive: a versioned document (two revisions), a plain one in a
// subfolder, an empty one, a message and a contact (left out), and a .meta that is not JSON.
class tgz_test : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() / ("files-unit-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir_);
        path_ = (dir_ / "u.tgz").string();
        archive* a = archive_write_new();
        archive_write_add_filter_gzip(a);
        archive_write_set_format_pax_restricted(a);
        ASSERT_EQ(archive_write_open_filename(a, path_.c_str()), ARCHIVE_OK);
        auto add = [&](const std::string& name, const std::string& data) {
            archive_entry* e = archive_entry_new();
            archive_entry_set_pathname(e, name.c_str());
            archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_perm(e, 0644);
            archive_write_header(a, e);
            archive_write_data(a, data.data(), data.size());
            archive_entry_free(e);
        };
        auto doc = [&](const std::string& member, const std::string& path, int ver, const std::string& data) {
            add(member + ".meta", nlohmann::json{{"type", 8}, {"size", data.size()}, {"date", 1700000000 + ver},
                                                  {"name", path.substr(path.rfind('/') + 1)}, {"Path", path},
                                                  {"metadata", "d3:veri" + std::to_string(ver) + "ee"}}
                                      .dump());
            add(member, data);
        };
        add("Inbox/0000000257-hi.eml.meta", R"({"type":5,"size":3})");
        add("Inbox/0000000257-hi.eml", "Hi\n");
        doc("Briefcase/Plan-00001.txt", "/Briefcase/Plan.txt", 1, "first");
        doc("Briefcase/Plan-00002.txt", "/Briefcase/Plan.txt", 2, "second!");
        doc("Briefcase/Sub/Ä b.bin", "/Briefcase/Sub/Ä b.bin", 1, std::string(100000, 'x'));
        doc("Briefcase/empty", "/Briefcase/empty", 1, "");
        add("Contacts/x.meta", R"({"type":6,"size":1})");
        add("Contacts/x", "x");
        add("Broken.meta", "{not json");
        archive_write_close(a);
        archive_write_free(a);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::filesystem::path dir_;
    std::string path_;
};

TEST_F(tgz_test, scan_and_extract_in_order) {
    const auto t = scan_zimbra_tgz(path_);
    ASSERT_EQ(t.files.size(), 4u);
    EXPECT_EQ(t.files[0].name, "Plan.txt");
    EXPECT_EQ(t.files[0].version, 1);
    EXPECT_EQ(t.files[1].version, 2);
    EXPECT_EQ(t.files[1].size, 7u);
    EXPECT_EQ(t.files[2].dirs, std::vector<std::string>{"Sub"});
    EXPECT_EQ(t.files[2].name, "Ä b.bin");
    EXPECT_EQ(t.files[3].size, 0u);
    EXPECT_EQ(t.folders, std::vector<std::vector<std::string>>{{"Sub"}});
    EXPECT_EQ(t.left_out.at("message"), 1u);
    EXPECT_EQ(t.left_out.at("contact"), 1u);
    ASSERT_EQ(t.problems.size(), 1u);
    EXPECT_EQ(t.problems[0].path, "Broken.meta");
    tgz_extractor x(path_);
    const auto out = (dir_ / "out").string();
    ASSERT_EQ(x.extract(t.files[1].origin, out), "");
    std::ifstream in(out);
    std::string got((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(got, "second!");
    ASSERT_EQ(x.extract(t.files[2].origin, out), "");
    EXPECT_EQ(std::filesystem::file_size(out), 100000u);
    EXPECT_NE(x.extract(t.files[0].origin, out), "") << "members are read in archive order only";
    EXPECT_THROW((void)scan_zimbra_tgz((dir_ / "missing.tgz").string()), std::runtime_error);
}

}  // namespace
}  // namespace arrival::files
