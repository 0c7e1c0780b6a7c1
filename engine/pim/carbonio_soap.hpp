// The SOAP calls the Carbonio REST client needs, as bytes (sans-I/O; import_job sends them). They are the
// calls `zmmailbox -z -m USER` makes (FACTS.md §7): XML SOAP 1.2 envelopes, with
//   AuthRequest (urn:zimbraAdmin)          on the admin SOAP URL (https://HOST:7071/service/admin/soap):
//                                          the admin's name and password, answered with an admin token;
//   DelegateAuthRequest (urn:zimbraAdmin)  the same URL, the admin token in the SOAP header: a token acting
//                                          as one user (needs the adminLoginAs right, FACTS.md §3);
//   GetFolderRequest (urn:zimbraMail)      the user SOAP URL (https://HOST/service/soap), the delegated token
//                                          in the header: the user's folder tree, so every calendar
//                                          (view="appointment") can be read before posting (FACTS.md §2:
//                                          a UID found in another calendar would be moved silently).
// The delegated token then goes to the REST URLs as the ZM_AUTH_TOKEN cookie. Tokens are credentials: they
// appear in request bodies and headers only, never in an error text.
//
// A failure comes back as a SOAP Fault (HTTP 500 in SOAP 1.2): its Zimbra code (urn:zimbra Error/Code, e.g.
// account.AUTH_FAILED) and its Reason text make the error; anything else (an HTML page from a proxy) becomes
// one line naming the HTTP status.
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace arrival::pim {

inline constexpr std::string_view soap12_ns = "http://www.w3.org/2003/05/soap-envelope";
inline constexpr std::string_view zimbra_ns = "urn:zimbra";
inline constexpr std::string_view zimbra_admin_ns = "urn:zimbraAdmin";
inline constexpr std::string_view zimbra_mail_ns = "urn:zimbraMail";
inline constexpr std::string_view soap_content_type = "application/soap+xml; charset=utf-8";

// One element of a parsed XML document, names split into namespace URI and local name.
struct xml_element {
    std::string ns;
    std::string name;
    std::vector<std::pair<std::string, std::string>> attributes;  // local names (unprefixed attributes)
    std::string text;                                            // character data directly inside, as read
    std::vector<xml_element> children;
    [[nodiscard]] std::string_view attribute(std::string_view local) const;
    // The first child with this namespace and local name, or nullptr.
    [[nodiscard]] const xml_element* child(std::string_view ns, std::string_view local) const;
};

// Parses a whole document with expat. Returns "" on success, else the XML error with its line.
[[nodiscard]] std::string parse_xml(std::string_view body, xml_element& root);

// Request bodies. `duration_s` is the delegated token's wanted lifetime (the server caps it at
// zimbraAuthTokenLifetime); zmmailbox asks for one day.
[[nodiscard]] std::string admin_auth_request(std::string_view admin, std::string_view password);
[[nodiscard]] std::string delegate_auth_request(std::string_view admin_token, std::string_view account,
                                                unsigned duration_s = 86400);
[[nodiscard]] std::string get_folder_request(std::string_view token);

// What a SOAP reply said, as far as the client cares.
struct soap_outcome {
    std::string error;       // "" on success; else one line (fault code and reason, or the HTTP status)
    std::string fault_code;  // the Zimbra code when the server sent a Fault, e.g. "account.AUTH_FAILED"
    // The fault refuses the credentials or the right to act for the user (the run's exit status is 6).
    [[nodiscard]] bool auth_refused() const;
};

// Reads the reply to admin_auth_request / delegate_auth_request: the authToken of the response.
[[nodiscard]] soap_outcome read_auth_response(int http_status, std::string_view body, std::string& token);

// One grant of a folder's ACL (FACTS.md §4: <acl><grant gt perm zid d/></acl> inside the folder).
struct folder_grant {
    std::string gt;     // usr, grp, cos, dom, all, pub, guest, key
    std::string perm;   // r w i d x a p f (c accepted, no effect)
    std::string zid;    // the grantee's id ("" when not sent)
    std::string d;      // the grantee's name (an address), when sent
};

// A folder of the user's mailbox. `path` is absolute ("/Calendar", "/Work/Team"); the root is "/".
struct mail_folder {
    std::string id;
    std::string path;
    std::string view;  // "appointment", "contact", "message", ... ("" when the server gave none)
    std::vector<folder_grant> grants;   // the folder's own ACL, as the owner sees it
};

// FolderActionRequest <action op="grant" id="FID"><grant gt perm d/></action> (FACTS.md §4, FolderAction.java
// l.153-233): the server looks the grantee up by d (an address; a usr that is a list becomes grp) and fills
// zid itself for all/pub, whose d is left out.
[[nodiscard]] std::string folder_grant_request(std::string_view token, std::string_view folder_id, const folder_grant& g);
// Reads the reply to folder_grant_request (a FolderActionResponse, or the fault: INVALID_REQUEST for a
// letter Carbonio does not have, NO_SUCH_ACCOUNT for an unknown grantee ...).
[[nodiscard]] soap_outcome read_folder_action(int http_status, std::string_view body);

// Reads the reply to get_folder_request: every folder of the tree (mountpoints and search folders are not
// folders of this mailbox and are left out), in document order.
[[nodiscard]] soap_outcome read_folders(int http_status, std::string_view body, std::vector<mail_folder>& out);

}  // namespace arrival::pim
