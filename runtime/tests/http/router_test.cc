// ParseTarget (strict single decode) and Router (docs/embedding-php.md section 14) on a temp tree.
#include "runtime/http/router.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace ephpm::http {
namespace {

std::string Reason(std::string_view raw) {
  Target t;
  std::string why;
  if (ParseTarget(raw, &t, &why)) return "";
  return why;
}

TEST(ParseTarget, SplitsAndDecodesOnce) {
  Target t;
  std::string why;
  ASSERT_TRUE(ParseTarget("/a%20b/c%2541?x=%2F&y", &t, &why)) << why;
  EXPECT_EQ(t.path, "/a b/c%41");
  EXPECT_EQ(t.raw_path, "/a%20b/c%2541");
  EXPECT_EQ(t.query, "x=%2F&y");
  EXPECT_FALSE(t.trailing_slash);
  ASSERT_TRUE(ParseTarget("//a///b//", &t, &why));
  EXPECT_EQ(t.path, "/a/b/");
  EXPECT_TRUE(t.trailing_slash);
  ASSERT_TRUE(ParseTarget("/", &t, &why));
  EXPECT_EQ(t.path, "/");
  ASSERT_TRUE(ParseTarget("http://example.com/x?y", &t, &why));
  EXPECT_EQ(t.path, "/x");
  EXPECT_EQ(t.query, "y");
  ASSERT_TRUE(ParseTarget("http://example.com", &t, &why));
  EXPECT_EQ(t.path, "/");
  ASSERT_TRUE(ParseTarget("/caf%C3%A9/%F0%9F%98%80", &t, &why));
  EXPECT_EQ(t.path, "/caf\xC3\xA9/\xF0\x9F\x98\x80");
  ASSERT_TRUE(ParseTarget("/a/.well-known/..x", &t, &why));  // "..x" is a normal name
}

TEST(ParseTarget, Rejections) {
  EXPECT_EQ(Reason("/%zz"), "malformed percent-escape");
  EXPECT_EQ(Reason("/%"), "malformed percent-escape");
  EXPECT_EQ(Reason("/%4"), "malformed percent-escape");
  EXPECT_EQ(Reason("/a%2Fb"), "encoded '/' or '\\' in the path");
  EXPECT_EQ(Reason("/a%2fb"), "encoded '/' or '\\' in the path");
  EXPECT_EQ(Reason("/a%5Cb"), "encoded '/' or '\\' in the path");
  EXPECT_EQ(Reason("/a\\b"), "backslash in the path");
  EXPECT_EQ(Reason("/a%00"), "NUL byte in the path");
  EXPECT_EQ(Reason("/a%0d%0a"), "control character in the path");
  EXPECT_EQ(Reason("/a%7f"), "control character in the path");
  EXPECT_EQ(Reason("/%c0%ae"), "invalid UTF-8 in the path");
  EXPECT_EQ(Reason("/%e0%80%ae"), "invalid UTF-8 in the path");
  EXPECT_EQ(Reason("/%ed%a0%80"), "invalid UTF-8 in the path");
  EXPECT_EQ(Reason("/%f4%90%80%80"), "invalid UTF-8 in the path");
  EXPECT_EQ(Reason("/%80"), "invalid UTF-8 in the path");
  EXPECT_EQ(Reason("/%c3"), "invalid UTF-8 in the path");
  EXPECT_EQ(Reason("/.."), "dot segment in the path");
  EXPECT_EQ(Reason("/a/../b"), "dot segment in the path");
  EXPECT_EQ(Reason("/a/%2e%2e/b"), "dot segment in the path");
  EXPECT_EQ(Reason("/a/%2E./b"), "dot segment in the path");
  EXPECT_EQ(Reason("/./a"), "dot segment in the path");
  EXPECT_EQ(Reason("/a/."), "dot segment in the path");
  EXPECT_EQ(Reason("a"), "request target must start with '/'");
  EXPECT_EQ(Reason("*"), "request target must start with '/'");
  EXPECT_EQ(Reason(""), "request target must start with '/'");
}

TEST(Utf8, Validation) {
  EXPECT_TRUE(ValidUtf8("plain ascii"));
  EXPECT_TRUE(ValidUtf8("\xC2\x80"));
  EXPECT_TRUE(ValidUtf8("\xF4\x8F\xBF\xBF"));
  EXPECT_FALSE(ValidUtf8("\xC1\xBF"));
  EXPECT_FALSE(ValidUtf8("\xF0\x8F\xBF\xBF"));
  EXPECT_FALSE(ValidUtf8("\xF5\x80\x80\x80"));
  EXPECT_FALSE(ValidUtf8("\xE2\x82"));
}

TEST(PhpExtension, AsciiCaseInsensitive) {
  EXPECT_TRUE(HasPhpExtension("a.php"));
  EXPECT_TRUE(HasPhpExtension("/x/A.PHP"));
  EXPECT_TRUE(HasPhpExtension(".pHp"));
  EXPECT_FALSE(HasPhpExtension("a.php5"));
  EXPECT_FALSE(HasPhpExtension("a.phps"));
  EXPECT_FALSE(HasPhpExtension("php"));
  EXPECT_FALSE(HasPhpExtension("a.p\xC4\xB1p"));  // dotless i must not fold to 'i'/'h'
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ephpm-router-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    root_ = base_ + "/public";
    mkdir(root_.c_str(), 0755);
    for (const char* d : {"/dir", "/dir2", "/empty", "/.git", "/sub", "/app.php"}) {
      mkdir((root_ + d).c_str(), 0755);
    }
    mkdir((base_ + "/outside").c_str(), 0755);
    for (const char* f : {"/index.php", "/a.txt", "/dir/index.html", "/dir2/index.php",
                          "/.env", "/.git/config", "/sub/page.php", "/Upper.PHP"}) {
      std::ofstream(root_ + f) << "x";
    }
    std::ofstream(base_ + "/outside/secret.txt") << "secret";
    symlink((base_ + "/outside/secret.txt").c_str(), (root_ + "/out").c_str());
    symlink((base_ + "/outside").c_str(), (root_ + "/outdir").c_str());
    symlink("index.php", (root_ + "/src.txt").c_str());
    symlink("a.txt", (root_ + "/fake.php").c_str());
    symlink("a.txt", (root_ + "/inside.txt").c_str());
    server_.document_root = root_;
  }
  void TearDown() override {
    std::string cmd = "rm -rf '" + base_ + "'";
    ASSERT_EQ(system(cmd.c_str()), 0);
  }
  Route Resolve(const std::string& raw, const std::string& method = "GET") {
    Router router(server_);
    std::string err;
    EXPECT_TRUE(router.Init(&err)) << err;
    Target t;
    std::string why;
    EXPECT_TRUE(ParseTarget(raw, &t, &why)) << raw << ": " << why;
    return router.Resolve(method, t);
  }
  std::string Real(const std::string& rel) {
    char buf[PATH_MAX];
    EXPECT_NE(realpath((root_ + rel).c_str(), buf), nullptr);
    return buf;
  }

