#include "engine/files/carbonio_files.hpp"

#include <nlohmann/json.hpp>

#include "protocol/base64.hpp"
#include "protocol/http/client.hpp"

namespace arrival::files {

namespace {

using nlohmann::json;

std::string graphql(std::string_view query, json variables) {
    return json{{"query", query}, {"variables", std::move(variables)}}.dump();
}

// The "data" object of a reply, or the first error's message in `error`.
const json* data_of(const json& doc, std::string& error) {
    if (doc.is_discarded() || !doc.is_object()) {
        error = "the reply is not JSON";
        return nullptr;
    }
    if (const auto e = doc.find("errors"); e != doc.end() && e->is_array() && !e->empty()) {
        const auto& first = (*e)[0];
        error = "GraphQL error: " + (first.is_object() && first.contains("message") && first["message"].is_string()
                                         ? first["message"].get<std::string>()
                                         : first.dump());
        return nullptr;
    }
    const auto d = doc.find("data");
    if (d == doc.end() || !d->is_object()) {
        error = "the reply has no data";
        return nullptr;
    }
    return &*d;
}

bool read_node(const json& n, remote_entry& e) {
    if (!n.is_object() || !n.contains("id") || !n["id"].is_string() || !n.contains("name") || !n["name"].is_string()) {
        return false;
    }
    e.id = n["id"].get<std::string>();
    e.name = n["name"].get<std::string>();
    e.folder = n.value("type", std::string()) == "FOLDER" || n.value("type", std::string()) == "ROOT";
    if (const auto s = n.find("size"); s != n.end() && s->is_number()) e.size = s->get<std::uint64_t>();
    if (const auto v = n.find("version"); v != n.end() && v->is_number_integer()) e.version = v->get<int>();
    // DateTime is epoch milliseconds (schema.graphql: "timestamp EPOCH format").
    if (const auto u = n.find("updated_at"); u != n.end() && u->is_number()) e.mtime = u->get<std::int64_t>() / 1000;
    return true;
}

}  // namespace

std::string children_query(std::string_view folder_id, int limit, std::string_view cursor) {
    json vars{{"id", folder_id}, {"limit", limit}};
    vars["cursor"] = cursor.empty() ? json(nullptr) : json(cursor);
    return graphql(
        "query($id: ID!, $limit: Int!, $cursor: String) { getNode(node_id: $id) { id ... on Folder { "
        "children(limit: $limit, cursor: $cursor, sort: NAME_ASC) { id name type updated_at "
        "... on File { size version } } } } }",
        std::move(vars));
}

std::string create_folder_query(std::string_view parent_id, std::string_view name) {
    return graphql("mutation($parent: String!, $name: String!) { createFolder(destination_id: $parent, name: $name) "
                   "{ id name type updated_at } }",
                   json{{"parent", parent_id}, {"name", name}});
}

std::string read_children(std::string_view body, int limit, std::vector<remote_entry>& out, bool& page_full) {
    const auto doc = json::parse(body.begin(), body.end(), nullptr, false);
    std::string error;
    const auto* data = data_of(doc, error);
    if (data == nullptr) return error;
    const auto node = data->find("getNode");
    if (node == data->end() || !node->is_object()) return "getNode found no such folder";
    const auto children = node->find("children");
    if (children == node->end() || !children->is_array()) return "getNode answered a node without children (not a folder)";
    for (const auto& c : *children) {
        remote_entry e;
        if (!read_node(c, e)) return "a child without id or name";
        out.push_back(std::move(e));
    }
    page_full = static_cast<int>(children->size()) >= limit;
    return {};
}

std::string read_created_folder(std::string_view body, remote_entry& out) {
    const auto doc = json::parse(body.begin(), body.end(), nullptr, false);
    std::string error;
    const auto* data = data_of(doc, error);
    if (data == nullptr) return error;
    const auto node = data->find("createFolder");
    if (node == data->end() || !read_node(*node, out)) return "createFolder returned no node";
    out.folder = true;
    return {};
}

std::string read_upload_reply(std::string_view body, std::string& node_id, int& version) {
    const auto doc = json::parse(body.begin(), body.end(), nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("nodeId") || !doc["nodeId"].is_string()) {
        return "the reply has no nodeId";
    }
    node_id = doc["nodeId"].get<std::string>();
    version = doc.value("version", 0);
    return {};
}

std::vector<std::pair<std::string, std::string>> upload_headers(std::string_view name, std::string_view parent_id) {
    return {{"Filename", base64::encode(name)}, {"ParentId", std::string(parent_id)},
            {"Content-Type", "application/octet-stream"}};
}

std::vector<std::pair<std::string, std::string>> upload_version_headers(std::string_view name,
                                                                        std::string_view node_id) {
    return {{"Filename", base64::encode(name)}, {"NodeId", std::string(node_id)},
            {"OverwriteVersion", "false"}, {"Content-Type", "application/octet-stream"}};
}

}  // namespace arrival::files
