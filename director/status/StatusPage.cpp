#include "director/status/StatusPage.h"

namespace director::status {

const PageAsset* pageAsset(std::string_view path) {
    if (path == "/index.html") path = "/";
    for (const auto& a : pageAssets())
        if (a.path == path) return &a;
    return nullptr;
}

}  // namespace director::status
