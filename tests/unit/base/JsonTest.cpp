#include <catch2/catch.hpp>

#include "base/Json.h"

TEST_CASE("JsonWriter nests and escapes") {
    base::JsonWriter w;
    w.beginObject();
    w.field("a", 1);
    w.key("list").beginArray().value("x\"y").value(true).null().endArray();
    w.key("o").beginObject().field("ctl", std::string("\x01\n")).endObject();
    w.field("d", 0.5);
    w.endObject();
    CHECK(w.str() == R"({"a":1,"list":["x\"y",true,null],"o":{"ctl":"\u0001\n"},"d":0.5})");
}
