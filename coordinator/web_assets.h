// The built web assets (web/, docs/metrics.md): the live page the coordinator serves and the
// scripts that `wafersim report` inlines into each report. They are built at build time by npm
// into a dist folder holding index.html, app.js, app.css, report.js and report.css.
//
// Where the dist folder is, first found:
//   1. the folder the user named (--web-dir), then $WAFERSIM_WEB_DIR: taken as they are, even
//      without the files, so that what is missing is reported against what the user asked for;
//   2. the build tree's web/dist (compiled in), when it holds index.html;
//   3. <the executable's folder>/../share/wafersim/web, when it holds index.html (an install).
// "" when none is.
#pragma once

#include <string>

#include "obs/http_server.h"

namespace wafersim {

std::string findWebDist(const std::string& asked = "");

// The live page's routes, for the coordinator's router:
//   GET /               index.html
//   GET /static/{name}  a file of the dist folder by plain name ([A-Za-z0-9._-]), its content type
//                       from its extension; 404 for any other name or a missing file.
// Without a built page (webDist "" or without index.html) both answer 503 with a message naming
// the missing build and how to make it. Files are read on each request (no cache: a rebuild shows
// at the next reload).
void addWebRoutes(http::Router& router, const std::string& webDist);

}  // namespace wafersim