  std::string base_, root_;
  config::ServerConfig server_;
};

TEST_F(RouterTest, PhpFile) {
  Route r = Resolve("/index.php");
  EXPECT_EQ(r.kind, RouteKind::kPhp);
  EXPECT_EQ(r.file, Real("/index.php"));
  EXPECT_EQ(r.script_name, "/index.php");
  EXPECT_EQ(r.path_info, "");
  r = Resolve("/sub/page.php", "POST");
  EXPECT_EQ(r.kind, RouteKind::kPhp);
  EXPECT_EQ(r.script_name, "/sub/page.php");
  r = Resolve("/Upper.PHP");
  EXPECT_EQ(r.kind, RouteKind::kPhp) << "ASCII case-insensitive .php";
}

TEST_F(RouterTest, PathInfoSplit) {
  Route r = Resolve("/sub/page.php/a/b");
  EXPECT_EQ(r.kind, RouteKind::kPhp);
  EXPECT_EQ(r.script_name, "/sub/page.php");
  EXPECT_EQ(r.path_info, "/a/b");
  r = Resolve("/index.php/");
  EXPECT_EQ(r.script_name, "/index.php");
  EXPECT_EQ(r.path_info, "/");
  // A directory named app.php is not a script: falls through to the front controller.
  r = Resolve("/app.php/x");
  EXPECT_EQ(r.kind, RouteKind::kPhp);
  EXPECT_EQ(r.script_name, "/index.php");
}

