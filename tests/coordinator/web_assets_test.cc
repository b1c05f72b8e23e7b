// The live page's routes and where its files are found (coordinator/web_assets.h), on a router
// without a server.
#include "coordinator/web_assets.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/coordinator/service_support.h"

namespace wafersim::testing {
namespace {

using ::testing::HasSubstr;

http::Response get(const http::Router& router, const std::string& target) {
  http::Request request;
  request.method = "GET";
  request.target = target;
  return router.dispatch(request);
}

class WebRoutes : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_.path / "index.html") << "<!doctype html><script src=\"static/app.js\"></script>";
    std::ofstream(dir_.path / "app.js") << "console.log(1)";
    std::ofstream(dir_.path / "app.css") << "body{}";
    std::ofstream(dir_.path.parent_path() / "outside.txt") << "secret";
  }
  TempDir dir_{"wafersim-web-assets"};
};

TEST_F(WebRoutes, ServeThePageAndItsFilesWithTheirTypes) {
  http::Router router;
  addWebRoutes(router, dir_.path.string());
  const http::Response page = get(router, "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.contentType, "text/html; charset=utf-8");
  EXPECT_THAT(page.body, HasSubstr("static/app.js"));
  const http::Response script = get(router, "/static/app.js");
  EXPECT_EQ(script.status, 200);
  EXPECT_EQ(script.contentType, "text/javascript; charset=utf-8");
  EXPECT_EQ(script.body, "console.log(1)");
  EXPECT_EQ(get(router, "/static/app.css").contentType, "text/css; charset=utf-8");
}

TEST_F(WebRoutes, AnswerOnlyPlainNamesOfFilesThatExist) {
  http::Router router;
  addWebRoutes(router, dir_.path.string());
  EXPECT_EQ(get(router, "/static/missing.js").status, 404);
  EXPECT_NE(get(router, "/static/..").status, 200);  // the router refuses dot segments itself
  EXPECT_EQ(get(router, "/static/.hidden").status, 404);
  EXPECT_NE(get(router, "/static/..%2Foutside.txt").status, 200);
  EXPECT_EQ(get(router, "/static/a/b.js").status, 404);  // not a route: one segment only
  EXPECT_EQ(get(router, "/index.html").status, 404);
}

TEST_F(WebRoutes, WithoutABuiltPageAnswer503NamingTheBuild) {
  for (const std::string& dist : {std::string(), (dir_.path / "nothing-here").string()}) {
    http::Router router;
    addWebRoutes(router, dist);
    for (const char* target : {"/", "/static/app.js"}) {
      const http::Response r = get(router, target);
      EXPECT_EQ(r.status, 503) << target;
      const auto body = nlohmann::json::parse(r.body);
      EXPECT_EQ(body["error"]["code"], "page_not_built");
      EXPECT_THAT(body["error"]["message"].get<std::string>(), HasSubstr("wafersim_web"));
    }
  }
}

TEST_F(WebRoutes, FindTheFolderTheUserNamedFirstThenTheEnvironment) {
  EXPECT_EQ(findWebDist("/some/where"), "/some/where");  // taken as asked, even when missing
  ::setenv("WAFERSIM_WEB_DIR", dir_.path.c_str(), 1);
  EXPECT_EQ(findWebDist(), dir_.path.string());
  EXPECT_EQ(findWebDist("/asked"), "/asked");
  ::unsetenv("WAFERSIM_WEB_DIR");
  // Then the build tree's (when it was built) or an installed one; never a folder without the page.
  const std::string found = findWebDist();
  if (!found.empty()) {
    EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(found) / "index.html")) << found;
  }
}

}  // namespace
}  // namespace wafersim::testing
