// The config language as data (docs/ARCHITECTURE.md, "Config"): every section is a table of its
// settings, each with its key, its documentation (type, default, range, meaning: the row of
// conf/README.md) and how it is read from libconfig and written in the canonical dump. The
// loader, the dump and the documentation check all walk these tables (Sections.cpp); nothing
// else lists the settings. Internal to conf/.
//
// Reading a group: its children are matched to the section's settings once (unknown keys get a
// "did you mean"), then the settings are read in the table's order, so a setting may depend on
// one listed before it (advert_interval on version, a check's keys on its type); `before` and
// `after` hooks hold the rules that involve several settings.
#pragma once
#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "conf/Config.h"
#include "conf/Reader.h"

namespace conf::schema {

// One row of conf/README.md's tables.
struct Doc {
    const char* type;
    const char* def;
    const char* range;
    const char* meaning;
};

// One row of the documentation, under its section.
struct DocRow {
    std::string section;
    std::string key;
    Doc doc;
};

// The canonical dump's writer (libconfig syntax, two spaces per level). A minimal one leaves out
// the settings whose value is their default (as a default-constructed object writes them).
class Out {
public:
    explicit Out(bool minimal = false) : minimal_(minimal) {}
    bool minimal() const { return minimal_; }
    // An empty writer at this one's depth and mode.
    Out sibling() const {
        Out o(minimal_);
        o.depth_ = depth_;
        return o;
    }
    void line(const std::string& text) { os_ << std::string(static_cast<size_t>(depth_) * 2, ' ') << text << '\n'; }
    void set(std::string_view k, const std::string& v) { line(std::string(k) + " = " + v + ";"); }
    void open(const std::string& head) {
        line(head);
        ++depth_;
    }
    void close(const std::string& tail) {
        --depth_;
        line(tail);
    }
    std::string text() const { return os_.str(); }

private:
    std::ostringstream os_;
    int depth_ = 0;
    bool minimal_ = false;
};

std::string quote(const std::string& s);
std::string seconds(Duration d);                         // shortest text that reads back the same
std::string strings(const std::vector<std::string>& v);  // [ "a", "b" ]

template <class T>
struct Setting {
    Setting(std::string_view k, Doc d) : key(k), doc(d) {}
    std::string_view key;
    Doc doc;
    bool required = false;
    std::function<void(Reader&, const libconfig::Setting&, T&)> read;
    std::function<void(Out&, const T&)> write;  // null: written by another setting, or never
    // Why this key does not belong in this object as read so far (a check's type, a fwmark
    // service); nullopt when it does. Such a key is not read (nor required), and reported after
    // the section's other problems, in the group's order, with the unknown keys.
    std::function<std::optional<std::string>(const Reader&, const T&)> notHere;
    std::function<bool(const T&)> writeIf;  // the dump writes the key only when this holds
    // A group or list of groups: appends its section's documentation (and its sections').
    std::function<void(std::vector<DocRow>&)> nested;
};

template <class T>
struct Section {
    using Hook = std::function<void(Reader&, T&)>;
    using Locate = std::function<void(T&, const Location&)>;
    Section(std::string n, std::vector<Setting<T>> s, Hook b = nullptr, Hook a = nullptr, Locate l = nullptr,
            std::function<T(const T&)> bl = nullptr)
        : name(std::move(n)), settings(std::move(s)), before(std::move(b)), after(std::move(a)), locate(std::move(l)),
          blank(std::move(bl)) {}
    std::string name;  // "vrrp_instances.garp"; "" for the top level
    std::vector<Setting<T>> settings;
    Hook before;    // after the keys are matched, before any is read
    Hook after;     // once all are read: the rules across settings
    Locate locate;  // where the object was written, for later errors
    // What an object like `obj` holds when nothing is written but what a minimal dump always
    // writes (a check of obj's type): what the minimal dump compares with. Null: T{}.
    std::function<T(const T&)> blank;
};

// Reads `group` into `obj` by `section`: every problem is a diagnostic, none stops the reading.
template <class T>
void readSection(Reader& r, const Section<T>& section, T& obj) {
    if (section.locate) section.locate(obj, r.location());
    const libconfig::Setting& g = r.group();
    std::vector<const libconfig::Setting*> slots(section.settings.size(), nullptr);
    std::vector<std::pair<std::string_view, const libconfig::Setting*>> children;
    std::vector<const libconfig::Setting*> unknown;
    for (int i = 0; i < g.getLength(); ++i) {
        const libconfig::Setting& c = g[i];
        const std::string_view name = c.getName() ? c.getName() : "";
        size_t k = 0;
        while (k < section.settings.size() && section.settings[k].key != name) ++k;
        if (k == section.settings.size()) {
            unknown.push_back(&c);
            continue;
        }
        slots[k] = &c;
        children.emplace_back(section.settings[k].key, &c);
    }
    r.setChildren(std::move(children));
    if (section.before) section.before(r, obj);
    std::map<const libconfig::Setting*, std::string> misplaced;
    for (size_t k = 0; k < section.settings.size(); ++k) {
        const Setting<T>& s = section.settings[k];
        std::optional<std::string> why = s.notHere ? s.notHere(r, obj) : std::nullopt;
        if (!slots[k]) {
            if (s.required && !why) r.error("missing required setting '" + std::string(s.key) + "'");
            continue;
        }
        if (why) misplaced.emplace(slots[k], std::move(*why));
        else s.read(r, *slots[k], obj);
    }
    if (section.after) section.after(r, obj);
    if (unknown.empty() && misplaced.empty()) return;
    std::vector<std::string_view> known;
    for (const auto& s : section.settings) known.push_back(s.key);
    for (int i = 0; i < g.getLength(); ++i) {  // in the group's order
        const libconfig::Setting& c = g[i];
        const std::string name = c.getName() ? c.getName() : "";
        if (auto it = misplaced.find(&c); it != misplaced.end()) {
            r.error(c, r.childPath(name), it->second);
        } else if (std::find(unknown.begin(), unknown.end(), &c) != unknown.end()) {
            std::string msg = "unknown setting '" + name + "'";
            if (auto near = closest(name, known)) msg += " (did you mean '" + *near + "'?)";
            r.error(c, r.childPath(name), msg);
        }
    }
}

template <class T>
void appendRows(const Section<T>& section, std::vector<DocRow>& out) {
    const std::string name = section.name.empty() ? "top" : section.name;
    for (const auto& s : section.settings) out.push_back(DocRow{name, std::string(s.key), s.doc});
    for (const auto& s : section.settings)
        if (s.nested) s.nested(out);
}

template <class T>
void writeSection(Out& o, const Section<T>& section, const T& obj) {
    for (const auto& s : section.settings) {
        if (!s.write) continue;
        if (s.writeIf && !s.writeIf(obj)) continue;
        if (o.minimal() && !s.required) {
            const T none = section.blank ? section.blank(obj) : T{};
            Out mine = o.sibling(), base = o.sibling();
            s.write(mine, obj);
            if (!s.writeIf || s.writeIf(none)) s.write(base, none);
            if (mine.text() == base.text()) continue;
        }
        s.write(o, obj);
    }
}

// ---- builders: one setting bound to one member ----

template <class M>
struct Member;  // what a member type reads as
template <class T, class V>
struct Member<V T::*> {
    using Owner = T;
    using Value = V;
};

template <class T, class V>
Setting<T> integer(std::string_view key, V T::*m, long long lo, long long hi, Doc doc) {
    Setting<T> s{key, doc};
    s.read = [key, m, lo, hi](Reader& r, const libconfig::Setting& st, T& obj) {
        if (auto v = r.integer(st, key, lo, hi)) obj.*m = static_cast<V>(*v);
    };
    s.write = [key, m](Out& o, const T& obj) {
        const long long v = static_cast<long long>(obj.*m);
        o.set(key, std::to_string(v) + (v > 2147483647LL || v < -2147483648LL ? "L" : ""));
    };
    return s;
}

template <class T, class V>
Setting<T> integer(std::string_view key, std::optional<V> T::*m, long long lo, long long hi, Doc doc) {
    Setting<T> s{key, doc};
    s.read = [key, m, lo, hi](Reader& r, const libconfig::Setting& st, T& obj) {
        if (auto v = r.integer(st, key, lo, hi)) obj.*m = static_cast<V>(*v);
    };
    s.write = [key, m](Out& o, const T& obj) {
        if (obj.*m) o.set(key, std::to_string(static_cast<long long>(*(obj.*m))));
    };
    return s;
}

template <class T>
Setting<T> boolean(std::string_view key, bool T::*m, Doc doc) {
    Setting<T> s{key, doc};
    s.read = [key, m](Reader& r, const libconfig::Setting& st, T& obj) {
        if (auto v = r.boolean(st, key)) obj.*m = *v;
    };
    s.write = [key, m](Out& o, const T& obj) { o.set(key, obj.*m ? "true" : "false"); };
    return s;
}

template <class T>
Setting<T> boolean(std::string_view key, std::optional<bool> T::*m, Doc doc) {
    Setting<T> s{key, doc};
    s.read = [key, m](Reader& r, const libconfig::Setting& st, T& obj) {
        if (auto v = r.boolean(st, key)) obj.*m = *v;
    };
    s.write = [key, m](Out& o, const T& obj) {
        if (obj.*m) o.set(key, *(obj.*m) ? "true" : "false");
    };
    return s;
}

template <class T>
Setting<T> duration(std::string_view key, Duration T::*m, double lo, double hi, Doc doc) {
    Setting<T> s{key, doc};
    s.read = [key, m, lo, hi](Reader& r, const libconfig::Setting& st, T& obj) {
        if (auto v = r.seconds(st, key, lo, hi)) obj.*m = *v;
    };
    s.write = [key, m](Out& o, const T& obj) { o.set(key, seconds(obj.*m)); };
    return s;
}

template <class T>
Setting<T> duration(std::string_view key, std::optional<Duration> T::*m, double lo, double hi, Doc doc) {
    Setting<T> s{key, doc};
    s.read = [key, m, lo, hi](Reader& r, const libconfig::Setting& st, T& obj) {
        if (auto v = r.seconds(st, key, lo, hi)) obj.*m = *v;
    };
    s.write = [key, m](Out& o, const T& obj) {
        if (obj.*m) o.set(key, seconds(*(obj.*m)));
    };
    return s;
}

enum class Empty { Allowed, Refused, Omitted };  // Omitted: allowed, and not written when empty

template <class T>
Setting<T> string(std::string_view key, std::string T::*m, Doc doc, Empty empty = Empty::Allowed) {
    Setting<T> s{key, doc};
    s.read = [key, m, empty](Reader& r, const libconfig::Setting& st, T& obj) {
        if (auto v = r.string(st, key, empty != Empty::Refused)) obj.*m = std::move(*v);
    };
    s.write = [key, m, empty](Out& o, const T& obj) {
        if (empty != Empty::Omitted || !(obj.*m).empty()) o.set(key, quote(obj.*m));
    };
    return s;
}

// A unix socket's path: not empty, and short enough for sockaddr_un (107 bytes).
template <class T>
Setting<T> socketPath(std::string_view key, std::string T::*m, Doc doc) {
    Setting<T> s = string(key, m, doc, Empty::Refused);
    s.read = [key, m](Reader& r, const libconfig::Setting& st, T& obj) {
        auto v = r.string(st, key, false);
        if (!v) return;
        if (v->size() > 107)
            return r.error(st, r.childPath(key),
                           "is " + std::to_string(v->size()) + " bytes long; a unix socket path holds at most 107");
        obj.*m = std::move(*v);
    };
    return s;
}

template <class T>
Setting<T> address(std::string_view key, base::IpAddress T::*m, Doc doc) {
    Setting<T> s{key, doc};
    s.read = [key, m](Reader& r, const libconfig::Setting& st, T& obj) {
        if (auto v = r.address(st, key)) obj.*m = *v;
    };
    s.write = [key, m](Out& o, const T& obj) { o.set(key, quote((obj.*m).str())); };
    return s;
}

template <class T>
Setting<T> address(std::string_view key, std::optional<base::IpAddress> T::*m, Doc doc) {
    Setting<T> s{key, doc};
    s.read = [key, m](Reader& r, const libconfig::Setting& st, T& obj) {
        if (auto v = r.address(st, key)) obj.*m = *v;
    };
    s.write = [key, m](Out& o, const T& obj) {
        if (obj.*m) o.set(key, quote((obj.*m)->str()));
    };
    return s;
}

// An array of address strings (unicast peers, sync peers); written only when not empty.
template <class T>
Setting<T> addressList(std::string_view key, std::vector<base::IpAddress> T::*m, Doc doc) {
    Setting<T> s{key, doc};
    s.read = [key, m](Reader& r, const libconfig::Setting& st, T& obj) {
        auto list = r.strings(st, key);
        if (!list) return;
        for (const auto& p : *list) {
            if (auto a = base::IpAddress::parse(p)) (obj.*m).push_back(*a);
            else r.error(st, r.childPath(key), "'" + p + "' is not an IPv4 or IPv6 address");
        }
    };
    s.write = [key, m](Out& o, const T& obj) {
        if ((obj.*m).empty()) return;
        std::vector<std::string> out;
        for (const auto& a : obj.*m) out.push_back(a.str());
        o.set(key, strings(out));
    };
    return s;
}

template <class T>
Setting<T> command(std::string_view key, Command T::*m, Doc doc) {
    Setting<T> s{key, doc};
    s.read = [key, m](Reader& r, const libconfig::Setting& st, T& obj) {
        if (auto v = r.command(st, key)) obj.*m = std::move(*v);
    };
    s.write = [key, m](Out& o, const T& obj) {
        if (!(obj.*m).empty()) o.set(key, strings((obj.*m).argv));
    };
    return s;
}

template <class T>
Setting<T> stringList(std::string_view key, std::vector<std::string> T::*m, Doc doc) {
    Setting<T> s{key, doc};
    s.read = [key, m](Reader& r, const libconfig::Setting& st, T& obj) {
        if (auto v = r.strings(st, key)) obj.*m = std::move(*v);
    };
    s.write = [key, m](Out& o, const T& obj) { o.set(key, strings(obj.*m)); };
    return s;
}

// A string from a fixed list, stored as E.
template <class T, class E>
Setting<T> choice(std::string_view key, E T::*m, std::vector<std::pair<std::string_view, E>> choices, Doc doc) {
    Setting<T> s{key, doc};
    s.read = [key, m, choices](Reader& r, const libconfig::Setting& st, T& obj) {
        if (auto v = r.choice(st, key, choices)) obj.*m = *v;
    };
    s.write = [key, m, choices](Out& o, const T& obj) {
        for (const auto& [n, v] : choices)
            if (v == obj.*m) return o.set(key, quote(std::string(n)));
    };
    return s;
}

template <class T, class E>
Setting<T> choice(std::string_view key, std::optional<E> T::*m, std::vector<std::pair<std::string_view, E>> choices,
                  Doc doc) {
    Setting<T> s{key, doc};
    s.read = [key, m, choices](Reader& r, const libconfig::Setting& st, T& obj) {
        if (auto v = r.choice(st, key, choices)) obj.*m = *v;
    };
    s.write = [key, m, choices](Out& o, const T& obj) {
        if (!(obj.*m)) return;
        for (const auto& [n, v] : choices)
            if (v == *(obj.*m)) return o.set(key, quote(std::string(n)));
    };
    return s;
}

// A group of its own section. `present` runs when the group is there (a group that turns a
// feature on); `writeIf` says whether the dump writes it.
template <class T, class C>
Setting<T> group(std::string_view key, C T::*m, const Section<C>& sub, Doc doc,
                 std::type_identity_t<std::function<void(T&)>> present = nullptr,
                 std::type_identity_t<std::function<bool(const T&)>> writeIf = nullptr) {
    Setting<T> s{key, doc};
    s.read = [key, m, &sub, present](Reader& r, const libconfig::Setting& st, T& obj) {
        if (!st.isGroup()) return r.error(st, r.childPath(key), "expected a group { ... }, got " + typeName(st));
        if (present) present(obj);
        Reader g(r, st, key);
        readSection(g, sub, obj.*m);
    };
    s.write = [key, m, &sub, writeIf](Out& o, const T& obj) {
        if (writeIf && !writeIf(obj)) return;
        o.open(std::string(key) + " = {");
        writeSection(o, sub, obj.*m);
        o.close("};");
    };
    s.nested = [&sub](std::vector<DocRow>& out) { appendRows(sub, out); };
    return s;
}

// A group whose settings belong to the object itself (authentication's type and password are the
// instance's own).
template <class T>
Setting<T> groupSelf(std::string_view key, const Section<T>& sub, Doc doc,
                     std::type_identity_t<std::function<bool(const T&)>> writeIf) {
    Setting<T> s{key, doc};
    s.read = [key, &sub](Reader& r, const libconfig::Setting& st, T& obj) {
        if (!st.isGroup()) return r.error(st, r.childPath(key), "expected a group { ... }, got " + typeName(st));
        Reader g(r, st, key);
        readSection(g, sub, obj);
    };
    s.write = [key, &sub, writeIf](Out& o, const T& obj) {
        if (writeIf && !writeIf(obj)) return;
        o.open(std::string(key) + " = {");
        writeSection(o, sub, obj);
        o.close("};");
    };
    s.nested = [&sub](std::vector<DocRow>& out) { appendRows(sub, out); };
    return s;
}

// A list of groups ( {...}, {...} ), each of `sub`'s section. `init` prepares each element from
// its parent before it is read (inherited defaults); `check` runs after each.
template <class T, class C>
Setting<T> list(std::string_view key, std::vector<C> T::*m, const Section<C>& sub, Doc doc,
                std::type_identity_t<std::function<void(const T&, C&)>> init = nullptr,
                std::type_identity_t<std::function<void(Reader&, const T&, C&)>> check = nullptr) {
    Setting<T> s{key, doc};
    s.read = [key, m, &sub, init, check](Reader& r, const libconfig::Setting& st, T& obj) {
        if (!st.isList() && !(st.isArray() && st.getLength() == 0))
            return r.error(st, r.childPath(key), "expected a list of groups ( {...}, {...} ), got " + typeName(st));
        (obj.*m).reserve(static_cast<size_t>(st.getLength()));
        for (int i = 0; i < st.getLength(); ++i) {
            const libconfig::Setting& e = st[i];
            if (!e.isGroup()) {
                r.error(e, r.childPath(key) + "[" + std::to_string(i) + "]",
                        "expected a group { ... }, got " + typeName(e));
                continue;
            }
            C item{};
            if (init) init(obj, item);
            Reader g(r, e, key, i);
            readSection(g, sub, item);
            if (check) check(g, obj, item);
            (obj.*m).push_back(std::move(item));
        }
    };
    s.write = [key, m, &sub](Out& o, const T& obj) {
        const auto& items = obj.*m;
        if (items.empty()) return;
        o.open(std::string(key) + " = (");
        for (size_t i = 0; i < items.size(); ++i) {
            o.open("{");
            writeSection(o, sub, items[i]);
            o.close(i + 1 < items.size() ? "}," : "}");
        }
        o.close(");");
    };
    s.nested = [&sub](std::vector<DocRow>& out) { appendRows(sub, out); };
    return s;
}

// A setting read and written by hand.
template <class T>
Setting<T> custom(std::string_view key, Doc doc,
                  std::type_identity_t<std::function<void(Reader&, const libconfig::Setting&, T&)>> read,
                  std::type_identity_t<std::function<void(Out&, const T&)>> write) {
    Setting<T> s{key, doc};
    s.read = std::move(read);
    s.write = std::move(write);
    return s;
}

template <class T>
Setting<T> required(Setting<T> s) {
    s.required = true;
    return s;
}

// A key that belongs only where `applies` holds (read and written only there); elsewhere it is
// reported with `why(obj)`.
template <class T>
Setting<T> onlyIf(Setting<T> s, std::type_identity_t<std::function<bool(const T&)>> applies,
                  std::type_identity_t<std::function<std::string(const T&)>> why) {
    s.notHere = [applies, why](const Reader&, const T& obj) -> std::optional<std::string> {
        if (applies(obj)) return std::nullopt;
        return why(obj);
    };
    s.writeIf = std::move(applies);
    return s;
}

// ---- the language ----

const Section<Config>& root();

// Every section's documentation rows: the section's own, then each nested section's, in order.
std::vector<DocRow> reference();

}  // namespace conf::schema