TEST_F(RouterTest, StaticAndMethods) {
  Route r = Resolve("/a.txt");
  EXPECT_EQ(r.kind, RouteKind::kStatic);
  EXPECT_EQ(r.file, Real("/a.txt"));
  EXPECT_EQ(Resolve("/a.txt", "HEAD").kind, RouteKind::kStatic);
  r = Resolve("/a.txt", "POST");
  EXPECT_EQ(r.kind, RouteKind::kError);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(Resolve("/inside.txt").kind, RouteKind::kStatic) << "symlink inside the root";
}

TEST_F(RouterTest, Directories) {
  Route r = Resolve("/dir?q=1");
  EXPECT_EQ(r.kind, RouteKind::kRedirect);
  EXPECT_EQ(r.status, 308);
  EXPECT_EQ(r.location, "/dir/?q=1");
  r = Resolve("/dir/");
  EXPECT_EQ(r.kind, RouteKind::kStatic);
  EXPECT_EQ(r.file, Real("/dir/index.html"));
  r = Resolve("/dir2/");
  EXPECT_EQ(r.kind, RouteKind::kPhp);
  EXPECT_EQ(r.script_name, "/dir2/index.php");
  r = Resolve("/");
  EXPECT_EQ(r.kind, RouteKind::kPhp);
  EXPECT_EQ(r.script_name, "/index.php");
  // A directory without an index goes to the front controller.
  r = Resolve("/empty/");
  EXPECT_EQ(r.script_name, "/index.php");
  r = Resolve("/empty");
  EXPECT_EQ(r.script_name, "/index.php");
}

TEST_F(RouterTest, FallbackAndNotFound) {
  Route r = Resolve("/blog/hello");
  EXPECT_EQ(r.kind, RouteKind::kPhp);
  EXPECT_EQ(r.script_name, "/index.php");
  EXPECT_EQ(r.path_info, "");
  server_.fallback = "";
  r = Resolve("/blog/hello");
  EXPECT_EQ(r.kind, RouteKind::kError);
  EXPECT_EQ(r.status, 404);
  server_.fallback = "/missing.php";
  EXPECT_EQ(Resolve("/blog/hello").status, 404);
}

TEST_F(RouterTest, HiddenFilesPolicy) {
  EXPECT_EQ(Resolve("/.env").status, 403);
  EXPECT_EQ(Resolve("/.git/config").status, 403);
  EXPECT_EQ(Resolve("/nope/.x/y").status, 403);
  server_.hidden_files = config::HiddenFiles::kIgnore;
  EXPECT_EQ(Resolve("/.env").status, 404);
  server_.hidden_files = config::HiddenFiles::kAllow;
  Route r = Resolve("/.env");
  EXPECT_EQ(r.kind, RouteKind::kStatic);
}

TEST_F(RouterTest, Containment) {
  Route r = Resolve("/out");
  EXPECT_EQ(r.kind, RouteKind::kError);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(Resolve("/outdir/secret.txt").status, 403);
  r = Resolve("/src.txt");
  EXPECT_EQ(r.status, 403) << "a symlink must not expose .php source";
  r = Resolve("/fake.php");
  EXPECT_EQ(r.status, 403) << "a .php symlink to a non-.php file is not executed";
}

TEST_F(RouterTest, InitFailsForMissingRoot) {
  server_.document_root = base_ + "/nope";
  Router router(server_);
  std::string err;
  EXPECT_FALSE(router.Init(&err));
  EXPECT_NE(err.find("document root"), std::string::npos);
  server_.document_root = root_ + "/a.txt";
  Router router2(server_);
  EXPECT_FALSE(router2.Init(&err));
  EXPECT_NE(err.find("not a directory"), std::string::npos);
}

}  // namespace
}  // namespace ephpm::http
