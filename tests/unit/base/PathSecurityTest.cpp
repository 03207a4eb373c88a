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

TEST_CASE("script security: owner, mode, links and missing files") {
    if (::geteuid() != 0) return;  // the cases need root-owned files
    std::string why;
    Dir safe("safe");
    const std::string prog = safe.file("check");
    CHECK(safeForRoot(prog, why));
    ::chmod(prog.c_str(), 0775);
    CHECK_FALSE(safeForRoot(prog, why));
    CHECK(why.find(prog + " is writable by group or others") != std::string::npos);
    ::chmod(prog.c_str(), 0755);
    ::chown(prog.c_str(), 65534, 65534);
    CHECK_FALSE(safeForRoot(prog, why));
    CHECK(why.find("is not owned by root") != std::string::npos);
    ::chown(prog.c_str(), 0, 0);

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
