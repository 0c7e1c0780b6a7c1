// The destination profiles (engine/mail/dest_profile.hpp describes them); apart so flag_map.hpp can name them.
#pragma once

namespace arrival::engine {

enum class dest_profile_kind { generic, carbonio, cyrus };

}  // namespace arrival::engine
