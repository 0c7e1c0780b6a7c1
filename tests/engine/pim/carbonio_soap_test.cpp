// The SOAP side of the Carbonio client on bytes: the envelopes zmmailbox sends (FACTS.md §7) parsed back,
// and recorded replies (the shapes Zimbra's SoapServlet writes: SOAP 1.2, a Fault with urn:zimbra Error/Code
// on HTTP 500) read as import_job reads them.
#include <gtest/gtest.h>

#include "engine/pim/carbonio_soap.hpp"

namespace arrival::pim {
// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace carbonio_soap_test {

const xml_element& body_of(const xml_element& envelope) {
    const auto* b = envelope.child(soap12_ns, "Body");
    EXPECT_NE(b, nullptr);
    static const xml_element none;
    return b && !b->children.empty() ? b->children.front() : none;
}

const xml_element* context_of(const xml_element& envelope) {
    const auto* h = envelope.child(soap12_ns, "Header");
    return h ? h->child(zimbra_ns, "context") : nullptr;
}

TEST(carbonio_soap, admin_auth_request_is_an_escaped_soap12_envelope) {
    const auto bytes = admin_auth_request("admin@example.test", "p<&>\"'w");
    xml_element doc;
    ASSERT_EQ(parse_xml(bytes, doc), "");
    EXPECT_EQ(doc.ns, soap12_ns);
    EXPECT_EQ(doc.name, "Envelope");
    ASSERT_NE(context_of(doc), nullptr);
    EXPECT_EQ(context_of(doc)->child(zimbra_ns, "authToken"), nullptr);
    const auto& req = body_of(doc);
    EXPECT_EQ(req.ns, zimbra_admin_ns);
    EXPECT_EQ(req.name, "AuthRequest");
    ASSERT_NE(req.child(zimbra_admin_ns, "name"), nullptr);
    EXPECT_EQ(req.child(zimbra_admin_ns, "name")->text, "admin@example.test");
    ASSERT_NE(req.child(zimbra_admin_ns, "password"), nullptr);
    EXPECT_EQ(req.child(zimbra_admin_ns, "password")->text, "p<&>\"'w");
}

TEST(carbonio_soap, delegate_auth_carries_the_admin_token_in_the_header) {
    const auto bytes = delegate_auth_request("0_abc&def", "user001@example.test");
    xml_element doc;
    ASSERT_EQ(parse_xml(bytes, doc), "");
    const auto* ctx = context_of(doc);
    ASSERT_NE(ctx, nullptr);
    ASSERT_NE(ctx->child(zimbra_ns, "authToken"), nullptr);
    EXPECT_EQ(ctx->child(zimbra_ns, "authToken")->text, "0_abc&def");
    const auto& req = body_of(doc);
    EXPECT_EQ(req.ns, zimbra_admin_ns);
    EXPECT_EQ(req.name, "DelegateAuthRequest");
    EXPECT_EQ(req.attribute("duration"), "86400");
    const auto* account = req.child(zimbra_admin_ns, "account");
    ASSERT_NE(account, nullptr);
    EXPECT_EQ(account->attribute("by"), "name");
    EXPECT_EQ(account->text, "user001@example.test");

    xml_element folder_doc;
    ASSERT_EQ(parse_xml(get_folder_request("tok"), folder_doc), "");
    EXPECT_EQ(context_of(folder_doc)->child(zimbra_ns, "authToken")->text, "tok");
    EXPECT_EQ(body_of(folder_doc).ns, zimbra_mail_ns);
    EXPECT_EQ(body_of(folder_doc).name, "GetFolderRequest");
}

TEST(carbonio_soap, an_auth_response_gives_its_token) {
    const std::string reply =
        "<soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\"><soap:Header><context "
        "xmlns=\"urn:zimbra\"/></soap:Header><soap:Body><DelegateAuthResponse xmlns=\"urn:zimbraAdmin\">"
        "<authToken>0_1a2b_3c</authToken><lifetime>86400000</lifetime></DelegateAuthResponse></soap:Body>"
        "</soap:Envelope>";
    std::string token;
    const auto out = read_auth_response(200, reply, token);
    EXPECT_EQ(out.error, "");
    EXPECT_EQ(token, "0_1a2b_3c");
}

// A refused password: HTTP 500 with a SOAP 1.2 Fault (SoapServlet); the code decides the exit status.
TEST(carbonio_soap, a_fault_names_its_code_and_reason) {
    const std::string fault =
        "<soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\"><soap:Body><soap:Fault>"
        "<soap:Code><soap:Value>soap:Sender</soap:Value></soap:Code><soap:Reason><soap:Text>authentication "
        "failed for [admin@example.test]</soap:Text></soap:Reason><soap:Detail><Error xmlns=\"urn:zimbra\">"
        "<Code>account.AUTH_FAILED</Code><Trace>qtp1-12:1700000000000:abc</Trace></Error></soap:Detail>"
        "</soap:Fault></soap:Body></soap:Envelope>";
    std::string token;
    const auto out = read_auth_response(500, fault, token);
    EXPECT_EQ(out.error, "SOAP fault account.AUTH_FAILED: authentication failed for [admin@example.test]");
    EXPECT_EQ(out.fault_code, "account.AUTH_FAILED");
    EXPECT_TRUE(out.auth_refused());
    EXPECT_TRUE(token.empty());

    const std::string no_account =
        "<soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\"><soap:Body><soap:Fault>"
        "<soap:Code><soap:Value>soap:Sender</soap:Value></soap:Code><soap:Reason><soap:Text>no such account: "
        "x@example.test</soap:Text></soap:Reason><soap:Detail><Error xmlns=\"urn:zimbra\"><Code>"
        "account.NO_SUCH_ACCOUNT</Code></Error></soap:Detail></soap:Fault></soap:Body></soap:Envelope>";
    const auto out2 = read_auth_response(500, no_account, token);
    EXPECT_EQ(out2.fault_code, "account.NO_SUCH_ACCOUNT");
    EXPECT_FALSE(out2.auth_refused());
}

TEST(carbonio_soap, a_reply_that_is_not_soap_is_one_line) {
    std::string token;
    auto out = read_auth_response(502, "<html><head><title>502 Bad Gateway</title></head><body>\n<h1>502 Bad "
                                       "Gateway</h1>\n</body></html>", token);
    EXPECT_EQ(out.error, "HTTP 502 without a SOAP reply: 502 Bad Gateway");
    out = read_auth_response(200, "", token);
    EXPECT_EQ(out.error, "HTTP 200 without a SOAP reply");
    out = read_auth_response(200,
                             "<soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\"><soap:Body>"
                             "<AuthResponse xmlns=\"urn:zimbraAdmin\"/></soap:Body></soap:Envelope>",
                             token);
    EXPECT_EQ(out.error, "AuthResponse without an authToken");
}

// GetFolderResponse: a tree of <folder>; <link> (a mountpoint) and <search> are not this mailbox's folders.
TEST(carbonio_soap, folders_are_read_as_a_tree_of_paths) {
    const std::string reply =
        "<soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\"><soap:Body>"
        "<GetFolderResponse xmlns=\"urn:zimbraMail\"><folder id=\"1\" name=\"USER_ROOT\" l=\"11\">"
        "<folder id=\"2\" name=\"Inbox\" l=\"1\" view=\"message\"/>"
        "<folder id=\"10\" name=\"Calendar\" l=\"1\" view=\"appointment\"/>"
        "<folder id=\"7\" name=\"Contacts\" l=\"1\" view=\"contact\"/>"
        "<folder id=\"257\" name=\"Work\" l=\"1\" view=\"appointment\">"
        "<folder id=\"258\" name=\"Team &amp; Co\" l=\"257\" view=\"appointment\"/></folder>"
        "<link id=\"300\" name=\"Boss\" l=\"1\" view=\"appointment\" owner=\"boss@example.test\" rid=\"10\"/>"
        "<search id=\"301\" name=\"flagged\" l=\"1\" query=\"is:flagged\"/>"
        "</folder></GetFolderResponse></soap:Body></soap:Envelope>";
    std::vector<mail_folder> folders;
    const auto out = read_folders(200, reply, folders);
    ASSERT_EQ(out.error, "");
    std::vector<std::string> calendars;
    for (const auto& f : folders) {
        if (f.view == "appointment") calendars.push_back(f.path);
    }
    EXPECT_EQ(calendars, (std::vector<std::string>{"/Calendar", "/Work", "/Work/Team & Co"}));
    ASSERT_EQ(folders.size(), 6u);
    EXPECT_EQ(folders[0].path, "/");
    EXPECT_EQ(folders[3].id, "7");
    EXPECT_EQ(folders[3].path, "/Contacts");
    // absFolderPath, when the server gives it, is taken as is.
    folders.clear();
    ASSERT_EQ(read_folders(200,
                           "<soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\"><soap:Body>"
                           "<GetFolderResponse xmlns=\"urn:zimbraMail\"><folder id=\"1\" absFolderPath=\"/\">"
                           "<folder id=\"10\" name=\"Calendar\" absFolderPath=\"/Calendar\" view=\"appointment\"/>"
                           "</folder></GetFolderResponse></soap:Body></soap:Envelope>",
                           folders)
                  .error,
              "");
    ASSERT_EQ(folders.size(), 2u);
    EXPECT_EQ(folders[1].path, "/Calendar");
}

TEST(carbonio_soap, malformed_xml_is_an_error_with_its_line) {
    xml_element doc;
    EXPECT_NE(parse_xml("<a>\n<b></a>", doc).find("line 2"), std::string::npos);
}

}  // namespace
}  // namespace arrival::pim
