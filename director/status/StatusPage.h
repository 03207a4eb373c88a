// The status page: a small HTML page, its CSS and its JavaScript (director/status/page/), built into
// the binary and served by the status listener at /, /page.css, /page.js and /favicon.svg. The page polls
// /status and draws it (VRRP instances, virtual and real servers with sparklines, the director's
// own health); it loads nothing from anywhere else (Content-Security-Policy: default-src 'self').
#pragma once
#include <string_view>
#include <vector>

namespace director::status {

struct PageAsset {
    std::string_view path;         // "/", "/page.css", "/page.js"
    std::string_view contentType;
    std::string_view body;
};
const std::vector<PageAsset>& pageAssets();
// The asset served at `path`, or null.
const PageAsset* pageAsset(std::string_view path);

}  // namespace director::status
