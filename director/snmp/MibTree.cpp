#include "director/snmp/MibTree.h"

namespace snmp {

std::string oidText(const Oid& o) {
    std::string s;
    for (auto id : o) {
        if (!s.empty()) s += '.';
        s += std::to_string(id);
    }
    return s;
}

Oid operator+(Oid o, const Oid& more) {
    o.insert(o.end(), more.begin(), more.end());
    return o;
}

bool startsWith(const Oid& o, const Oid& prefix) {
    return o.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), o.begin());
}

Value Value::integer32(std::int64_t v) {
    Value x;
    x.type = Type::Integer;
    x.integer = v;
    return x;
}
Value Value::unsigned32(std::uint64_t v) {
    Value x;
    x.type = Type::Unsigned;
    x.number = v & 0xffffffffu;
    return x;
}
Value Value::gauge32(std::uint64_t v) {
    Value x;
    x.type = Type::Gauge;
    x.number = v > 0xffffffffu ? 0xffffffffu : v;  // a gauge saturates
    return x;
}
Value Value::counter32(std::uint64_t v) {
    Value x;
    x.type = Type::Counter32;
    x.number = v & 0xffffffffu;  // a counter wraps
    return x;
}
Value Value::counter64(std::uint64_t v) {
    Value x;
    x.type = Type::Counter64;
    x.number = v;
    return x;
}
Value Value::string(std::string s) {
    Value x;
    x.type = Type::OctetString;
    x.bytes = std::move(s);
    return x;
}
Value Value::address(const base::IpAddress& a) {
    const size_t n = a.family() == base::Family::V4 ? 4 : 16;
    return string(std::string(reinterpret_cast<const char*>(a.bytes().data()), n));
}
Value Value::timeTicks(std::uint64_t centiseconds) {
    Value x;
    x.type = Type::TimeTicks;
    x.number = centiseconds & 0xffffffffu;  // TimeTicks wraps after 497 days
    return x;
}
Value Value::ipAddress(const base::IpAddress& v4) {
    Value x = address(v4);
    x.bytes.resize(4);
    x.type = Type::IpAddress;
    return x;
}

const Value* MibTree::get(const Oid& oid) const {
    auto it = objects_.find(oid);
    return it == objects_.end() ? nullptr : &it->second;
}

std::optional<std::pair<Oid, Value>> MibTree::next(const Oid& oid, const Oid& within) const {
    auto it = objects_.upper_bound(oid);
    if (oid < within) it = objects_.lower_bound(within);
    if (it == objects_.end() || !startsWith(it->first, within)) return std::nullopt;
    return *it;
}

}  // namespace snmp
