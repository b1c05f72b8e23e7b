#include "coordinator/web_assets.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "coordinator/service_api.h"

#ifndef WAFERSIM_WEB_DIST
#define WAFERSIM_WEB_DIST ""
#endif

namespace wafersim {
namespace {

namespace fs = std::filesystem;

bool holdsPage(const fs::path& dir) {
  std::error_code ec;
  return !dir.empty() && fs::is_regular_file(dir / "index.html", ec);
}

std::string contentType(const std::string& name) {
  const std::string ext = fs::path(name).extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".map" || ext == ".json") return "application/json";
  return "application/octet-stream";
}

http::Response notBuilt(const std::string& webDist) {
  const std::string where = webDist.empty() ? std::string("no web/dist folder was found")
                                            : "no index.html in " + webDist;
  return http::Response::error(
      503, "page_not_built",
      "the live page is not built (" + where +
          "): install nodejs and npm (scripts/deps.sh), configure again and build the wafersim_web target, "
          "or point --web-dir or WAFERSIM_WEB_DIR at a built web/dist folder; the API under /api/v1 works without it");
}

// The file's bytes with its content type; 404 when it is not a regular file.
http::Response serveFile(const fs::path& file, const std::string& name) {
  std::error_code ec;
  if (!fs::is_regular_file(fs::symlink_status(file, ec)))
    return http::Response::error(404, "not_found", "no static file " + name);
  std::ifstream in(file, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  http::Response r = http::Response::text(200, bytes.str(), contentType(name));
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

}  // namespace

std::string findWebDist(const std::string& asked) {
  if (!asked.empty()) return asked;
  if (const char* env = std::getenv("WAFERSIM_WEB_DIR"); env && *env) return env;
  if (holdsPage(WAFERSIM_WEB_DIST)) return WAFERSIM_WEB_DIST;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path installed = exe.parent_path().parent_path() / "share" / "wafersim" / "web";
    if (holdsPage(installed)) return installed.string();
  }
  return "";
}

void addWebRoutes(http::Router& router, const std::string& webDist) {
  router.add("GET", "/", [webDist](const http::Request&) {
    if (!holdsPage(webDist)) return notBuilt(webDist);
    return serveFile(fs::path(webDist) / "index.html", "index.html");
  });
  router.add("GET", "/static/{name}", [webDist](const http::Request& req) {
    if (!holdsPage(webDist)) return notBuilt(webDist);
    const std::string& name = req.param("name");
    if (!api::plainFileName(name) || name.front() == '.')
      return http::Response::error(404, "not_found", "no static file " + name);
    return serveFile(fs::path(webDist) / name, name);
  });
}

}  // namespace wafersim
