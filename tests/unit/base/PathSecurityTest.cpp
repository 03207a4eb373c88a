// script_security's path check, on real files (the ownership cases need root: CI runs as root).
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/PathSecurity.h"

using base::safeForRoot;

namespace {

struct Dir {
    std::string path;
    explicit Dir(const std::string& name, mode_t mode = 0755)
        : path(std::string("/var/tmp/ps-") + std::to_string(::getpid()) + "-" + name) {
        std::filesystem::create_directories(path);
        ::chmod(path.c_str(), mode);
    }
    ~Dir() { std::filesystem::remove_all(path); }
    std::string file(const std::string& name, mode_t mode = 0755) const {
        const std::string f = path + "/" + name;
        { std::ofstream(f) << "#!/bin/sh\n"; }
        ::chmod(f.c_str(), mode);
        return f;
    }
};

}  // namespace

TEST_CASE("script security: the system's own programs are safe") {
    std::string why;
    CHECK(safeForRoot("/bin/true", why));  // /bin is a link to usr/bin on Debian 12
    CHECK_FALSE(safeForRoot("bin/true", why));
    CHECK(why.find("absolute") != std::string::npos);
}

TEST_CASE("script security: owner, mode, links and missing files", "[root]") {
    std::string why;
    Dir safe("safe");
    const std::string prog = safe.file("check");
    CHECK(safeForRoot(prog, why));
    REQUIRE(::chmod(prog.c_str(), 0775) == 0);
    CHECK_FALSE(safeForRoot(prog, why));
    CHECK(why.find(prog + " is writable by group or others") != std::string::npos);
    REQUIRE(::chmod(prog.c_str(), 0755) == 0);
    REQUIRE(::chown(prog.c_str(), 65534, 65534) == 0);  // the [root] tag: the test runs as root
    CHECK_FALSE(safeForRoot(prog, why));
    CHECK(why.find("is not owned by root") != std::string::npos);
    REQUIRE(::chown(prog.c_str(), 0, 0) == 0);

    // a root-owned link in a safe folder, into a folder anyone can write: refused (the target's
    // folder is walked, not the link's)
    Dir open("open", 0777);
    const std::string target = open.file("check");
    const std::string link = safe.path + "/link";
    REQUIRE(::symlink(target.c_str(), link.c_str()) == 0);
    CHECK_FALSE(safeForRoot(link, why));
    CHECK(why.find(open.path + " is writable by group or others") != std::string::npos);
    // a link to a safe program, sitting in a folder anyone can write: refused (the link can be replaced)
    const std::string link2 = open.path + "/link2";
    REQUIRE(::symlink(prog.c_str(), link2.c_str()) == 0);
    CHECK_FALSE(safeForRoot(link2, why));
    // a relative link in a safe folder to a safe program: fine
    REQUIRE(::symlink("check", (safe.path + "/rel").c_str()) == 0);
    CHECK(safeForRoot(safe.path + "/rel", why));

    // missing: fine where only root can create it, refused in a sticky folder anyone can write to
    CHECK(safeForRoot(safe.path + "/not-yet", why));
    Dir sticky("sticky", 01777);
    CHECK_FALSE(safeForRoot(sticky.path + "/not-yet", why));
    CHECK(why.find("anyone may create it") != std::string::npos);
    // in a sticky folder, a root-owned program is fine (no one else can replace it)
    CHECK(safeForRoot(sticky.file("check"), why));
}

TEST_CASE("script security: '..' is taken where a link leads, not as text", "[root]") {
    std::string why;
    Dir safe("dotdot-safe");
    Dir user("dotdot-user", 0777);  // a user's folder: anyone can write
    user.file("x.sh");
    ::mkdir((user.path + "/sub").c_str(), 0755);
    // /safe/link -> /user/sub: /safe/link/../x.sh is /user/x.sh, not /safe/x.sh
    REQUIRE(::symlink((user.path + "/sub").c_str(), (safe.path + "/link").c_str()) == 0);
    safe.file("x.sh");  // the file the textual collapse would have checked instead
    CHECK_FALSE(safeForRoot(safe.path + "/link/../x.sh", why));
    CHECK(why.find(user.path + " is writable by group or others") != std::string::npos);
    // without a link, .. inside safe folders is still fine
    ::mkdir((safe.path + "/d").c_str(), 0755);
    CHECK(safeForRoot(safe.path + "/d/../x.sh", why));
}

TEST_CASE("script security: an interpreter's script is checked as the program is", "[root]") {
    std::string why;
    Dir safe("interp-safe");
    Dir user("interp-user", 0777);
    const std::string bad = user.file("x.sh"), good = safe.file("x.sh");
    CHECK_FALSE(base::commandSafeForRoot({"/bin/sh", bad}, why));
    CHECK(why.find("through /bin/sh") != std::string::npos);
    CHECK_FALSE(base::commandSafeForRoot({"/usr/bin/python3", "-u", bad, "arg"}, why));
    CHECK_FALSE(base::commandSafeForRoot({"/bin/bash", "--", bad}, why));
    CHECK_FALSE(base::commandSafeForRoot({"/bin/sh", "x.sh"}, why));  // relative: depends on the working folder
    CHECK(why.find("not an absolute path") != std::string::npos);
    CHECK(base::commandSafeForRoot({"/bin/sh", good}, why));
    CHECK(base::commandSafeForRoot({"/bin/sh", "-c", "exit 0"}, why));  // code, the config's own
    CHECK(base::commandSafeForRoot({"/bin/true", bad}, why));          // not an interpreter: an argument
}
