// protocol/markup_escape.hpp: the five characters that end text or a quoted attribute in XML and HTML.
#include "protocol/markup_escape.hpp"

#include <string>

#include <gtest/gtest.h>

namespace arrival::test {
// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace markup_escape_test {

TEST(markup_escape, the_five_characters_and_nothing_else) {
    EXPECT_EQ(markup::escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    EXPECT_EQ(markup::escape("&amp;"), "&amp;amp;");   // already escaped text is text
    EXPECT_EQ(markup::escape(""), "");
    const std::string other = std::string("plain \xc3\xa9 \t\n", 11) + std::string(1, '\0');
    EXPECT_EQ(markup::escape(other), other);
}

}  // namespace markup_escape_test
}  // namespace arrival::test
